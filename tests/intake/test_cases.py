"""Cases on real databases: numbers, lifecycle with audit, queries by sender, retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from helpline.db import transaction, utcnow
from intake import cases
from intake.cases import STREET_OFFICE, CaseKind, CaseNotFound, CaseStatus, InvalidTransition, NewCase, Scope
from knowledge import directory


def _new(sender: str = "family-a", kind: CaseKind = CaseKind.PSYCH, **extra) -> NewCase:
    return NewCase(kind=kind, sender=sender, consent_version=f"{kind.value}-2026-01", **extra)


def test_a_new_case_has_a_readable_number_a_department_and_a_first_event(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        case = cases.create_case(session, _new(street="德胜", phone="13812345678"))
    year = case.created_at.astimezone(cases.BEIJING).year
    assert case.number == f"XC-{year}-{case.id:06d}"
    assert case.status == CaseStatus.NEW and case.department == "civil_affairs"
    assert case.departments == ("civil_affairs", "street_office")
    with sessions() as session:
        found = cases.get_case(session, case.number.lower().replace("-", ""))
        assert found.id == case.id and found.phone == "13812345678"
        assert [(e.action, e.to_status, e.actor) for e in found.events] == [("created", "new", "assistant")]


def test_legal_cases_go_to_the_justice_bureau_only(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        case = cases.create_case(session, _new(kind=CaseKind.LEGAL, priority=True, home_visit=True))
    assert case.departments == ("justice",) and case.priority and case.home_visit


def test_a_psych_case_without_a_street_has_no_street_office(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        case = cases.create_case(session, _new())
    assert case.departments == ("civil_affairs",)


STREETS = ("德胜", "月坛", None)


def _file_everywhere(sessions: sessionmaker[Session]) -> list[cases.Case]:
    """One case of each kind in 德胜, in 月坛, and without a street."""
    with transaction(sessions) as session:
        return [
            cases.create_case(session, _new(kind=kind, street=street))
            for kind in CaseKind
            for street in STREETS
        ]


def _every_scope(session: Session) -> list[Scope]:
    """Every department of the directory and an unknown one.

    The street office once for each street that has cases, and once for one that has none.
    """
    departments = [*directory.all_departments(session), "no_such_department"]
    return [Scope(department) for department in departments if department != STREET_OFFICE] + [
        Scope(STREET_OFFICE, street) for street in ("德胜", "月坛", "牛街")
    ]


def test_a_scope_sees_the_same_cases_in_lists_and_reads(sessions: sessionmaker[Session]) -> None:
    made = _file_everywhere(sessions)
    with sessions() as session:
        for scope in _every_scope(session):
            listed = {case.number for case in cases.list_cases(session, seen_by=scope)}
            for case in made:
                if case.number in listed:
                    assert cases.get_case(session, case.number, seen_by=scope).id == case.id
                else:
                    with pytest.raises(CaseNotFound):
                        cases.get_case(session, case.number, seen_by=scope)
        assert {case.number for case in cases.list_cases(session)} == {case.number for case in made}


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (Scope("civil_affairs"), {("psych", "德胜"), ("psych", "月坛"), ("psych", None)}),
        (Scope("justice"), {("legal", "德胜"), ("legal", "月坛"), ("legal", None)}),
        (Scope(STREET_OFFICE, "德胜"), {("psych", "德胜")}),
        (Scope(STREET_OFFICE, "月坛"), {("psych", "月坛")}),
        (Scope(STREET_OFFICE, "牛街"), set()),
        (Scope("health"), set()),
    ],
)
def test_a_street_office_sees_only_its_own_streets_psych_cases(
    sessions: sessionmaker[Session], scope: Scope, expected: set[tuple[str, str | None]]
) -> None:
    _file_everywhere(sessions)
    with sessions() as session:
        assert {(case.kind, case.street) for case in cases.list_cases(session, seen_by=scope)} == expected


@pytest.mark.parametrize(("department", "street"), [(STREET_OFFICE, None), ("civil_affairs", "德胜")])
def test_only_a_street_offices_scope_names_a_street(department: str, street: str | None) -> None:
    with pytest.raises(ValueError):
        Scope(department, street)


def test_cases_go_only_to_departments_of_the_directory(sessions: sessionmaker[Session]) -> None:
    """Staff users are checked against the directory, so a case for any other id would be nobody's."""
    with sessions() as session:
        known = set(directory.all_departments(session))
    assert {*cases.DEPARTMENT_FOR.values(), cases.STREET_OFFICE} <= known


def test_unknown_numbers_are_not_found(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        case = cases.create_case(session, _new())
    wrong_year = f"XC-1999-{case.id:06d}"
    with sessions() as session:
        for number in (wrong_year, "XC-2026-999999", "nonsense", "", "XC-2026-"):
            with pytest.raises(CaseNotFound):
                cases.get_case(session, number)


def test_lifecycle_moves_forward_with_an_audited_event_per_change(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        number = cases.create_case(session, _new()).number
    for status in (CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS, CaseStatus.DONE):
        with transaction(sessions) as session:
            cases.update_case(session, cases.get_case(session, number), actor="wang", status=status)
    with transaction(sessions) as session:
        cases.update_case(session, cases.get_case(session, number), actor="li", note="电话回访，家属满意")
    with sessions() as session:
        case = cases.get_case(session, number)
        history = [(e.action, e.from_status, e.to_status, e.actor) for e in case.events]
        assert case.status == "done" and case.finished_at is not None
    assert history == [
        ("created", None, "new", "assistant"),
        ("status", "new", "accepted", "wang"),
        ("status", "accepted", "in_progress", "wang"),
        ("status", "in_progress", "done", "wang"),
        ("note", None, None, "li"),
    ]


IMPOSSIBLE = [
    ((), CaseStatus.IN_PROGRESS),
    ((), CaseStatus.DONE),
    ((CaseStatus.CLOSED,), CaseStatus.ACCEPTED),
    ((CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS, CaseStatus.DONE), CaseStatus.CLOSED),
]


def test_impossible_transitions_are_refused_and_change_nothing(sessions: sessionmaker[Session]) -> None:
    for path, target in IMPOSSIBLE:
        with transaction(sessions) as session:
            case = cases.create_case(session, _new())
            for status in path:
                cases.update_case(session, case, actor="wang", status=status)
            before = case.status
        with pytest.raises(InvalidTransition), transaction(sessions) as session:
            cases.update_case(session, cases.get_case(session, case.number), actor="wang", status=target)
        with sessions() as session:
            assert cases.get_case(session, case.number).status == before, (path, target)


def test_any_open_case_can_be_closed(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        case = cases.create_case(session, _new())
        cases.update_case(session, case, actor="wang", status=CaseStatus.CLOSED, note="重复登记")
    assert case.status == "closed" and case.finished_at is not None


def test_lists_filter_and_put_priority_first(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        psych = cases.create_case(session, _new("a", street="德胜"))
        legal = cases.create_case(session, _new("b", CaseKind.LEGAL, street="月坛", priority=True))
        other = cases.create_case(session, _new("c", street="月坛"))
        cases.update_case(session, other, actor="wang", status=CaseStatus.ACCEPTED)
    with sessions() as session:
        assert [c.id for c in cases.list_cases(session)] == [legal.id, other.id, psych.id]
        assert [c.id for c in cases.list_cases(session, status=CaseStatus.NEW)] == [legal.id, psych.id]
        assert [c.id for c in cases.list_cases(session, kind=CaseKind.PSYCH)] == [other.id, psych.id]
        assert [c.id for c in cases.list_cases(session, department="justice")] == [legal.id]
        assert [c.id for c in cases.list_cases(session, street="月坛")] == [legal.id, other.id]
        assert [c.id for c in cases.list_cases(session, limit=1, offset=1)] == [other.id]


def test_a_family_sees_only_its_own_cases(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        mine = [
            cases.create_case(session, _new("me")),
            cases.create_case(session, _new("me", CaseKind.LEGAL)),
        ]
        cases.create_case(session, _new("someone-else"))
    with sessions() as session:
        assert [c.id for c in cases.cases_for_sender(session, "me")] == [mine[1].id, mine[0].id]
        assert cases.cases_for_sender(session, "nobody") == []


def test_personal_details_are_erased_after_the_promised_retention(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        old = cases.create_case(session, _new(street="德胜", phone="13812345678", details={"way": "hotline"}))
        cases.update_case(session, old, actor="wang", status=CaseStatus.CLOSED, note="家属说不需要了")
        recent = cases.create_case(session, _new(phone="13912345678"))
        cases.update_case(session, recent, actor="wang", status=CaseStatus.CLOSED)
        open_case = cases.create_case(session, _new(phone="13712345678"))
    later = utcnow() + timedelta(days=cases.CASE_RETENTION_DAYS + 1)
    with transaction(sessions) as session:
        session.get(cases.Case, recent.id).finished_at = later - timedelta(days=1)
        assert cases.erase_expired(session, now=later) == 1
        assert cases.erase_expired(session, now=later) == 0
    with sessions() as session:
        erased = session.get(cases.Case, old.id)
        assert (erased.phone, erased.street, erased.details) == (None, None, {})
        assert erased.erased_at is not None and erased.events[-1].action == "erased"
        assert all(event.note is None for event in erased.events)
        assert session.get(cases.Case, recent.id).phone == "13912345678"
        assert session.get(cases.Case, open_case.id).phone == "13712345678"

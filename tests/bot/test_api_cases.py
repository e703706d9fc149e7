"""The staff case API over HTTP on real databases: roles, departments, filters, lifecycle, audit, input."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from helpline.access_log import accesses
from helpline.db import transaction
from helpline.users import Role, User
from intake import cases, forms
from tests.conftest import LEGAL_CONSENT, PSYCH_CONSENT, bearer_token, without_rasa

CASES = "/api/v1/cases"


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    settings = without_rasa(database_url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _auth(
    client: TestClient,
    name: str,
    role: Role = Role.STAFF,
    department: str = "civil_affairs",
    street: str | None = None,
) -> dict[str, str]:
    with transaction(client.app.state.sessions) as session:
        return {"Authorization": f"Bearer {bearer_token(session, name, role, department, street)}"}


def _psych_form(street: str) -> dict[str, str]:
    return {
        "psych_consent": PSYCH_CONSENT.version,
        "psych_way": "hotline",
        "psych_phone": "13812345678",
        "psych_call_time": "afternoon",
        "psych_street": street,
    }


def _file(client: TestClient) -> tuple[str, str]:
    """A psychological-support case in 德胜 and a legal-aid case with a home visit in 月坛."""
    legal = {
        "legal_consent": LEGAL_CONSENT.version,
        "legal_matter": "litigation",
        "legal_description": "房子被占",
        "legal_hardship": "yes",
        "legal_mobility": "yes",
        "legal_home_visit": "yes",
        "legal_phone": "010-82951332",
        "legal_street": "月坛",
    }
    with transaction(client.app.state.sessions) as session:
        first = cases.create_case(session, forms.psych_case("fam-1", _psych_form("德胜"))).number
        second = cases.create_case(session, forms.legal_case("fam-2", legal)).number
    return first, second


def test_only_staff_and_admin_may_use_it(client: TestClient) -> None:
    number, _ = _file(client)
    counselor = _auth(client, "counselor", Role.COUNSELOR)
    for method, path in [("GET", CASES), ("GET", f"{CASES}/{number}"), ("PATCH", f"{CASES}/{number}")]:
        assert client.request(method, path).status_code == 401
        assert client.request(method, path, headers=counselor).status_code == 403
    for role in (Role.STAFF, Role.ADMIN):
        assert client.get(CASES, headers=_auth(client, f"u-{role}", role)).status_code == 200


def test_list_filters_shows_no_phone_and_is_access_logged(client: TestClient) -> None:
    psych, legal = _file(client)
    staff = _auth(client, "wang", Role.ADMIN)
    listed = client.get(CASES, headers=staff).json()
    assert [c["number"] for c in listed] == [legal, psych]  # legal aid is priority
    assert listed[0]["home_visit"] and listed[0]["priority"] and listed[0]["departments"] == ["justice"]
    assert listed[1]["departments"] == ["civil_affairs", "street_office"]
    assert all("phone" not in c and "details" not in c for c in listed)
    for query, expected in [
        ("?kind=legal", [legal]),
        ("?department=civil_affairs", [psych]),
        ("?street=德胜", [psych]),
        ("?status=accepted", []),
        ("?limit=1&offset=1", [psych]),
    ]:
        assert [c["number"] for c in client.get(CASES + query, headers=staff).json()] == expected, query
    with client.app.state.sessions() as session:
        assert {(row.user_name, row.action) for row in accesses(session, "cases")} == {("wang", "list")}


def test_a_case_in_full_and_its_read_in_the_access_log(client: TestClient) -> None:
    psych, _ = _file(client)
    body = client.get(f"{CASES}/{psych}", headers=_auth(client, "wang")).json()
    assert body["phone"] == "13812345678" and body["street"] == "德胜"
    assert body["details"] == {"way": "hotline", "call_time": "afternoon"}
    assert body["consent_version"] == PSYCH_CONSENT.version and body["status_label"] == "已收到，等待受理"
    assert [e["action"] for e in body["events"]] == ["created"]
    with client.app.state.sessions() as session:
        case = cases.get_case(session, psych)
        assert [(r.user_name, r.action) for r in accesses(session, f"case:{case.id}")] == [("wang", "read")]


def test_moving_a_case_through_its_lifecycle_is_audited_by_name(client: TestClient) -> None:
    _, legal = _file(client)
    staff = _auth(client, "li", department="justice")
    for status in ("accepted", "in_progress"):
        response = client.patch(f"{CASES}/{legal}", json={"status": status}, headers=staff)
        assert response.status_code == 200 and response.json()["status"] == status
    noted = client.patch(f"{CASES}/{legal}", json={"note": "律师已上门"}, headers=staff).json()
    done = client.patch(f"{CASES}/{legal}", json={"status": "done", "note": "已办结"}, headers=staff).json()
    assert noted["status"] == "in_progress"
    assert [(e["action"], e["to_status"], e["actor"], e["note"]) for e in done["events"]] == [
        ("created", "new", "assistant", None),
        ("status", "accepted", "li", None),
        ("status", "in_progress", "li", None),
        ("note", None, "li", "律师已上门"),
        ("status", "done", "li", "已办结"),
    ]
    assert done["finished_at"] is not None


def test_staff_see_only_the_cases_their_department_acts_on(client: TestClient) -> None:
    psych, legal = _file(client)
    for department, street, visible in [
        ("civil_affairs", None, [psych]),
        ("street_office", "德胜", [psych]),  # the family's 街道 takes part in psychological support
        ("street_office", "月坛", []),  # another street's office does not, nor in legal aid
        ("justice", None, [legal]),
        ("health", None, []),
    ]:
        staff = _auth(client, f"staff-{department}-{street}", department=department, street=street)
        assert [c["number"] for c in client.get(CASES, headers=staff).json()] == visible, department
        for number in (psych, legal):
            answer = client.get(f"{CASES}/{number}", headers=staff).status_code
            assert answer == (200 if number in visible else 404), (department, street, number)
    admin = _auth(client, "boss", Role.ADMIN)
    assert [c["number"] for c in client.get(CASES, headers=admin).json()] == [legal, psych]
    assert all(client.get(f"{CASES}/{n}", headers=admin).status_code == 200 for n in (psych, legal))


def test_another_departments_case_is_absent_and_untouched(client: TestClient) -> None:
    psych, _ = _file(client)
    justice = _auth(client, "zhao", department="justice")
    absent = client.get(f"{CASES}/XC-2026-999999", headers=justice).json()
    assert client.get(f"{CASES}/{psych}", headers=justice).json() == absent
    response = client.patch(f"{CASES}/{psych}", json={"status": "accepted", "note": "看看"}, headers=justice)
    assert response.status_code == 404 and response.json() == absent
    assert client.get(f"{CASES}?department=civil_affairs", headers=justice).json() == []
    with client.app.state.sessions() as session:
        case = cases.get_case(session, psych)
        assert case.status == "new" and [e.action for e in case.events] == ["created"]
        assert accesses(session, f"case:{case.id}") == []


def test_street_office_staff_work_a_psych_case(client: TestClient) -> None:
    psych, _ = _file(client)
    street = _auth(client, "desheng", department="street_office", street="德胜")
    response = client.patch(f"{CASES}/{psych}", json={"status": "accepted", "note": "已上门"}, headers=street)
    assert response.status_code == 200 and response.json()["events"][-1]["actor"] == "desheng"


def test_a_street_office_lists_reads_and_changes_only_its_own_streets_cases(client: TestClient) -> None:
    desheng, _ = _file(client)
    with transaction(client.app.state.sessions) as session:
        yuetan = cases.create_case(session, forms.psych_case("fam-3", _psych_form("月坛"))).number
    staff = _auth(client, "desheng", department="street_office", street="德胜")
    assert [c["number"] for c in client.get(CASES, headers=staff).json()] == [desheng]
    assert client.get(f"{CASES}?street=月坛", headers=staff).json() == []
    assert client.get(f"{CASES}/{desheng}", headers=staff).status_code == 200
    absent = client.get(f"{CASES}/XC-2026-999999", headers=staff).json()
    assert client.get(f"{CASES}/{yuetan}", headers=staff).json() == absent
    response = client.patch(f"{CASES}/{yuetan}", json={"status": "accepted", "note": "看看"}, headers=staff)
    assert response.status_code == 404 and response.json() == absent
    changed = client.patch(f"{CASES}/{desheng}", json={"status": "accepted"}, headers=staff)
    assert changed.status_code == 200 and changed.json()["status"] == "accepted"
    admin = _auth(client, "boss", Role.ADMIN)
    assert {c["number"] for c in client.get(f"{CASES}?kind=psych", headers=admin).json()} == {desheng, yuetan}
    with client.app.state.sessions() as session:
        other = cases.get_case(session, yuetan)
        assert other.status == "new" and [e.action for e in other.events] == ["created"]
        assert accesses(session, f"case:{other.id}") == []
        mine = cases.get_case(session, desheng)
        assert [(r.user_name, r.action) for r in accesses(session, f"case:{mine.id}")] == [
            ("desheng", "read"),
            ("desheng", "update"),
        ]
        assert [r.user_name for r in accesses(session, "cases")] == ["desheng", "desheng", "boss"]


def test_staff_without_a_department_are_told_to_get_one(client: TestClient) -> None:
    psych, _ = _file(client)
    staff = _auth(client, "old-account")
    with transaction(client.app.state.sessions) as session:  # as migration 0008 leaves older accounts
        session.scalar(select(User).where(User.name == "old-account")).department = None
    for path in (CASES, f"{CASES}/{psych}"):
        response = client.get(path, headers=staff)
        assert response.status_code == 403 and "部门" in response.json()["detail"], path


def test_street_office_staff_without_a_street_are_told_to_get_one(client: TestClient) -> None:
    psych, _ = _file(client)
    staff = _auth(client, "old-street", department="street_office", street="德胜")
    with transaction(client.app.state.sessions) as session:  # as migration 0009 leaves older accounts
        session.scalar(select(User).where(User.name == "old-street")).street = None
    for path in (CASES, f"{CASES}/{psych}"):
        response = client.get(path, headers=staff)
        assert response.status_code == 403 and "街道" in response.json()["detail"], path


def test_impossible_changes_are_409_and_change_nothing(client: TestClient) -> None:
    psych, _ = _file(client)
    staff = _auth(client, "wang")
    response = client.patch(f"{CASES}/{psych}", json={"status": "done"}, headers=staff)
    assert response.status_code == 409 and "new → done" in response.json()["detail"]
    assert client.get(f"{CASES}/{psych}", headers=staff).json()["status"] == "new"


BAD_UPDATES = [{}, {"note": "   "}, {"status": "finished"}, {"status": 3}, {"note": "x" * 4001}, ["accepted"]]
ODD_NUMBERS = ["XC-2026-999999", "nonsense", "'; DROP TABLE cases; --", "😊", "<b>1</b>", "XC-" + "9" * 30]


def test_bad_updates_are_400_and_odd_numbers_404_never_500(client: TestClient) -> None:
    psych, _ = _file(client)
    staff = _auth(client, "wang")
    for body in BAD_UPDATES:
        assert client.patch(f"{CASES}/{psych}", json=body, headers=staff).status_code == 400, body
    for number in ODD_NUMBERS:
        assert client.get(f"{CASES}/{number}", headers=staff).status_code == 404, number
        assert client.patch(f"{CASES}/{number}", json={"note": "x"}, headers=staff).status_code == 404, number


def test_bad_filters_are_400(client: TestClient) -> None:
    staff = _auth(client, "wang")
    for query in (
        "?status=lost",
        "?kind=medical",
        "?limit=0",
        "?limit=100000",
        "?offset=-1",
        "?street=" + "x" * 40,
    ):
        assert client.get(CASES + query, headers=staff).status_code == 400, query


def test_the_api_is_documented_in_openapi(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"get", "patch"} <= set(spec["paths"][f"{CASES}/{{number}}"])
    assert "get" in spec["paths"][CASES]
    assert {"CaseSummary", "CaseDetail", "CaseUpdate"} <= set(spec["components"]["schemas"])

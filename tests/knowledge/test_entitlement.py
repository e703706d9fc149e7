"""The entitlement engine as a table: each combination of answers → the measures it yields."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pytest

from knowledge.entitlement import (
    Answer,
    EntryConditions,
    assess,
    from_record,
    is_measure,
    open_conditions,
)
from knowledge.yamlio import SEED_DIR, read_records

Y, N, U = Answer.YES, Answer.NO, Answer.UNKNOWN

SEED = [from_record(record) for record in read_records(SEED_DIR / "entries.yaml")]

BASE = {
    "psych-counseling-free",
    "new-hope-home",
    "legal-aid-lawyer-team",
    "medical-health-record-family-doctor",
    "medical-access-green-channel",
    "social-volunteer-household-pairing",
    "social-mass-organisations-pairing",
    "social-organisations-free-services",
}
"""What every Xicheng parent who lost an only child has, whatever else they answer."""

SITUATIONAL = {
    "accident-illness-relief",
    "legal-aid-free-services",
    "legal-aid-home-visit",
    "social-neighbour-mutual-aid",
}
"""Measures whose conditions the entitlement form never asks (they depend on what happens)."""

ELIGIBLE = {"xicheng_hukou": Y, "lost_only_child": Y}


def _ids(measures) -> set[str]:
    return {measure.entry.id for measure in measures}


def _with(**answers: Answer) -> dict[str, Answer]:
    return {**ELIGIBLE, **answers}


# (answers, expected likely ids beyond nothing) — one row per combination that matters.
LIKELY_TABLE: list[tuple[str, Mapping[str, Answer], set[str]]] = [
    ("nothing answered", {}, set()),
    ("not from Xicheng", {"xicheng_hukou": N, "lost_only_child": Y, "age_60_plus": Y}, set()),
    ("had or adopted another child", {"xicheng_hukou": Y, "lost_only_child": N, "age_60_plus": Y}, set()),
    ("eligible, nothing else known", ELIGIBLE, BASE),
    ("eligible, under 60, no wishes", _with(age_60_plus=N, wish_birth=N, wish_adopt=N), BASE),
    (
        "60 or over",
        _with(age_60_plus=Y),
        BASE | {"medical-free-annual-checkup", "elderly-care-daily-visits"},
    ),
    ("wants another child", _with(wish_birth=Y, wish_adopt=N), BASE | {"birth-care-policy-info"}),
    ("wants to adopt", _with(wish_birth=N, wish_adopt=Y), BASE | {"adoption-assistance"}),
    ("low income", _with(income_below_min_wage=Y), BASE | {"living-subsidy-low-income"}),
    ("三无", _with(sanwu=Y), BASE | {"elderly-care-sanwu-free-admission"}),
    (
        "60+, wants a nursing home, self-caring, not low income",
        _with(
            age_60_plus=Y, wish_institution=Y, wish_home_care=N, not_self_caring=N, income_below_min_wage=N
        ),
        BASE
        | {
            "medical-free-annual-checkup",
            "elderly-care-daily-visits",
            "elderly-care-nursing-home-priority",
        },
    ),
    (
        "60+, nursing home, not self-caring, low income",
        _with(
            age_60_plus=Y, wish_institution=Y, wish_home_care=N, not_self_caring=Y, income_below_min_wage=Y
        ),
        BASE
        | {
            "living-subsidy-low-income",
            "medical-free-annual-checkup",
            "elderly-care-daily-visits",
            "elderly-care-nursing-home-priority",
            "elderly-care-institution-subsidy",
        },
    ),
    (
        "under 60, home care, not self-caring, low income",
        _with(
            age_60_plus=N, wish_institution=N, wish_home_care=Y, not_self_caring=Y, income_below_min_wage=Y
        ),
        BASE | {"living-subsidy-low-income", "elderly-care-home-care-subsidy"},
    ),
    (
        "home care wanted but income not low",
        _with(wish_institution=N, wish_home_care=Y, not_self_caring=Y, income_below_min_wage=N),
        BASE,
    ),
    (
        "nursing home under 60 (priority needs 60+), low income, not self-caring",
        _with(age_60_plus=N, wish_institution=Y, not_self_caring=Y, income_below_min_wage=Y),
        BASE | {"living-subsidy-low-income", "elderly-care-institution-subsidy"},
    ),
    (
        "legal aid: hardship and mobility",
        _with(economic_hardship=Y, mobility_difficulty=Y),
        BASE | {"legal-aid-home-visit"},
    ),
    ("widowed", _with(widowed=Y), BASE | {"social-neighbour-mutual-aid"}),
    (
        "everything yes",
        {key: Y for key in {c for e in SEED for c in e.conditions}},
        {e.id for e in SEED if is_measure(e)},
    ),
    ("everything unknown", {key: U for key in {c for e in SEED for c in e.conditions}}, set()),
]


@pytest.mark.parametrize(("case", "answers", "expected"), LIKELY_TABLE, ids=[row[0] for row in LIKELY_TABLE])
def test_likely_measures(case: str, answers: Mapping[str, Answer], expected: set[str]) -> None:
    assert _ids(assess(answers, SEED).likely) == expected


@pytest.mark.parametrize(("case", "answers", "_expected"), LIKELY_TABLE, ids=[row[0] for row in LIKELY_TABLE])
def test_every_measure_lands_in_exactly_one_group(
    case: str, answers: Mapping[str, Answer], _expected: set[str]
) -> None:
    result = assess(answers, SEED)
    groups = [_ids(result.likely), _ids(result.needs_check), _ids(result.not_applicable)]
    assert sum(len(group) for group in groups) == len(set().union(*groups))
    assert set().union(*groups) == {e.id for e in SEED if is_measure(e)}


def test_unknown_is_never_a_reason_to_exclude() -> None:
    result = assess(_with(age_60_plus=U, income_below_min_wage=U, sanwu=U), SEED)
    assert result.not_applicable == ()
    subsidy = next(m for m in result.needs_check if m.entry.id == "living-subsidy-low-income")
    assert subsidy.unknown == ("income_below_min_wage",)


def test_measures_the_form_never_asks_about_need_checking() -> None:
    result = assess(_with(age_60_plus=Y, income_below_min_wage=N, sanwu=N), SEED)
    assert _ids(result.needs_check) >= SITUATIONAL


def test_not_applicable_names_the_condition_answered_no() -> None:
    result = assess(_with(age_60_plus=N, income_below_min_wage=N), SEED)
    reasons = {m.entry.id: m.unmet for m in result.not_applicable}
    assert reasons["medical-free-annual-checkup"] == ("age_60_plus",)
    assert reasons["living-subsidy-low-income"] == ("income_below_min_wage",)
    assert "psych-counseling-free" not in reasons


def test_not_from_xicheng_excludes_every_measure_for_that_reason() -> None:
    result = assess({"xicheng_hukou": N}, SEED)
    assert result.likely == () and result.needs_check == ()
    assert all("xicheng_hukou" in m.unmet for m in result.not_applicable)


def test_income_is_checked_by_the_street_and_approved_by_population_commission() -> None:
    result = assess(_with(income_below_min_wage=Y), SEED)
    income = next(check for check in result.checks if check.condition == "income_below_min_wage")
    assert [(v.department, v.does) for v in income.verified_by] == [
        ("street_office", "核查家庭经济状况"),
        ("population_family_planning", "核实审批经济救助"),
    ]
    assert "living-subsidy-low-income" in income.measures


@pytest.mark.parametrize(
    ("key", "department"),
    [("not_self_caring", "health"), ("sanwu", "civil_affairs"), ("legal_aid_eligible", "justice")],
)
def test_certified_conditions_name_who_certifies(key: str, department: str) -> None:
    check = next(check for check in assess(ELIGIBLE, SEED).checks if check.condition == key)
    assert check.verified_by[0].department == department


def test_excluded_measures_need_no_checks() -> None:
    result = assess(_with(sanwu=N), SEED)
    assert "sanwu" not in {check.condition for check in result.checks}


def test_section_level_and_information_entries_are_not_measures() -> None:
    measures = {e.id for e in SEED if is_measure(e)}
    assert "eligibility-definition" not in measures  # 序言
    assert "on-top-of-beijing-special-support" not in measures  # 三
    assert "social-forces-overview" not in measures  # 四
    assert "living-subsidy-amount-open" not in measures  # 金额: explains the subsidy's figure
    assert not any(e.clause.startswith("附件") for e in SEED if e.id in measures)
    assert len(measures) == 21


def test_measures_come_from_the_entries_given_not_from_code() -> None:
    custom = EntryConditions(
        id="new-measure",
        title="新增措施",
        clause="三（五）4",
        conditions=("xicheng_hukou", "lost_only_child", "age_60_plus"),
        departments=("street_office",),
        next_step="联系街道",
    )
    assert _ids(assess(_with(age_60_plus=Y), [custom]).likely) == {"new-measure"}
    assert _ids(assess(_with(age_60_plus=N), [custom]).not_applicable) == {"new-measure"}


def test_a_condition_the_engine_does_not_know_reads_as_unknown() -> None:
    custom = EntryConditions(
        "x", "新措施", "四5", ("xicheng_hukou", "brand_new_condition"), ("street_office",), ""
    )
    result = assess(ELIGIBLE, [custom])
    assert result.needs_check[0].unknown == ("brand_new_condition",)


def test_open_conditions_stop_once_everything_is_excluded() -> None:
    assert open_conditions({"xicheng_hukou": N}, SEED) == frozenset()
    assert open_conditions({"xicheng_hukou": Y, "lost_only_child": N}, SEED) == frozenset()


def test_open_conditions_skip_questions_that_no_longer_matter() -> None:
    # Under 60, income not low: the two subsidies and the nursing-home priority are out,
    # so self-care and the care wishes decide nothing any more.
    answers = _with(age_60_plus=N, income_below_min_wage=N)
    remaining = open_conditions(answers, SEED)
    assert "not_self_caring" not in remaining
    assert "wish_institution" not in remaining and "wish_home_care" not in remaining
    assert {"sanwu", "wish_birth", "wish_adopt"} <= remaining


def test_open_conditions_keep_asking_while_a_measure_still_needs_the_answer() -> None:
    remaining = open_conditions(_with(age_60_plus=Y, income_below_min_wage=U), SEED)
    assert {"not_self_caring", "wish_institution", "wish_home_care"} <= remaining


def test_entries_out_of_force_are_not_loaded(sessions) -> None:
    from helpline.db import transaction
    from knowledge import repository
    from knowledge.entitlement import load_entries

    with transaction(sessions) as session:
        repository.load_seed_if_empty(session)
    with sessions() as session:
        today = load_entries(session, today=date(2026, 1, 1))
        before = load_entries(session, today=date(2013, 9, 9))
    assert {e.id for e in today} >= {e.id for e in SEED if is_measure(e)}
    assert before == []

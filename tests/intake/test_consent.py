"""The consent texts say what, why, exactly who sees the case, and every retention that applies."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from intake import consent
from intake.cases import DEPARTMENT_FOR, STREET_OFFICE, Case, CaseKind
from intake.consent import CASE_RETENTION_DAYS, DRAFT_RETENTION_DAYS
from knowledge import directory


def _line(text: str, heading: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"• {heading}："))


def _spoken_name(name: str) -> str:
    """The directory says 各街道办事处 (all of them); one family's text says 街道办事处."""
    return name.removeprefix("各")


@pytest.mark.parametrize("purpose", consent.PURPOSES)
def test_each_text_says_what_why_who_and_how_long(purpose: str) -> None:
    text = consent.consent_for(purpose, 365).text
    for heading in ("记下什么", "为什么记", "谁能看到", "保存多久"):
        assert _line(text, heading)
    assert text.endswith("您同意吗？")


@pytest.mark.parametrize("kind", list(CaseKind))
def test_who_sees_it_names_exactly_the_departments_that_can_open_the_case(
    sessions: sessionmaker[Session], kind: CaseKind
) -> None:
    acting = Case(kind=kind.value, department=DEPARTMENT_FOR[kind], street="德胜").departments
    with sessions() as session:
        names = {key: _spoken_name(info.name) for key, info in directory.all_departments(session).items()}
    who = _line(consent.consent_for(kind.value, 365).text, "谁能看到")
    for department in {*DEPARTMENT_FOR.values(), STREET_OFFICE}:
        assert (names[department] in who) == (department in acting), (kind, department)
    assert "管理员" in who  # admins see every case
    assert "别的部门看不到" in who


def test_psych_support_is_seen_by_the_familys_own_street_office_only() -> None:
    who = _line(consent.consent_for("psych", 365).text, "谁能看到")
    assert "区民政局和您所在街道办事处" in who


def test_retention_follows_the_settings_and_names_the_version() -> None:
    default, shorter = consent.consent_for("legal", 365), consent.consent_for("legal", 30)
    kept = _line(default.text, "保存多久")
    assert f"保存{CASE_RETENTION_DAYS // 365}年，到期删除" in kept
    assert f"最多保存{DRAFT_RETENTION_DAYS}天" in kept
    assert "聊天记录保存1年" in kept
    assert "聊天记录保存30天" in _line(shorter.text, "保存多久")
    assert default.version != shorter.version
    assert len(default.version) <= Case.consent_version.type.length

"""What a family is likely entitled to under 西政办发〔2013〕17号, computed from the knowledge base.

The rules are the knowledge base's, not this module's: every measure entry lists the
``conditions`` it needs, and :func:`assess` only combines them with a family's
answers. Staff who edit an entry's conditions change the result without a release.

Answers are three-valued. "No" excludes a measure (and says which condition did);
"unknown", or a question never asked, never excludes: the measure then needs
checking, and the result says who checks. Even a "yes" is only what the family
said: conditions that an office certifies (income, self-care, 三无 …) are listed
as checks with the office that certifies them, because the final decision is
always the department's.

What counts as a measure (section-level entries are not): an entry whose clause
names an item of section 三 or 四 (a clause ending in the item number, such as
三（三）1 or 四2), that has conditions, and that is not tagged as an information
entry (:data:`INFORMATION_TAGS`, e.g. the entry explaining the subsidy amount,
which repeats the clause of the subsidy itself). So 序言, 一, 二, 三, 四 (overviews),
结尾 and 附件… entries are never offered as measures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from knowledge import repository
from knowledge.models import Status
from knowledge.yamlio import SEED_DIR, Kind, read_records

BEIJING = ZoneInfo("Asia/Shanghai")
MIN_WAGE_FACT = "min_wage_beijing"
MEASURE_CLAUSE = re.compile(r"^[三四].*[0-9]$")
INFORMATION_TAGS = frozenset({"金额"})
"""Tags of entries that explain a figure of another measure rather than being one."""


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


Answers = Mapping[str, Answer]
"""Condition key → answer. A key that is missing was not asked, which counts as unknown."""


@dataclass(frozen=True)
class EntryConditions:
    """What the engine needs of one knowledge-base entry."""

    id: str
    title: str
    clause: str
    conditions: tuple[str, ...]
    departments: tuple[str, ...]
    next_step: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verification:
    """One office's part in confirming a condition, e.g. 街道办事处 核查家庭经济状况."""

    department: str
    does: str


@dataclass(frozen=True)
class Condition:
    """The meaning of a condition key and who confirms it (from the document and its 附件)."""

    label: str
    verified_by: tuple[Verification, ...] = ()


_STREET_CONFIRMS = Verification("street_office", "确认")
CONDITIONS: Mapping[str, Condition] = {
    "xicheng_hukou": Condition("有北京市西城区户籍", (_STREET_CONFIRMS,)),
    "lost_only_child": Condition(
        "独生子女去世后没有再生育、也没有收养子女",
        (_STREET_CONFIRMS, Verification("population_family_planning", "确认")),
    ),
    "age_60_plus": Condition("年满60周岁", (Verification("street_office", "按身份证件确认"),)),
    "income_below_min_wage": Condition(
        "家庭月人均收入低于北京市最低工资标准",
        (
            Verification("street_office", "核查家庭经济状况"),
            Verification("population_family_planning", "核实审批经济救助"),
        ),
    ),
    "not_self_caring": Condition(
        "生活不能完全自理", (Verification("health", "指定医疗机构鉴定生活自理能力"),)
    ),
    "sanwu": Condition("属于“三无”（无工作、无收入、无劳动能力）", (Verification("civil_affairs", "认定"),)),
    "wish_birth": Condition("有生育能力，也想再生育"),
    "wish_adopt": Condition("想领养孩子"),
    "wish_institution": Condition("本人愿意入住养老服务机构"),
    "wish_home_care": Condition("本人选择居家养老或其他养老方式"),
    "widowed": Condition("失独又丧偶", (_STREET_CONFIRMS,)),
    "accident_or_illness": Condition(
        "遭遇突发意外灾害、意外伤害或重大疾病", (Verification("street_office", "了解情况、协助申请救助"),)
    ),
    "economic_hardship": Condition("经济困难", (Verification("justice", "审查"),)),
    "mobility_difficulty": Condition("行动不便", (Verification("justice", "审查"),)),
    "legal_aid_eligible": Condition("符合法律援助条件", (Verification("justice", "审查"),)),
}


def condition(key: str) -> Condition:
    """The meaning of ``key``; a key staff introduced without telling the engine reads as itself."""
    return CONDITIONS.get(key, Condition(key))


@dataclass(frozen=True)
class Measure:
    """One measure in a result, with the conditions that were answered "no" and those not known."""

    entry: EntryConditions
    unmet: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """A condition an office must confirm before the measures that need it are granted."""

    condition: str
    label: str
    verified_by: tuple[Verification, ...]
    measures: tuple[str, ...]


@dataclass(frozen=True)
class Assessment:
    """likely: every condition answered yes; needs_check: none answered no, some not known;
    not_applicable: at least one answered no. ``checks`` lists who confirms what for the first two."""

    likely: tuple[Measure, ...]
    needs_check: tuple[Measure, ...]
    not_applicable: tuple[Measure, ...]
    checks: tuple[Check, ...]


def is_measure(entry: EntryConditions) -> bool:
    """See the module docstring: item-level clause of 三 or 四, with conditions, not information only."""
    return (
        bool(MEASURE_CLAUSE.match(entry.clause))
        and bool(entry.conditions)
        and not INFORMATION_TAGS.intersection(entry.tags)
    )


def _answer(answers: Answers, key: str) -> Answer:
    return answers.get(key, Answer.UNKNOWN)


def _measure(entry: EntryConditions, answers: Answers) -> Measure:
    return Measure(
        entry=entry,
        unmet=tuple(key for key in entry.conditions if _answer(answers, key) is Answer.NO),
        unknown=tuple(key for key in entry.conditions if _answer(answers, key) is Answer.UNKNOWN),
    )


def _checks(measures: Iterable[Measure]) -> tuple[Check, ...]:
    needed: dict[str, list[str]] = {}
    for measure in measures:
        for key in measure.entry.conditions:
            if condition(key).verified_by:
                needed.setdefault(key, []).append(measure.entry.id)
    return tuple(
        Check(key, condition(key).label, condition(key).verified_by, tuple(ids))
        for key, ids in needed.items()
    )


def assess(answers: Answers, entries: Sequence[EntryConditions]) -> Assessment:
    """Sort every measure among ``entries`` into likely / needs_check / not_applicable, in KB order."""
    measures = [_measure(entry, answers) for entry in entries if is_measure(entry)]
    likely = tuple(m for m in measures if not m.unmet and not m.unknown)
    needs_check = tuple(m for m in measures if not m.unmet and m.unknown)
    not_applicable = tuple(m for m in measures if m.unmet)
    return Assessment(likely, needs_check, not_applicable, _checks(likely + needs_check))


def open_conditions(answers: Answers, entries: Sequence[EntryConditions]) -> frozenset[str]:
    """Conditions not asked yet that still decide something: a measure no answer has excluded needs them.

    A form asks only these, so a family that is not from Xicheng is asked nothing more,
    and nobody is asked about self-care when every measure needing it is already out.
    """
    open_keys: set[str] = set()
    for entry in entries:
        if not is_measure(entry) or any(_answer(answers, key) is Answer.NO for key in entry.conditions):
            continue
        open_keys.update(key for key in entry.conditions if key not in answers)
    return frozenset(open_keys)


# ---- loading from the knowledge base ---------------------------------------------------------------


def from_record(record: Mapping[str, Any]) -> EntryConditions:
    """An entry record (seed YAML, export, or the live row) as the engine sees it."""
    return EntryConditions(
        id=record["id"],
        title=record["title"],
        clause=record["clause"],
        conditions=tuple(record.get("conditions") or ()),
        departments=tuple(record.get("departments") or ()),
        next_step=record.get("next_step") or "",
        tags=tuple(record.get("tags") or ()),
    )


def beijing_today() -> date:
    return datetime.now(BEIJING).date()


def _in_force(record: Mapping[str, Any], today: date) -> bool:
    start, end = record.get("valid_from"), record.get("valid_to")
    return (start is None or start <= today) and (end is None or today <= end)


def load_entries(session: Session, today: date | None = None) -> list[EntryConditions]:
    """The published entries in force today, from the live knowledge base.

    Like the help lines, it falls back to the seed when the knowledge base has not been
    loaded yet, so the check still works on a fresh install.
    """
    today = today or beijing_today()
    rows = repository.list_entries(session, Status.PUBLISHED)
    if rows:
        records = [repository.entry_record(row) for row in rows]
    else:
        seed = read_records(SEED_DIR / Kind.ENTRIES.filename)
        records = [record for record in seed if record.get("status") == Status.PUBLISHED.value]
    return [from_record(record) for record in records if _in_force(record, today)]


@dataclass(frozen=True)
class MinWage:
    """The Beijing minimum wage as staff entered it: the figure to compare, the words to show."""

    yuan: float
    text: str


def min_wage(session: Session) -> MinWage | None:
    """The figure staff set for ``min_wage_beijing`` (e.g. 2540 元/月); None while unset or unreadable."""
    for fact in repository.list_directory(session, Kind.FACTS):
        if fact.key != MIN_WAGE_FACT or not fact.value:
            continue
        try:
            yuan = float(fact.value.replace(",", "").replace("，", ""))
        except ValueError:
            return None
        return MinWage(yuan, f"{fact.value} {fact.unit}".strip())
    return None

"""Validation of knowledge-base records before anything is written.

Every way in (YAML import, the HTTP API, the CLI) passes records through here, so
one rule set decides what the bot may ever say. Errors are collected, not raised
one at a time, so staff see everything wrong with a file in one go, in Chinese and
English; the caller then writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from knowledge.models import Status
from knowledge.yamlio import FIELDS, Kind

_NUMERAL = "[一二三四五六七八九十]{1,3}"
CLAUSE_PATTERN = re.compile(rf"^(序言|结尾|附件{_NUMERAL}|{_NUMERAL}(（{_NUMERAL}）)?([1-9][0-9]?)?)$")
"""Clause paths as the document numbers them: 序言, 一, 三（五）, 三（五）2, 四2, 附件二, 结尾."""

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
PHONE_PATTERN = re.compile(r"^[0-9+][0-9 ()+\-转]{1,40}$")

TEXT_LIMITS = {
    "title": 100,
    "text": 4000,
    "answer": 400,
    "next_step": 300,
    "question": 120,
    "tag": 32,
    "name": 100,
    "duties": 2000,
    "address": 300,
    "hours": 100,
    "scope": 300,
    "label": 100,
    "value": 100,
    "unit": 32,
    "decided_by": 200,
    "note": 1000,
}
MAX_LIST = {"questions": 60, "tags": 20, "conditions": 20, "departments": 12, "clauses": 20}

REQUIRED: dict[Kind, tuple[str, ...]] = {
    Kind.ENTRIES: ("id", "title", "clause", "text", "answer", "departments", "questions"),
    Kind.DEPARTMENTS: ("id", "name"),
    Kind.HELPLINES: ("id", "name", "number"),
    Kind.FACTS: ("key", "label"),
}

DEFAULTS: dict[Kind, dict[str, Any]] = {
    Kind.ENTRIES: {
        "conditions": [],
        "next_step": "",
        "tags": [],
        "status": Status.DRAFT.value,
        "version": 1,
        "valid_from": None,
        "valid_to": None,
    },
    Kind.DEPARTMENTS: {"duties": "", "phone": None, "address": None, "hours": None},
    Kind.HELPLINES: {"hours": "", "scope": "", "priority": 100},
    Kind.FACTS: {
        "value": None,
        "unit": "",
        "effective_from": None,
        "decided_by": "",
        "clauses": [],
        "note": "",
    },
}


class SchemaError(ValueError):
    """Records were refused; ``errors`` says every reason, one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def key_field(kind: Kind) -> str:
    return FIELDS[kind][0][0]


class _Checker:
    """Collects the problems of one record under a readable label."""

    def __init__(self, label: str, missing: list[str]) -> None:
        self.label = label
        self.missing = set(missing)  # already reported once; not again as "wrong type"
        self.errors: list[str] = []

    def fail(self, zh: str, en: str) -> None:
        self.errors.append(f"{self.label}：{zh} / {en}")

    def text(self, record: dict[str, Any], name: str, optional: bool = False) -> None:
        value = record.get(name)
        if (value is None and optional) or name in self.missing:
            return
        if not isinstance(value, str) or (not value.strip() and not optional):
            self.fail(f"字段 {name} 应为非空文字", f"field {name} must be non-empty text")
            return
        limit = TEXT_LIMITS[name]
        if len(value) > limit:
            self.fail(
                f"字段 {name} 太长（{len(value)} 字，上限 {limit}）",
                f"{name} is too long ({len(value)} > {limit})",
            )

    def strings(self, record: dict[str, Any], name: str, item_limit: int, non_empty: bool = False) -> None:
        value = record.get(name)
        if name in self.missing:
            return
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            self.fail(f"字段 {name} 应为文字列表", f"field {name} must be a list of non-empty strings")
            return
        if non_empty and not value:
            self.fail(f"字段 {name} 至少要有一项", f"field {name} needs at least one item")
        if len(value) > MAX_LIST[name]:
            self.fail(f"字段 {name} 项数太多（上限 {MAX_LIST[name]}）", f"field {name} has too many items")
        if any(len(item) > item_limit for item in value):
            self.fail(f"字段 {name} 有一项太长（上限 {item_limit} 字）", f"an item of {name} is too long")
        if len(set(value)) != len(value):
            self.fail(f"字段 {name} 有重复项", f"field {name} has duplicates")

    def day(self, record: dict[str, Any], name: str) -> None:
        value = record.get(name)
        if value is None or isinstance(value, date):
            return
        try:
            record[name] = date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"字段 {name} 应为日期，如 2013-09-10", f"field {name} must be a date like 2013-09-10")


def _check_entry(check: _Checker, record: dict[str, Any], departments: set[str]) -> None:
    for name in ("title", "text", "answer"):
        check.text(record, name)
    check.text(record, "next_step", optional=True)
    clause = record.get("clause")
    if "clause" not in check.missing and not (isinstance(clause, str) and CLAUSE_PATTERN.match(clause)):
        check.fail(
            f"条款路径 {clause!r} 不对，应如 序言、一、三（五）2、四2、附件二、结尾",
            f"bad clause path {clause!r}",
        )
    check.strings(record, "questions", TEXT_LIMITS["question"], non_empty=True)
    check.strings(record, "tags", TEXT_LIMITS["tag"])
    check.strings(record, "conditions", 64)
    check.strings(record, "departments", 64, non_empty=True)
    unknown = [d for d in record.get("departments") or [] if isinstance(d, str) and d not in departments]
    if unknown:
        names = ", ".join(unknown)
        check.fail(f"未知部门 {names}（请先在部门目录中添加）", f"unknown department {names}")
    if record.get("status") not in {status.value for status in Status}:
        check.fail("状态应为 draft 或 published", "status must be draft or published")
    version = record.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        check.fail("版本号应为正整数", "version must be a positive integer")
    check.day(record, "valid_from")
    check.day(record, "valid_to")
    start, end = record.get("valid_from"), record.get("valid_to")
    if isinstance(start, date) and isinstance(end, date) and end < start:
        check.fail("失效日期早于生效日期", "valid_to is before valid_from")


def _check_department(check: _Checker, record: dict[str, Any], _departments: set[str]) -> None:
    check.text(record, "name")
    check.text(record, "duties", optional=True)
    for name in ("address", "hours"):
        check.text(record, name, optional=True)
    phone = record.get("phone")
    if phone is not None and (not isinstance(phone, str) or not PHONE_PATTERN.match(phone)):
        check.fail("电话号码格式不对", "phone must be digits, spaces, +, -, ( )")


def _check_helpline(check: _Checker, record: dict[str, Any], _departments: set[str]) -> None:
    check.text(record, "name")
    for name in ("hours", "scope"):
        check.text(record, name, optional=True)
    number = record.get("number")
    if not isinstance(number, str) or not PHONE_PATTERN.match(number):
        check.fail('号码格式不对（请用引号写成文字，如 "120"）', "number must be text made of digits")
    priority = record.get("priority")
    if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 1000:
        check.fail("priority 应为 0–1000 的整数", "priority must be an integer 0-1000")


def _check_fact(check: _Checker, record: dict[str, Any], _departments: set[str]) -> None:
    check.text(record, "label")
    for name in ("unit", "decided_by", "note"):
        check.text(record, name, optional=True)
    value = record.get("value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        record["value"] = value = str(value)
    check.text(record, "value", optional=True)
    check.day(record, "effective_from")
    check.strings(record, "clauses", 32)
    bad = [c for c in record.get("clauses") or [] if isinstance(c, str) and not CLAUSE_PATTERN.match(c)]
    if bad:
        check.fail(f"条款路径不对：{', '.join(bad)}", f"bad clause path {', '.join(bad)}")
    if value is not None and record.get("effective_from") is None:
        check.fail("填写数值时必须同时填写生效日期 effective_from", "a value needs its effective_from date")


_CHECKS: dict[Kind, Callable[[_Checker, dict[str, Any], set[str]], None]] = {
    Kind.ENTRIES: _check_entry,
    Kind.DEPARTMENTS: _check_department,
    Kind.HELPLINES: _check_helpline,
    Kind.FACTS: _check_fact,
}

_KIND_LABEL = {Kind.ENTRIES: "条目", Kind.DEPARTMENTS: "部门", Kind.HELPLINES: "热线", Kind.FACTS: "数据项"}


def validate(
    kind: Kind, records: Iterable[dict[str, Any]], departments: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Complete records (defaults filled, dates parsed) or :class:`SchemaError` listing every problem.

    ``departments`` are the department ids an entry may name (those stored plus those
    being imported alongside).
    """
    known = set(departments)
    allowed = {name for name, _style in FIELDS[kind]}
    key = key_field(kind)
    errors: list[str] = []
    seen: set[str] = set()
    cleaned: list[dict[str, Any]] = []
    for index, raw in enumerate(records, start=1):
        ident = raw.get(key)
        missing = [name for name in REQUIRED[kind] if raw.get(name) in (None, "", [])]
        check = _Checker(f"{_KIND_LABEL[kind]} {ident if isinstance(ident, str) else f'#{index}'}", missing)
        record = {**DEFAULTS[kind], **{name: value for name, value in raw.items() if value is not None}}
        if missing:
            check.fail(f"缺少字段 {', '.join(missing)}", f"missing field {', '.join(missing)}")
        extra = sorted(set(raw) - allowed)
        if extra:
            check.fail(f"未知字段 {', '.join(extra)}", f"unknown field {', '.join(extra)}")
        if not isinstance(ident, str) or not ID_PATTERN.match(ident):
            check.fail(f"{key} 应为小写字母、数字、-、_（2–64 个）", f"{key} must be 2-64 of a-z 0-9 - _")
        elif ident in seen:
            check.fail(f"{key} 重复", f"duplicate {key}")
        else:
            seen.add(ident)
        _CHECKS[kind](check, record, known)
        errors.extend(check.errors)
        cleaned.append(record)
    if errors:
        raise SchemaError(errors)
    return cleaned

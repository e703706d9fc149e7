"""Invalid input is refused with a clear reason, and nothing at all changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helpline.db import transaction
from knowledge import repository
from knowledge.models import AuditRecord, EntryVersion
from knowledge.schema import SchemaError
from knowledge.yamlio import Kind, YamlFormatError, dump

GOOD = {
    "id": "new-measure",
    "title": "新措施",
    "clause": "三（五）2",
    "text": "原文。",
    "answer": "回答。",
    "departments": ["street_office"],
    "questions": ["新措施是什么"],
}


def _state(sessions: sessionmaker[Session]) -> tuple[Any, ...]:
    with sessions() as session:
        exports = tuple(repository.export_text(session, kind) for kind in Kind)
        counts = (
            session.scalar(select(func.count()).select_from(AuditRecord)),
            session.scalar(select(func.count()).select_from(EntryVersion)),
        )
        return (*exports, *counts, repository.current_revision(session))


def _entries_file(*records: dict[str, Any]) -> dict[Kind, str]:
    """A hand-written file: yaml.safe_dump keeps unknown fields and leaves out missing ones."""
    full = [{"status": "published", "version": 1, **record} for record in records]
    return {Kind.ENTRIES: yaml.safe_dump(full, allow_unicode=True)}


def _missing_title() -> dict[Kind, str]:
    return _entries_file({k: v for k, v in GOOD.items() if k != "title"})


CASES: dict[str, tuple[Callable[[], dict[Kind, str]], str]] = {
    "missing field": (_missing_title, "缺少字段 title"),
    "bad clause path": (lambda: _entries_file({**GOOD, "clause": "第三条"}), "条款路径"),
    "unknown department": (lambda: _entries_file({**GOOD, "departments": ["mars"]}), "未知部门 mars"),
    "duplicate id": (lambda: _entries_file(GOOD, {**GOOD, "title": "另一个"}), "id 重复"),
    "oversized text": (lambda: _entries_file({**GOOD, "answer": "长" * 401}), "answer 太长"),
    "unknown field": (lambda: _entries_file({**GOOD, "answr": "x"}), "未知字段 answr"),
    "fact without date": (
        lambda: {Kind.FACTS: dump(Kind.FACTS, [{"key": "min_wage_beijing", "label": "x", "value": "2540"}])},
        "生效日期",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_import_is_refused_and_changes_nothing(seeded: sessionmaker[Session], case: str) -> None:
    make_texts, reason = CASES[case]
    texts = make_texts()
    # one good record alongside proves all-or-nothing: it must not be written either
    if case != "duplicate id" and Kind.ENTRIES in texts:
        good = {**GOOD, "id": "good-one", "status": "published", "version": 1}
        texts[Kind.ENTRIES] += dump(Kind.ENTRIES, [good])
    before = _state(seeded)
    with pytest.raises(SchemaError) as refused, transaction(seeded) as session:
        repository.import_texts(session, texts, "test")
    assert any(reason in line for line in refused.value.errors), refused.value.errors
    assert _state(seeded) == before


def test_malformed_yaml_is_refused(seeded: sessionmaker[Session]) -> None:
    before = _state(seeded)
    with pytest.raises(YamlFormatError), transaction(seeded) as session:
        repository.import_texts(session, {Kind.ENTRIES: "- id: [unclosed"}, "test")
    assert _state(seeded) == before


def test_stale_file_is_refused(seeded: sessionmaker[Session]) -> None:
    with transaction(seeded) as session:
        repository.edit_entry(session, "effective-date", {"next_step": "先打电话问街道。"}, "alice")
        stale = repository.entry_record(repository.get_entry(session, "effective-date"))
    before = _state(seeded)
    with pytest.raises(SchemaError) as refused, transaction(seeded) as session:
        edited = dump(Kind.ENTRIES, [{**stale, "title": "改"}])
        repository.import_texts(session, {Kind.ENTRIES: edited}, "bob")
    assert "版本" in refused.value.errors[0]
    assert _state(seeded) == before


@pytest.mark.parametrize(
    "changes",
    [{"clause": "三（五"}, {"departments": ["nope"]}, {"answer": "x" * 1000}, {"questions": []}, {"id": "x"}],
)
def test_bad_edit_is_refused_and_changes_nothing(
    seeded: sessionmaker[Session], changes: dict[str, str]
) -> None:
    before = _state(seeded)
    with pytest.raises(SchemaError), transaction(seeded) as session:
        repository.edit_entry(session, "effective-date", changes, "test")
    assert _state(seeded) == before


def test_creating_an_existing_id_is_refused(seeded: sessionmaker[Session]) -> None:
    before = _state(seeded)
    with pytest.raises(SchemaError), transaction(seeded) as session:
        repository.create_entry(session, {**GOOD, "id": "effective-date"}, "test")
    assert _state(seeded) == before

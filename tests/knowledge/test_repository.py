"""Drafts, publishing, history, rollback and the audit trail, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from helpline.db import transaction
from knowledge import directory, repository
from knowledge.models import Department, Status
from knowledge.schema import SchemaError
from knowledge.yamlio import Kind

ENTRY = "effective-date"


def test_an_edit_is_a_draft_until_published(seeded: sessionmaker[Session]) -> None:
    with transaction(seeded) as session:
        live_answer = repository.get_entry(session, ENTRY).answer
        revision = repository.current_revision(session)
        version = repository.edit_entry(session, ENTRY, {"answer": "新的回答。（依据：结尾）"}, "alice")
    assert version.version == 2
    with seeded() as session:
        entry = repository.get_entry(session, ENTRY)
        assert (entry.answer, entry.version, entry.status) == (live_answer, 1, Status.PUBLISHED)
        assert repository.current_revision(session) == revision
        assert repository.pending_record(session, ENTRY)["answer"] == "新的回答。（依据：结尾）"
    with transaction(seeded) as session:
        repository.publish(session, ENTRY, "bob")
    with seeded() as session:
        entry = repository.get_entry(session, ENTRY)
        assert (entry.answer, entry.version, entry.updated_by) == ("新的回答。（依据：结尾）", 2, "bob")
        assert repository.current_revision(session) == revision + 1


def test_rollback_restores_any_version_as_a_new_one(seeded: sessionmaker[Session]) -> None:
    with transaction(seeded) as session:
        original = repository.get_entry(session, ENTRY).answer
        for answer in ("第二版。", "第三版。"):
            repository.edit_entry(session, ENTRY, {"answer": answer}, "alice")
            repository.publish(session, ENTRY, "alice")
        repository.rollback(session, ENTRY, 1, "carol")
    with seeded() as session:
        entry = repository.get_entry(session, ENTRY)
        assert (entry.answer, entry.version) == (original, 4)
        versions = repository.history(session, ENTRY)
        assert [v.version for v in versions] == [1, 2, 3, 4]
        assert versions[1].snapshot["answer"] == "第二版。"
        trail = repository.audit_trail(session, "entry", ENTRY)
        assert [(a.actor, a.action) for a in trail][-5:] == [
            ("alice", "edit"),
            ("alice", "publish"),
            ("alice", "edit"),
            ("alice", "publish"),
            ("carol", "rollback"),
        ]
        rollback = trail[-1]
        assert rollback.before["answer"] == "第三版。"
        assert rollback.after["answer"] == original
        assert rollback.after["from_version"] == 1
        assert rollback.at.tzinfo is not None


def test_rollback_to_a_missing_version_is_not_found(seeded: sessionmaker[Session]) -> None:
    with pytest.raises(repository.NotFound), transaction(seeded) as session:
        repository.rollback(session, ENTRY, 9, "carol")


def test_a_new_entry_starts_as_an_unpublished_draft(seeded: sessionmaker[Session]) -> None:
    record = {
        "id": "phone-visit",
        "title": "电话回访",
        "clause": "四2",
        "text": "原文。",
        "answer": "回答。",
        "departments": ["youth_league"],
        "questions": ["有人打电话回访吗"],
    }
    with transaction(seeded) as session:
        entry = repository.create_entry(session, record, "alice")
        assert (entry.status, entry.version) == (Status.DRAFT, 1)
    with seeded() as session:
        assert "phone-visit" not in {e.id for e in repository.list_entries(session, Status.PUBLISHED)}
        assert repository.list_entries(session)[-1].id == "phone-visit"


def test_directory_changes_are_audited_and_used(seeded: sessionmaker[Session]) -> None:
    with transaction(seeded) as session:
        department = repository.directory_record(Kind.DEPARTMENTS, session.get(Department, "justice"))
        department["phone"] = "010-1234 5678"
        repository.put_directory(session, Kind.DEPARTMENTS, department, "staff1")
    with seeded() as session:
        assert directory.departments(session, ["justice"])[0].phone == "010-1234 5678"
        (change,) = repository.audit_trail(session, "department", "justice")[-1:]
        assert (change.actor, change.before["phone"]) == ("staff1", None)
        assert change.after["phone"] == "010-1234 5678"


def test_a_figure_needs_its_effective_date(seeded: sessionmaker[Session]) -> None:
    fact = {"key": "min_wage_beijing", "label": "北京市最低工资标准", "value": "2540", "unit": "元/月"}
    with pytest.raises(SchemaError), transaction(seeded) as session:
        repository.put_directory(session, Kind.FACTS, fact, "staff1")
    with transaction(seeded) as session:
        repository.put_directory(session, Kind.FACTS, {**fact, "effective_from": date(2025, 9, 1)}, "staff1")


def test_helplines_fall_back_to_the_seed_on_an_empty_database(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        lines = directory.helplines(session)
    assert lines[0].number == "010-82951332"
    assert [line.priority for line in lines] == sorted(line.priority for line in lines)


def test_helplines_come_from_the_database_once_stored(seeded: sessionmaker[Session]) -> None:
    with transaction(seeded) as session:
        line = {"id": "xicheng-care", "name": "西城关爱热线", "number": "010-6600 0000", "priority": 0}
        repository.put_directory(session, Kind.HELPLINES, line, "staff1")
    with seeded() as session:
        assert directory.helplines(session)[0].name == "西城关爱热线"

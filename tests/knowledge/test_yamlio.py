"""Import then export gives back the seed files byte for byte, through a real database."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from helpline.db import transaction
from knowledge import repository
from knowledge.yamlio import SEED_DIR, Kind, dump, parse


def test_export_of_imported_seed_is_byte_identical(sessions: sessionmaker[Session]) -> None:
    texts = repository.read_folder(SEED_DIR)
    assert set(texts) == set(Kind)
    with transaction(sessions) as session:
        repository.import_texts(session, texts, "test")
    with sessions() as session:
        for kind, text in texts.items():
            assert repository.export_text(session, kind) == text, kind


def test_reimporting_an_export_changes_nothing(seeded: sessionmaker[Session]) -> None:
    with seeded() as session:
        exported = {kind: repository.export_text(session, kind) for kind in Kind}
        revision = repository.current_revision(session)
    with transaction(seeded) as session:
        reports = repository.import_texts(session, exported, "test")
    assert all(not r.created and not r.changed for r in reports.values())
    with seeded() as session:
        assert repository.current_revision(session) == revision


@pytest.mark.parametrize(
    "value",
    ["a: b", "#hash", "", " leading", "line\n\nbreak", "12356", "[x]", "null", "yes", "引号“中文”", "x\n"],
)
def test_awkward_text_survives_a_round_trip(value: str) -> None:
    record = {"id": "x1", "name": value, "number": value, "hours": value, "scope": value, "priority": 3}
    assert parse(dump(Kind.HELPLINES, [record])) == [record]


def test_lists_with_commas_survive_a_round_trip() -> None:
    record = {"key": "k1", "label": "l", "value": None, "unit": "", "effective_from": None}
    record |= {"decided_by": "", "clauses": ["a, b", "[c]", "三（五）2"], "note": ""}
    assert parse(dump(Kind.FACTS, [record])) == [record]

"""Retrieval follows the database: a published edit is found by other processes' next query."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker

from helpline.db import make_engine, make_session_factory, transaction
from helpline.embeddings import Encoder
from knowledge import repository
from knowledge.retrieval import Retriever

UNIQUE = "蓝色独角兽热线的号码是多少"


def _other_process(database_url: str, encoder: Encoder) -> Retriever:
    """A retriever with its own engine, as the action server or a second gateway would have."""
    return Retriever(make_session_factory(make_engine(database_url)), encoder)


def test_a_published_edit_is_live_in_the_next_query_of_another_process(
    database_url: str, seeded: sessionmaker[Session], encoder: Encoder
) -> None:
    answering = _other_process(database_url, encoder)
    assert answering.search(UNIQUE)[0].entry_id != "new-hope-home"
    with transaction(seeded) as session:
        entry = repository.get_entry(session, "new-hope-home")
        repository.edit_entry(session, "new-hope-home", {"questions": [*entry.questions, UNIQUE]}, "alice")
    assert answering.search(UNIQUE)[0].entry_id != "new-hope-home", "a draft must not be live"
    with transaction(seeded) as session:
        repository.publish(session, "new-hope-home", "alice")
    best = answering.search(UNIQUE)[0]
    assert best.entry_id == "new-hope-home"
    assert best.semantic > 0.99, "an example question staff added is matched as it is"


def test_only_changed_entries_are_embedded_again(
    database_url: str, seeded: sessionmaker[Session], encoder: Encoder
) -> None:
    answering = _other_process(database_url, encoder)
    before = answering.index().entries
    with transaction(seeded) as session:
        repository.edit_entry(session, "effective-date", {"tags": ["实施日期"]}, "alice")
        repository.publish(session, "effective-date", "alice")
    after = answering.index().entries
    assert after["effective-date"] is not before["effective-date"]
    assert all(after[key] is before[key] for key in before if key != "effective-date")


def test_expired_entries_are_not_offered(seeded: sessionmaker[Session], encoder: Encoder) -> None:
    retriever = Retriever(seeded, encoder)
    question = "免费体检一年几次"
    assert retriever.search(question)[0].entry_id == "medical-free-annual-checkup"
    with transaction(seeded) as session:
        repository.edit_entry(session, "medical-free-annual-checkup", {"valid_to": date(2020, 1, 1)}, "alice")
        repository.publish(session, "medical-free-annual-checkup", "alice")
    assert "medical-free-annual-checkup" not in {hit.entry_id for hit in retriever.search(question, limit=5)}


class _CountingEncoder(Encoder):
    """The real model, counting what it is asked to embed: a fresh one stands for a fresh process."""

    def __init__(self, inner: Encoder) -> None:
        self._inner = inner
        self.embedded: list[str] = []

    @property
    def name(self) -> str:
        return self._inner.name

    def queries(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return self._inner.queries(texts)


def test_a_restarted_process_reads_the_vectors_from_the_store(
    seeded: sessionmaker[Session], encoder: Encoder, tmp_path: Path
) -> None:
    first = _CountingEncoder(encoder)
    built = Retriever(seeded, first, tmp_path).index().entries
    assert len(first.embedded) > 100
    again = _CountingEncoder(encoder)
    rebuilt = Retriever(seeded, again, tmp_path).index().entries
    assert len(again.embedded) == 1, "only the fingerprint's probe sentence"
    assert all(np.array_equal(rebuilt[key].vectors, built[key].vectors) for key in built)


def test_a_damaged_store_is_an_empty_one(
    seeded: sessionmaker[Session], encoder: Encoder, tmp_path: Path
) -> None:
    Retriever(seeded, _CountingEncoder(encoder), tmp_path).index()
    (store,) = tmp_path.glob("kb-vectors-*.npz")
    store.write_bytes(b"not a numpy file")
    fresh = _CountingEncoder(encoder)
    assert (
        Retriever(seeded, fresh, tmp_path).search("免费体检一年几次")[0].entry_id
        == "medical-free-annual-checkup"
    )
    assert len(fresh.embedded) > 100


def test_a_mistyped_word_is_searched_as_meant(seeded: sessionmaker[Session], encoder: Encoder) -> None:
    """Voice input's 心里资询 (knowledge/misspellings.yaml) scores as 心理咨询 does."""
    retriever = Retriever(seeded, encoder)
    typed = retriever.search("听说有个心里资询热线 是不收钱的吗")[0]
    meant = retriever.search("听说有个心理咨询热线 是不收钱的吗")[0]
    assert typed.entry_id == meant.entry_id == "psych-counseling-free"
    assert typed.semantic == pytest.approx(meant.semantic)

"""The evaluation set: top-1 ≥ 0.90 with the default model, every null question "not sure"."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from helpline.db import transaction
from helpline.embeddings import Encoder
from helpline.settings import load_settings
from knowledge import repository
from knowledge.evaluate import evaluate, load_questions, preview, thresholds_from
from knowledge.retrieval import Retriever

THRESHOLDS = thresholds_from(load_settings())


def test_top1_is_at_least_ninety_percent_and_nulls_are_not_sure(
    seeded_sqlite: sessionmaker[Session], encoder: Encoder
) -> None:
    questions = load_questions()
    assert len(questions) == 199
    report = evaluate(Retriever(seeded_sqlite, encoder), THRESHOLDS, questions)
    assert report.accuracy >= 0.90, [(q.text, q.expect) for q, _ in report.misses]
    assert report.nulls == report.nulls_not_sure > 0


def test_preview_lists_questions_a_draft_would_change(
    seeded_sqlite: sessionmaker[Session], encoder: Encoder
) -> None:
    retriever = Retriever(seeded_sqlite, encoder)
    questions = [q for q in load_questions() if q.expect in ("medical-free-annual-checkup", None)][:12]
    with transaction(seeded_sqlite) as session:
        changes = {"questions": ["完全无关的一句话"]}
        repository.edit_entry(session, "medical-free-annual-checkup", changes, "alice")
    with seeded_sqlite() as session:
        unchanged = preview(session, retriever, "effective-date", THRESHOLDS, questions)
        changes = preview(session, retriever, "medical-free-annual-checkup", THRESHOLDS, questions)
    assert unchanged == []
    assert changes and all(change.before != change.after for change in changes)
    assert all("medical-free-annual-checkup" in change.before for change in changes)

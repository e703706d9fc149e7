"""How well the knowledge base answers the evaluation set, and what a pending edit would change.

``python -m knowledge.evaluate`` loads the seed into a scratch database and prints
top-1 accuracy (the first entry offered is the expected one), how the null
(out-of-scope) questions were handled and every miss; ``--live`` measures the
configured database instead (``helpline kb eval`` does the same).

The preview behind ``helpline kb publish ID --preview`` and the API's preview uses
the same questions: it ranks them against the live index and against the index
with the entry's pending version in place, and lists the questions whose answer
would change.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from helpline import migrate
from helpline.db import make_engine, make_session_factory, transaction
from helpline.embeddings import Encoder, load_encoder
from helpline.settings import Settings, load_settings
from knowledge import repository
from knowledge.answers import Decision, Outcome, Thresholds, decide
from knowledge.entitlement import beijing_today
from knowledge.models import Status
from knowledge.retrieval import Index, Retriever, index_entry
from knowledge.yamlio import EVAL_FILE, read_records


@dataclass(frozen=True)
class Question:
    text: str
    expect: str | None


@dataclass
class Report:
    """Counts over the evaluation set; ``top1`` counts the first entry offered (answer or first choice)."""

    in_scope: int = 0
    top1: int = 0
    ranked_first: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    nulls: int = 0
    nulls_not_sure: int = 0
    misses: list[tuple[Question, Decision]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.top1 / self.in_scope if self.in_scope else 0.0

    @property
    def null_handling(self) -> float:
        return self.nulls_not_sure / self.nulls if self.nulls else 1.0


@dataclass(frozen=True)
class Change:
    """An evaluation question whose answer a pending edit would change."""

    question: str
    before: str
    after: str


def thresholds_from(settings: Settings) -> Thresholds:
    return Thresholds(settings.kb_confident, settings.kb_close, settings.kb_margin)


def load_questions(path: Path = EVAL_FILE) -> list[Question]:
    return [Question(str(item["q"]), item.get("expect")) for item in read_records(path)]


@lru_cache(maxsize=4)
def _question_vectors(encoder: Encoder, texts: tuple[str, ...]) -> np.ndarray:
    """The evaluation questions' embeddings, computed once per process (previews reuse them)."""
    return encoder.queries(list(texts))


def _decisions(index: Index, encoder: Encoder, texts: list[str], thresholds: Thresholds) -> list[Decision]:
    rankings = index.rank(texts, _question_vectors(encoder, tuple(texts)), beijing_today(), limit=3)
    return [decide(hits, thresholds) for hits in rankings]


def evaluate(retriever: Retriever, thresholds: Thresholds, questions: list[Question]) -> Report:
    texts = [q.text for q in questions]
    index = retriever.index()
    rankings = index.rank(texts, _question_vectors(retriever.encoder, tuple(texts)), beijing_today(), limit=3)
    report = Report()
    for question, hits in zip(questions, rankings, strict=True):
        decision = decide(hits, thresholds)
        report.outcomes[decision.outcome.value] += 1
        if question.expect is None:
            report.nulls += 1
            report.nulls_not_sure += decision.outcome is Outcome.NOT_SURE
            if decision.outcome is not Outcome.NOT_SURE:
                report.misses.append((question, decision))
            continue
        report.in_scope += 1
        report.ranked_first += bool(hits) and hits[0].entry_id == question.expect
        if decision.entry_ids[:1] == (question.expect,):
            report.top1 += 1
        else:
            report.misses.append((question, decision))
    return report


def describe(decision: Decision) -> str:
    if decision.outcome is Outcome.CONFIDENT:
        return decision.entry_ids[0]
    if decision.outcome is Outcome.CHOICES:
        return "choices: " + ", ".join(decision.entry_ids)
    return "not sure"


def preview(
    session: Session, retriever: Retriever, entry_id: str, thresholds: Thresholds, questions: list[Question]
) -> list[Change]:
    """Evaluation questions whose answer changes if the entry's newest version is published."""
    pending = repository.pending_record(session, entry_id)
    current = retriever.index()
    after_index = current.replaced(entry_id, index_entry(retriever.encoder, pending))
    asked = [q.text for q in questions]
    before = _decisions(current, retriever.encoder, asked, thresholds)
    after = _decisions(after_index, retriever.encoder, asked, thresholds)
    return [
        Change(text, describe(old), describe(new))
        for text, old, new in zip(asked, before, after, strict=True)
        if describe(old) != describe(new)
    ]


def print_report(report: Report, thresholds: Thresholds) -> None:
    print(f"阈值: confident={thresholds.confident} close={thresholds.close} margin={thresholds.margin}")
    print(f"top-1（首个给出的条目正确）: {report.top1}/{report.in_scope} = {report.accuracy:.3f}")
    print(f"排序第一正确 ranked first: {report.ranked_first}/{report.in_scope}")
    print(f"结果分布 outcomes: {dict(report.outcomes)}")
    print(f"超出范围问题走“不确定” null → not sure: {report.nulls_not_sure}/{report.nulls}")
    for question, decision in report.misses:
        print(f"  未答对 miss: {question.text} | 期望 {question.expect} | 实际 {describe(decision)}")


def _scratch_sessions(folder: str) -> sessionmaker[Session]:
    url = f"sqlite:///{folder}/eval.db"
    migrate.upgrade(url)
    sessions = make_session_factory(make_engine(url))
    with transaction(sessions) as session:
        repository.load_seed_if_empty(session)
    return sessions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.evaluate", description="评测知识库 / evaluate the KB"
    )
    parser.add_argument("--live", action="store_true", help="measure the configured database, not the seed")
    parser.add_argument("--questions", type=Path, default=EVAL_FILE)
    args = parser.parse_args(argv)
    settings = load_settings()
    encoder = load_encoder(settings.embedding_model, settings.torch_threads)
    with tempfile.TemporaryDirectory() as folder:
        if args.live:
            migrate.upgrade(settings.database_url)
            sessions = make_session_factory(make_engine(settings.database_url))
        else:
            sessions = _scratch_sessions(folder)
        with sessions() as session:
            published = len(repository.list_entries(session, Status.PUBLISHED))
        print(f"已发布条目 published entries: {published}")
        thresholds = thresholds_from(settings)
        report = evaluate(Retriever(sessions, encoder), thresholds, load_questions(args.questions))
        print_report(report, thresholds)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Search over the published entries, always in step with the database.

Scoring, chosen by measuring alternatives on knowledge/eval/questions.yaml
(``python -m knowledge.evaluate``):

* semantic: each entry is embedded through its title, every example question, its
  answer and its original text; the entry scores the mean of its best three
  similarities. One lucky match is weaker evidence than three good ones (top-1
  went from 0.86 with the max to 0.91 with the mean of three). Both sides use
  e5's "query" prompt: these are short texts compared with short texts, and the
  symmetric form ranked better than query-vs-passage.
* lexical: the idf-weighted share of the question's character bigrams found in
  the entry (title, questions, text, tags). It separates neighbours the model
  blurs (体检 vs 健康档案, 居家 vs 入住) and adds a small weight to the rank.

The ranking uses both; how sure we are uses the semantic score alone, because a
shared word (低保, 补贴) says little about whether a question is in scope.

Freshness without restarts: before each query the retriever reads the revision
counter (one tiny SELECT); when it moved, it reads the published entries' ids and
versions and embeds only the entries whose version changed. An edit published by
any process is therefore answered by every process from its next message on.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import re
import threading
import weakref
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helpline.db import make_engine, make_session_factory
from helpline.embeddings import Encoder, load_encoder
from helpline.settings import Settings
from knowledge.models import Entry, Status
from knowledge.repository import current_revision, entry_record
from knowledge.spelling import default_speller

TOP_K = 3
LEXICAL_WEIGHT = 0.08
NEAR_EXACT = 0.99
"""A question (almost) word for word one of the entry's texts scores that similarity: an example
question staff just added must be answered as it is, not averaged down by the others."""
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Hit:
    """One ranked entry: ``score`` orders the results, ``semantic`` says how sure we may be."""

    entry_id: str
    score: float
    semantic: float


def bigrams(text: str) -> set[str]:
    """Character bigrams of the text without spaces and punctuation (Chinese has no word breaks)."""
    chars = _NOT_WORD.sub("", text.lower())
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


@dataclass(frozen=True)
class Indexed:
    """One entry as searched: its vectors, its bigrams and the dates it is valid between."""

    version: int
    valid_from: date | None
    valid_to: date | None
    vectors: np.ndarray
    grams: frozenset[str]

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True)
class EntryTexts:
    """The parts of an entry that retrieval reads."""

    title: str
    questions: list[str]
    answer: str
    text: str
    tags: list[str]

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> EntryTexts:
        return cls(record["title"], record["questions"], record["answer"], record["text"], record["tags"])

    def embedded(self) -> list[str]:
        return [self.title, *self.questions, self.answer, self.text]

    def lexical(self) -> frozenset[str]:
        return frozenset(bigrams(" ".join([self.title, *self.questions, self.text, *self.tags])))


class _VectorCache:
    """Embeddings of knowledge-base texts by their wording, shared by every index of one encoder.

    An edit usually changes one field; re-indexing the entry then embeds only that text,
    and a preview or a second retriever in the same process embeds nothing twice. With a
    store attached, the vectors also outlive the process: a restarted action server
    indexes the whole knowledge base in a second instead of re-embedding it. Only
    knowledge-base texts pass through here, never what families write.
    """

    def __init__(self, encoder: Encoder, size: int = 20_000) -> None:
        self._encoder = encoder
        self._size = size
        self._vectors: dict[str, np.ndarray] = {}
        self._store: Path | None = None
        self._unsaved = False
        self._lock = threading.Lock()

    def attach(self, directory: Path) -> None:
        """Keep the vectors in ``directory`` too, in a file named by the model's fingerprint."""
        with self._lock:
            if self._store is not None:
                return
            self._store = directory / f"kb-vectors-{_fingerprint(self._encoder)}.npz"
            self._vectors.update(_read_store(self._store))

    def embed(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            known = {text: self._vectors[text] for text in texts if text in self._vectors}
        missing = [text for text in dict.fromkeys(texts) if text not in known]
        if missing:
            fresh = dict(zip(missing, self._encoder.queries(missing), strict=True))
            known.update(fresh)
            with self._lock:
                if len(self._vectors) + len(fresh) > self._size:
                    self._vectors.clear()
                self._vectors.update(fresh)
                self._unsaved = True
        return np.stack([known[text] for text in texts])

    def save(self) -> None:
        """Write what was embedded since the last save to the store, if one is attached."""
        with self._lock:
            if self._store is not None and self._unsaved:
                _write_store(self._store, self._vectors)
                self._unsaved = False


_PROBE = "西城区对失去独生子女家庭开展帮扶工作"


def _fingerprint(encoder: Encoder) -> str:
    """The model's name and its vector of a fixed sentence: a rebuilt or swapped model gets a new file."""
    digest = hashlib.sha256(encoder.name.encode())
    digest.update(np.round(encoder.queries([_PROBE])[0], 4).tobytes())
    return digest.hexdigest()[:16]


def _read_store(path: Path) -> dict[str, np.ndarray]:
    """The stored vectors; a missing or damaged file is an empty cache, never an error."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            return dict(zip(stored["texts"].tolist(), stored["vectors"], strict=True))
    except (OSError, ValueError, KeyError):
        return {}


def _write_store(path: Path, vectors: dict[str, np.ndarray]) -> None:
    """Write whole and rename, so another process never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    with partial.open("wb") as file:
        np.savez(file, texts=np.array(list(vectors), dtype=str), vectors=np.stack(list(vectors.values())))
    os.replace(partial, path)


_caches: weakref.WeakKeyDictionary[Encoder, _VectorCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache(encoder: Encoder) -> _VectorCache:
    with _caches_lock:
        if encoder not in _caches:
            _caches[encoder] = _VectorCache(encoder)
        return _caches[encoder]


def index_entry(encoder: Encoder, record: Mapping[str, Any]) -> Indexed:
    """Index one entry record (a live row's or a pending version's)."""
    texts = EntryTexts.of(record)
    vectors = _cache(encoder).embed(texts.embedded())
    return Indexed(record["version"], record["valid_from"], record["valid_to"], vectors, texts.lexical())


class Index:
    """An immutable snapshot: replacing it is one assignment, so readers never see half an update."""

    def __init__(self, entries: dict[str, Indexed]) -> None:
        self.entries = entries
        self._ids = list(entries)
        sizes = [len(item.vectors) for item in entries.values()]
        self._offsets = np.cumsum([0, *sizes[:-1]], dtype=np.int64)
        vectors = [item.vectors for item in entries.values()]
        self._matrix = np.concatenate(vectors) if vectors else np.zeros((0, 1), dtype=np.float32)
        frequency = Counter(gram for item in entries.values() for gram in item.grams)
        self._idf = {gram: math.log((len(entries) + 1) / (count + 0.5)) for gram, count in frequency.items()}
        self._unseen_idf = math.log((len(entries) + 1) / 0.5)

    def replaced(self, entry_id: str, item: Indexed | None) -> Index:
        """A copy with one entry changed (or removed when ``item`` is None)."""
        entries = {key: value for key, value in self.entries.items() if key != entry_id}
        if item is not None:
            entries[entry_id] = item
        return Index(entries)

    def _semantic(self, queries: np.ndarray) -> np.ndarray:
        """(queries × entries): mean of each entry's best ``TOP_K`` similarities, or a near-exact match."""
        similarities = self._matrix @ queries.T
        scores = np.empty((len(queries), len(self._ids)), dtype=np.float32)
        bounds = [*self._offsets.tolist(), len(self._matrix)]
        for column, (start, end) in enumerate(itertools.pairwise(bounds)):
            block = np.sort(similarities[start:end], axis=0)[-TOP_K:]
            scores[:, column] = np.where(block[-1] >= NEAR_EXACT, block[-1], block.mean(axis=0))
        return scores

    def _lexical(self, text: str) -> np.ndarray:
        grams = bigrams(text)
        weights = {gram: self._idf.get(gram, self._unseen_idf) for gram in grams}
        total = sum(weights.values()) or 1.0
        return np.array(
            [
                sum(w for gram, w in weights.items() if gram in self.entries[i].grams) / total
                for i in self._ids
            ],
            dtype=np.float32,
        )

    def rank(self, texts: list[str], queries: np.ndarray, day: date, limit: int) -> list[list[Hit]]:
        """For each question, the best ``limit`` entries valid on ``day``, best first."""
        if not self._ids:
            return [[] for _ in texts]
        semantic = self._semantic(queries)
        valid = np.array([self.entries[i].valid_on(day) for i in self._ids])
        results = []
        for row, text in enumerate(texts):
            score = semantic[row] + LEXICAL_WEIGHT * self._lexical(text)
            score[~valid] = -np.inf
            order = np.argsort(-score)[:limit]
            results.append(
                [
                    Hit(self._ids[i], float(score[i]), float(semantic[row, i]))
                    for i in order
                    if np.isfinite(score[i])
                ]
            )
        return results


class Retriever:
    """Thread-safe; one per process, shared by every request it answers."""

    def __init__(
        self, sessions: sessionmaker[Session], encoder: Encoder, vector_store: Path | None = None
    ) -> None:
        """``vector_store``: a folder where the entries' vectors are kept across restarts."""
        self._sessions = sessions
        self._encoder = encoder
        if vector_store is not None:
            _cache(encoder).attach(vector_store)
        self._lock = threading.Lock()
        self._revision: int | None = None
        self._index = Index({})

    @property
    def encoder(self) -> Encoder:
        return self._encoder

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self._sessions

    def index(self) -> Index:
        """The current index, refreshed first if the knowledge base changed."""
        with self._sessions() as session:
            revision = current_revision(session)
            if revision != self._revision:
                with self._lock:
                    if revision != self._revision:
                        self._index = self._rebuilt(session)
                        self._revision = revision
        return self._index

    def _rebuilt(self, session: Session) -> Index:
        old = self._index.entries
        rows = session.scalars(
            select(Entry).where(Entry.status == Status.PUBLISHED.value).order_by(Entry.position, Entry.id)
        ).all()
        entries = {}
        for row in rows:
            kept = old.get(row.id)
            if kept is not None and kept.version == row.version:
                entries[row.id] = kept
                continue
            entries[row.id] = index_entry(self._encoder, entry_record(row))
        _cache(self._encoder).save()  # once per rebuild, not once per entry
        return Index(entries)

    def search(self, text: str, limit: int = 3, day: date | None = None) -> list[Hit]:
        """The best entries for one message, best first."""
        return self.search_many([text], limit, day)[0]

    def search_many(self, texts: list[str], limit: int = 3, day: date | None = None) -> list[list[Hit]]:
        """The best entries for each message, with its mistyped words put right first."""
        index = self.index()
        speller = default_speller()
        meant = [speller.corrected(text) for text in texts]
        return index.rank(meant, self._encoder.queries(meant), day or date.today(), limit)


def retriever_for(settings: Settings) -> Retriever:
    """The retriever a process answers with: its own engine, the configured model, the vector store."""
    sessions = make_session_factory(make_engine(settings.database_url))
    encoder = load_encoder(settings.embedding_model, settings.torch_threads)
    return Retriever(sessions, encoder, settings.vector_store_dir)

"""The knowledge base inside the gateway: searched for every message, answered from when Rasa is down.

It loads in a daemon thread (the embedding model is the one the risk classifier
already loaded in the same process, so no second copy), and until it is ready it
knows nothing: the message goes to Rasa as before.
"""

from __future__ import annotations

import logging
import threading
import time

from helpline.settings import Settings
from knowledge import answers
from knowledge.entitlement import beijing_today
from knowledge.evaluate import thresholds_from
from knowledge.retrieval import Hit, Retriever, retriever_for

log = logging.getLogger(__name__)


class LiveKnowledge:
    """The gateway's retriever, loaded in the background; thread-safe once loaded."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.thresholds: answers.Thresholds = thresholds_from(settings)
        self._retriever: Retriever | None = None
        self.loaded = threading.Event()
        """Set when loading has ended, whether or not it succeeded."""

    @property
    def ready(self) -> bool:
        return self._retriever is not None

    def start(self) -> None:
        threading.Thread(target=self._load, name="knowledge-load", daemon=True).start()

    def _load(self) -> None:
        started = time.monotonic()
        try:
            retriever = retriever_for(self._settings)
            retriever.index()
            self._retriever = retriever
            log.info("knowledge base ready in the gateway after %.1f s", time.monotonic() - started)
        except Exception:
            log.exception("knowledge base not loaded in the gateway; Rasa's policy action answers alone")
        finally:
            self.loaded.set()

    def ranking(self, text: str) -> list[Hit] | None:
        """The entries that match a message best, best first, as many as a close call offers; None
        while loading."""
        retriever = self._retriever
        if retriever is None:
            return None
        return retriever.search(text, limit=answers.MAX_CHOICES, day=beijing_today())

    def best_in_context(self, text: str, last_entry: str) -> Hit | None:
        """The best entry for a follow-up read together with the entry discussed before it."""
        retriever = self._retriever
        if retriever is None:
            return None
        with retriever.sessions() as session:
            entry = answers.published_entry(session, last_entry)
            topic = entry.title if entry is not None else ""
        hits = self.ranking(f"{topic}：{text}") if topic else None
        return hits[0] if hits else None

    def answer(self, entry_id: str) -> answers.Answer | None:
        """The entry's answer as Rasa's policy action gives it; None if it cannot be answered now."""
        retriever = self._retriever
        if retriever is None:
            return None
        with retriever.sessions() as session:
            entry = answers.published_entry(session, entry_id)
            return answers.answer_entry(session, entry) if entry is not None else None

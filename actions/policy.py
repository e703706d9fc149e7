"""Policy questions answered from the live knowledge base (knowledge.answers does the deciding).

The gateway ranks the knowledge base for every message it passes on, and sends the
ranking along as the message's metadata (:func:`knowledge.routing.hits_metadata`): the
action answers from it and needs no embedding model, so the assistant holds one copy,
in the gateway. A message that reaches Rasa another way (a client talking to Rasa
directly, ``rasa shell``) has no ranking; the first one loads a retriever of this
process's own, in the background, and keeps it.

Both follow the revision counter: a published edit is answered from the next message
on, without restarting anything or retraining Rasa.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helpline.db import make_engine, make_session_factory
from helpline.settings import load_settings
from knowledge import answers
from knowledge.entitlement import beijing_today
from knowledge.evaluate import thresholds_from
from knowledge.retrieval import Hit, Retriever, retriever_for
from knowledge.routing import entry_payload, hits_in

HUMAN_BUTTON = {"title": "找工作人员", "payload": "/request_human"}
ENTITLEMENT_BUTTON = {"title": "帮我看看能享受什么", "payload": "/check_entitlement"}

READY_WAIT_SECONDS = 5.0
"""How long a message waits for what it needs to load after a restart.

Well under the gateway's wait for Rasa (``HELPLINE_RASA_TIMEOUT``, 10 s), so the family hears
"please ask again" from us rather than a timeout.
"""
NOT_READY = "我正在准备政策资料，请过半分钟再问我一次。着急的话，输入“人工”找工作人员。"

T = TypeVar("T")


class Loaded(Generic[T]):
    """One thing per process, loaded in the background from the first call on; a load that
    failed (database or model unavailable) is tried again by the next call."""

    def __init__(self, load: Callable[[], T]) -> None:
        self._load = load
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policy-knowledge")
        self._loading: Future[T] | None = None
        self._lock = threading.Lock()

    def future(self) -> Future[T]:
        with self._lock:
            if self._loading is None or (self._loading.done() and self._loading.exception() is not None):
                self._loading = self._loader.submit(self._load)
            return self._loading

    @property
    def ready(self) -> bool:
        loading = self._loading
        return loading is not None and loading.done() and loading.exception() is None

    def forget(self) -> None:
        """Load afresh on the next call (tests point the process at another database)."""
        with self._lock:
            self._loading = None

    async def soon(self) -> T | None:
        """The loaded thing, or None if it is not there within ``READY_WAIT_SECONDS``."""
        try:
            loading = asyncio.shield(asyncio.wrap_future(self.future()))
            return await asyncio.wait_for(loading, READY_WAIT_SECONDS)
        except TimeoutError:
            return None


@dataclass(frozen=True)
class PolicyKnowledge:
    """What every answer needs, built once per process."""

    sessions: sessionmaker[Session]
    thresholds: answers.Thresholds


def _open_knowledge() -> PolicyKnowledge:
    """The process's database engine, checked with one query, so ``/ready`` means it answers."""
    settings = load_settings()
    sessions = make_session_factory(make_engine(settings.database_url))
    with sessions() as session:
        session.execute(select(1))
    return PolicyKnowledge(sessions, thresholds_from(settings))


def _own_retriever() -> Retriever:
    """Model and a built index, for messages that come without the gateway's ranking."""
    retriever = retriever_for(load_settings())
    retriever.index()
    return retriever


knowledge = Loaded(_open_knowledge)
"""Loaded at start-up: every answer reads the knowledge base."""
own_retriever = Loaded(_own_retriever)
"""Loaded only when a message comes without the gateway's ranking."""


def forget_knowledge() -> None:
    """Open the database and load the retriever afresh on their next use."""
    knowledge.forget()
    own_retriever.forget()


def buttons(answer: answers.Answer) -> list[dict[str, str]]:
    choices = [
        {"title": choice.title, "payload": entry_payload(choice.entry_id)} for choice in answer.choices
    ]
    extra = [ENTITLEMENT_BUTTON] if answer.offer_entitlement_check else []
    return choices + extra + ([HUMAN_BUTTON] if answer.offer_human else [])


def answer_message(
    loaded: PolicyKnowledge, hits: list[Hit], text: str, chosen: str | None, last: str | None
) -> answers.Answer:
    """A chosen entry (button) is answered as it is; anything else from its ranking."""
    with loaded.sessions() as session:
        if chosen:
            entry = answers.published_entry(session, chosen)
            return answers.answer_entry(session, entry) if entry is not None else answers.not_sure(session)
        return answers.respond(session, hits, text, loaded.thresholds, last)


async def ranking(text: str, metadata: object, chosen: str | None) -> list[Hit] | None:
    """The gateway's ranking of the message, or this process's own; None while that is loading."""
    if chosen:
        return []
    sent = hits_in(metadata)
    if sent is not None:
        return sent
    retriever = await own_retriever.soon()
    if retriever is None:
        return None
    # Off the event loop: embedding the question takes a few milliseconds of CPU.
    return await asyncio.to_thread(retriever.search, text, answers.MAX_CHOICES, beijing_today())


class ActionAnswerPolicy(Action):
    """Answers ask_policy: the answer with its clause and department, a choice, or an honest "not sure"."""

    def name(self) -> str:
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = str(tracker.latest_message.get("text") or "")
        chosen = tracker.get_slot("kb_entry")
        last = tracker.get_slot("kb_last_entry")
        loaded = await knowledge.soon()
        hits = await ranking(text, tracker.latest_message.get("metadata"), chosen) if loaded else None
        if loaded is None or hits is None:
            dispatcher.utter_message(text=NOT_READY, buttons=[HUMAN_BUTTON])
            return [SlotSet("kb_entry", None)]
        answer = await asyncio.to_thread(answer_message, loaded, hits, text, chosen, last)
        dispatcher.utter_message(text=answer.text, buttons=buttons(answer) or None)
        if answer.offer_intake is not None:
            words, title, payload = answers.intake_offer(answer.offer_intake)
            dispatcher.utter_message(text=words, buttons=[{"title": title, "payload": payload}])
        events = [SlotSet("kb_entry", None)]
        if answer.entry_id is not None:
            events.append(SlotSet("kb_last_entry", answer.entry_id))
        return events

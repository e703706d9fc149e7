"""Policy questions answered from the live knowledge base (knowledge.answers does the deciding).

The action server opens its own database engine and one Retriever, created on
first use and kept for the life of the process; the retriever follows the
revision counter, so a published edit is answered from the next message on,
without restarting anything or retraining Rasa.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from helpline.settings import load_settings
from knowledge import answers
from knowledge.evaluate import thresholds_from
from knowledge.retrieval import Retriever, retriever_for
from knowledge.routing import entry_payload

HUMAN_BUTTON = {"title": "找工作人员", "payload": "/request_human"}
ENTITLEMENT_BUTTON = {"title": "帮我看看能享受什么", "payload": "/check_entitlement"}


@dataclass(frozen=True)
class PolicyKnowledge:
    """What the action needs, built once per process."""

    sessions: sessionmaker[Session]
    retriever: Retriever
    thresholds: answers.Thresholds


READY_WAIT_SECONDS = 5.0
"""How long a message waits for the model to load after a restart.

Well under the gateway's wait for Rasa (``HELPLINE_RASA_TIMEOUT``, 10 s), so the family hears
"please ask again" from us rather than a timeout; the server starts loading at start-up.
"""
NOT_READY = "我正在准备政策资料，请过半分钟再问我一次。着急的话，输入“人工”找工作人员。"

_loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policy-knowledge")
_loading: Future[PolicyKnowledge] | None = None
_loading_lock = threading.Lock()


def _load_knowledge() -> PolicyKnowledge:
    """Engine, model and a built index: the first answer after a restart must not pay for them."""
    settings = load_settings()
    retriever = retriever_for(settings)
    retriever.index()
    return PolicyKnowledge(retriever.sessions, retriever, thresholds_from(settings))


def knowledge_future() -> Future[PolicyKnowledge]:
    """The process's one engine and retriever, loading in the background from the first call on.

    A load that failed (database or model unavailable) is tried again by the next message.
    """
    global _loading
    with _loading_lock:
        if _loading is None or (_loading.done() and _loading.exception() is not None):
            _loading = _loader.submit(_load_knowledge)
        return _loading


def forget_knowledge() -> None:
    """Load afresh on the next call (tests point the process at another database)."""
    global _loading
    with _loading_lock:
        _loading = None


def buttons(answer: answers.Answer) -> list[dict[str, str]]:
    choices = [
        {"title": choice.title, "payload": entry_payload(choice.entry_id)} for choice in answer.choices
    ]
    extra = [ENTITLEMENT_BUTTON] if answer.offer_entitlement_check else []
    return choices + extra + ([HUMAN_BUTTON] if answer.offer_human else [])


def answer_message(
    knowledge: PolicyKnowledge, text: str, chosen: str | None, last: str | None
) -> answers.Answer:
    """A chosen entry (button) is answered as it is; anything else goes through retrieval."""
    with knowledge.sessions() as session:
        if chosen:
            entry = answers.published_entry(session, chosen)
            return answers.answer_entry(session, entry) if entry is not None else answers.not_sure(session)
        return answers.respond(session, knowledge.retriever, text, knowledge.thresholds, last)


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
        try:
            knowledge = await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(knowledge_future())), READY_WAIT_SECONDS
            )
        except TimeoutError:
            dispatcher.utter_message(text=NOT_READY, buttons=[HUMAN_BUTTON])
            return [SlotSet("kb_entry", None)]
        # Off the event loop: embedding the question takes a few milliseconds of CPU.
        answer = await asyncio.to_thread(answer_message, knowledge, text, chosen, last)
        dispatcher.utter_message(text=answer.text, buttons=buttons(answer) or None)
        if answer.offer_intake is not None:
            words, title, payload = answers.intake_offer(answer.offer_intake)
            dispatcher.utter_message(text=words, buttons=[{"title": title, "payload": payload}])
        events = [SlotSet("kb_entry", None)]
        if answer.entry_id is not None:
            events.append(SlotSet("kb_last_entry", answer.entry_id))
        return events

"""The channel-agnostic message router: every family message, from any channel, passes here.

Order matters and is the same for every channel: store the message first (so
nothing is lost), then the safety stage (:class:`handoff.gate.Gate`: crisis
replies and tickets, messages to an open ticket), and only then Rasa, whose risk
signals go back to the gate and are stripped from the reply. While a ticket is
open every reply ends with its ``handoff`` state item (not stored: it is state,
not a message). A failing store is logged, never a reason to stay silent.

Nothing here blocks the event loop: the screen runs in the safety net's workers
with a deadline (it fails safe past it), and database work runs in threads, so a
slow message or a slow database never holds up another family's crisis reply.
Messages longer than ``max_chars`` take one lane, one at a time and with a rest
after each as long as the work took: each costs the screen, the classifier and
retrieval far more than a typed message does, and a flood of them must not take
the CPU from everyone else. One that cannot get the lane within the screen's
deadline fails safe, as a screen past its deadline does.
"""

from __future__ import annotations

import asyncio
import logging
import time
import unicodedata
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.orm import Session, sessionmaker

from bot import texts
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.replies import Button, Reply, from_rasa
from handoff.crisis import Utterance
from handoff.gate import FamilyMessage, Gate, Turn
from handoff.safety import FORM_ANSWER, SIGNAL_KEY, Verdict, fail_safe
from handoff.texts import HANDOFF_PHRASE
from helpline.db import transaction
from helpline.messages import Author, Direction, record
from intake.questions import LEAVE_FORM_INTENTS, typed_answer
from intake.validation import accepts
from knowledge.answers import intake_offer
from knowledge.live import LiveKnowledge
from knowledge.retrieval import Hit
from knowledge.routing import (
    TO_RASA,
    Reading,
    Route,
    entry_payload,
    hits_metadata,
    in_context,
    may_follow_on,
    route,
)

log = logging.getLogger(__name__)

LANE_BUSY = "long message, lane busy"
"""Why a long message failed safe: another long message was being answered."""


class Routed(NamedTuple):
    """Where a message goes, the reading that decided it (None when nothing was worth asking
    Rasa about), and the knowledge base's ranking (None while it loads)."""

    way: Route
    reading: Reading | None = None
    hits: list[Hit] | None = None


@dataclass(frozen=True)
class Inbound:
    """A family's message as any channel delivers it; ``address`` is the client's, where known
    and not this machine's own (a local integration, or the reverse proxy without its header)."""

    sender: str
    channel: str
    text: str
    address: str | None = None


class Throttle:
    """Messages per family and per client address (the ``limits`` library, moving windows).

    Past a limit a message is still stored and screened, and a crisis still gets its words
    and the help lines, but nothing reaches Rasa or opens another ticket: one client
    cannot flood the queue or page the supervisor.
    """

    def __init__(self, per_sender: str, per_address: str) -> None:
        self._window = MovingWindowRateLimiter(MemoryStorage())
        self._per_sender = parse(per_sender)
        self._per_address = parse(per_address)

    def allows(self, message: Inbound) -> bool:
        sender_ok = self._window.hit(self._per_sender, message.channel, message.sender)
        address = message.address
        address_ok = address is None or self._window.hit(self._per_address, "address", address)
        return sender_ok and address_ok


class Router:
    """Stores, screens and answers family messages."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        rasa: RasaClient,
        max_chars: int,
        gate: Gate,
        wake_watch: Callable[[], None] = lambda: None,
        screen_deadline: float = 1.0,
        knowledge: LiveKnowledge | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        self._sessions = sessions
        self._rasa = rasa
        self._max_chars = max_chars
        self._gate = gate
        self._wake_watch = wake_watch
        self._screen_deadline = screen_deadline
        self._knowledge = knowledge
        self._throttle = throttle
        self._oversized = asyncio.Semaphore(1)

    async def handle(self, message: Inbound) -> list[Reply]:
        """Answer one message; the replies are stored before they are returned."""
        message = replace(message, text=without_controls(message.text))
        message_id = await asyncio.to_thread(self._store_inbound, message)
        if self._throttle is not None and not self._throttle.allows(message):
            return await self._throttled(message, message_id)
        accepted = await asyncio.to_thread(self._accepted_offer, message)
        replies = await self._respond(message, message_id, accepted)
        await asyncio.to_thread(self._store_replies, message, replies)
        await asyncio.to_thread(self._remember_offer, message.sender, replies)
        return replies + await asyncio.to_thread(self._handoff_state, message.sender)

    async def _throttled(self, message: Inbound, message_id: int | None) -> list[Reply]:
        """Past the rate limit: screened, a crisis answered with its words and raising the family's
        open ticket, but no new ticket and no Rasa."""
        async with self._lane(message.text) as ours:
            if ours:  # the classifier could only ask, and past the limit nothing but a crisis counts
                verdict = await self._gate.safety.assess_soon(
                    message.text, self._screen_deadline, lexicon_only=True
                )
            else:
                verdict = fail_safe(LANE_BUSY, message.text)
        family = FamilyMessage(message.sender, message.channel, message.text, message_id)
        if await asyncio.to_thread(self._gate.escalate_only, family, verdict):
            self._wake_watch()
        words = self._gate.words_only(verdict)
        replies = [_reply(utterance) for utterance in words] or [Reply(texts.TOO_FAST)]
        await asyncio.to_thread(self._store_replies, message, replies)
        log.warning("message %s over the rate limit: stored and screened only", message_id)
        return replies

    def _accepted_offer(self, message: Inbound) -> str | None:
        """The button a "行" / "好啊 那您给我申请一个" presses: the one the bot offered last turn."""
        try:
            offer = self._gate.take_offer(message.sender)
        except Exception:
            log.exception("could not read the last offer; the message is read as typed")
            return None
        return offer if offer is not None and accepts(message.text) else None

    def _remember_offer(self, sender: str, replies: list[Reply]) -> None:
        try:
            self._gate.remember_offer(sender, single_offer(replies))
        except Exception:
            log.exception("could not remember this turn's offer")

    def _store_inbound(self, message: Inbound) -> int | None:
        try:
            with transaction(self._sessions) as session:
                return record(
                    session,
                    sender=message.sender,
                    channel=message.channel,
                    direction=Direction.INBOUND,
                    author=Author.FAMILY,
                    text=message.text,
                ).id
        except Exception:
            log.exception("could not store an inbound message; answering anyway")
            return None

    def _store_replies(self, message: Inbound, replies: list[Reply]) -> None:
        try:
            self._record_replies(message, replies)
        except Exception:
            log.exception("could not store %d replies; they are still sent", len(replies))

    def _record_replies(self, message: Inbound, replies: list[Reply]) -> None:
        with transaction(self._sessions) as session:
            for reply in replies:
                record(
                    session,
                    sender=message.sender,
                    channel=message.channel,
                    direction=Direction.OUTBOUND,
                    author=Author.BOT,
                    text=reply.text or "",
                    payload=reply.stored_payload(),
                )

    async def _respond(self, message: Inbound, message_id: int | None, accepted: str | None) -> list[Reply]:
        """The replies to a message; ``accepted`` is the offer a typed yes pressed (screened as typed)."""
        text = message.text.strip()
        family = FamilyMessage(message.sender, message.channel, accepted or text, message_id)
        async with self._lane(text) as ours:
            return await self._screened(family, text) if ours else await self._lane_busy(family, text)

    @asynccontextmanager
    async def _lane(self, text: str) -> AsyncIterator[bool]:
        """Whether this message may be worked on now: always for typed lengths; a long one
        waits up to the screen's deadline for the lane and holds it while it is answered, and
        for as long again after."""
        if len(text) <= self._max_chars:
            yield True
            return
        try:
            async with asyncio.timeout(self._screen_deadline):
                await self._oversized.acquire()
        except TimeoutError:
            log.warning("a long message found the long-message lane busy; failing safe")
            yield False
            return
        started = time.monotonic()
        try:
            yield True
        finally:
            # Rests as long as it worked before it opens again, so long messages get at most half
            # of one core however many arrive; the reply itself is not held back.
            asyncio.get_running_loop().call_later(time.monotonic() - started, self._oversized.release)

    async def _screen(self, text: str) -> Verdict:
        return await self._gate.safety.assess_soon(text, self._screen_deadline)

    async def _lane_busy(self, family: FamilyMessage, text: str) -> list[Reply]:
        """Another long message holds the lane: ask directly and give the lines, unscreened, no Rasa."""
        turn = await asyncio.to_thread(self._gate.before_rasa, family, fail_safe(LANE_BUSY, text))
        if turn.notified:
            self._wake_watch()
        return [_reply(utterance) for utterance in turn.replies] + [Reply(texts.TOO_LONG)]

    async def _screened(self, family: FamilyMessage, text: str) -> list[Reply]:
        """Screen, hand-off stage, then Rasa when the gate lets the message through."""
        verdict = await self._screen(text)
        turn = await asyncio.to_thread(self._gate.before_rasa, family, verdict)
        if turn.notified:
            self._wake_watch()
        replies = [_reply(utterance) for utterance in turn.replies]
        if turn.while_waiting:
            return replies + await self._answer_while_waiting(family)
        if not turn.ask_rasa:
            return replies
        if not text:
            return [Reply(texts.EMPTY_MESSAGE)]
        if len(text) > self._max_chars:
            replies.insert(0, Reply(texts.TOO_LONG))
        return replies + await self._with_rasa(family, turn)

    async def _with_rasa(self, family: FamilyMessage, before: Turn) -> list[Reply]:
        """Rasa's answer, with its hand-off signals taken out and given to the gate."""
        if before.reset_rasa_first:
            await self._reset_rasa(family.sender)
        way, reading, hits = await self._route(family)
        items = await self._answer(family.sender, self._said(family.text, way), way, hits)
        signals = [item["custom"][SIGNAL_KEY] for item in items if _is_signal(item)]
        replies = [from_rasa(item) for item in items if not _is_signal(item)]
        if signals or before.unconfirmed is not None:
            intent = None if signals else await self._reading_of(family, reading)
            after = await asyncio.to_thread(self._gate.after_rasa, family, before, signals, intent)
            if after.notified:
                self._wake_watch()
            mine = [_reply(utterance) for utterance in after.replies]
            replies = mine if after.replaces_rasa else replies + mine
        return replies or [Reply(texts.NO_ANSWER)]

    def _said(self, text: str, way: Route) -> str:
        """What Rasa is sent: the entry to answer, a form answer for the form's own reading, or the text."""
        if way.entry_id:
            return entry_payload(way.entry_id)
        if way.intake:
            return "/" + way.intake
        if way.form_answer:
            return typed_answer(text[: self._max_chars])
        return text[: self._max_chars]

    async def _answer(
        self, sender: str, said: str, way: Route, hits: list[Hit] | None = None
    ) -> list[dict[str, Any]]:
        """Rasa's reply items, its policy action answering from the gateway's ranking when there is
        one; when Rasa, or its action server on a policy question, fails, the knowledge base's
        answer instead."""
        items = await self._ask_rasa(sender, said, None if hits is None else hits_metadata(hits))
        if items is None or (not items and (way.entry_id or way.fallback)):
            items = await asyncio.to_thread(self._without_rasa, way)
        return items

    async def _reading_of(self, family: FamilyMessage, reading: Reading | None) -> str | None:
        """Rasa's intent for the message, or FORM_ANSWER when it answers an open form's question;
        None when Rasa cannot be asked. The route's reading is used when there was one."""
        if reading is not None:
            return FORM_ANSWER if reading.in_form else reading.intent
        in_form, _last = await self._conversation(family.sender)
        return FORM_ANSWER if in_form else await self._intent(family.text[: self._max_chars])

    async def _answer_while_waiting(self, family: FamilyMessage) -> list[Reply]:
        """A policy question asked while waiting for a person is answered, marked as such."""
        way, _reading, _hits = await self._route(family)
        if way.entry_id is None:
            return []
        items = await self._answer(family.sender, entry_payload(way.entry_id), way)
        answer = [from_rasa(item) for item in items if not _is_signal(item)]
        return [Reply(texts.WHILE_WAITING), *answer] if answer else []

    async def _route(self, family: FamilyMessage) -> Routed:
        """One decision from Rasa's intent, the best knowledge-base entry and any open form."""
        if family.text.startswith("/"):
            return Routed(TO_RASA)  # a button: it says exactly what it means
        text = family.text[: self._max_chars]
        # Both at once: the tracker is Rasa's work, the ranking ours (the screen embedded the text).
        conversation, ranking = self._conversation(family.sender), self._ranking(text)
        (in_form, last_entry), hits = await asyncio.gather(conversation, ranking)
        if in_form:
            intent = await self._intent(text)
            way = Route(form_answer=intent not in LEAVE_FORM_INTENTS)
            return Routed(way, Reading(text, intent, None, True))
        knowledge = self._knowledge
        if knowledge is None or hits is None:
            return Routed(TO_RASA)
        best = hits[0] if hits else None
        follows_on = may_follow_on(text)
        if not follows_on and (best is None or best.semantic < knowledge.thresholds.close):
            return Routed(TO_RASA, hits=hits)  # nothing to answer from: no need to ask Rasa twice
        intent = await self._intent(text)
        with_topic = None
        if follows_on and last_entry is not None:
            with_topic = await asyncio.to_thread(knowledge.best_in_context, text, last_entry)
        topical = in_context(best, with_topic)
        reading = Reading(text, intent, topical or best, False, topical is not None)
        return Routed(route(reading, knowledge.thresholds), reading, hits)

    async def _ranking(self, text: str) -> list[Hit] | None:
        """The knowledge base's best entries for the text; None while it loads, or if the search fails."""
        knowledge = self._knowledge
        if knowledge is None or not knowledge.ready:
            return None
        try:
            return await asyncio.to_thread(knowledge.ranking, text)
        except Exception:
            log.exception("knowledge search failed; Rasa decides alone")
            return None

    async def _conversation(self, sender: str) -> tuple[bool, str | None]:
        """Whether a form waits for this family's answer, and the entry last answered; when Rasa
        cannot tell, no form and no entry (the message then goes to Rasa as typed)."""
        try:
            return await self._rasa.conversation(sender)
        except RasaUnavailable:
            return False, None

    async def _intent(self, text: str) -> str | None:
        try:
            intent, _confidence = await self._rasa.parse(text)
        except RasaUnavailable:
            return None
        return intent

    def _without_rasa(self, way: Route) -> list[dict[str, Any]]:
        """Rasa or its action server is down: a policy question is still answered from the knowledge base."""
        entry_id = way.entry_id or way.fallback
        answer = self._knowledge.answer(entry_id) if self._knowledge and entry_id else None
        if answer is None:
            return [{"text": texts.ASSISTANT_UNAVAILABLE}]
        items: list[dict[str, Any]] = [{"text": answer.text}, {"text": texts.REDUCED_SERVICE}]
        if answer.offer_intake is not None:
            words, title, payload = intake_offer(answer.offer_intake)
            items.append({"text": words, "buttons": [{"title": title, "payload": payload}]})
        return items

    async def _ask_rasa(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]] | None:
        try:
            return await self._rasa.send(sender, text, metadata)
        except RasaUnavailable as error:
            log.warning("rasa unavailable: %s", error)
            return None

    async def _reset_rasa(self, sender: str) -> None:
        """The reset a crisis ticket's close asked for; if Rasa is still down, the next turn retries."""
        try:
            await self._rasa.reset_tracker(sender)
        except RasaUnavailable as error:
            log.warning("rasa tracker reset postponed: %s", error)
            return
        await asyncio.to_thread(self._gate.rasa_reset_done, sender)

    def _handoff_state(self, sender: str) -> list[Reply]:
        try:
            state = self._gate.state_item(sender)
        except Exception:
            log.exception("could not read the hand-off state")
            return []
        return [] if state is None else [Reply(custom={"handoff": state})]


def without_controls(text: str) -> str:
    """The text without NUL and other control characters (line breaks and tabs stay).

    PostgreSQL refuses NUL in text, which would lose the message and its ticket;
    the others only ever come from broken clients or attempts to confuse logs.
    """
    if text.isprintable():
        return text
    return "".join(char for char in text if char in "\n\t" or unicodedata.category(char) != "Cc")


OFFER_PAYLOADS = frozenset({HANDOFF_PHRASE, "/request_legal_aid", "/request_psych_support"})
"""Buttons with which the bot asked whether the family wants a person or an intake. Not the
"找工作人员" button every policy answer carries: a "好的" after an answer is thanks, not a yes."""


def single_offer(replies: list[Reply]) -> str | None:
    """The payload of the one offer in the turn's last words with buttons, if exactly one."""
    with_buttons = [reply for reply in replies if reply.buttons]
    if not with_buttons:
        return None
    offers = [button.payload for button in with_buttons[-1].buttons if button.payload in OFFER_PAYLOADS]
    return offers[0] if len(offers) == 1 and len(with_buttons[-1].buttons) == 1 else None


def _is_signal(item: dict[str, Any]) -> bool:
    custom = item.get("custom")
    return isinstance(custom, dict) and isinstance(custom.get(SIGNAL_KEY), dict)


def _reply(utterance: Utterance) -> Reply:
    buttons = tuple(Button(choice.title, choice.payload) for choice in utterance.buttons)
    return Reply(utterance.text, buttons)

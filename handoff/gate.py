"""What happens to one family message before Rasa sees it, and to Rasa's risk signals after.

The gateway's router screens every message with the safety net (off its event loop,
with a deadline: :meth:`handoff.safety.SafetyNet.assess_soon`) and passes the verdict
to :meth:`Gate.before_rasa`, which decides, without Rasa:

* a family with an open ticket talks to the ticket: the message is screened (and
  may raise the priority), but Rasa does not see it and, once a counselor has the
  ticket, the bot says nothing at all;
* crisis or emergency: warm words and the numbers to call, a ticket at the top of
  the queue and on-call counselors notified, all in this turn;
* "人工" / "转人工": a ticket;
* an ambiguous message: the direct question with the lines, whose "yes" is a crisis;
  when only a weaker source (the classifier) was worried, Rasa answers the message too;
* distress: warm words and the offer of a person, then Rasa answers as usual.

Rasa's intents come back through :meth:`Gate.after_rasa` as a second signal only.
The crisis path never waits on Rasa, and if the database or the knowledge base
fails it still answers with the built-in help lines.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from handoff import crisis, queue, texts
from handoff.crisis import Utterance
from handoff.models import Conversation, Priority, Signal, Status, Ticket
from handoff.risk import RiskLevel, default_lexicon
from handoff.safety import (
    LEXICON,
    NO_RISK,
    PRACTICAL_INTENTS,
    REQUEST_HUMAN_INTENT,
    Answer,
    SafetyNet,
    Verdict,
    answer_verdict,
    asks_for_human,
    combine,
    confirmed_by,
    from_intent,
    read_answer,
    withdraws_request,
)
from helpline.db import transaction, utcnow

log = logging.getLogger(__name__)

SAFETY_QUESTION_TTL = timedelta(minutes=30)
"""An answer later than this is a new message, not an answer to the direct question."""

RECENT_DISTRESS = timedelta(hours=1)
"""A request for a person within this time of a distress signal is queued as distress."""

PLACE_UNKNOWN = "工作人员会尽快来"


@dataclass(frozen=True)
class FamilyMessage:
    """A stored family message: what the gate needs to know about it."""

    sender: str
    channel: str
    text: str
    message_id: int | None


@dataclass
class Turn:
    """The gate's decision for one message.

    ``replies`` go to the family; ``ask_rasa`` says whether Rasa answers too, after
    resetting its tracker first when ``reset_rasa_first`` (a crisis ticket closed
    while Rasa was down); when ``replaces_rasa`` is set (after Rasa), Rasa's own
    texts are dropped. ``notified`` means counselors have a new notice waiting.
    """

    replies: list[Utterance] = field(default_factory=list)
    ask_rasa: bool = False
    reset_rasa_first: bool = False
    replaces_rasa: bool = False
    level: RiskLevel = RiskLevel.NONE
    notified: bool = False
    asked: bool = False
    """The direct safety question is among ``replies``."""
    evidence: Verdict = NO_RISK
    """The safety net's verdict before Rasa, for Rasa's intent to be weighed against."""
    while_waiting: bool = False
    """The family waits for a person nobody has claimed yet: a policy question still gets its answer."""

    @property
    def unconfirmed(self) -> RiskLevel | None:
        """A weaker source's crisis, for Rasa's intent to confirm; otherwise asked after Rasa's answer."""
        return self.evidence.unconfirmed


@dataclass(frozen=True)
class _State:
    ticket_id: int | None
    question_pending: bool
    reset_rasa: bool


class Gate:
    """The hand-off's side of the router; holds no state of its own beyond the database."""

    def __init__(self, sessions: sessionmaker[Session], safety: SafetyNet, minutes_per_place: float) -> None:
        self._sessions = sessions
        self.safety = safety
        self._minutes_per_place = minutes_per_place

    def warm_up(self) -> None:
        """Compile the lexicon and read the help lines now, not on the first (maybe crisis) message.

        A lexicon that does not load raises here, so the gateway refuses to start
        instead of running without its screen.
        """
        default_lexicon()
        self.safety.assess("你好")
        crisis.fresh_help_lines(self._sessions)

    # --- before Rasa ---------------------------------------------------------------

    def before_rasa(self, message: FamilyMessage, verdict: Verdict | None = None) -> Turn:
        """The turn for a message; ``verdict`` is the safety net's, screened here when not given."""
        now = utcnow()
        if verdict is None:
            verdict = self.safety.assess(message.text)
        try:
            state = self._state(message.sender, now)
            turn = self._decide(message, verdict, state, now)
        except Exception:
            log.exception(
                "hand-off stage failed for message %s; answering from the screen alone", message.message_id
            )
            return self._without_database(verdict)
        turn.reset_rasa_first = turn.ask_rasa and state.reset_rasa
        return turn

    def _without_database(self, verdict: Verdict) -> Turn:
        """The database is failing: a crisis or an emergency still gets its words and numbers."""
        words = self.words_only(verdict)
        return Turn(words, level=verdict.level) if words else Turn(ask_rasa=True, level=verdict.level)

    def escalate_only(self, message: FamilyMessage, verdict: Verdict) -> bool:
        """Past a rate limit: raise the family's open ticket for a crisis or an emergency, open none.

        Returns whether a ticket was raised (counselors have a notice waiting)."""
        priority = Priority.for_risk(verdict.level)
        if priority not in (Priority.CRISIS, Priority.EMERGENCY):
            return False
        try:
            with transaction(self._sessions) as session:
                ticket = queue.open_ticket_of(session, message.sender)
                _record_signals(session, message, verdict, utcnow())
                return ticket is not None and queue.escalate(session, ticket, priority, utcnow())
        except Exception:
            log.exception("could not raise the open ticket of message %s", message.message_id)
            return False

    def words_only(self, verdict: Verdict) -> list[Utterance]:
        """A crisis's or an emergency's words and numbers without a ticket; nothing for the rest."""
        priority = Priority.for_risk(verdict.level)
        if priority in (Priority.CRISIS, Priority.EMERGENCY):
            return self._opening_words(priority, verdict, PLACE_UNKNOWN)
        return []

    def _decide(self, message: FamilyMessage, verdict: Verdict, state: _State, now: datetime) -> Turn:
        if state.question_pending:
            verdict, said_no = self._fold_answer(message, verdict)
            if said_no and state.ticket_id is None:
                self._record(message, verdict, now)
                return Turn([Utterance(texts.SAFETY_ANSWER_NO)], level=verdict.level)
        if state.ticket_id is not None:
            return self._to_ticket(message, verdict, state, now)
        verdict = self._in_context(message.sender, verdict, now)
        priority = Priority.for_risk(verdict.level)
        if priority in (Priority.CRISIS, Priority.EMERGENCY):
            return self._queue(message, priority, verdict, now)
        if asks_for_human(message.text):
            return self._queue(message, self._requested_priority(message.sender, verdict, now), verdict, now)
        self._record(message, verdict, now)
        if verdict.unconfirmed is not None:
            # Only a weaker source's alarm: Rasa's intent may confirm it; if not, the family gets
            # the answer to what they asked and then the direct question (see after_rasa).
            return Turn(ask_rasa=True, level=verdict.level, evidence=verdict)
        if verdict.ambiguous:
            self._ask_question(message.sender, now)
            return Turn(crisis.safety_question(self._lines()), level=verdict.level, asked=True)
        if verdict.level is RiskLevel.DISTRESS:
            return Turn(crisis.distress_reply(), ask_rasa=True, level=verdict.level, evidence=verdict)
        return Turn(ask_rasa=True, evidence=verdict)

    def _in_context(self, sender: str, verdict: Verdict, now: datetime) -> Verdict:
        """An unconfirmed crisis (another source's, alone) is confirmed by the lexicon's doubt or
        crisis earlier in the chat; grief earlier in the chat confirms nothing."""
        if verdict.unconfirmed is None or not self._lexicon_doubted(sender, now):
            return verdict
        return replace(verdict, level=verdict.unconfirmed, ambiguous=False, unconfirmed=None)

    def _lexicon_doubted(self, sender: str, now: datetime) -> bool:
        """Whether the lexicon found crisis or one of its "may be suicidal" phrases in the last hour."""
        doubtful = default_lexicon().ambiguous_categories
        with self._sessions() as session:
            recent = session.scalar(
                select(Signal.id)
                .where(Signal.sender == sender, Signal.source == LEXICON, Signal.at >= now - RECENT_DISTRESS)
                .where(
                    (Signal.level == RiskLevel.CRISIS.value)
                    | ((Signal.level == RiskLevel.DISTRESS.value) & Signal.category.in_(doubtful))
                )
                .limit(1)
            )
        return recent is not None

    def _recently_at_risk(self, sender: str, now: datetime) -> bool:
        """Whether the family's messages raised distress or more within the last hour."""
        with self._sessions() as session:
            recent = session.scalar(
                select(Signal.id)
                .where(
                    Signal.sender == sender,
                    Signal.level != RiskLevel.NONE.value,
                    Signal.at >= now - RECENT_DISTRESS,
                )
                .limit(1)
            )
        return recent is not None

    def _state(self, sender: str, now: datetime) -> _State:
        with self._sessions() as session:
            ticket = queue.open_ticket_of(session, sender)
            conversation = session.get(Conversation, sender)
        asked = conversation.safety_asked_at if conversation else None
        return _State(
            ticket_id=ticket.id if ticket else None,
            question_pending=asked is not None and now - asked <= SAFETY_QUESTION_TTL,
            reset_rasa=bool(conversation and conversation.rasa_reset_pending),
        )

    def _fold_answer(self, message: FamilyMessage, verdict: Verdict) -> tuple[Verdict, bool]:
        """The answer to the direct question: 'yes' makes a crisis; returns (verdict, said no)."""
        with transaction(self._sessions) as session:
            session.execute(
                update(Conversation).where(Conversation.sender == message.sender).values(safety_asked_at=None)
            )
        answer = read_answer(message.text)
        if answer is Answer.YES:
            return combine([verdict, answer_verdict(message.text)]), False
        return verdict, answer is Answer.NO and verdict.level.rank < RiskLevel.EMERGENCY.rank

    def _ask_question(self, sender: str, now: datetime) -> None:
        with transaction(self._sessions) as session:
            queue.conversation(session, sender).safety_asked_at = now

    def _requested_priority(self, sender: str, verdict: Verdict, now: datetime) -> Priority:
        if verdict.level is RiskLevel.DISTRESS or self._recently_at_risk(sender, now):
            return Priority.DISTRESS
        return Priority.REQUESTED

    # --- a family already in the queue ---------------------------------------------

    def _to_ticket(self, message: FamilyMessage, verdict: Verdict, state: _State, now: datetime) -> Turn:
        """Screened, recorded, maybe escalated; words only while no counselor has the ticket."""
        priority = Priority.for_risk(verdict.level)
        with transaction(self._sessions) as session:
            _record_signals(session, message, verdict, now)
            ticket = session.get(Ticket, state.ticket_id)
            if ticket is None:
                return Turn(level=verdict.level)
            if priority is not None:
                queue.escalate(session, ticket, priority, now)
            if ticket.status != Status.WAITING.value:
                return Turn(level=verdict.level, notified=priority is not None)
            if priority is None and withdraws_request(message.text) and queue.withdraw(session, ticket, now):
                return Turn([Utterance(texts.WITHDRAWN)], level=verdict.level)
            replies = self._waiting_words(session, ticket, message.text, verdict, now)
            queue.touch(session, ticket, now)
        calm = verdict.level.rank < RiskLevel.EMERGENCY.rank
        return Turn(replies, level=verdict.level, notified=priority is not None, while_waiting=calm)

    def _waiting_words(
        self, session: Session, ticket: Ticket, message_text: str, verdict: Verdict, now: datetime
    ) -> list[Utterance]:
        where = self._place(session, ticket)
        if verdict.level is RiskLevel.CRISIS:
            # The whole script once; after that each crisis message (the pills saved, the day chosen)
            # is still heard as one: the warm words and the lines again, never only "please wait".
            first = ticket.lines_given_at is None
            ticket.lines_given_at = now
            if first:
                return crisis.crisis_reply(self._lines(), where)
            return [Utterance(texts.CRISIS_WARM), crisis.lines_repeat(self._lines())]
        if verdict.level is RiskLevel.EMERGENCY:
            return crisis.emergency_reply(self._lines(), verdict.categories, where)
        at_risk = ticket.rank >= Priority.DISTRESS.rank
        if at_risk and verdict.ambiguous and verdict.unconfirmed is None:
            # The lexicon's doubt while waiting (甭劝我了, 不想熬了) is heard: warmth and the lines again.
            return [Utterance(texts.CRISIS_WARM), crisis.lines_repeat(self._lines())]
        if ticket.priority_enum is Priority.EMERGENCY and _URGING.search(message_text):
            # Someone urging us in an emergency (快点儿啊) is told again to call the number for what happened;
            # 救护车来了, 虚惊一场 or a question afterwards is not told to call again.
            return crisis.emergency_reply(self._lines(), _emergency_categories(session, ticket), where)
        return [Utterance((texts.WAITING_ACK_AT_RISK if at_risk else texts.WAITING_ACK).format(place=where))]

    # --- opening a ticket ---------------------------------------------------------

    def _queue(self, message: FamilyMessage, priority: Priority, verdict: Verdict, now: datetime) -> Turn:
        """Open (or raise) the ticket, then answer; the answer never depends on the ticket working."""
        where = PLACE_UNKNOWN
        try:
            with transaction(self._sessions) as session:
                ticket, _ = queue.open_ticket(
                    session,
                    sender=message.sender,
                    channel=message.channel,
                    priority=priority,
                    now=now,
                    message_id=message.message_id,
                )
                if priority is Priority.CRISIS:
                    ticket.lines_given_at = now
                _record_signals(session, message, verdict, now)
            with self._sessions() as session:
                where = self._place(session, ticket)
        except Exception:
            log.exception("could not open a hand-off ticket for message %s", message.message_id)
        return Turn(self._opening_words(priority, verdict, where), level=verdict.level, notified=True)

    def _opening_words(self, priority: Priority, verdict: Verdict, where: str) -> list[Utterance]:
        if priority is Priority.CRISIS:
            return crisis.crisis_reply(self._lines(), where)
        if priority is Priority.EMERGENCY:
            return crisis.emergency_reply(self._lines(), verdict.categories, where)
        return [Utterance(texts.QUEUED.format(place=where))]

    def _place(self, session: Session, ticket: Ticket) -> str:
        position, minutes = queue.wait_minutes(session, ticket, self._minutes_per_place)
        return crisis.place(position, minutes, urgent=queue.is_urgent(ticket))

    def _lines(self) -> list[crisis.HelpLineInfo]:
        return crisis.fresh_help_lines(self._sessions)

    def _record(self, message: FamilyMessage, verdict: Verdict, now: datetime) -> None:
        """Keep the signals for the counselor's summary; losing them must not lose the reply."""
        if not verdict.signals:
            return
        try:
            with transaction(self._sessions) as session:
                _record_signals(session, message, verdict, now)
        except Exception:
            log.exception("could not record risk signals of message %s", message.message_id)

    # --- after Rasa -----------------------------------------------------------------

    def after_rasa(
        self,
        message: FamilyMessage,
        before: Turn,
        signals: Sequence[dict[str, Any]],
        intent: str | None = None,
    ) -> Turn:
        """Rasa's intents as a second signal: they can add to what the screen found, never lower it.

        Rasa's crisis confirms a weaker source's crisis found before Rasa; alone, either one
        asks directly, unless Rasa read the message as a practical one (``intent``). Called
        with no signals when the turn still has an unconfirmed crisis (Rasa found nothing,
        or is down).
        """
        intents = [str(signal.get("intent", "")) for signal in signals]
        said = combine(from_intent(intent, message.text) for intent in intents)
        now = utcnow()
        if before.unconfirmed is RiskLevel.CRISIS and said.level is RiskLevel.CRISIS:
            verdict = said  # two sources agree
        else:
            verdict = self._in_context(message.sender, confirmed_by(before.evidence, said), now)
        priority = Priority.for_risk(verdict.level)
        if priority in (Priority.CRISIS, Priority.EMERGENCY):
            turn = self._queue(message, priority, verdict, now)
            turn.replaces_rasa = True
            return turn
        if REQUEST_HUMAN_INTENT in intents:
            # Rasa's own words stay (a paused intake form says how to pick it up again).
            turn = self._queue(message, self._requested_priority(message.sender, verdict, now), verdict, now)
            if before.unconfirmed is not None and not before.asked:
                self._ask_question(message.sender, now)  # a person is coming; the risk is still asked
                turn.replies.extend(crisis.safety_question(self._lines()))
            return turn
        practical = verdict.unconfirmed is None and intent in PRACTICAL_INTENTS and not before.evidence.firm
        if (verdict.unconfirmed or before.unconfirmed) is not None and not before.asked and not practical:
            self._record(message, verdict, now)
            self._ask_question(message.sender, now)
            # After a weaker source's alarm, Rasa's answer to the question stays, the ask follows it.
            replaces = before.unconfirmed is None
            return Turn(crisis.safety_question(self._lines()), level=verdict.level, replaces_rasa=replaces)
        self._record(message, verdict, now)
        if verdict.level is RiskLevel.DISTRESS and before.level is RiskLevel.NONE:
            return Turn(crisis.distress_reply(), level=verdict.level)
        return Turn(level=verdict.level)

    # --- what the webhook and Rasa need to know ------------------------------------

    def state_item(self, sender: str) -> dict[str, Any] | None:
        """The ``handoff`` state for a reply: while a ticket is open, and once after it closed."""
        with transaction(self._sessions) as session:
            ticket = queue.open_ticket_of(session, sender)
            if ticket is None:
                ticket = _unannounced_close(session, sender)
                if ticket is None:
                    return None
                ticket.close_announced = True
            return queue.state(session, ticket)

    def take_offer(self, sender: str) -> str | None:
        """The payload of the one button the bot offered last turn, forgotten once read."""
        with transaction(self._sessions) as session:
            conversation = session.get(Conversation, sender)
            if conversation is None or conversation.pending_offer is None:
                return None
            offer, conversation.pending_offer = conversation.pending_offer, None
            return offer

    def remember_offer(self, sender: str, payload: str | None) -> None:
        """What a "yes" to this turn's words would press (None: nothing single was offered)."""
        with transaction(self._sessions) as session:
            if payload is None:
                session.execute(
                    update(Conversation).where(Conversation.sender == sender).values(pending_offer=None)
                )
                return
            queue.conversation(session, sender).pending_offer = payload[:200]

    def rasa_reset_done(self, sender: str) -> None:
        """Rasa confirmed the reset asked for when a crisis or emergency ticket closed."""
        with transaction(self._sessions) as session:
            session.execute(
                update(Conversation).where(Conversation.sender == sender).values(rasa_reset_pending=False)
            )


def _unannounced_close(session: Session, sender: str) -> Ticket | None:
    query = (
        select(Ticket)
        .where(Ticket.sender == sender, Ticket.status == Status.CLOSED.value)
        .where(Ticket.close_announced.is_(False))
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    return session.scalar(query)


_URGING = re.compile(r"快|赶紧|赶快|急死|着急|怎么还(没|不)|还没(来|到)|还不来|等不(了|及)")
"""A family pressing for help while an emergency waits (快点儿啊, 怎么还没人来)."""


def _emergency_categories(session: Session, ticket: Ticket) -> list[str]:
    """What the emergency that opened or raised the ticket was (a fall, a fire), for the number to call."""
    query = (
        select(Signal.category)
        .where(Signal.sender == ticket.sender, Signal.level == RiskLevel.EMERGENCY.value)
        .where(Signal.at >= ticket.opened_at)
        .distinct()
    )
    return list(session.scalars(query))


def _record_signals(session: Session, message: FamilyMessage, verdict: Verdict, now: datetime) -> None:
    for sourced in verdict.signals:
        signal = sourced.signal
        session.add(
            Signal(
                sender=message.sender,
                message_id=message.message_id,
                source=sourced.source,
                level=signal.level.value,
                category=signal.category,
                term=signal.term[:200],
                sentence=signal.sentence,
                at=now,
            )
        )

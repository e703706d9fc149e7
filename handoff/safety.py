"""The safety net: every signal about a message weighed into one verdict.

The lexicon screen (:mod:`handoff.risk`) is always the first source and needs
nothing but Python. More sources (an embedding classifier) plug in through
:class:`SignalSource`; a source that fails is skipped and logged, never allowed to
silence the others. Rasa's intents arrive after Rasa answers (:func:`from_intent`).

Evidence is weighed, not just maximised (:func:`weigh`): a crisis needs strong
evidence, the lexicon's explicit statement of intent, plan, means, farewell or
self-harm, or another source's crisis confirmed by a second signal (the lexicon's
ambiguous phrases, Rasa's intent, risk earlier in the conversation). Another
source's crisis alone asks directly (the question, the lines and a way to a
person), and its "yes" is a crisis. An emergency needs the lexicon: the
classifier's and Rasa's emergencies were practical questions about health far
more often than emergencies (blind round 5, docs/evaluation.md).

The lexicon is the one source that may never be skipped: if it raises, or does not
finish within its deadline, the verdict fails safe (:func:`fail_safe`): the family
is asked directly whether they think of hurting themselves and given the help
lines, and the fault is logged. The gateway screens off its event loop
(:meth:`SafetyNet.assess_soon`), so one slow message cannot hold up another
family's crisis reply.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from handoff.risk import RiskAssessment, RiskLevel, RiskSignal, max_level, normalise, screen

log = logging.getLogger(__name__)

LEXICON = "lexicon"
RASA = "rasa"
SAFETY_ANSWER = "safety_answer"
SCREEN_FAULT = "screen_fault"
"""Category of the signal a screen that failed or ran out of time leaves behind."""

INTENT_LEVELS = {
    "express_crisis": RiskLevel.CRISIS,
    "report_emergency": RiskLevel.EMERGENCY,
    "express_distress": RiskLevel.DISTRESS,
}
"""Rasa intents that are a second risk signal (never the only one: the lexicon runs first)."""

REQUEST_HUMAN_INTENT = "request_human"
FORM_ANSWER = "form_answer"
"""Not Rasa's: what the gateway calls a message that answers an open form's question."""

PRACTICAL_INTENTS = frozenset(
    {
        "ask_policy", "check_entitlement", "ask_case_status", "request_legal_aid", "request_psych_support",
        REQUEST_HUMAN_INTENT, "greet", "thank", "goodbye", "affirm", "deny", "bot_challenge",
        "inform", "skip", "stop_form", "resume_form", FORM_ANSWER,
    }
)  # fmt: skip
"""Intents of a practical message, and answers to a form's question. The classifier's crisis
alone on one is not asked about: on blind round 5 it was a question about homes, care or
adoption every time; a form's answer (有困难, 出不了门) answers the form. The lexicon still
catches risk inside either (method words outrank a practical question)."""

SIGNAL_KEY = "helpline_signal"
"""The custom item Rasa's hand-off action answers with; the router takes it out of every reply."""

HANDOFF_WORDS = frozenset(
    {"人工", "转人工", "轉人工", "找人工", "要人工", "接人工", "人工服务", "人工客服", "真人", "找真人"}
)
"""Typed alone (spaces and punctuation ignored), these put the family in the queue at any time."""


class SignalSource(Protocol):
    """Anything that can assess one message; ``name`` is stored with every signal it raises."""

    name: str

    def assess(self, text: str) -> RiskAssessment: ...


class LexiconSource:
    """The lexicon screen as a source."""

    name = LEXICON

    def assess(self, text: str) -> RiskAssessment:
        return screen(text)


@dataclass(frozen=True)
class SourcedSignal:
    """A signal and the source that raised it."""

    source: str
    signal: RiskSignal


@dataclass(frozen=True)
class Verdict:
    """The combined assessment of one message."""

    level: RiskLevel
    signals: tuple[SourcedSignal, ...] = ()
    ambiguous: bool = False
    unconfirmed: RiskLevel | None = None
    """A level one source found that a second signal would confirm (a classifier's crisis)."""
    cleared: tuple[str, ...] = ()
    """The lexicon's guards that read a risk word as harmless (see RiskAssessment.cleared)."""
    firm: bool = False
    """The unconfirmed crisis is firm: Rasa reading the message as practical does not dismiss it."""

    @property
    def categories(self) -> list[str]:
        """Categories of the signals at the verdict's level, most urgent first (e.g. fire_gas)."""
        return [s.signal.category for s in self.signals if s.signal.level is self.level]


NO_RISK = Verdict(RiskLevel.NONE)


def fail_safe(reason: str, text: str) -> Verdict:
    """The lexicon could not decide: treat the message as possible risk, never as none."""
    signal = RiskSignal(RiskLevel.DISTRESS, SCREEN_FAULT, reason, text[:200], ambiguous=True)
    return Verdict(RiskLevel.DISTRESS, (SourcedSignal(LEXICON, signal),), ambiguous=True)


class SafetyNet:
    """Runs every source on a message and keeps the most urgent verdict."""

    def __init__(self, sources: Sequence[SignalSource] | None = None, workers: int = 4) -> None:
        self.sources: list[SignalSource] = list(sources) if sources is not None else [LexiconSource()]
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None

    def add_source(self, source: SignalSource) -> None:
        """Plug in another source (the embedding classifier); it can only raise the level."""
        self.sources.append(source)

    def assess(self, text: str) -> Verdict:
        """Sources run in order and stop at the first crisis: nothing can outrank it, and the
        crisis path must not wait for a slower source (the classifier) after the lexicon."""
        verdicts: dict[str, Verdict] = {}
        for source in self.sources:
            verdict = _run(source, text)
            if verdict is not None:
                verdicts[source.name] = verdict
                if verdict.level is RiskLevel.CRISIS:
                    break
        return weigh(verdicts)

    async def assess_soon(self, text: str, deadline: float, lexicon_only: bool = False) -> Verdict:
        """:meth:`assess` in a worker thread, failing safe if the lexicon has not decided in time.

        The lexicon gets ``deadline`` seconds; the sources after it keep their own time
        limits (the classifier's timeout) and are skipped, not waited for, when they fail.
        ``lexicon_only`` skips them: where only a crisis or an emergency counts (a family past
        the rate limit), they could not change the outcome, and a flood must not cost CPU.
        """
        loop = asyncio.get_running_loop()
        pool = self._executor()
        verdicts: dict[str, Verdict] = {}
        sources = (
            [source for source in self.sources if source.name == LEXICON] if lexicon_only else self.sources
        )
        for source in sources:
            work = loop.run_in_executor(pool, _run, source, text)
            if source.name != LEXICON:
                verdict = await work
            else:
                try:
                    verdict = await asyncio.wait_for(work, deadline)
                except TimeoutError:
                    log.error("lexicon screen took longer than %.1f s; failing safe", deadline)
                    verdict = fail_safe("timeout", text)
            if verdict is not None:
                verdicts[source.name] = verdict
                if verdict.level is RiskLevel.CRISIS:
                    break
        return weigh(verdicts)

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="risk-screen")
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _run(source: SignalSource, text: str) -> Verdict | None:
    """One source's verdict; a failing lexicon fails safe, any other failing source is skipped."""
    try:
        assessment = source.assess(text)
    except Exception:
        if source.name == LEXICON:
            log.exception("lexicon screen failed; failing safe")
            return fail_safe("error", text)
        log.exception("risk source %s failed; the other sources still decide", source.name)
        return None
    signals = tuple(SourcedSignal(source.name, signal) for signal in assessment.signals)
    return Verdict(
        assessment.level, signals, assessment.ambiguous, cleared=assessment.cleared, firm=assessment.firm
    )


def weigh(verdicts: Mapping[str, Verdict]) -> Verdict:
    """One verdict from each source's (keyed by source name), by the strength of the evidence.

    The lexicon's level stands. Any other source may add distress; its crisis and its
    emergency count as far as :func:`confirmed_by` says, and an unconfirmed crisis is
    remembered as ``unconfirmed`` for Rasa's intent or the conversation to confirm.
    """
    lexicon = verdicts.get(LEXICON, NO_RISK)
    weighed = [lexicon]
    for name, verdict in verdicts.items():
        if name != LEXICON:
            weighed.append(confirmed_by(lexicon, verdict))
    return replace(combine(weighed), cleared=lexicon.cleared)


def confirmed_by(evidence: Verdict, verdict: Verdict) -> Verdict:
    """``verdict`` from a weaker source, as far as ``evidence`` (the lexicon's) confirms it.

    An emergency needs the lexicon's emergency. A crisis, or a doubt (the classifier's ask
    band), is confirmed by the lexicon's ambiguous phrases (活着没意思 …), not by grief or
    loneliness alone, which are everywhere in this helpline; unconfirmed, the family gets the
    answer to what they asked and then the direct question, unless Rasa reads a practical
    question. Where the lexicon found nothing but read a risk word as harmless (累死了,
    死活不给办), the alarm is outweighed.
    """
    if verdict.level is RiskLevel.EMERGENCY and evidence.level is not RiskLevel.EMERGENCY:
        return Verdict(RiskLevel.NONE, verdict.signals)
    worried = verdict.level is RiskLevel.CRISIS or verdict.ambiguous
    if not worried or evidence.level is RiskLevel.CRISIS:
        return verdict
    if evidence.ambiguous:  # the lexicon's own "may be suicidal" phrases confirm
        return verdict
    if evidence.cleared and evidence.level is RiskLevel.NONE:
        return Verdict(RiskLevel.NONE, verdict.signals)
    return Verdict(
        RiskLevel.DISTRESS, verdict.signals, ambiguous=True, unconfirmed=RiskLevel.CRISIS, firm=verdict.firm
    )


def combine(verdicts: Iterable[Verdict]) -> Verdict:
    """Highest level wins; 'ambiguous' only when nothing stronger than distress was found."""
    verdicts = list(verdicts)
    level = max_level(verdict.level for verdict in verdicts)
    signals = tuple(signal for verdict in verdicts for signal in verdict.signals)
    ambiguous = level.rank <= RiskLevel.DISTRESS.rank and any(v.ambiguous for v in verdicts)
    pending = max_level(v.unconfirmed for v in verdicts if v.unconfirmed is not None)
    if pending.rank <= level.rank:
        return Verdict(level, signals, ambiguous)
    firm = any(v.firm for v in verdicts if v.unconfirmed is pending)
    return Verdict(level, signals, ambiguous, pending, firm=firm)


def from_intent(intent: str, sentence: str) -> Verdict:
    """Rasa's intent as a verdict (express_crisis → crisis …), kept for the counselor's summary.

    request_human raises no level; other intents are not hand-off signals at all.
    """
    if intent not in INTENT_LEVELS and intent != REQUEST_HUMAN_INTENT:
        return NO_RISK
    level = INTENT_LEVELS.get(intent, RiskLevel.NONE)
    signal = RiskSignal(level, intent, intent, sentence)
    return Verdict(level, (SourcedSignal(RASA, signal),))


def signal_item(intent: str, confidence: Any) -> dict[str, Any]:
    """What actions/handoff.py returns to the gateway for a risk intent or a request for a person."""
    score = float(confidence) if isinstance(confidence, int | float) else None
    return {SIGNAL_KEY: {"intent": intent, "confidence": score}}


_WITHDRAWALS = (
    "不用了", "不用找了", "不用找人了", "不找了", "算了", "我没事了", "没事了", "不需要了", "不等了",
)  # fmt: skip


def withdraws_request(text: str) -> bool:
    """'不用了' / '我没事了': a family taking back a request for a person they made themselves."""
    return normalise(text).startswith(_WITHDRAWALS)


_ASKS_FOR_A_PERSON = re.compile(
    r"(找|要|换|转|叫)(个|一个)?(真人|人工|工作人员|客服)(来)?(跟|和|陪)?(我)?(说|聊|谈)?"
    r"|(找|要|叫)(个|一个)?人(来)?(跟|和|陪)(我)?(说|聊|谈|唠)"
    r"|(跟|和)(个)?(真人|工作人员)(说|聊|谈)|给我找(个|一个)人$"
)
"""'那还是找个人跟我说吧', '给我找个真人': a request for a person in a sentence; not
'找个人陪我去医院' (an escort, a policy question), and not '找个心理老师聊聊', which asks for the
psychological support of 三（二）1 and goes to its intake."""


def asks_for_human(text: str) -> bool:
    """'人工', '转人工!', ' 人 工 ', '那还是找个人跟我说吧'; not a sentence that merely contains 人工."""
    compact = normalise(text)
    return compact in HANDOFF_WORDS or _ASKS_FOR_A_PERSON.search(compact) is not None


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"


_NO_STARTS = ("没有", "没", "不是", "不会", "不想伤害", "不至于", "还好", "放心", "否", "no")
_YES_STARTS = ("有", "是", "对", "嗯", "想过", "确实", "偶尔", "会", "yes")


def read_answer(text: str) -> Answer:
    """How a family answered the direct safety question.

    "No" is checked first because its words contain the "yes" ones (没有 ⊃ 有,
    不是 ⊃ 是). Anything else is UNCLEAR and goes through the normal screen, which
    still catches a crisis phrased any other way.
    """
    compact = normalise(text)
    if compact.startswith(_NO_STARTS):
        return Answer.NO
    if compact.startswith(_YES_STARTS):
        return Answer.YES
    return Answer.UNCLEAR


def answer_verdict(answer_text: str) -> Verdict:
    """A 'yes' to the direct question is a crisis signal in its own right."""
    signal = RiskSignal(RiskLevel.CRISIS, "safety_question", "yes", answer_text)
    return Verdict(RiskLevel.CRISIS, (SourcedSignal(SAFETY_ANSWER, signal),))

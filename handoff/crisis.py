"""What the bot says when a family may be at risk, composed from the help lines staff keep.

The numbers come from the knowledge base directory (editable by staff). This path
must answer even when that fails, so :func:`help_lines` falls back to the seed
YAML and, if even that cannot be read, to the lines named in the hand-off issue.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from handoff import texts
from knowledge.directory import HelpLineInfo, helplines
from knowledge.yamlio import SEED_DIR, read_records

log = logging.getLogger(__name__)

DEFAULT_LINES: tuple[HelpLineInfo, ...] = (
    HelpLineInfo("beijing-crisis-center", "北京心理危机研究与干预中心", "010-82951332", "24小时", "", 1),
    HelpLineInfo("hope24", "希望24热线", "400-161-9995", "24小时", "", 2),
    HelpLineInfo("national-12356", "全国心理援助热线", "12356", "每天至少18小时", "", 3),
    HelpLineInfo("emergency-120", "急救", "120", "24小时", "", 4),
    HelpLineInfo("police-110", "报警", "110", "24小时", "", 5),
    HelpLineInfo("fire-119", "火警", "119", "24小时", "", 6),
)
"""Last resort only: used when neither the database nor the seed YAML can be read."""

IMMEDIATE_DANGER_NUMBERS = ("120", "110")

EMERGENCY_NUMBERS = {
    "medical": "120",
    "fall": "120",
    "fire_gas": "119",
    "violence": "110",
    "missing_person": "110",
}
"""Which number each emergency category of the lexicon needs first."""


@dataclass(frozen=True)
class Choice:
    """A button: pressing it sends ``payload`` as if typed."""

    title: str
    payload: str


@dataclass(frozen=True)
class Utterance:
    """One message to the family, before a channel turns it into its own format."""

    text: str
    buttons: tuple[Choice, ...] = ()


def help_lines(session: Session) -> list[HelpLineInfo]:
    """The lines to give, most important first; never empty, never raises."""
    try:
        lines = helplines(session)
    except Exception:
        log.exception("help lines unavailable from the directory; using the seed")
        lines = []
    return list(lines) or fallback_lines()


def fresh_help_lines(sessions: sessionmaker[Session]) -> list[HelpLineInfo]:
    """:func:`help_lines` in a session of its own, so a broken table never touches the caller's."""
    try:
        with sessions() as session:
            return help_lines(session)
    except Exception:
        log.exception("no database session for help lines; using the seed")
        return fallback_lines()


def fallback_lines() -> list[HelpLineInfo]:
    """The seed file's lines, or the built-in ones when the seed cannot be read."""
    try:
        records = read_records(SEED_DIR / "helplines.yaml")
        lines = sorted((HelpLineInfo(**record) for record in records), key=lambda line: line.priority)
    except Exception:
        log.exception("seed help lines unreadable; using the built-in defaults")
        return list(DEFAULT_LINES)
    return lines or list(DEFAULT_LINES)


def is_emergency_service(line: HelpLineInfo) -> bool:
    """120, 110, 119: short national numbers for immediate danger, not someone to talk to."""
    return line.number.isdigit() and len(line.number) == 3


MAX_ESTIMATE_MINUTES = 60
"""A longer estimate is no estimate: the family hears that someone will come as soon as possible."""


def place(position: int, minutes: float | None, urgent: bool = False) -> str:
    """'您排在第 2 位，大约 10 分钟内会有人来'; never a number for a crisis or an emergency,
    who hear that someone is being called now, and never an estimate of hours.

    ``minutes`` None: nobody is on duty, so nobody is said to be on the way; the family
    hears that we are reaching someone (a crisis also has the help lines beside it).
    """
    if minutes is None:
        return texts.PLACE_URGENT_NOBODY if urgent else texts.PLACE_NOBODY.format(position=position)
    if urgent:
        return texts.PLACE_URGENT
    if minutes > MAX_ESTIMATE_MINUTES:
        return texts.PLACE_NO_ESTIMATE.format(position=position)
    return texts.PLACE.format(position=position, minutes=max(1, math.ceil(minutes)))


def lines_text(intro: str, lines: Sequence[HelpLineInfo]) -> str:
    """The talk lines with their hours, then the numbers for immediate danger."""
    talk = [line for line in lines if not is_emergency_service(line)]
    talk = talk or [line for line in DEFAULT_LINES if not is_emergency_service(line)]
    rows = [texts.LINE.format(name=line.name, number=line.number, hours=line.hours) for line in talk]
    danger = texts.OR.join(IMMEDIATE_DANGER_NUMBERS)
    return "\n".join([intro, *rows, texts.IMMEDIATE_DANGER.format(numbers=danger)])


def crisis_reply(lines: Sequence[HelpLineInfo], where: str) -> list[Utterance]:
    """Warm words first, then the lines and their hours, then who is coming and when."""
    return [
        Utterance(texts.CRISIS_WARM),
        Utterance(lines_text(texts.CRISIS_LINES_INTRO, lines)),
        Utterance(texts.CRISIS_QUEUED.format(place=where)),
    ]


def lines_repeat(lines: Sequence[HelpLineInfo]) -> Utterance:
    """The lines again, for a family still waiting after the configured time."""
    return Utterance(lines_text(texts.LINES_REPEAT_INTRO, lines))


def emergency_reply(lines: Sequence[HelpLineInfo], categories: Iterable[str], where: str) -> list[Utterance]:
    """One 'call now' message per number needed (fire and a fall: 119 and 120), then the queue."""
    calls: dict[str, str] = {}
    for category in categories:
        number = EMERGENCY_NUMBERS.get(category)
        if number is not None and number not in calls:
            calls[number] = category
    if not calls:
        calls = dict.fromkeys(IMMEDIATE_DANGER_NUMBERS, "")
    replies = [_call(_line_for(number, lines), category) for number, category in calls.items()]
    return [*replies, Utterance(texts.EMERGENCY_QUEUED.format(place=where))]


def _call(line: HelpLineInfo, category: str) -> Utterance:
    advice = texts.EMERGENCY_ADVICE.get(category, "")
    return Utterance(texts.EMERGENCY_CALL.format(number=line.number, name=line.name) + advice)


def _line_for(number: str, lines: Sequence[HelpLineInfo]) -> HelpLineInfo:
    """The directory's entry for an emergency number (its name as staff wrote it)."""
    for line in (*lines, *DEFAULT_LINES):
        if line.number == number:
            return line
    raise KeyError(number)


def distress_reply() -> list[Utterance]:
    """Warm words and an offer of a person; the bot goes on answering the question too."""
    offer = Choice(texts.TALK_TO_SOMEONE, texts.HANDOFF_PHRASE)
    return [Utterance(texts.DISTRESS), Utterance(texts.DISTRESS_OFFER, (offer,))]


def safety_question(lines: Sequence[HelpLineInfo]) -> list[Utterance]:
    """The direct, kind question asked when a message may be risk (asking does not raise risk),
    with a one-tap way to a person and the lines, so nobody who needs them has to say yes first."""
    choices = (
        Choice(texts.ANSWER_YES, texts.ANSWER_YES),
        Choice(texts.ANSWER_NO, texts.ANSWER_NO),
        Choice(texts.TALK_TO_SOMEONE, texts.HANDOFF_PHRASE),
    )
    return [Utterance(texts.SAFETY_QUESTION, choices), Utterance(lines_text(texts.SAFETY_LINES_INTRO, lines))]

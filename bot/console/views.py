"""What the console's templates show, made from domain objects: labels, waits, marked sentences."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.console.web import clock
from handoff import queue
from handoff.models import Event, Priority, Status, Ticket
from handoff.risk import RiskLevel
from handoff.summary import Dossier
from helpline.messages import AUTHOR_LABELS, Message

PRIORITY_LABELS = {
    Priority.CRISIS.value: "危机",
    Priority.EMERGENCY.value: "紧急",
    Priority.DISTRESS.value: "情绪困扰",
    Priority.REQUESTED.value: "要求人工",
    Priority.CALLBACK.value: "回访",
}
SLA_LABELS = {queue.Sla.OK: "", queue.Sla.LATE: "快超时", queue.Sla.OVER: "已超时"}
STATUS_LABELS = {
    Status.WAITING.value: "等待接入",
    Status.ACTIVE.value: "接待中",
    Status.CLOSED.value: "已结束",
}
OUTCOME_LABELS = {
    queue.Outcome.RESOLVED.value: "已处理，家属情况稳定",
    queue.Outcome.REFERRED.value: "已转介（医院、120、110 或相关部门）",
    queue.Outcome.NO_RISK.value: "误报：其实没有风险",
    queue.Outcome.FAMILY_LEFT.value: "家属已离开对话",
    queue.WITHDRAWN: "家属自己撤回了请求",
}
RISK_LABELS = {
    RiskLevel.CRISIS.value: "危机",
    RiskLevel.EMERGENCY.value: "紧急",
    RiskLevel.DISTRESS.value: "情绪困扰",
    RiskLevel.NONE.value: "未发现风险",
}


def wait_text(wait: timedelta) -> str:
    """A wait as a counselor reads it at a glance: 45 秒, 3 分 05 秒, 1 小时 12 分."""
    seconds = max(0, int(wait.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} 小时 {minutes:02d} 分"
    return f"{minutes} 分 {seconds:02d} 秒" if minutes else f"{seconds} 秒"


@dataclass(frozen=True)
class Row:
    """One ticket in the queue."""

    ticket: Ticket
    priority: str
    waited: str
    sla: str
    sla_label: str
    words: str


def row(ticket: Ticket, words: str, now: datetime) -> Row:
    sla = queue.sla(ticket, now)
    return Row(
        ticket=ticket,
        priority=PRIORITY_LABELS[ticket.priority],
        waited=wait_text(queue.waited(ticket, now)),
        sla=sla.value,
        sla_label=SLA_LABELS[sla],
        words=words,
    )


def marked(text: str, sentences: Iterable[str]) -> list[tuple[str, bool]]:
    """``text`` cut into (part, raised a risk signal) pieces, so the template can mark the sentences."""
    spans: list[tuple[int, int]] = []
    for sentence in {s for s in sentences if s}:
        start = text.find(sentence)
        while start != -1:
            spans.append((start, start + len(sentence)))
            start = text.find(sentence, start + len(sentence))
    parts: list[tuple[str, bool]] = []
    at = 0
    for start, end in sorted(spans):
        if end <= at:
            continue
        start = max(start, at)
        if start > at:
            parts.append((text[at:start], False))
        parts.append((text[start:end], True))
        at = end
    if at < len(text) or not parts:
        parts.append((text[at:], False))
    return parts


@dataclass(frozen=True)
class Line:
    """One message of a transcript, with the sentences that raised risk signals marked."""

    message: Message
    author: str
    parts: list[tuple[str, bool]]


def transcript(read: Dossier) -> list[Line]:
    flagged: dict[int, list[str]] = {}
    for signal in read.summary.risk_signals:
        flagged.setdefault(signal["message_id"], []).append(signal["sentence"])
    return [
        Line(
            message,
            AUTHOR_LABELS.get(message.author, message.author),
            marked(message.text, flagged.get(message.id, [])),
        )
        for message in read.messages
    ]


def risks(read: Dossier) -> list[tuple[str, str]]:
    """(level, words) of each risk signal, once: the lexicon and the classifier often quote one sentence."""
    said = [
        (RISK_LABELS.get(s["level"], s["level"]), s["sentence"] or s["term"])
        for s in read.summary.risk_signals
    ]
    return list(dict.fromkeys(said))


NOTE_LABELS = {
    queue.EventKind.NOTE.value: "备注",
    queue.EventKind.TRANSFERRED.value: "转接",
    queue.EventKind.FOLLOWUP_SCHEDULED.value: "约定回访",
    queue.EventKind.CLOSED.value: "结束时的备注",
}
"""The ticket's events the notes list shows, when they carry words a counselor wrote."""


def notes(read: Dossier) -> list[tuple[Event, str]]:
    """The private notes (and the words written with a transfer or the close, and each call-back
    planned, with when), oldest first."""
    shown: list[tuple[Event, str]] = []
    for event in read.events:
        if event.kind == queue.EventKind.FOLLOWUP_SCHEDULED.value:
            due = datetime.fromisoformat((event.data or {})["due_at"])
            shown.append((event, f"{NOTE_LABELS[event.kind]}（{clock(due, '%m-%d %H:%M')}）"))
        elif event.kind in NOTE_LABELS and event.text:
            shown.append((event, NOTE_LABELS[event.kind]))
    return shown

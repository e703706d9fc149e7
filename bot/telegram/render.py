"""Turning channel-agnostic replies into Bot API ``sendMessage`` parameters."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from telegram import Message

from bot.replies import Reply
from bot.telegram import keyboards, texts

MAX_MESSAGE_UNITS = 4096  # Telegram counts UTF-16 code units
_MEDIA_KINDS = (
    "voice",
    "audio",
    "photo",
    "sticker",
    "location",
    "video",
    "video_note",
    "document",
    "contact",
)


def media_kind(message: Message) -> str:
    """Which kind of non-text message this is, named as in :data:`texts.STORED_KIND`."""
    return next((kind for kind in _MEDIA_KINDS if getattr(message, kind, None)), "other")


def stored_text(message: Message) -> str:
    """What the transcript keeps of a message: its text, else its caption, else its kind."""
    return message.text or message.caption or texts.STORED_KIND[media_kind(message)]


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _hard_split(line: str, limit: int) -> list[str]:
    """A single line longer than the limit, cut at the last character that fits."""
    pieces: list[str] = []
    current, used = "", 0
    for char in line:
        size = _units(char)
        if used + size > limit:
            pieces.append(current)
            current, used = "", 0
        current += char
        used += size
    if current:
        pieces.append(current)
    return pieces


def split_text(text: str, limit: int = MAX_MESSAGE_UNITS) -> list[str]:
    """Parts of at most ``limit`` units, cut at line breaks where possible; never empty parts."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        for piece in _hard_split(line, limit) if _units(line) > limit else [line]:
            if current and _units(current) + _units(piece) > limit:
                parts.append(current)
                current = ""
            current += piece
    if current:
        parts.append(current)
    return [part.strip("\n") or part for part in parts if part.strip()]


def reply_bodies(session: Session, reply: Reply) -> list[dict[str, Any]]:
    """``sendMessage`` parameters for one reply; its buttons go under the last part.

    A reply with neither text nor buttons (machine-readable ``custom`` only) sends nothing.
    """
    parts = split_text(reply.text or "")
    if reply.buttons and not parts:
        parts = [texts.BUTTONS_ONLY]
    bodies: list[dict[str, Any]] = [{"text": part} for part in parts]
    if reply.buttons:
        bodies[-1]["reply_markup"] = keyboards.family_keyboard(session, reply.buttons).to_dict()
    return bodies

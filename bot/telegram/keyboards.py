"""Inline keyboards and what their ``callback_data`` stands for.

A family's button carries the router payload it stands for, so pressing it is
the same as typing it. Telegram allows 64 bytes of ``callback_data``; a longer
payload is stored under a short key derived from it (so storing twice is harmless).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies import Button
from bot.telegram import texts
from bot.telegram.models import CallbackPayload

MAX_CALLBACK_BYTES = 64
_PAYLOAD = "p:"
_STORED = "k:"
_CLAIM = "claim:"
FAMILY_PATTERN = r"^(p|k):"
CLAIM_PATTERN = r"^claim:"


def callback_data(session: Session, payload: str) -> str:
    """``p:<payload>`` when it fits, else ``k:<key>`` with the payload stored under the key."""
    inline = _PAYLOAD + payload
    if len(inline.encode()) <= MAX_CALLBACK_BYTES:
        return inline
    key = hashlib.sha256(payload.encode()).hexdigest()[:24]
    if session.get(CallbackPayload, key) is None:
        session.add(CallbackPayload(key=key, payload=payload))
        session.flush()
    return _STORED + key


def payload_for(session: Session, data: str) -> str | None:
    """The payload a family's button stands for; None for unknown or foreign data."""
    if data.startswith(_PAYLOAD):
        return data.removeprefix(_PAYLOAD)
    if data.startswith(_STORED):
        stored = session.get(CallbackPayload, data.removeprefix(_STORED))
        return stored.payload if stored else None
    return None


def family_keyboard(session: Session, buttons: Sequence[Button]) -> InlineKeyboardMarkup:
    """One button per row: big targets, titles never cut off."""
    rows = [[InlineKeyboardButton(b.title, callback_data=callback_data(session, b.payload))] for b in buttons]
    return InlineKeyboardMarkup(rows)


def claim_keyboard(ticket_id: int) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(texts.CLAIM_BUTTON, callback_data=f"{_CLAIM}{ticket_id}")
    return InlineKeyboardMarkup([[button]])


def claimed_ticket_id(data: str) -> int | None:
    """The ticket a "接入" button claims; None for any other data."""
    if not data.startswith(_CLAIM):
        return None
    number = data.removeprefix(_CLAIM)
    return int(number) if number.isdigit() else None

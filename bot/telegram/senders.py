"""How a Telegram chat is named in the channel-agnostic parts (router, messages, tickets)."""

from __future__ import annotations

CHANNEL = "telegram"
SENDER_PREFIX = "tg-"


def sender_for(chat_id: int) -> str:
    """The sender id of a family's private chat, e.g. ``tg-123456``."""
    return f"{SENDER_PREFIX}{chat_id}"


def chat_id_for(sender: str) -> int | None:
    """The private chat of a Telegram sender id; None for senders of other channels."""
    if not sender.startswith(SENDER_PREFIX):
        return None
    try:
        return int(sender.removeprefix(SENDER_PREFIX))
    except ValueError:
        return None

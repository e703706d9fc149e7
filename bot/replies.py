"""What the router sends back, independent of the channel that delivers it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Button:
    """A choice; pressing it sends ``payload`` as if the family had typed it."""

    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One outgoing message: text, optional buttons, optional machine-readable data."""

    text: str | None = None
    buttons: tuple[Button, ...] = ()
    custom: dict[str, Any] | None = None

    def to_rest(self, recipient_id: str) -> dict[str, Any]:
        """Rasa's REST channel shape, so Rasa web widgets work unchanged."""
        item: dict[str, Any] = {"recipient_id": recipient_id}
        if self.text is not None:
            item["text"] = self.text
        if self.buttons:
            item["buttons"] = [{"title": b.title, "payload": b.payload} for b in self.buttons]
        if self.custom is not None:
            item["custom"] = self.custom
        return item

    def stored_payload(self) -> dict[str, Any] | None:
        """The non-text parts, kept with the stored message."""
        parts: dict[str, Any] = {}
        if self.buttons:
            parts["buttons"] = [{"title": b.title, "payload": b.payload} for b in self.buttons]
        if self.custom is not None:
            parts["custom"] = self.custom
        return parts or None


def from_rasa(item: dict[str, Any]) -> Reply:
    """Turn one item of Rasa's REST reply into a :class:`Reply`."""
    buttons = tuple(
        Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
        for b in item.get("buttons") or []
    )
    custom = item.get("custom")
    return Reply(text=item.get("text"), buttons=buttons, custom=custom if isinstance(custom, dict) else None)

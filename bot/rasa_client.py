"""Talks to the Rasa server over its REST channel; the only place that knows Rasa's URLs.

A circuit breaker keeps a Rasa that is down or hanging from costing every family
the full timeout: after a failure the client fails fast for ``cooldown`` seconds,
then lets the next message through to try again. (A dozen lines of our own: the
maintained breakers are synchronous or tied to other HTTP clients.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx


class RasaUnavailable(Exception):
    """Rasa did not answer in time, answered with an error, or failed moments ago."""


class RasaClient:
    """A thin async client; one instance (and connection pool) per gateway process."""

    def __init__(
        self,
        base_url: str,
        timeout: float,
        client: httpx.AsyncClient | None = None,
        cooldown: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base_url = base_url
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._cooldown = cooldown
        self._clock = clock
        self._closed_until = 0.0

    @property
    def available(self) -> bool:
        """False while the breaker is open: Rasa failed less than ``cooldown`` seconds ago."""
        return self._clock() >= self._closed_until

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        if not self.available:
            raise RasaUnavailable("rasa failed moments ago; not waiting for it again yet")
        try:
            response = await self._client.request(method, f"{self._base_url}{path}", json=body)
            response.raise_for_status()
            result = response.json()
        except httpx.HTTPStatusError as error:
            if error.response.status_code >= 500:
                self._closed_until = self._clock() + self._cooldown
            # A 4xx is about this request (a sender id Rasa's routes cannot hold, say), not Rasa
            # being down: it must not make every other family wait out the breaker.
            raise RasaUnavailable(str(error)) from error
        except (httpx.HTTPError, ValueError) as error:
            self._closed_until = self._clock() + self._cooldown
            raise RasaUnavailable(str(error) or type(error).__name__) from error
        self._closed_until = 0.0
        return result

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Forward one message, with metadata for the actions if any; returns Rasa's reply items."""
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        items = await self._call("POST", "/webhooks/rest/webhook", body)
        if not isinstance(items, list):
            raise RasaUnavailable("unexpected reply shape")
        return [item for item in items if isinstance(item, dict)]

    async def parse(self, text: str) -> tuple[str, float]:
        """Rasa's intent for a text and its confidence, without touching any conversation."""
        result = await self._call("POST", "/model/parse", {"text": text})
        intent = (result.get("intent") or {}) if isinstance(result, dict) else {}
        return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)

    async def conversation(self, sender: str) -> tuple[bool, str | None]:
        """Whether a form (an intake) waits for this family's answer, and the entry last answered."""
        tracker = await self._call("GET", f"/conversations/{_in_path(sender)}/tracker?include_events=NONE")
        tracker = tracker if isinstance(tracker, dict) else {}
        loop = tracker.get("active_loop")
        last = (tracker.get("slots") or {}).get("kb_last_entry")
        return bool(isinstance(loop, dict) and loop.get("name")), str(last) if last else None

    async def status(self) -> dict[str, Any]:
        """Rasa's ``/status`` (needs ``--enable-api``): tells which model is loaded."""
        response = await self._client.get(f"{self._base_url}/status")
        response.raise_for_status()
        return response.json()

    async def is_up(self) -> bool:
        try:
            response = await self._client.get(f"{self._base_url}/")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def reset_tracker(self, sender: str) -> None:
        """Start the bot's side of a conversation afresh (after a counselor closes a chat)."""
        await self._call("POST", f"/conversations/{_in_path(sender)}/tracker/events", [{"event": "restart"}])

    async def aclose(self) -> None:
        await self._client.aclose()


def _in_path(sender: str) -> str:
    """A sender id as one path segment: any character, a slash or a control character too, is escaped."""
    return quote(sender, safe="")

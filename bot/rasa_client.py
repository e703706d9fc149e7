"""Talks to the Rasa server over its REST channel; the only place that knows Rasa's URLs."""

from __future__ import annotations

from typing import Any

import httpx


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


class RasaClient:
    """A thin async client; one instance (and connection pool) per gateway process."""

    def __init__(self, base_url: str, timeout: float, client: httpx.AsyncClient | None = None) -> None:
        self._base_url = base_url
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        """Forward one message; returns Rasa's reply items."""
        try:
            response = await self._client.post(
                f"{self._base_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
            )
            response.raise_for_status()
            items = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise RasaUnavailable(str(error)) from error
        if not isinstance(items, list):
            raise RasaUnavailable("unexpected reply shape")
        return [item for item in items if isinstance(item, dict)]

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
        try:
            response = await self._client.post(
                f"{self._base_url}/conversations/{sender}/tracker/events",
                json=[{"event": "restart"}],
            )
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise RasaUnavailable(str(error)) from error

    async def aclose(self) -> None:
        await self._client.aclose()

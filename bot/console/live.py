"""Live pages: server-sent events that re-send a page's parts when what they show has changed.

What "changed" means comes from :func:`changes`, which polls the database. It is the one
place to replace with a subscription to ticket events (``helpline/events.py``, being
built alongside) once that lands: the pages and the stream format stay as they are.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Hashable, Iterable
from typing import TypeVar

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from helpline.settings import Settings

Value = TypeVar("Value", bound=Hashable)

REFRESH_SECONDS = 15.0
"""Parts are re-sent at least this often even when nothing changed: waiting times and SLA colours move."""

RECONNECT_MS = 1000
"""How soon the browser reconnects when a stream ends (each stream lasts ``console_stream_seconds``)."""

Event = tuple[str, str]
"""An event's name and its HTML."""
Probe = Callable[[Session], Value]
"""Reads what a page shows a change of (e.g. the last event's id)."""


def _read(sessions: sessionmaker[Session], probe: Probe[Value]) -> Value:
    with sessions() as session:
        return probe(session)


async def changes(
    sessions: sessionmaker[Session], probe: Probe[Value], every: float, until: float
) -> AsyncIterator[Value]:
    """``probe``'s value now, then each time it differs or :data:`REFRESH_SECONDS` have passed,
    until the ``time.monotonic()`` moment ``until``.

    Polls the database every ``every`` seconds, off the event loop; a subscription to
    ticket events can replace this body without changing its callers.
    """
    last: Value | None = None
    sent_at = 0.0
    while time.monotonic() < until:
        value = await run_in_threadpool(_read, sessions, probe)
        if value != last or time.monotonic() - sent_at >= REFRESH_SECONDS:
            last, sent_at = value, time.monotonic()
            yield value
        await asyncio.sleep(every)


def _frame(name: str, html: str) -> str:
    data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
    return f"event: {name}\n{data}\n"


def deadline(request: Request) -> float:
    """When a stream opened now ends (``console_stream_seconds``), as a ``time.monotonic()`` moment.

    Ending after a while is deliberate: the browser reconnects within a second, and the
    reconnection checks the session again (a signed-out or idle user stops getting updates).
    """
    settings: Settings = request.app.state.settings
    return time.monotonic() + settings.console_stream_seconds


def stream(events: AsyncIterator[Iterable[Event]]) -> StreamingResponse:
    """An SSE response of ``events``, each a batch of named HTML parts; Starlette ends it on disconnect."""

    async def body() -> AsyncIterator[str]:
        yield f"retry: {RECONNECT_MS}\n\n"
        async for batch in events:
            for name, html in batch:
                yield _frame(name, html)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)

"""The Rasa client's circuit breaker: a failed Rasa is not waited for again at once.

The "Rasa" here is a real local HTTP server that fails once and then answers.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from bot.rasa_client import RasaClient, RasaUnavailable
from tests.conftest import free_port


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _FailsOnce(BaseHTTPRequestHandler):
    calls = 0

    def do_POST(self) -> None:
        type(self).calls += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, body = (503, b"") if type(self).calls == 1 else (200, json.dumps([{"text": "你好"}]).encode())
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flaky_rasa() -> Iterator[str]:
    _FailsOnce.calls = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FailsOnce)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_after_a_failure_calls_fail_fast_until_the_cooldown_has_passed(flaky_rasa: str) -> None:
    clock = _Clock()
    client = RasaClient(flaky_rasa, 2.0, cooldown=15, clock=clock)

    async def scenario() -> None:
        with pytest.raises(RasaUnavailable):
            await client.send("a", "你好")
        with pytest.raises(RasaUnavailable, match="moments ago"):
            await client.send("a", "你好")
        assert _FailsOnce.calls == 1 and not client.available
        clock.now += 15
        assert await client.send("a", "你好") == [{"text": "你好"}]
        assert client.available
        await client.aclose()

    asyncio.run(scenario())


def test_a_closed_port_is_unavailable_not_an_error() -> None:
    client = RasaClient(f"http://127.0.0.1:{free_port()}", 1.0)

    async def scenario() -> None:
        with pytest.raises(RasaUnavailable):
            await client.parse("你好")
        await client.aclose()

    asyncio.run(scenario())


class _KnowsOneSender(BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        known = self.path.startswith("/conversations/family-1/")
        body = json.dumps({"active_loop": {"name": "legal_form"}, "slots": {}}).encode() if known else b"{}"
        self.send_response(200 if known else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_refused_request_for_one_sender_does_not_open_the_breaker_for_everyone() -> None:
    _KnowsOneSender.paths = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KnowsOneSender)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = RasaClient(f"http://127.0.0.1:{server.server_address[1]}", 2.0)

    async def scenario() -> None:
        with pytest.raises(RasaUnavailable):
            await client.conversation("a/b\x19c")
        assert client.available
        assert await client.conversation("family-1") == (True, None)
        await client.aclose()

    try:
        asyncio.run(scenario())
    finally:
        server.shutdown()
    assert _KnowsOneSender.paths[0].startswith("/conversations/a%2Fb%19c/tracker")

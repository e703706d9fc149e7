"""The gateway's access log never names a family."""

from __future__ import annotations

import logging

from bot.__main__ import PrivatePaths


def _access(path: str) -> str:
    args = ("1.2.3.4", "GET", path, "1.1", 200)
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', args, None)
    PrivatePaths().filter(record)
    return record.getMessage()


def test_chat_and_webhook_paths_are_kept_out_of_the_access_log() -> None:
    assert "fam-1" not in _access("/api/v1/chats/fam-1/messages?key=abc")
    assert "<private>" in _access("/api/v1/chats/fam-1/messages?key=abc")
    assert "/healthz" in _access("/healthz")

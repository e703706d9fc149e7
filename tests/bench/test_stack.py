"""bench/stack.py's reading of a REST webhook's reply: answered, or what went wrong."""

from __future__ import annotations

import httpx

from bench.stack import unanswered

SIGNAL = {"recipient_id": "f", "custom": {"helpline_signal": {"intent": "request_human"}}}


def test_a_reply_with_text_is_answered_and_one_with_only_a_signal_only_when_text_is_not_required() -> None:
    assert unanswered(httpx.Response(200, json=[{"recipient_id": "f", "text": "您好"}])) is None
    assert unanswered(httpx.Response(200, json=[SIGNAL])) == "no text"
    assert unanswered(httpx.Response(200, json=[SIGNAL]), text_required=False) is None


def test_an_error_status_a_body_not_json_or_not_a_list_is_unanswered() -> None:
    assert unanswered(httpx.Response(503, json=[{"text": "稍后"}])) == "HTTP 503"
    assert unanswered(httpx.Response(200, content=b"<html>"), text_required=False) == "not JSON"
    assert (
        unanswered(httpx.Response(200, json={"text": "您好"}), text_required=False) == "not a list of replies"
    )

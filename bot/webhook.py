"""Rasa's REST channel contract at ``POST /webhooks/rest/webhook``, served by the gateway.

This is the way in for trusted integrations (a web widget behind the site's own login,
the tests): it stays Rasa-compatible, sender in the body, replies in Rasa's format. When
the gateway is reachable beyond this machine it needs ``HELPLINE_REST_TOKEN`` as a bearer
token (the gateway refuses to start without one). Sender ids of Telegram's form (``tg-…``)
belong to the Telegram channel and are refused here. Every answer carries the
conversation's chat key in the ``X-Helpline-Chat-Key`` header, which reading the
conversation back through ``GET /api/v1/chats/{sender}/messages`` requires; the body
stays exactly Rasa's, so Rasa's widgets work unchanged.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from bot.openapi import InvalidRequest
from bot.router import Inbound, Router
from bot.telegram.senders import SENDER_PREFIX
from helpline.secrets import chat_key, same
from helpline.settings import is_loopback

router = APIRouter()

REST_CHANNEL = "rest"
CHAT_KEY_HEADER = "X-Helpline-Chat-Key"


class RestMessage(BaseModel):
    """What Rasa web widgets send; ``metadata`` is accepted and ignored."""

    sender: str = Field(min_length=1, max_length=128)
    message: str = Field(default="", max_length=100_000)
    metadata: dict[str, Any] | None = None


@router.post(
    "/webhooks/rest/webhook",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RestMessage.model_json_schema()}},
        }
    },
    responses={
        200: {
            "headers": {
                CHAT_KEY_HEADER: {
                    "description": "the key GET /api/v1/chats/{sender}/messages?key= needs",
                    "schema": {"type": "string"},
                }
            }
        },
        400: {"model": InvalidRequest, "description": "not a message, or a sender id of Telegram's"},
        401: {"description": "HELPLINE_REST_TOKEN is set and the bearer token is missing or wrong"},
    },
)
async def rest_webhook(request: Request, response: Response) -> list[dict[str, Any]]:
    """Answer one message with a list of ``{recipient_id, text, buttons?, custom?}``.

    The body is read as JSON whatever its Content-Type, as Rasa's own REST channel does:
    ``curl -d '{"sender": …}'`` sends it as a form, and widgets differ.
    """
    _check_token(request)
    body = _parse(await request.body())
    if body.sender.startswith(SENDER_PREFIX):
        raise HTTPException(status_code=400, detail="这个会话编号留给 Telegram 使用，请换一个。")
    message_router: Router = request.app.state.router
    replies = await message_router.handle(
        Inbound(body.sender, REST_CHANNEL, body.message, _remote_address(request))
    )
    response.headers[CHAT_KEY_HEADER] = chat_key(request.app.state.secret, REST_CHANNEL, body.sender)
    return [reply.to_rest(body.sender) for reply in replies]


def _remote_address(request: Request) -> str | None:
    """The client's address for rate limits; None for this machine (local integrations, tests)."""
    host = request.client.host if request.client else None
    return None if host is None or is_loopback(host) else host


def _check_token(request: Request) -> None:
    token = request.app.state.settings.rest_token
    if not token:
        return
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not same(given, token):
        challenge = {"WWW-Authenticate": "Bearer"}
        raise HTTPException(status_code=401, detail="需要有效的令牌。", headers=challenge)


def _parse(raw: bytes) -> RestMessage:
    try:
        return RestMessage.model_validate_json(raw)
    except ValidationError as error:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        raise RequestValidationError(errors) from None

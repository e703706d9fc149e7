"""Rasa's REST channel contract at ``POST /webhooks/rest/webhook``, served by the gateway."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from bot.router import Inbound, Router

router = APIRouter()

REST_CHANNEL = "rest"


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
)
async def rest_webhook(request: Request) -> list[dict[str, Any]]:
    """Answer one message with a list of ``{recipient_id, text, buttons?, custom?}``.

    The body is read as JSON whatever its Content-Type, as Rasa's own REST channel does:
    ``curl -d '{"sender": …}'`` sends it as a form, and widgets differ.
    """
    body = _parse(await request.body())
    message_router: Router = request.app.state.router
    replies = await message_router.handle(
        Inbound(sender=body.sender, channel=REST_CHANNEL, text=body.message)
    )
    return [reply.to_rest(body.sender) for reply in replies]


def _parse(raw: bytes) -> RestMessage:
    try:
        return RestMessage.model_validate_json(raw)
    except ValidationError as error:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        raise RequestValidationError(errors) from None

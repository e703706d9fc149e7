"""Rasa's REST channel contract at ``POST /webhooks/rest/webhook``, served by the gateway."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from bot.router import Inbound, Router

router = APIRouter()

REST_CHANNEL = "rest"


class RestMessage(BaseModel):
    """What Rasa web widgets send; ``metadata`` is accepted and ignored."""

    sender: str = Field(min_length=1, max_length=128)
    message: str = Field(default="", max_length=100_000)
    metadata: dict[str, Any] | None = None


@router.post("/webhooks/rest/webhook")
async def rest_webhook(body: RestMessage, request: Request) -> list[dict[str, Any]]:
    """Answer one message with a list of ``{recipient_id, text, buttons?, custom?}``."""
    message_router: Router = request.app.state.router
    replies = await message_router.handle(
        Inbound(sender=body.sender, channel=REST_CHANNEL, text=body.message)
    )
    return [reply.to_rest(body.sender) for reply in replies]

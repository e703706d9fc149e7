"""Webhook mode: Telegram POSTs updates here, proven by the secret token it was given.

Only wired when ``TELEGRAM_MODE=webhook``. The update is recorded before the 200
goes back, so Telegram's redelivery (after a timeout) is recognised and a crash
after the 200 replays it at start-up instead of losing it.
"""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from bot.telegram.app import WEBHOOK, WEBHOOK_PATH, TelegramChannel

log = logging.getLogger(__name__)

router = APIRouter()

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@router.post(WEBHOOK_PATH, include_in_schema=False)
async def telegram_webhook(request: Request) -> Response:
    channel: TelegramChannel | None = request.app.state.telegram
    if channel is None or channel.mode != WEBHOOK:
        return JSONResponse({"detail": "未启用 Telegram。"}, status_code=404)
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), channel.webhook_secret.encode()):
        return JSONResponse({"detail": "无权访问。"}, status_code=403)
    try:
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
            raise ValueError("not an update")
        await channel.accept(body)
    except (ValueError, KeyError, TypeError) as error:
        log.warning("malformed telegram webhook body: %s", type(error).__name__)
        return JSONResponse({"detail": "请求格式不对，请检查后再发。"}, status_code=400)
    return JSONResponse({})

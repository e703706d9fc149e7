"""``GET /healthz``: one look tells which part of the assistant is down."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import text

from bot.rasa_client import RasaClient

router = APIRouter()


def _database(request: Request) -> dict[str, Any]:
    try:
        with request.app.state.sessions() as session:
            session.execute(text("SELECT 1"))
    except Exception as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}


async def _rasa(rasa: RasaClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """Rasa itself, and the model it has loaded."""
    try:
        status = await rasa.status()
    except httpx.HTTPError as error:
        down = {"ok": False, "error": type(error).__name__}
        return down, {"ok": False, "error": "rasa unreachable"}
    model = status.get("model_file") or status.get("fingerprint", {}).get("model")
    return {"ok": True}, {"ok": bool(model), "file": model}


async def _action_server(url: str) -> dict[str, Any]:
    """Up and able to answer policy questions (its embedding model and index loaded)."""
    try:
        async with httpx.AsyncClient(timeout=3) as client:
            response = await client.get(f"{url}/ready")
    except httpx.HTTPError as error:
        return {"ok": False, "error": type(error).__name__}
    if response.status_code == 200:
        return {"ok": True}
    return {"ok": False, "error": f"not ready (HTTP {response.status_code})"}


def _loaded(ready: bool, done: bool) -> dict[str, Any]:
    """A part the gateway loads in the background: ready, still loading, or failed."""
    if ready:
        return {"ok": True}
    return {"ok": False, "error": "failed to load" if done else "loading"}


class Part(BaseModel):
    ok: bool
    error: str | None = Field(default=None, description="why not, when it is not ok")
    file: str | None = Field(default=None, description="the model Rasa has loaded (part 'model')")


class Health(BaseModel):
    status: str = Field(description="ok, or degraded when a part is not")
    parts: dict[str, Part] = Field(description="database, rasa, action_server, model, knowledge_in_gateway")


@router.get(
    "/healthz",
    response_model=Health,
    response_model_exclude_none=True,
    responses={503: {"model": Health, "description": "a part is down; the parts say which"}},
)
async def healthz(request: Request, response: Response) -> dict[str, Any]:
    """200 when every part is up, 503 with the failing parts named otherwise."""
    state = request.app.state
    rasa, model = await _rasa(state.rasa)
    parts = {
        "database": await asyncio.to_thread(_database, request),
        "rasa": rasa,
        "action_server": await _action_server(state.settings.action_server_url),
        "model": model,
        "knowledge_in_gateway": _loaded(state.knowledge.ready, state.knowledge.loaded.is_set()),
    }
    healthy = all(part["ok"] for part in parts.values())
    response.status_code = 200 if healthy else 503
    return {"status": "ok" if healthy else "degraded", "parts": parts}


@router.get("/livez")
async def livez() -> dict[str, bool]:
    """The gateway process itself answers (used to tell that it finished starting)."""
    return {"ok": True}

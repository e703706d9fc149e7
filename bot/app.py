"""The gateway's HTTP app: the one place where routes are wired to shared state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import console, health, openapi, webhook
from bot.api import cases, chats, handoffs, kb
from bot.delivery import Delivery
from bot.rasa_client import RasaClient
from bot.router import Router, Throttle
from bot.telegram import app as telegram
from bot.telegram import webhook as telegram_webhook
from handoff.classifier import BackgroundClassifier
from handoff.gate import Gate
from handoff.notify import LogNotifier
from handoff.safety import LexiconSource, SafetyNet
from handoff.watch import Watch
from helpline.db import make_engine, make_session_factory
from helpline.secrets import server_secret
from helpline.settings import Settings, is_loopback, load_settings
from knowledge.live import LiveKnowledge

MAX_BODY_BYTES = 256 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; tests pass their own settings (database URL, Rasa URL)."""
    settings = settings or load_settings()
    if not settings.rest_token and not is_loopback(settings.host):
        raise SystemExit(
            f"HELPLINE_HOST={settings.host} is reachable beyond this machine: set HELPLINE_REST_TOKEN, "
            "the shared secret of the REST webhook, or bind to 127.0.0.1 behind a reverse proxy."
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.gate.warm_up()
        app.state.risk_classifier.start()
        app.state.knowledge.start()
        app.state.watch.start()
        if app.state.telegram is not None:
            await app.state.telegram.start()
        yield
        if app.state.telegram is not None:
            await app.state.telegram.stop()
        await app.state.watch.stop()
        await app.state.rasa.aclose()
        app.state.risk_classifier.close()
        app.state.gate.safety.close()
        app.state.engine.dispose()

    # Every route: bot.app.BodyLimit refuses a long body before any route sees it.
    app = FastAPI(
        title="西城区失独家庭帮扶助手 gateway", version="1.0", lifespan=lifespan, responses=openapi.TOO_LARGE
    )
    openapi.install(app)
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    rasa = RasaClient(settings.rasa_url, settings.rasa_timeout)
    app.state.settings = settings
    app.state.secret = server_secret(settings)
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.rasa = rasa
    app.state.delivery = Delivery()
    # Loads in the background; until then (or if it fails) the lexicon screen decides alone.
    app.state.risk_classifier = BackgroundClassifier.from_settings(settings)
    # The policy knowledge, searched for every message; loads in the background like the classifier.
    app.state.knowledge = LiveKnowledge(settings)
    app.state.gate = Gate(
        sessions, SafetyNet([LexiconSource(), app.state.risk_classifier]), settings.handoff_minutes_per_place
    )
    app.state.watch = Watch(sessions, settings, app.state.delivery.push, [LogNotifier()])
    app.state.router = Router(
        sessions,
        rasa,
        settings.max_message_chars,
        app.state.gate,
        app.state.watch.wake,
        screen_deadline=settings.screen_deadline,
        knowledge=app.state.knowledge,
        throttle=Throttle(settings.rate_per_sender, settings.rate_per_address),
    )
    channel = telegram.Gateway(
        sessions, app.state.router, rasa, app.state.delivery, app.state.watch.notifiers
    )
    app.state.telegram = telegram.build(settings, channel)
    app.include_router(webhook.router)
    app.include_router(handoffs.router)
    app.include_router(chats.router)
    app.include_router(kb.router)
    app.include_router(cases.router)
    app.include_router(health.router)
    app.include_router(telegram_webhook.router)
    console.install(app, settings)
    _add_input_guards(app)
    return app


class _TooLarge(Exception):
    """The body grew past the limit while it was being read."""


class BodyLimit:
    """413 for a body over ``limit`` bytes, whether it says its length or streams in chunks.

    Checking Content-Length alone let a chunked body of any size through; here the bytes
    are counted as the app reads them, and reading stops at the limit.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _too_large(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(scope, receive, send)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(status_code=413, content={"detail": "内容太长了，请分几次发送。"})
    await response(scope, receive, send)


def _error_locations(error: RequestValidationError) -> list[dict[str, str]]:
    """Where the request was wrong, without echoing what was sent (it may be personal)."""
    return [{"loc": ".".join(str(part) for part in e["loc"]), "type": e["type"]} for e in error.errors()]


def _add_input_guards(app: FastAPI) -> None:
    """Malformed or oversized requests get a clear 4xx in Chinese, never a 500."""

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            status_code=400,
            content={"detail": "请求格式不对，请检查后再发。", "errors": _error_locations(error)},
        )

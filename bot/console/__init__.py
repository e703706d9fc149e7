"""The counselors' and staff's web console at ``/console``, served by the gateway.

Server-rendered pages (Jinja2) with htmx for in-place updates and server-sent events
for live ones: no Node build step, nothing loaded from outside the gateway (htmx is
vendored under ``static/vendor``), forms that work as plain HTML posts, and SSE's
one-way stream fits what changes under a counselor's eyes (the queue, a family's
new messages) and reconnects by itself. Every action calls the same domain
functions as the API and the Telegram desk. The pages are not part of the API's
OpenAPI document.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot.console import conversation, pages, signin
from bot.console.web import HERE, install_error_pages
from helpline.settings import Settings


def install(app: FastAPI, settings: Settings) -> None:
    """Add the console's routes, static files, error pages and sign-in guard to the gateway."""
    app.state.login_guard = signin.LoginGuard(settings.console_login_rate, settings.console_lockout)
    for router in (signin.router, pages.router, conversation.router):
        app.include_router(router, include_in_schema=False)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
    install_error_pages(app)

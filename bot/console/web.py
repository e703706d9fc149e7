"""Rendering the console's pages: one Jinja2 environment, and HTML error pages for its routes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from intake.cases import BEIJING

HERE = Path(__file__).parent


def clock(moment: datetime, pattern: str = "%H:%M:%S") -> str:
    """Times on the pages are Beijing's: ``{{ message.created_at|clock }}``."""
    return moment.astimezone(BEIJING).strftime(pattern)


templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["clock"] = clock

PREFIX = "/console"


def page(request: Request, name: str, context: dict[str, Any] | None = None, code: int = 200) -> Response:
    """A template rendered for ``request``; no personal data goes in titles or URLs."""
    return templates.TemplateResponse(request, name, context or {}, status_code=code)


def install_error_pages(app: FastAPI) -> None:
    """The console's refusals as a page in Chinese; the API's stay JSON."""

    @app.exception_handler(HTTPException)
    async def refusal(request: Request, error: HTTPException) -> Response:
        if not request.url.path.startswith(PREFIX) or error.status_code < 400:
            return await http_exception_handler(request, error)
        response = page(request, "error.html", {"message": error.detail}, error.status_code)
        response.headers.update(error.headers or {})
        return response

"""The error answers the gateway's routes share, as its OpenAPI document states them.

Routes declare what they can answer besides success with these (``responses=``):
every error body is ``{"detail": …}``, words a person can be shown. A malformed
request is a 400 from :func:`bot.app._add_input_guards`, never FastAPI's own 422, so
:func:`install` documents the 400 on every route that takes parameters or a body, and
drops FastAPI's 422. ``tests/bot/test_openapi_contract.py`` holds every route to what
is written here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

VALIDATION_ERROR_REF = "#/components/schemas/HTTPValidationError"
"""What FastAPI's automatic 422 refers to; the gateway never sends that body."""


class Problem(BaseModel):
    """Every refusal: what went wrong, in words a person can be shown."""

    detail: str


class ErrorLocation(BaseModel):
    loc: str = Field(description="where, e.g. body.sender or query.limit")
    type: str = Field(description="pydantic's error type, e.g. missing or string_too_long")


class InvalidRequest(BaseModel):
    """A malformed request: where it was wrong, without echoing what was sent (it may be personal)."""

    detail: str
    errors: list[ErrorLocation] | None = Field(
        default=None, description="where the request was wrong, when it did not fit the documented schema"
    )


def problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


INVALID: dict[int | str, dict[str, Any]] = {
    400: {"model": InvalidRequest, "description": "请求格式不对: the body or a parameter does not fit"}
}
SIGNED_IN: dict[int | str, dict[str, Any]] = {
    401: problem("no bearer token, or one that is unknown or switched off"),
    403: problem("the user's role may not do this"),
}
TOO_LARGE: dict[int | str, dict[str, Any]] = {413: problem("内容太长了: the body is over 256 KiB")}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: problem("nothing with this id (or number, or key)")}
CONFLICT: dict[int | str, dict[str, Any]] = {409: problem("its current state does not allow this")}


def _replace_validation_error(document: dict[str, Any]) -> None:
    """A route with parameters or a body answers a malformed request with 400 (FastAPI would say 422).

    FastAPI adds its 422 only where a route declares no 422 of its own; the knowledge
    base's routes do (a refused change), so the 400 goes wherever a request can be malformed.
    """
    invalid = {"description": INVALID[400]["description"], "content": _json_of("InvalidRequest")}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            automatic = responses.get("422", {}).get("content", {}).get("application/json", {})
            if automatic.get("schema", {}).get("$ref") == VALIDATION_ERROR_REF:
                del responses["422"]
            if operation.get("parameters") or operation.get("requestBody"):
                responses.setdefault("400", invalid)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, model in (("InvalidRequest", InvalidRequest), ("ErrorLocation", ErrorLocation)):
        schemas.setdefault(name, model.model_json_schema(ref_template="#/components/schemas/{model}"))
    schemas.get("InvalidRequest", {}).pop("$defs", None)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def _json_of(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def install(app: FastAPI) -> None:
    """Serve the document with the app's 400 in place of FastAPI's 422."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _replace_validation_error(build())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

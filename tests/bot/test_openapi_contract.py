"""Every route of the gateway against its own OpenAPI (schemathesis), as an admin and anonymously.

schemathesis generates requests for each operation of the OpenAPI document, valid
ones and invalid ones, and each response must be no 5xx, carry a status code the
operation documents, and match the schema documented for it. The app is the real one
on a real database (SQLite, and PostgreSQL when there is one) holding the
knowledge-base seed and one crisis ticket, with Rasa a closed local port as in
test_webhook. Generation is deterministic (a fixed seed, no example database) and
bounded per operation, so CI sends the same requests on every run.

The schema is loaded when the module is imported, from an app that is built but not
started: schemathesis 4.32's fixture-based loader (``schemathesis.pytest.from_fixture``)
reads a pytest-internal attribute that pytest 9.2 no longer has. The document is the
same as the one the running app serves, which the first test checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from bot.app import create_app
from helpline.db import transaction
from helpline.settings import load_settings
from helpline.users import Role, add_user
from knowledge.repository import load_seed_into
from tests.conftest import DATABASES, migrated_database, without_rasa

pytestmark = pytest.mark.integration
"""Not in ``make test-fast``: the whole run takes about 50 s here (``make test`` runs it)."""

SEED = 12
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
DOWN_ON_PURPOSE = {"/healthz"}
"""Rasa and the action server are a closed port here, so /healthz rightly answers its documented 503
(degraded, naming them): for it alone a 5xx is not a failure, and the test checks what the 503 says."""


def _config(max_examples: int, coverage: bool) -> schemathesis.Config:
    """Fixed seed, no example database; the coverage phase (boundary values, missing and wrong-typed
    fields, some 1,700 requests over all operations) unless told otherwise, then ``max_examples``
    generated requests per operation. Other methods than the documented ones are not sent:
    what they get (405) is FastAPI's, and no check here looks at it."""
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": max_examples, "deterministic": True, "database": "none"},
            "phases": {"coverage": {"enabled": coverage, "unexpected-methods": []}},
        }
    )


SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck))
"""Requests to the app take what they take (a preview loads the embedding model), and fixtures are shared."""


def _document() -> dict[str, Any]:
    app = create_app(replace(load_settings(), database_url="sqlite://"))
    app.state.engine.dispose()
    return app.openapi()


DOCUMENT = _document()
as_admin = schemathesis.openapi.from_dict(DOCUMENT, config=_config(max_examples=20, coverage=True))
anonymous = schemathesis.openapi.from_dict(DOCUMENT, config=_config(max_examples=5, coverage=False))
"""Anonymously every operation but the webhook, the chat poll and the health checks stops at its 401
whatever was sent: a few generated requests each say as much as the whole coverage phase would."""


@pytest.fixture(scope="module", params=DATABASES)
def gateway(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One running app per backend for the whole module, as a family and the staff would find it."""
    with migrated_database(request.param, tmp_path_factory.mktemp("contract")) as url:
        load_seed_into(url)
        configured = without_rasa(url)
        with TestClient(create_app(configured)) as client:
            # One ticket, so the handoff routes have something to find (ticket 1).
            client.post("/webhooks/rest/webhook", json={"sender": "contract", "message": "我不想活了"})
            yield client


@pytest.fixture(scope="module")
def admin(gateway: TestClient) -> dict[str, str]:
    with transaction(gateway.app.state.sessions) as session:
        return {"Authorization": f"Bearer {add_user(session, 'contract-admin', Role.ADMIN)}"}


def _send(client: TestClient, case: schemathesis.Case, headers: dict[str, str]) -> httpx.Response:
    """The case through the test client, so the app runs with its lifespan as in every other test.

    schemathesis serialises for ``requests``; the test client is ``httpx``, which takes raw
    bytes as ``content`` and a form as ``data``.
    """
    kwargs: dict[str, Any] = case.as_transport_kwargs(base_url=str(client.base_url), headers=headers)
    body = kwargs.pop("data", None)
    if isinstance(body, str | bytes):
        kwargs["content"] = body
    elif body is not None:
        kwargs["data"] = body
    if kwargs.pop("cookies", None):
        raise AssertionError("the gateway documents no cookie parameters")
    return client.request(**kwargs)


def test_the_running_app_serves_this_document(gateway: TestClient) -> None:
    assert gateway.get("/openapi.json").json() == DOCUMENT


def _check(case: schemathesis.Case, response: httpx.Response) -> None:
    if case.operation.path in DOWN_ON_PURPOSE and response.status_code == 503:
        assert response.json()["parts"]["rasa"] == {"ok": False, "error": "ConnectError"}
        case.validate_response(response, checks=[c for c in CHECKS if c is not not_a_server_error])
        return
    case.validate_response(response, checks=CHECKS)


@as_admin.parametrize()
@SETTINGS
def test_every_operation_as_an_admin(
    case: schemathesis.Case, gateway: TestClient, admin: dict[str, str]
) -> None:
    _check(case, _send(gateway, case, admin))


@anonymous.parametrize()
@SETTINGS
def test_every_operation_anonymously(case: schemathesis.Case, gateway: TestClient) -> None:
    _check(case, _send(gateway, case, {}))

"""Fixtures of the gateway's tests that talk to a real Rasa."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from helpline.settings import Settings


@pytest.fixture(scope="module")
def gateway(rasa_stack: Settings) -> Iterator[TestClient]:
    """The gateway in this process, in front of the session's real Rasa and action server.

    Modules that need another kind of gateway (a separate process, or no Rasa at all) define
    their own ``gateway``, which takes precedence in that module.
    """
    with TestClient(create_app(rasa_stack)) as client:
        yield client

"""The console's fixtures: the real gateway app on a real database (Rasa a closed port), signed-in users."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from helpline.db import transaction
from helpline.settings import Settings
from helpline.users import Role, set_password
from tests.conftest import bearer_token, without_rasa

PASSWORD = "a long enough password"
LOGIN = "/console/login"


def console_settings(database_url: str) -> Settings:
    return without_rasa(database_url, console_stream_seconds=1.5, console_poll_seconds=0.2)


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(console_settings(database_url))) as test_client:
        yield test_client


def make_user(client: TestClient, name: str, role: Role = Role.COUNSELOR) -> str:
    """A user with the console password :data:`PASSWORD`; returns their bearer token."""
    with transaction(client.app.state.sessions) as session:
        token = bearer_token(session, name, role)
        set_password(session, name, PASSWORD)
    return token


def hidden_csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign in through the form as a browser would; returns the session's CSRF token."""
    csrf = hidden_csrf(client.get(LOGIN).text)
    response = client.post(LOGIN, data={"name": name, "password": password, "csrf": csrf})
    assert response.status_code == 200, response.text  # followed the redirect to the console
    return hidden_csrf(response.text)


def signed_in_as(client: TestClient, name: str, role: Role = Role.COUNSELOR) -> str:
    make_user(client, name, role)
    return sign_in(client, name)

"""401 without a valid token, 403 with the wrong role, through a real route."""

from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from bot.auth import require_roles
from helpline.db import make_engine, make_session_factory, transaction
from helpline.users import Role, User
from tests.conftest import bearer_token


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    app = FastAPI()
    engine = make_engine(database_url)
    app.state.sessions = make_session_factory(engine)

    @app.get("/staff-only")
    def staff_only(user: Annotated[User, Depends(require_roles(Role.STAFF))]) -> dict[str, str]:
        return {"name": user.name}

    with TestClient(app) as test_client:
        yield test_client
    engine.dispose()


def _token(client: TestClient, name: str, role: Role) -> str:
    with transaction(client.app.state.sessions) as session:
        return bearer_token(session, name, role)


def test_anonymous_is_401(client: TestClient) -> None:
    response = client.get("/staff-only")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_unknown_token_is_401(client: TestClient) -> None:
    assert client.get("/staff-only", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_wrong_role_is_403(client: TestClient) -> None:
    token = _token(client, "c1", Role.COUNSELOR)
    assert client.get("/staff-only", headers={"Authorization": f"Bearer {token}"}).status_code == 403


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_staff_and_admin_pass(client: TestClient, role: Role) -> None:
    token = _token(client, "u1", role)
    response = client.get("/staff-only", headers={"Authorization": f"Bearer {token}"})
    assert response.json() == {"name": "u1"}

"""Signing in to the console over the real app and database: cookies, CSRF, lock-out, idle timeout."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from helpline.db import transaction
from helpline.users import Role, deactivate
from helpline.web_sessions import WebSession
from tests.bot.console.conftest import LOGIN, PASSWORD, hidden_csrf, make_user, sign_in, signed_in_as

HOME = "/console/"


def _post_login(client: TestClient, name: str, password: str) -> int:
    csrf = hidden_csrf(client.get(LOGIN).text)
    response = client.post(LOGIN, data={"name": name, "password": password, "csrf": csrf})
    return response.status_code


def test_the_right_password_signs_in_with_a_strict_cookie(client: TestClient) -> None:
    make_user(client, "wang", Role.STAFF)
    csrf = hidden_csrf(client.get(LOGIN).text)
    response = client.post(
        LOGIN, data={"name": "wang", "password": PASSWORD, "csrf": csrf}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == HOME
    cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith("helpline_console="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain HTTP here
    page = client.get(HOME)
    assert page.status_code == 200 and "wang" in page.text and 'lang="zh-CN"' in page.text


def test_over_https_the_cookie_is_secure(client: TestClient) -> None:
    make_user(client, "wang")
    secure = TestClient(client.app, base_url="https://testserver")
    csrf = hidden_csrf(secure.get(LOGIN).text)
    response = secure.post(
        LOGIN, data={"name": "wang", "password": PASSWORD, "csrf": csrf}, follow_redirects=False
    )
    assert all("Secure" in value for value in response.headers.get_list("set-cookie"))


def test_a_wrong_password_or_name_says_so_without_telling_which(client: TestClient) -> None:
    make_user(client, "wang")
    for name, password in [("wang", "not the password"), ("nobody", PASSWORD)]:
        csrf = hidden_csrf(client.get(LOGIN).text)
        response = client.post(LOGIN, data={"name": name, "password": password, "csrf": csrf})
        assert response.status_code == 401
        assert "用户名或密码不对" in response.text
    assert client.get(HOME, follow_redirects=False).headers["location"] == LOGIN


def test_the_sign_in_form_needs_its_csrf_token(client: TestClient) -> None:
    make_user(client, "wang")
    client.get(LOGIN)
    response = client.post(LOGIN, data={"name": "wang", "password": PASSWORD, "csrf": "forged"})
    assert response.status_code == 403 and "页面已过期" in response.text


def test_failed_attempts_lock_the_name_out_even_for_the_right_password(client: TestClient) -> None:
    make_user(client, "wang")
    make_user(client, "li")
    assert [_post_login(client, "wang", "guess") for _ in range(5)] == [401] * 5
    assert _post_login(client, "wang", PASSWORD) == 429
    assert _post_login(client, "li", PASSWORD) == 200  # another name is not locked


def test_a_success_clears_earlier_failures(client: TestClient) -> None:
    make_user(client, "wang")
    for _ in range(4):
        assert _post_login(client, "wang", "guess") == 401
    assert _post_login(client, "wang", PASSWORD) == 200
    for _ in range(4):
        assert _post_login(client, "wang", "guess") == 401
    assert _post_login(client, "wang", PASSWORD) == 200


def test_one_address_is_limited_in_attempts(client: TestClient) -> None:
    make_user(client, "wang")
    codes = [_post_login(client, f"name{n}", "guess") for n in range(21)]
    assert codes[:20] == [401] * 20 and codes[20] == 429


def test_an_idle_session_is_over(client: TestClient) -> None:
    signed_in_as(client, "wang")
    assert client.get(HOME).status_code == 200
    with transaction(client.app.state.sessions) as session:
        for row in session.scalars(select(WebSession)):
            row.last_seen_at -= timedelta(minutes=31)
    assert client.get(HOME, follow_redirects=False).headers["location"] == LOGIN
    with client.app.state.sessions() as session:
        assert session.scalars(select(WebSession)).all() == []


def test_htmx_requests_are_sent_to_sign_in_by_header(client: TestClient) -> None:
    response = client.get(HOME, headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"] == LOGIN


def test_sign_out_needs_the_csrf_token_and_ends_the_session(client: TestClient) -> None:
    csrf = signed_in_as(client, "wang")
    assert client.post("/console/logout", data={}).status_code == 403
    assert client.post("/console/logout", data={"csrf": "forged"}).status_code == 403
    assert client.get(HOME).status_code == 200
    response = client.post("/console/logout", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == LOGIN
    assert client.get(HOME, follow_redirects=False).status_code == 303


def test_a_revoked_user_is_signed_out(client: TestClient) -> None:
    signed_in_as(client, "wang")
    with transaction(client.app.state.sessions) as session:
        deactivate(session, "wang")
    assert client.get(HOME, follow_redirects=False).headers["location"] == LOGIN
    assert _post_login(client, "wang", PASSWORD) == 401


def test_bearer_tokens_still_open_the_api(client: TestClient) -> None:
    token = make_user(client, "wang")
    sign_in(client, "wang")
    assert client.get("/api/v1/handoffs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/v1/handoffs").status_code == 401  # the console's cookie opens no API


def test_the_console_is_not_part_of_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/console")]

"""Signing in to the console: the session cookie, roles, CSRF tokens, rate limits and lock-out.

Pages take :func:`signed_in` (or a :func:`require` of roles) as a dependency; every
POST also takes :func:`csrf_checked`. The sign-in form itself has no session yet, so
it carries a double-submit token (a cookie and the same value in the form); after
sign-in every form carries the session's own token (a hidden field, or the
``X-CSRF-Token`` header htmx sends). Roles are the API's (:func:`bot.auth.may`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from bot.auth import may
from bot.console import texts
from bot.console.web import page
from handoff import duty
from helpline import users, web_sessions
from helpline.db import transaction, utcnow
from helpline.settings import Settings
from helpline.users import Role
from helpline.web_sessions import SignedIn

COOKIE = "helpline_console"
LOGIN_CSRF_COOKIE = "helpline_console_login"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_PATH = "/console/login"
HOME = "/console/"

router = APIRouter(prefix="/console")


class LoginGuard:
    """Sign-in attempts per client address, and failed ones per user name (the lock-out).

    In memory (the ``limits`` library, moving windows, as the router's throttle): the
    gateway is one process, and a restart forgetting a lock-out costs an attacker a restart.
    """

    def __init__(self, per_address: str, lockout: str) -> None:
        self._window = MovingWindowRateLimiter(MemoryStorage())
        self._per_address = parse(per_address)
        self._lockout = parse(lockout)

    def attempt(self, address: str) -> bool:
        """Count one attempt from ``address``; False when it is over its rate."""
        return self._window.hit(self._per_address, "console-address", address)

    def locked(self, name: str) -> bool:
        return not self._window.test(self._lockout, "console-name", name)

    def failed(self, name: str) -> None:
        self._window.hit(self._lockout, "console-name", name)

    def succeeded(self, name: str) -> None:
        self._window.clear(self._lockout, "console-name", name)


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _idle(request: Request) -> timedelta:
    return timedelta(minutes=_settings(request).console_idle_minutes)


def _sign_in_needed(request: Request) -> HTTPException:
    """To the sign-in page: a redirect for a page, an ``HX-Redirect`` for an htmx request."""
    if request.headers.get("HX-Request"):
        return HTTPException(status.HTTP_401_UNAUTHORIZED, texts.SIGN_IN_AGAIN, {"HX-Redirect": LOGIN_PATH})
    return HTTPException(status.HTTP_303_SEE_OTHER, texts.SIGN_IN_AGAIN, {"Location": LOGIN_PATH})


def resume(request: Request, touch: bool) -> SignedIn | None:
    """The live session of this request's cookie, if any; ``touch`` counts the request as activity."""
    token = request.cookies.get(COOKIE, "")
    with transaction(request.app.state.sessions) as session:
        return web_sessions.resume(session, token, utcnow(), _idle(request), touch=touch)


def signed_in(request: Request) -> SignedIn:
    """Whoever this request's cookie signs in; to the sign-in page if nobody (or idle too long)."""
    found = resume(request, touch=True)
    if found is None:
        raise _sign_in_needed(request)
    return found


async def csrf_checked(request: Request, who: Annotated[SignedIn, Depends(signed_in)]) -> SignedIn:
    """The signed-in user, once the form or htmx header carries their session's CSRF token."""
    given = request.headers.get(CSRF_HEADER) or str((await request.form()).get("csrf", ""))
    if not secrets.compare_digest(given.encode(), who.csrf_token.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, texts.CSRF_FAILED)
    return who


SignedInUser = Annotated[SignedIn, Depends(signed_in)]
CheckedUser = Annotated[SignedIn, Depends(csrf_checked)]


def require(*roles: Role, form: bool = False) -> Callable[[SignedIn], SignedIn]:
    """A dependency for pages of ``roles`` (admins always): 403 for the other signed-in users.

    ``form``: a POST, which must also carry the session's CSRF token.
    """

    def allowed(who: SignedIn) -> SignedIn:
        if not may(who.user, roles):
            raise HTTPException(status.HTTP_403_FORBIDDEN, texts.FORBIDDEN)
        return who

    def page_check(who: SignedInUser) -> SignedIn:
        return allowed(who)

    def form_check(who: CheckedUser) -> SignedIn:
        return allowed(who)

    return form_check if form else page_check


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    """HttpOnly, SameSite=Lax, and Secure whenever the console is reached over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _forget(response: Response, request: Request, name: str) -> None:
    """Remove a cookie with the same attributes it was set with."""
    response.delete_cookie(
        name, path="/console", httponly=True, samesite="lax", secure=request.url.scheme == "https"
    )


def _login_page(request: Request, error: str = "", code: int = status.HTTP_200_OK) -> Response:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", {"csrf": token, "error": error}, code)
    _cookie(response, request, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=128)],
) -> Response:
    """Check the password; on success a new session, and the cookie that opens it."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf.encode(), expected.encode()):
        return _login_page(request, texts.CSRF_FAILED, status.HTTP_403_FORBIDDEN)
    guard: LoginGuard = request.app.state.login_guard
    address = request.client.host if request.client else "unknown"
    if not guard.attempt(address) or guard.locked(name):
        return _login_page(request, texts.LOCKED_OUT, status.HTTP_429_TOO_MANY_REQUESTS)
    with transaction(request.app.state.sessions) as session:
        user = users.check_password(session, name, password)
        if user is None:
            guard.failed(name)
            return _login_page(request, texts.WRONG_PASSWORD, status.HTTP_401_UNAUTHORIZED)
        token, _ = web_sessions.start(session, user, utcnow(), _idle(request))
    guard.succeeded(name)
    response = RedirectResponse(HOME, status.HTTP_303_SEE_OTHER)
    _cookie(response, request, COOKIE, token, max_age=None)
    _forget(response, request, LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, who: CheckedUser) -> Response:
    """End the session; signing out also ends the counselor's duty, so families are never told
    someone is coming who has gone home."""
    with transaction(request.app.state.sessions) as session:
        web_sessions.end(session, request.cookies.get(COOKIE, ""))
        duty.go_off(session, who.user.name)
    response = RedirectResponse(LOGIN_PATH, status.HTTP_303_SEE_OTHER)
    _forget(response, request, COOKIE)
    return response


@router.get("/")
def home(request: Request, who: SignedInUser) -> Response:
    """Counselors (and admins) start at the queue; staff's pages are not built yet."""
    if may(who.user, (Role.COUNSELOR,)):
        return RedirectResponse("/console/queue", status.HTTP_303_SEE_OTHER)
    return page(request, "home.html", {"who": who})

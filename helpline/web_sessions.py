"""Signed-in console sessions, kept in the database so signing out or revoking a user ends them at once.

The browser holds a random token in a cookie; only its SHA-256 is stored, so a copy of
the database opens no session. Each session carries its own CSRF token, which every
form of the console sends back. A session unused for longer than the idle timeout is
over: the next request finds it expired and removes it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from helpline.db import Base, utcnow
from helpline.users import User


class WebSession(Base):
    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 of the cookie's token."""
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


@dataclass(frozen=True)
class SignedIn:
    """Who a request's cookie belongs to, and the CSRF token their forms carry."""

    user: User
    csrf_token: str


def _id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, user: User, now: datetime, idle: timedelta) -> tuple[str, SignedIn]:
    """A new session for ``user``: (the cookie's token, who is signed in). Expired sessions go too."""
    session.execute(delete(WebSession).where(WebSession.last_seen_at < now - idle))
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(WebSession(id=_id(token), user_id=user.id, csrf_token=csrf, created_at=now, last_seen_at=now))
    session.flush()
    return token, SignedIn(user, csrf)


def resume(
    session: Session, token: str, now: datetime, idle: timedelta, touch: bool = True
) -> SignedIn | None:
    """The session of ``token`` if it is live and its user active; ``touch`` counts this as activity.

    A live stream (the queue's updates) resumes without touching, so an open tab alone
    does not keep a session alive.
    """
    if not token:
        return None
    row = session.get(WebSession, _id(token))
    if row is None:
        return None
    if row.last_seen_at < now - idle:
        session.delete(row)
        return None
    user = session.scalar(select(User).where(User.id == row.user_id, User.active.is_(True)))
    if user is None:
        return None
    if touch:
        row.last_seen_at = now
    return SignedIn(user, row.csrf_token)


def end(session: Session, token: str) -> None:
    """Sign out: the token opens nothing any more."""
    session.execute(delete(WebSession).where(WebSession.id == _id(token)))

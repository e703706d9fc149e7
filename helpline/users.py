"""Staff accounts and their bearer tokens.

A token is shown once when it is made and only its SHA-256 is stored: tokens are
long random strings, so a plain hash is enough and lookup stays one indexed query.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from helpline.db import Base, utcnow


class Role(StrEnum):
    COUNSELOR = "counselor"
    STAFF = "staff"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserExists(ValueError):
    """A user of that name exists already."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(session: Session, name: str, role: Role) -> str:
    """Create a user and return the bearer token (the only time it is visible)."""
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise UserExists(name)
    token = secrets.token_urlsafe(32)
    session.add(User(name=name, role=role.value, token_hash=_hash(token), created_at=utcnow()))
    session.flush()
    return token


def authenticate(session: Session, token: str) -> User | None:
    """The active user holding ``token``, or None."""
    if not token:
        return None
    return session.scalar(select(User).where(User.token_hash == _hash(token), User.active.is_(True)))


def deactivate(session: Session, name: str) -> bool:
    """Revoke a user's token; returns False when there is no such user."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        return False
    user.active = False
    return True


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))

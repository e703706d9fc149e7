"""Staff accounts and their bearer tokens.

A token is shown once when it is made and only its SHA-256 is stored: tokens are
long random strings, so a plain hash is enough and lookup stays one indexed query.

A staff user belongs to one department and sees only the cases it acts on; counselors
and admins have none (an admin sees every case, so a department there would read like
a limit that is not there). Department ids are those of the knowledge base's directory
(``knowledge/seed/departments.yaml``, as staff keep it), the ids cases are routed to.

The 街道办事处 are one department id for all of the district's streets, so a street
office's staff also name their own 街道: families are promised that only their own
street's office sees their case. No other account has a street.

The web console signs in with a name and a password instead of the token. Only the
password's argon2 hash is stored (argon2-cffi's defaults, re-hashed on sign-in when
those change); a user without one cannot sign in to the console, and the bearer
token keeps working for the API either way.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from helpline.db import Base, utcnow
from intake.cases import STREET_OFFICE
from intake.streets import STREETS
from knowledge import directory


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
    department: Mapped[str | None] = mapped_column(String(64), default=None)
    street: Mapped[str | None] = mapped_column(String(16), default=None)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserExists(ValueError):
    """A user of that name exists already."""


MIN_PASSWORD_CHARS = 10
"""Shorter passwords are refused: the console reaches families' transcripts."""


class PasswordTooShort(ValueError):
    """The password has fewer than :data:`MIN_PASSWORD_CHARS` characters."""


class DepartmentError(ValueError):
    """The department (or a street office's street) does not fit the role or is unknown.

    The message says which, for staff.
    """


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_department(session: Session, role: Role, department: str | None) -> None:
    """Staff need a known department (it decides which cases they see); other roles take none."""
    if role is not Role.STAFF:
        if department is not None:
            raise DepartmentError(f"只有 staff 账号属于某个部门，{role.value} 账号不用设置部门。")
        return
    if department is None:
        raise DepartmentError("staff 账号需要设置所属部门（--department），例如 civil_affairs、justice。")
    known = directory.all_departments(session)
    if department not in known:
        choices = "、".join(f"{info.id}（{info.name}）" for info in known.values())
        raise DepartmentError(f"部门目录里没有 {department}。可以填：{choices}。")


def _check_street(department: str | None, street: str | None) -> None:
    """A street office's staff need their 街道 (it decides which cases they see); nobody else has one."""
    if department != STREET_OFFICE:
        if street is not None:
            raise DepartmentError("只有街道办事处（street_office）的账号要设置街道，这个账号不用 --street。")
        return
    if street is None:
        raise DepartmentError("街道办事处（street_office）的账号需要设置街道（--street），例如 德胜、月坛。")
    if street not in STREETS:
        raise DepartmentError(f"西城区没有 {street} 街道。可以填：{'、'.join(STREETS)}。")


def add_user(
    session: Session, name: str, role: Role, department: str | None = None, street: str | None = None
) -> str:
    """Create a user and return the bearer token (the only time it is visible)."""
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise UserExists(name)
    _check_department(session, role, department)
    _check_street(department, street)
    token = secrets.token_urlsafe(32)
    session.add(
        User(
            name=name,
            role=role.value,
            department=department,
            street=street,
            token_hash=_hash(token),
            created_at=utcnow(),
        )
    )
    session.flush()
    return token


def set_department(session: Session, name: str, department: str, street: str | None = None) -> bool:
    """Move a staff user to another department (and street); returns False when there is no such user.

    Moving away from a street office drops the street, which would mean nothing elsewhere.
    """
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        return False
    _check_department(session, Role(user.role), department)
    _check_street(department, street)
    user.department, user.street = department, street
    return True


def authenticate(session: Session, token: str) -> User | None:
    """The active user holding ``token``, or None."""
    if not token:
        return None
    return session.scalar(select(User).where(User.token_hash == _hash(token), User.active.is_(True)))


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _decoy_hash() -> str:
    """Verified against when the name is unknown, so a wrong name costs as long as a wrong password."""
    return _hasher().hash(secrets.token_urlsafe(16))


def set_password(session: Session, name: str, password: str) -> bool:
    """Give a user a (new) console password; returns False when there is no such user."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordTooShort(MIN_PASSWORD_CHARS)
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        return False
    user.password_hash = _hasher().hash(password)
    return True


def check_password(session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, or None (unknown name, wrong password, none set)."""
    user = session.scalar(select(User).where(User.name == name, User.active.is_(True)))
    stored = user.password_hash if user is not None else None
    try:
        _hasher().verify(stored or _decoy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or stored is None:
        return None
    if _hasher().check_needs_rehash(stored):
        user.password_hash = _hasher().hash(password)
    return user


def deactivate(session: Session, name: str) -> bool:
    """Revoke a user's token; returns False when there is no such user."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        return False
    user.active = False
    return True


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))

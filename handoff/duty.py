"""Who is on duty: counselors mark themselves on or off, and the wait estimates count them.

A family is told a wait in minutes only while someone is on duty; with nobody there
the honest words are "正在为您联系" (see :func:`handoff.crisis.place`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handoff.models import OnDuty


class NotOnDuty(Exception):
    """The counselor named is not on duty (or is no counselor at all): nobody to hand a family to."""


def go_on(session: Session, counselor: str, now: datetime) -> None:
    """Mark ``counselor`` on duty from ``now``; already on duty keeps the earlier start."""
    if session.get(OnDuty, counselor) is not None:
        return
    try:
        with session.begin_nested():
            session.add(OnDuty(counselor=counselor, since=now))
    except IntegrityError:
        pass  # a concurrent request marked them on duty first: same result


def go_off(session: Session, counselor: str) -> None:
    session.execute(delete(OnDuty).where(OnDuty.counselor == counselor))


def on_duty(session: Session) -> list[OnDuty]:
    """Everyone on duty, longest on first."""
    return list(session.scalars(select(OnDuty).order_by(OnDuty.since, OnDuty.counselor)))


def is_on_duty(session: Session, counselor: str) -> bool:
    return session.get(OnDuty, counselor) is not None


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(OnDuty)) or 0)

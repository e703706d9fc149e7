"""Who read or changed personal data, and when: every transcript or case read leaves a row.

Rows name the resource, never its content, so the log itself holds no personal data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from helpline.db import Base, utcnow


class AccessLog(Base):
    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_resource", "resource"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    resource: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(default=utcnow)


def log_access(session: Session, user_name: str, action: str, resource: str) -> None:
    """Record one access, e.g. ``("counselor1", "read", "handoff:12")``."""
    session.add(AccessLog(user_name=user_name, action=action, resource=resource, at=utcnow()))


def accesses(session: Session, resource: str) -> list[AccessLog]:
    return list(
        session.scalars(select(AccessLog).where(AccessLog.resource == resource).order_by(AccessLog.id))
    )

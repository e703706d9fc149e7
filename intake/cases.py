"""Cases: a family's request for psychological support or legal aid, routed to the departments that act.

A case moves new → accepted → in_progress → done, and can be closed (withdrawn,
duplicate, unreachable) from any open state; every change is an event with who,
when, from and to. The phone number lives only here, never in logs or events.
Case numbers are made for reading aloud on the phone: XC-2026-000123 (year of
registration in Beijing time, then the row id), so nothing extra must be kept unique.

Staff see the cases of a :class:`Scope`: their department's, and a street office's
staff only their own 街道's, as the consent texts promise families.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, ColumnElement, ForeignKey, Index, String, Text, and_, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from helpline.db import Base, utcnow
from intake.consent import CASE_RETENTION_DAYS

BEIJING = ZoneInfo("Asia/Shanghai")
NUMBER_PATTERN = re.compile(r"^XC-?(\d{4})-?(\d{1,9})$", re.IGNORECASE)


class CaseKind(StrEnum):
    PSYCH = "psych"
    LEGAL = "legal"


class CaseStatus(StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CLOSED = "closed"


KIND_LABELS = {CaseKind.PSYCH: "心理关爱", CaseKind.LEGAL: "法律援助"}
STATUS_LABELS = {
    CaseStatus.NEW: "已收到，等待受理",
    CaseStatus.ACCEPTED: "已受理",
    CaseStatus.IN_PROGRESS: "正在办理",
    CaseStatus.DONE: "已办结",
    CaseStatus.CLOSED: "已关闭",
}
DEPARTMENT_FOR = {CaseKind.PSYCH: "civil_affairs", CaseKind.LEGAL: "justice"}
"""The department that answers for each kind (附件二: 区民政局; 附件三: 区司法局)."""

STREET_OFFICE = "street_office"
"""The 街道办事处: one department id for all of the district's streets (their staff name their own)."""

STREET_OFFICE_ACTS = frozenset({CaseKind.PSYCH})
"""Kinds where the family's 街道 acts as well (心理关爱服务站 and 新希望家园 are the street's)."""

TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset({CaseStatus.ACCEPTED, CaseStatus.CLOSED}),
    CaseStatus.ACCEPTED: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.CLOSED}),
    CaseStatus.IN_PROGRESS: frozenset({CaseStatus.DONE, CaseStatus.CLOSED}),
    CaseStatus.DONE: frozenset(),
    CaseStatus.CLOSED: frozenset(),
}
FINISHED = frozenset({CaseStatus.DONE, CaseStatus.CLOSED})


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status_department", "status", "department"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.NEW.value)
    sender: Mapped[str] = mapped_column(String(128), index=True)
    department: Mapped[str] = mapped_column(String(64))
    street: Mapped[str | None] = mapped_column(String(16), default=None, index=True)
    priority: Mapped[bool] = mapped_column(default=False)
    home_visit: Mapped[bool] = mapped_column(default=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    consent_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    erased_at: Mapped[datetime | None] = mapped_column(default=None)

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )

    @property
    def number(self) -> str:
        return format_number(self.id, self.created_at)

    @property
    def departments(self) -> tuple[str, ...]:
        """Who acts on the case: the responsible department, and the family's 街道 where it takes part.

        Only the office of the case's own street acts (:class:`Scope`), so a case whose
        family named no street, or whose street was erased, has no street office at all.
        """
        if CaseKind(self.kind) in STREET_OFFICE_ACTS and self.street is not None:
            return (self.department, STREET_OFFICE)
        return (self.department,)


class CaseEvent(Base):
    """One line of a case's history; ``note`` is staff's own words."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16), default=None)
    to_status: Mapped[str | None] = mapped_column(String(16), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)

    case: Mapped[Case] = relationship(back_populates="events")


@dataclass(frozen=True)
class Scope:
    """The cases a staff user may open: those their department acts on, a street office's in its street only.

    A street office's scope needs its street (without one it would quietly see nothing) and
    no other scope has one (it would read like a limit that is not applied). Admins have
    no scope: they see every case.
    """

    department: str
    street: str | None = None

    def __post_init__(self) -> None:
        if (self.department == STREET_OFFICE) != (self.street is not None):
            raise ValueError(f"a street office's scope, and only that, names a street: {self}")

    def sees(self, case: Case) -> bool:
        """Whether one loaded case is in scope; :meth:`where` says the same in SQL."""
        return self.department in case.departments and (self.street is None or case.street == self.street)

    def where(self) -> ColumnElement[bool]:
        """The scope as SQL: a list is narrowed in the query, so pages stay full."""
        responsible = Case.department == self.department
        if self.street is None:
            return responsible
        acts = Case.kind.in_(sorted(kind.value for kind in STREET_OFFICE_ACTS))
        return and_(or_(responsible, acts), Case.street == self.street)


class CaseNotFound(LookupError):
    """No case with that number."""


class InvalidTransition(ValueError):
    """The case cannot move to that status from where it is."""


@dataclass(frozen=True)
class NewCase:
    """What an intake collected; the form decides priority and home visits, not the database."""

    kind: CaseKind
    sender: str
    consent_version: str
    street: str | None = None
    phone: str | None = None
    details: dict[str, Any] | None = None
    priority: bool = False
    home_visit: bool = False


def format_number(case_id: int, created_at: datetime) -> str:
    return f"XC-{created_at.astimezone(BEIJING).year}-{case_id:06d}"


def create_case(session: Session, new: NewCase, actor: str = "assistant") -> Case:
    """Store a case and its first event; the id (and so the number) is known on return."""
    now = utcnow()
    case = Case(
        kind=new.kind.value,
        status=CaseStatus.NEW.value,
        sender=new.sender,
        department=DEPARTMENT_FOR[new.kind],
        street=new.street,
        priority=new.priority,
        home_visit=new.home_visit,
        details=dict(new.details or {}),
        phone=new.phone,
        consent_version=new.consent_version,
        created_at=now,
        updated_at=now,
    )
    case.events.append(CaseEvent(at=now, actor=actor, action="created", to_status=CaseStatus.NEW.value))
    session.add(case)
    session.flush()
    return case


def get_case(session: Session, number: str, *, seen_by: Scope | None = None) -> Case:
    """The case with that number (XC-2026-000123, also without dashes or in lower case).

    ``seen_by`` is the reader's scope (None: every case, for admins). A case outside it
    is not found, exactly as a number never given out, so staff cannot learn which
    numbers belong to other departments or streets.
    """
    match = NUMBER_PATTERN.match(number.strip())
    case = session.get(Case, int(match.group(2))) if match else None
    if match is None or case is None or case.created_at.astimezone(BEIJING).year != int(match.group(1)):
        raise CaseNotFound(number)
    if seen_by is not None and not seen_by.sees(case):
        raise CaseNotFound(number)
    return case


def list_cases(
    session: Session,
    *,
    status: CaseStatus | None = None,
    kind: CaseKind | None = None,
    department: str | None = None,
    street: str | None = None,
    seen_by: Scope | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Case]:
    """Cases narrowed by any of the filters: priority cases first, then the newest.

    ``department`` is a filter on the responsible department; ``seen_by`` is the reader's
    scope, as for :func:`get_case` (None: every case).
    """
    query = select(Case)
    if seen_by is not None:
        query = query.where(seen_by.where())
    if status is not None:
        query = query.where(Case.status == status.value)
    if kind is not None:
        query = query.where(Case.kind == kind.value)
    if department is not None:
        query = query.where(Case.department == department)
    if street is not None:
        query = query.where(Case.street == street)
    query = query.order_by(Case.priority.desc(), Case.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(query))


def cases_for_sender(session: Session, sender: str) -> list[Case]:
    """A family's own cases, newest first: the only cases a family is ever told about."""
    return list(session.scalars(select(Case).where(Case.sender == sender).order_by(Case.id.desc())))


def open_cases_for_sender(session: Session, sender: str) -> list[Case]:
    """A family's cases that are still being handled (not done or closed)."""
    finished = [status.value for status in FINISHED]
    query = select(Case).where(Case.sender == sender, Case.status.not_in(finished)).order_by(Case.id.desc())
    return list(session.scalars(query))


def update_case(
    session: Session, case: Case, *, actor: str, status: CaseStatus | None = None, note: str | None = None
) -> CaseEvent:
    """Move a case to ``status`` and/or add a note, as one audited event."""
    current = CaseStatus(case.status)
    if status is not None and status != current and status not in TRANSITIONS[current]:
        raise InvalidTransition(f"{current.value} → {status.value}")
    now = utcnow()
    moved = status is not None and status != current
    event = CaseEvent(
        at=now,
        actor=actor,
        action="status" if moved else "note",
        from_status=current.value if moved else None,
        to_status=status.value if moved and status else None,
        note=note,
    )
    if moved and status is not None:
        case.status = status.value
        if status in FINISHED:
            case.finished_at = now
    case.updated_at = now
    case.events.append(event)
    session.flush()
    return event


def erase_expired(session: Session, now: datetime | None = None) -> int:
    """Erase the personal details of cases finished more than the promised retention ago.

    The case, its number, kind, status and history stay (for statistics and audit);
    phone, street and what the family told us go. Returns how many cases were erased.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=CASE_RETENTION_DAYS)
    query = select(Case).where(Case.finished_at < cutoff, Case.erased_at.is_(None))
    erased = 0
    for case in session.scalars(query):
        case.phone, case.street, case.details, case.erased_at = None, None, {}, now
        case.events.append(CaseEvent(at=now, actor="retention", action="erased"))
        for event in case.events:
            event.note = None
        erased += 1
    session.flush()
    return erased

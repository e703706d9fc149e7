"""Tables of the policy knowledge base: the database is the live copy, the seed YAML only a start.

``kb_entries`` holds what families are answered from (one row per measure, its
published content, or a not-yet-published draft). Every version ever written is a
full snapshot in ``kb_entry_versions`` so history and rollback need nothing else.
``kb_revision`` is one counter bumped by every change that alters answers: each
answering process compares it before a query (one tiny SELECT) to see that it must
refresh, which is how an edit is live in the next message without a restart.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpline.db import Base, utcnow


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Entry(Base):
    """One measure or sub-measure of the policy, as it is live now.

    ``position`` keeps the document's order (序言 … 附件九) for listings and exports.
    """

    __tablename__ = "kb_entries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    clause: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    conditions: Mapped[list[str]] = mapped_column(JSON, default=list)
    departments: Mapped[list[str]] = mapped_column(JSON, default=list)
    next_step: Mapped[str] = mapped_column(Text, default="")
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date | None] = mapped_column(Date, default=None)
    valid_to: Mapped[date | None] = mapped_column(Date, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)


class EntryVersion(Base):
    """A full snapshot of one version of an entry (draft or published), never changed afterwards."""

    __tablename__ = "kb_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version", name="uq_kb_entry_versions_entry_version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    published_by: Mapped[str | None] = mapped_column(String(64), default=None)


class Department(Base):
    """A responsible department; phone, address and hours are filled in by staff."""

    __tablename__ = "kb_departments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    duties: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str | None] = mapped_column(String(100), default=None)
    address: Mapped[str | None] = mapped_column(String(300), default=None)
    hours: Mapped[str | None] = mapped_column(String(200), default=None)
    position: Mapped[int] = mapped_column(Integer, default=0)


class HelpLine(Base):
    """A crisis or help line; a smaller ``priority`` is shown first."""

    __tablename__ = "kb_helplines"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    number: Mapped[str] = mapped_column(String(50))
    hours: Mapped[str] = mapped_column(String(100), default="")
    scope: Mapped[str] = mapped_column(String(300), default="")
    priority: Mapped[int] = mapped_column(Integer, default=100)


class Fact(Base):
    """A figure the document leaves open (the subsidy amount); ``value`` stays null until staff set it.

    ``clauses`` are the clause paths whose answers depend on the figure.
    """

    __tablename__ = "kb_facts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    value: Mapped[str | None] = mapped_column(String(100), default=None)
    unit: Mapped[str] = mapped_column(String(32), default="")
    effective_from: Mapped[date | None] = mapped_column(Date, default=None)
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    clauses: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class AuditRecord(Base):
    """Who changed what and when, with the state before and after."""

    __tablename__ = "kb_audit"
    __table_args__ = (Index("ix_kb_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class Revision(Base):
    """A single row whose ``value`` grows with every change families would see."""

    __tablename__ = "kb_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)

"""Half-filled forms, kept so a family can pick up where it stopped.

Rasa forgets a conversation's slots when a session expires or a counselor's chat
is closed (the tracker is restarted), so the form's answers so far are stored here
after every answer. A draft is removed when the form is submitted or cancelled and
is never kept longer than the consent texts promise.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from helpline.db import Base, utcnow
from intake.consent import DRAFT_RETENTION_DAYS


class FormDraft(Base):
    __tablename__ = "intake_drafts"
    __table_args__ = (UniqueConstraint("sender", "form", name="uq_intake_drafts_sender_form"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    sender: Mapped[str] = mapped_column(String(128))
    form: Mapped[str] = mapped_column(String(64))
    slots: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


def _cutoff(now: datetime) -> datetime:
    return now - timedelta(days=DRAFT_RETENTION_DAYS)


def save_draft(session: Session, sender: str, form: str, slots: dict[str, Any]) -> None:
    """Store the answers so far (replacing the previous draft of that form), and drop expired drafts."""
    now = utcnow()
    delete_expired(session, now)
    draft = session.scalar(select(FormDraft).where(FormDraft.sender == sender, FormDraft.form == form))
    if draft is None:
        session.add(FormDraft(sender=sender, form=form, slots=slots, updated_at=now))
    else:
        draft.slots, draft.updated_at = slots, now
    session.flush()


def latest_draft(session: Session, sender: str, form: str | None = None) -> FormDraft | None:
    """The family's most recently touched unexpired draft (of ``form``, when given)."""
    query = select(FormDraft).where(FormDraft.sender == sender, FormDraft.updated_at >= _cutoff(utcnow()))
    if form is not None:
        query = query.where(FormDraft.form == form)
    return session.scalar(query.order_by(FormDraft.updated_at.desc(), FormDraft.id.desc()).limit(1))


def delete_drafts(session: Session, sender: str, form: str | None = None) -> int:
    """Forget a family's draft of ``form`` (or all its drafts); returns how many there were."""
    query = delete(FormDraft).where(FormDraft.sender == sender)
    if form is not None:
        query = query.where(FormDraft.form == form)
    return session.execute(query).rowcount


def delete_expired(session: Session, now: datetime | None = None) -> int:
    return session.execute(delete(FormDraft).where(FormDraft.updated_at < _cutoff(now or utcnow()))).rowcount

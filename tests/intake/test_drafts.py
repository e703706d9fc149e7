"""Half-filled forms survive restarts of the conversation and expire as promised."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from helpline.db import transaction, utcnow
from intake import drafts
from intake.consent import DRAFT_RETENTION_DAYS


def test_a_draft_is_saved_replaced_and_found_again(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        drafts.save_draft(session, "me", "psych_form", {"psych_consent": "psych-2026-01"})
        drafts.save_draft(
            session, "me", "psych_form", {"psych_consent": "psych-2026-01", "psych_way": "peer"}
        )
        drafts.save_draft(session, "someone-else", "legal_form", {"legal_matter": "consult"})
    with sessions() as session:
        draft = drafts.latest_draft(session, "me")
        assert draft is not None and draft.form == "psych_form"
        assert draft.slots == {"psych_consent": "psych-2026-01", "psych_way": "peer"}
        assert drafts.latest_draft(session, "me", "legal_form") is None
        assert drafts.latest_draft(session, "nobody") is None


def test_the_most_recent_draft_is_the_one_resumed(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        drafts.save_draft(session, "me", "entitlement_form", {"ent_hukou": "yes"})
        drafts.save_draft(session, "me", "legal_form", {"legal_matter": "consult"})
    with sessions() as session:
        assert drafts.latest_draft(session, "me").form == "legal_form"


def test_deleting_one_form_or_all(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        drafts.save_draft(session, "me", "entitlement_form", {"ent_hukou": "yes"})
        drafts.save_draft(session, "me", "legal_form", {"legal_matter": "consult"})
        assert drafts.delete_drafts(session, "me", "legal_form") == 1
        assert drafts.latest_draft(session, "me").form == "entitlement_form"
        assert drafts.delete_drafts(session, "me") == 1
        assert drafts.latest_draft(session, "me") is None


def test_expired_drafts_are_neither_resumed_nor_kept(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        drafts.save_draft(session, "me", "psych_form", {"psych_phone": "13812345678"})
        stale = utcnow() - timedelta(days=DRAFT_RETENTION_DAYS, minutes=1)
        session.query(drafts.FormDraft).update({"updated_at": stale})
    with sessions() as session:
        assert drafts.latest_draft(session, "me") is None
    with transaction(sessions) as session:
        drafts.save_draft(session, "other", "legal_form", {})
    with sessions() as session:
        assert [d.sender for d in session.query(drafts.FormDraft)] == ["other"]

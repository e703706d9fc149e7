"""Console sessions in the database: tokens stored only as hashes, idle timeout, sign-out."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helpline import web_sessions
from helpline.db import transaction, utcnow
from helpline.users import Role, User, add_user
from helpline.web_sessions import WebSession

IDLE = timedelta(minutes=30)


def _user(session: Session) -> User:
    add_user(session, "wang", Role.COUNSELOR)
    return session.scalars(select(User)).one()


def test_a_session_lives_while_used_and_ends_when_idle(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        token, started = web_sessions.start(session, _user(session), now, IDLE)
    with transaction(sessions) as session:
        assert session.scalars(select(WebSession.id)).one() != token
        later = web_sessions.resume(session, token, now + timedelta(minutes=20), IDLE)
        assert later is not None and later.csrf_token == started.csrf_token
    with transaction(sessions) as session:  # 20 minutes after the last use, not 40 after the start
        stream = web_sessions.resume(session, token, now + timedelta(minutes=45), IDLE, touch=False)
        assert stream is not None
    with transaction(sessions) as session:  # the stream did not count as use
        assert web_sessions.resume(session, token, now + timedelta(minutes=51), IDLE) is None
    with sessions() as session:
        assert session.scalars(select(WebSession)).all() == []


def test_sign_out_and_unknown_tokens_open_nothing(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        token, _ = web_sessions.start(session, _user(session), now, IDLE)
    with transaction(sessions) as session:
        assert web_sessions.resume(session, "", now, IDLE) is None
        assert web_sessions.resume(session, token + "x", now, IDLE) is None
        web_sessions.end(session, token)
    with sessions() as session:
        assert web_sessions.resume(session, token, now, IDLE) is None


def test_starting_a_session_clears_expired_ones(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        user = _user(session)
        web_sessions.start(session, user, now - timedelta(hours=2), IDLE)
        web_sessions.start(session, user, now, IDLE)
    with sessions() as session:
        assert len(session.scalars(select(WebSession)).all()) == 1

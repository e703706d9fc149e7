"""Fixtures of the knowledge tests: the real embedding model and a database holding the seed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from helpline import migrate
from helpline.db import make_engine, make_session_factory, transaction
from knowledge.repository import load_seed_if_empty, load_seed_into


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """``sessions`` on a database loaded from knowledge/seed/ (SQLite and PostgreSQL)."""
    with transaction(sessions) as session:
        load_seed_if_empty(session, actor="test-seed")
    return sessions


@pytest.fixture
def seeded_sqlite(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A seeded SQLite database, for tests of wording and ranking where the backend plays no part."""
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    migrate.upgrade(url)
    load_seed_into(url)
    engine = make_engine(url)
    yield make_session_factory(engine)
    engine.dispose()

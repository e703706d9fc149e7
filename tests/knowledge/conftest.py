"""Fixtures of the knowledge tests: the real embedding model and a database holding the seed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from helpline import migrate
from helpline.db import make_engine, make_session_factory, transaction
from helpline.e5_rebuild import ensure_model
from helpline.embeddings import Encoder, load_encoder
from helpline.settings import DEFAULT_MODEL_DIR, load_settings
from knowledge.repository import load_seed_if_empty, load_seed_into


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The configured model (multilingual-e5-small by default, rebuilt if missing), loaded once."""
    settings = load_settings()
    if settings.embedding_model == str(DEFAULT_MODEL_DIR):
        ensure_model(DEFAULT_MODEL_DIR)
    return load_encoder(settings.embedding_model, settings.torch_threads)


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

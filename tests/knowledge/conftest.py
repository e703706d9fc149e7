"""Fixtures of the knowledge tests: the real embedding model and a database holding the seed."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from helpline.db import transaction
from helpline.e5_rebuild import ensure_model
from helpline.embeddings import Encoder, load_encoder
from helpline.settings import DEFAULT_MODEL_DIR, load_settings
from knowledge.repository import load_seed_if_empty


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The configured model (multilingual-e5-small by default, rebuilt if missing), loaded once."""
    settings = load_settings()
    if settings.embedding_model == str(DEFAULT_MODEL_DIR):
        ensure_model(DEFAULT_MODEL_DIR)
    return load_encoder(settings.embedding_model, settings.torch_threads)


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """``sessions`` on a database loaded from knowledge/seed/."""
    with transaction(sessions) as session:
        load_seed_if_empty(session, actor="test-seed")
    return sessions

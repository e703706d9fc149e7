"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured) and a real Rasa stack."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from helpline import migrate, services
from helpline.db import make_engine, make_session_factory
from helpline.e5_rebuild import ensure_model
from helpline.embeddings import Encoder, load_encoder
from helpline.rasa_model import model_path
from helpline.settings import DEFAULT_MODEL_DIR, Settings, load_settings
from helpline.users import Role, add_user
from intake import consent
from knowledge.repository import load_seed_into

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _find_postgres() -> str:
    """HELPLINE_TEST_POSTGRES_URL, else the local server when one answers; "" means none.

    Set HELPLINE_TEST_POSTGRES_URL=none to run without PostgreSQL on a machine that has one.
    """
    configured = os.environ.get("HELPLINE_TEST_POSTGRES_URL", "")
    if configured:
        return "" if configured == "none" else configured
    try:
        engine = create_engine(DEFAULT_POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
    except Exception:  # any failure means no server to test against
        return ""
    return DEFAULT_POSTGRES_URL


POSTGRES_URL = _find_postgres()

# The consent texts as the processes under test show them (HELPLINE_MESSAGE_RETENTION_DAYS).
PSYCH_CONSENT = consent.consent_for("psych", load_settings().message_retention_days)
LEGAL_CONSENT = consent.consent_for("legal", load_settings().message_retention_days)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Gateway tests assert the lexicon path; whether the risk classifier has loaded in the background
# would otherwise depend on timing. tests/handoff/test_classifier.py tests the classifier itself.
os.environ.setdefault("HELPLINE_RISK_CLASSIFIER_TIMEOUT", "0")


def _postgres_schema_url(base_url: str, schema: str) -> str:
    """Connections that work in ``schema`` and carry its name, so teardown can find them."""
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options=-csearch_path%3D{schema}&application_name={schema}"


def _drop_schema(admin: Engine, schema: str) -> None:
    """Drop a test's schema after ending connections the test left open in it.

    A gateway's worker thread can still be inside a query when its test ends; DROP SCHEMA and
    that query then wait on each other's locks until PostgreSQL breaks the deadlock by failing
    one of them (CI saw this once).
    """
    with admin.begin() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = :schema AND pid <> pg_backend_pid()"
            ),
            {"schema": schema},
        )
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""The ``params`` of a fixture that runs on each backend."""


@contextmanager
def migrated_database(backend: str, folder: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file in ``folder``, or a private schema on the PostgreSQL server.

    Module-scoped fixtures use it directly; tests take :func:`database_url`.
    """
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'test.db'}"
        migrate.upgrade(url)
        yield url
        return
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL server (HELPLINE_TEST_POSTGRES_URL)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin: Engine = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _postgres_schema_url(POSTGRES_URL, schema)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        _drop_schema(admin, schema)
        admin.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for one test, on each backend."""
    with migrated_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def bearer_token(
    session: Session, name: str, role: Role, department: str = "civil_affairs", street: str | None = None
) -> str:
    """A new user's token; staff get ``department`` and ``street`` (street offices need one), others none."""
    if role is not Role.STAFF:
        return add_user(session, name, role)
    return add_user(session, name, role, department, street)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def without_rasa(database_url: str, **changes: object) -> Settings:
    """Settings on ``database_url`` whose Rasa and action server are a closed port: the NLU is down."""
    closed = f"http://127.0.0.1:{free_port()}"
    return replace(
        load_settings(), database_url=database_url, rasa_url=closed, action_server_url=closed, **changes
    )


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The configured model (multilingual-e5-small by default, rebuilt if missing), loaded once."""
    settings = load_settings()
    if settings.embedding_model == str(DEFAULT_MODEL_DIR):
        ensure_model(DEFAULT_MODEL_DIR)
    return load_encoder(settings.embedding_model, settings.torch_threads)


@pytest.fixture(scope="session")
def rasa_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A real Rasa server with the trained model and the real action server, on free ports.

    ``make test`` trains the model first; without it the integration tests are an error,
    not a skip, because a missing model is a broken set-up.
    """
    model = model_path()
    if not model.exists():
        pytest.fail(f"no trained Rasa model at {model}: run `make train` (make test does)")
    workdir = tmp_path_factory.mktemp("stack")
    settings = replace(
        load_settings(),
        database_url=f"sqlite:///{workdir / 'stack.db'}",
        rasa_url=f"http://127.0.0.1:{free_port()}",
        action_server_url=f"http://127.0.0.1:{free_port()}",
    )
    migrate.upgrade(settings.database_url)
    load_seed_into(settings.database_url)  # as `make run` does, before the action server indexes it
    plan = [services.action_service(settings), services.rasa_service(settings, model)]
    running = [services.start(service, workdir / "logs") for service in plan]
    try:
        for service, process in zip(plan, running, strict=True):
            services.wait_ready(service, process, timeout=240)
        yield settings
    finally:
        for process in running:
            services.stop(process)

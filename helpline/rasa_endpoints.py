"""Rasa's endpoints file, built from the project's settings so Rasa keeps what the gateway keeps.

``endpoints.yml`` at the repository root holds what never changes (the action
server). Where Rasa keeps its conversations follows ``HELPLINE_DATABASE_URL``:

* PostgreSQL: Rasa's ``events`` table in the project's own database, so a restarted
  Rasa, or a second one, continues every conversation and half-filled form;
* a SQLite file: a file of its own beside it (``rasa-trackers.db``), since two
  processes writing one SQLite file would wait on each other's locks;
* anything else (an in-memory SQLite URL): Rasa's memory, as before.

With ``HELPLINE_REDIS_URL`` set, Rasa's conversation locks live in Redis, so several
Rasa servers can share the conversations without answering one family out of order.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from sqlalchemy import column, delete, func, inspect, select, table
from sqlalchemy.engine import URL, make_url

from helpline.db import make_engine
from helpline.settings import REPO_ROOT, Settings

BASE_ENDPOINTS = REPO_ROOT / "endpoints.yml"
TRACKER_FILE = "rasa-trackers.db"
RASA_POSTGRES_DRIVER = "postgresql+psycopg2"
"""Rasa's environment ships psycopg2 (the project's uses psycopg 3)."""
LOCK_KEY_PREFIX = "helpline"


EVENTS = table("events", column("sender_id"), column("timestamp"))
"""The columns of Rasa's SQL tracker store that retention needs (one row per event, a Unix timestamp)."""


def tracker_database(database_url: str) -> URL | None:
    """Where Rasa keeps its conversations for this project database; None: in Rasa's memory."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return url.set(database=str(Path(url.database).with_name(TRACKER_FILE)))
    return None


def tracker_store(database_url: str) -> dict[str, Any] | None:
    """Rasa's SQL tracker store for the project's database; None keeps Rasa's in-memory one."""
    url = tracker_database(database_url)
    if url is None:
        return None
    if url.get_backend_name() == "postgresql":
        rasa_url = url.set(drivername=RASA_POSTGRES_DRIVER).render_as_string(hide_password=False)
        return {"type": "SQL", "url": rasa_url}
    return {"type": "SQL", "dialect": "sqlite", "db": url.database}


def erase_trackers_before(database_url: str, cutoff: datetime) -> int:
    """Delete Rasa's conversations whose last event is older than ``cutoff``; returns how many.

    Rasa's trackers hold every message text, so the retention promised in the consent
    texts covers them too. A conversation is removed whole: a tracker cut in the middle
    would replay a form without its start.
    """
    url = tracker_database(database_url)
    if url is None:
        return 0
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        if not inspect(engine).has_table("events"):
            return 0
        stale = (
            select(EVENTS.c.sender_id)
            .group_by(EVENTS.c.sender_id)
            .having(func.max(EVENTS.c.timestamp) < cutoff.timestamp())
        )
        with engine.begin() as connection:
            forgotten = connection.scalar(select(func.count()).select_from(stale.subquery())) or 0
            connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(stale)))
        return forgotten
    finally:
        engine.dispose()


def lock_store(redis_url: str) -> dict[str, Any] | None:
    """Rasa's Redis lock store for ``redis://[:password@]host[:port][/db]``; None without Redis."""
    if not redis_url:
        return None
    parts = urlsplit(redis_url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError(f"HELPLINE_REDIS_URL must look like redis://host:6379/0, not {redis_url!r}")
    return {
        "type": "redis",
        "url": parts.hostname,
        "port": parts.port or 6379,
        "db": int(parts.path.strip("/") or 0),
        "password": unquote(parts.password) if parts.password else None,
        "use_ssl": parts.scheme == "rediss",
        "key_prefix": LOCK_KEY_PREFIX,
    }


def endpoints(settings: Settings) -> dict[str, Any]:
    """The root ``endpoints.yml`` plus the tracker and lock stores these settings call for."""
    config: dict[str, Any] = yaml.safe_load(BASE_ENDPOINTS.read_text(encoding="utf-8"))
    stores = {
        "tracker_store": tracker_store(settings.database_url),
        "lock_store": lock_store(settings.redis_url),
    }
    config.update({name: store for name, store in stores.items() if store is not None})
    return config


def write_endpoints(settings: Settings, path: Path) -> Path:
    """Write :func:`endpoints` to ``path`` (readable by its owner only: it may hold a password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(
        yaml.safe_dump(endpoints(settings), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return path

"""Rasa's endpoints follow the project's settings: where conversations are kept, where locks live."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from helpline.rasa_endpoints import endpoints, lock_store, tracker_store, write_endpoints
from helpline.settings import load_settings


def test_postgresql_keeps_rasas_conversations_in_the_projects_database_through_psycopg2() -> None:
    store = tracker_store("postgresql+psycopg://helpline:s3cret@db.internal:5433/helpline?sslmode=require")
    assert store == {
        "type": "SQL",
        "url": "postgresql+psycopg2://helpline:s3cret@db.internal:5433/helpline?sslmode=require",
    }


def test_a_sqlite_file_gets_a_tracker_file_of_its_own_beside_it(tmp_path: Path) -> None:
    store = tracker_store(f"sqlite:///{tmp_path / 'helpline.db'}")
    assert store == {"type": "SQL", "dialect": "sqlite", "db": str(tmp_path / "rasa-trackers.db")}


def test_an_in_memory_database_leaves_rasa_in_memory() -> None:
    assert tracker_store("sqlite://") is None


def test_redis_url_becomes_rasas_lock_store() -> None:
    assert lock_store("rediss://:p%40ss@cache.internal:6380/3") == {
        "type": "redis",
        "url": "cache.internal",
        "port": 6380,
        "db": 3,
        "password": "p@ss",
        "use_ssl": True,
        "key_prefix": "helpline",
    }
    assert lock_store("") is None


def test_a_redis_url_that_is_not_one_stops_start_up() -> None:
    with pytest.raises(ValueError, match="HELPLINE_REDIS_URL"):
        lock_store("127.0.0.1:6379")


def test_the_written_file_keeps_the_action_server_and_adds_the_stores(tmp_path: Path) -> None:
    settings = replace(
        load_settings(), database_url=f"sqlite:///{tmp_path / 'h.db'}", redis_url="redis://127.0.0.1:6379/0"
    )
    path = write_endpoints(settings, tmp_path / "rasa" / "endpoints.yml")
    written = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert written == endpoints(settings)
    assert written["action_endpoint"] == {"url": "${HELPLINE_ACTION_SERVER_URL}/webhook"}
    assert written["tracker_store"]["db"] == str(tmp_path / "rasa-trackers.db")
    assert written["lock_store"]["url"] == "127.0.0.1"
    assert path.stat().st_mode & 0o077 == 0

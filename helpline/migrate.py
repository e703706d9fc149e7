"""Schema migrations, run in code so the CLI, ``make run`` and tests share one path."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from helpline.settings import REPO_ROOT


def alembic_config(database_url: str) -> Config:
    """An Alembic config for ``database_url`` that needs no alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the database to ``revision``; safe to run on every start.

    "heads" applies every branch: domain packages add their tables in parallel branches.
    """
    command.upgrade(alembic_config(database_url), revision)

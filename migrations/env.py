"""Alembic environment: the URL comes from the config set in code, else from settings."""

from alembic import context
from sqlalchemy import Connection

from helpline.db import make_engine
from helpline.models import metadata
from helpline.settings import load_settings

config = context.config


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or load_settings().database_url


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


run_online()

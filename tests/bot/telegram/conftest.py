"""Fixtures of the Telegram tests: the local Bot API stand-in and a PTB bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from telegram import Bot

from helpline import migrate
from tests.bot.telegram.fake_bot_api import FakeBotApi


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    api = FakeBotApi()
    api.start()
    yield api
    api.stop()


@pytest.fixture
async def bot(fake_api: FakeBotApi) -> AsyncIterator[Bot]:
    """python-telegram-bot's own Bot, talking HTTP to the stand-in."""
    async with Bot(
        fake_api.token, base_url=f"{fake_api.base_url}/bot", base_file_url=f"{fake_api.base_url}/file/bot"
    ) as real_bot:
        yield real_bot


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file, for tests where the database engine makes no difference
    (PostgreSQL runs the ones about races, retries and restarts)."""
    url = f"sqlite:///{tmp_path / 'telegram.db'}"
    migrate.upgrade(url)
    return url

"""Imports every table module so ``Base.metadata`` is complete (Alembic, tests)."""

from bot.telegram import models as telegram_models  # noqa: F401
from handoff import models as handoff_models  # noqa: F401
from helpline import access_log, messages, users, web_sessions  # noqa: F401
from helpline.db import Base
from intake import cases, drafts  # noqa: F401
from knowledge import models as knowledge_models  # noqa: F401

metadata = Base.metadata

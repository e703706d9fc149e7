"""The one place where configuration is read.

Every setting is an environment variable with a documented default, so a fresh
machine runs on embedded defaults (SQLite under ``var/``) and a site changes
behaviour without touching code. The README lists each of them.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
VAR_DIR = REPO_ROOT / "var"
DEFAULT_MODEL_DIR = VAR_DIR / "models" / "multilingual-e5-small"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_ints(name: str) -> tuple[int, ...]:
    """A comma-separated list of integers, e.g. Telegram user ids; empty when unset."""
    return tuple(int(part) for part in os.environ.get(name, "").replace(" ", "").split(",") if part)


@dataclass(frozen=True)
class Settings:
    """All settings of the assistant; build with :func:`load_settings`."""

    database_url: str = f"sqlite:///{VAR_DIR / 'helpline.db'}"
    host: str = "127.0.0.1"
    port: int = 8000
    # Shared secret of the REST webhook (a trusted integration's bearer token). Empty: open, which
    # is allowed only while the gateway binds to loopback.
    rest_token: str = ""
    # Key the per-conversation poll keys are derived from; empty: a random one kept in var/secret_key.
    secret_key: str = ""
    rasa_url: str = "http://127.0.0.1:5005"
    action_server_url: str = "http://127.0.0.1:5055"
    rasa_timeout: float = 10.0
    # Redis, for Rasa's conversation locks when several Rasa servers share the conversations
    # (redis://host:6379/0); empty: none, one Rasa with its locks in memory.
    redis_url: str = ""
    embedding_model: str = str(DEFAULT_MODEL_DIR)
    # Where the knowledge base's vectors are kept across restarts ("off": in memory only).
    vector_store: str = str(VAR_DIR / "cache")
    torch_threads: int = 1
    # Risk classifier (handoff/classifier.py) in the gateway: seconds a message may wait for it
    # before the lexicon decides alone; 0 turns it off.
    risk_classifier_timeout: float = 2.0
    # Seconds the lexicon screen may take on one message; past it the message is treated as
    # possible risk (the direct question and the help lines) and the fault is logged.
    screen_deadline: float = 1.0
    # Policy answers (semantic score of the best entry; calibrated by `python -m knowledge.evaluate`):
    # >= confident and ahead of the runner-up by margin → answer; >= close → choices; else "not sure".
    kb_confident: float = 0.92
    kb_close: float = 0.904
    kb_margin: float = 0.005
    max_message_chars: int = 2000
    # Conversations (message texts, the sentences risk signals quote, ticket notes) older than
    # this many days are blanked by `helpline purge`; levels, times and outcomes stay.
    message_retention_days: int = 365
    # Messages past these rates are still stored and screened (a crisis still gets the help
    # lines) but reach neither Rasa nor the queue: per family, and per client address.
    rate_per_sender: str = "20/minute"
    rate_per_address: str = "120/minute"
    # Hand-off watch loop: check in on a waiting family every N s (at most M times), repeat the
    # crisis lines and page a supervisor when nobody claims; wait estimate per place in the queue.
    handoff_checkin_seconds: float = 120.0
    handoff_max_checkins: int = 20
    handoff_repeat_lines_seconds: float = 300.0
    handoff_supervisor_seconds: float = 600.0
    handoff_minutes_per_place: float = 5.0
    handoff_watch_seconds: float = 5.0
    # Web console (bot/console/): a session unused this long is signed out; sign-in attempts per
    # client address; failed sign-ins of one user name within the window lock that name out.
    console_idle_minutes: float = 30.0
    console_login_rate: str = "20/minute"
    console_lockout: str = "5 per 15 minutes"
    # Live pages: how often the stream looks at the database, and how long one stream lasts before
    # the browser reconnects (and the session is checked again).
    console_poll_seconds: float = 1.0
    console_stream_seconds: float = 300.0
    telegram_bot_token: str = ""
    telegram_mode: str = "polling"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    telegram_counselor_chat_id: int = 0
    telegram_counselor_ids: tuple[int, ...] = ()
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_retry_base: float = 0.5
    telegram_retry_attempts: int = 6

    @property
    def vector_store_dir(self) -> Path | None:
        return None if self.vector_store == "off" else Path(self.vector_store)


def is_loopback(host: str) -> bool:
    """Whether an address or host name is this machine's own."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def load_settings() -> Settings:
    """Read the environment once; callers pass the result on instead of re-reading."""
    return Settings(
        database_url=_env("HELPLINE_DATABASE_URL", Settings.database_url),
        host=_env("HELPLINE_HOST", Settings.host),
        port=_env_int("HELPLINE_PORT", Settings.port),
        rest_token=_env("HELPLINE_REST_TOKEN", Settings.rest_token),
        secret_key=_env("HELPLINE_SECRET_KEY", Settings.secret_key),
        rasa_url=_env("HELPLINE_RASA_URL", Settings.rasa_url).rstrip("/"),
        action_server_url=_env("HELPLINE_ACTION_SERVER_URL", Settings.action_server_url).rstrip("/"),
        rasa_timeout=_env_float("HELPLINE_RASA_TIMEOUT", Settings.rasa_timeout),
        redis_url=_env("HELPLINE_REDIS_URL", Settings.redis_url),
        embedding_model=_env("HELPLINE_EMBEDDING_MODEL", Settings.embedding_model),
        torch_threads=_env_int("HELPLINE_TORCH_THREADS", Settings.torch_threads),
        risk_classifier_timeout=_env_float(
            "HELPLINE_RISK_CLASSIFIER_TIMEOUT", Settings.risk_classifier_timeout
        ),
        screen_deadline=_env_float("HELPLINE_SCREEN_DEADLINE", Settings.screen_deadline),
        kb_confident=_env_float("HELPLINE_KB_CONFIDENT", Settings.kb_confident),
        kb_close=_env_float("HELPLINE_KB_CLOSE", Settings.kb_close),
        kb_margin=_env_float("HELPLINE_KB_MARGIN", Settings.kb_margin),
        max_message_chars=_env_int("HELPLINE_MAX_MESSAGE_CHARS", Settings.max_message_chars),
        message_retention_days=_env_int("HELPLINE_MESSAGE_RETENTION_DAYS", Settings.message_retention_days),
        rate_per_sender=_env("HELPLINE_RATE_PER_SENDER", Settings.rate_per_sender),
        rate_per_address=_env("HELPLINE_RATE_PER_ADDRESS", Settings.rate_per_address),
        vector_store=_env("HELPLINE_VECTOR_STORE", Settings.vector_store),
        handoff_checkin_seconds=_env_float(
            "HELPLINE_HANDOFF_CHECKIN_SECONDS", Settings.handoff_checkin_seconds
        ),
        handoff_max_checkins=_env_int("HELPLINE_HANDOFF_MAX_CHECKINS", Settings.handoff_max_checkins),
        handoff_repeat_lines_seconds=_env_float(
            "HELPLINE_HANDOFF_REPEAT_LINES_SECONDS", Settings.handoff_repeat_lines_seconds
        ),
        handoff_supervisor_seconds=_env_float(
            "HELPLINE_HANDOFF_SUPERVISOR_SECONDS", Settings.handoff_supervisor_seconds
        ),
        handoff_minutes_per_place=_env_float(
            "HELPLINE_HANDOFF_MINUTES_PER_PLACE", Settings.handoff_minutes_per_place
        ),
        handoff_watch_seconds=_env_float("HELPLINE_HANDOFF_WATCH_SECONDS", Settings.handoff_watch_seconds),
        console_idle_minutes=_env_float("HELPLINE_CONSOLE_IDLE_MINUTES", Settings.console_idle_minutes),
        console_login_rate=_env("HELPLINE_CONSOLE_LOGIN_RATE", Settings.console_login_rate),
        console_lockout=_env("HELPLINE_CONSOLE_LOCKOUT", Settings.console_lockout),
        console_poll_seconds=_env_float("HELPLINE_CONSOLE_POLL_SECONDS", Settings.console_poll_seconds),
        console_stream_seconds=_env_float("HELPLINE_CONSOLE_STREAM_SECONDS", Settings.console_stream_seconds),
        telegram_bot_token=_env("TELEGRAM_BOT_TOKEN", Settings.telegram_bot_token),
        telegram_mode=_env("TELEGRAM_MODE", Settings.telegram_mode),
        telegram_webhook_url=_env("TELEGRAM_WEBHOOK_URL", Settings.telegram_webhook_url),
        telegram_webhook_secret=_env("TELEGRAM_WEBHOOK_SECRET", Settings.telegram_webhook_secret),
        telegram_counselor_chat_id=_env_int(
            "TELEGRAM_COUNSELOR_CHAT_ID", Settings.telegram_counselor_chat_id
        ),
        telegram_counselor_ids=_env_ints("TELEGRAM_COUNSELOR_IDS"),
        telegram_api_base_url=_env("TELEGRAM_API_BASE_URL", Settings.telegram_api_base_url).rstrip("/"),
        telegram_retry_base=_env_float("TELEGRAM_RETRY_BASE_SECONDS", Settings.telegram_retry_base),
        telegram_retry_attempts=_env_int("TELEGRAM_RETRY_ATTEMPTS", Settings.telegram_retry_attempts),
    )

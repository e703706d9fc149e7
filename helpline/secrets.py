"""Server-side secrets: the key that per-conversation keys are derived from.

A REST family's conversation is read back (``GET /api/v1/chats/{sender}/messages``)
only with its chat key, an HMAC of the channel and sender under a server secret, so
knowing or guessing a sender id is not enough. The secret is ``HELPLINE_SECRET_KEY``,
or, on an embedded install, a random one made once and kept in ``var/secret_key``
(readable by the owner only), shared by every process of the install.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from helpline.settings import VAR_DIR, Settings

SECRET_FILE = VAR_DIR / "secret_key"


def server_secret(settings: Settings, path: Path = SECRET_FILE) -> bytes:
    """The configured secret, else the install's own (made on first use)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        made = secrets.token_hex(32).encode()
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes().strip()
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(made)
        return made


def chat_key(secret: bytes, channel: str, sender: str) -> str:
    """The key that opens one conversation's messages to its own client."""
    return hmac.new(secret, f"{channel}:{sender}".encode(), hashlib.sha256).hexdigest()[:32]


def same(given: str, expected: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(given.encode(), expected.encode())

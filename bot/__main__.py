"""``python -m bot``: serve the gateway on the configured host and port."""

import logging

import uvicorn

from helpline.settings import load_settings

PRIVATE_PATHS = ("/api/v1/chats/", "/webhooks/", "/telegram/")
"""Paths that name a family (a sender id) or carry a chat key: kept out of the access log."""


class PrivatePaths(logging.Filter):
    """Writes ``<private>`` instead of a family's path in uvicorn's access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and str(args[2]).startswith(PRIVATE_PATHS):
            record.args = (*args[:2], "<private>", *args[3:])
        return True


def main() -> None:
    settings = load_settings()
    logging.getLogger("uvicorn.access").addFilter(PrivatePaths())
    uvicorn.run("bot.app:create_app", factory=True, host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()

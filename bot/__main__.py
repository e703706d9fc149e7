"""``python -m bot``: serve the gateway on the configured host and port."""

import uvicorn

from helpline.settings import load_settings


def main() -> None:
    settings = load_settings()
    uvicorn.run("bot.app:create_app", factory=True, host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()

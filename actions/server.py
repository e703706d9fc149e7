"""The action server: rasa-sdk's own, plus the knowledge base opened at start and a readiness check.

It runs as one process (Sanic's single-process mode). Sanic's default, a manager process
that starts a worker, cost two more Python processes of about 110 MB each for nothing:
``make run``'s supervisor already restarts a server that dies (``bench.overhead``).
``/health`` says the server is up; ``/ready`` says it can also answer policy questions,
which is what starting the assistant (and its tests) waits for.
"""

from __future__ import annotations

import argparse
import logging
from urllib.parse import urlsplit

from rasa_sdk.endpoint import create_app_for_serve
from rasa_sdk.executor import ActionExecutor
from sanic import HTTPResponse, Request, Sanic, response

from actions.policy import knowledge
from helpline.settings import REPO_ROOT, load_settings


async def ready(_request: Request) -> HTTPResponse:
    """200 once the knowledge base can be read; 503 while opening it or after a failure."""
    knowledge.future()
    if knowledge.ready:
        return response.json({"status": "ready"})
    return response.json({"status": "loading"}, status=503)


async def start_loading(_app: Sanic) -> None:
    knowledge.future()


def create_app(package: str) -> Sanic:
    executor = ActionExecutor()
    executor.register_package(package)
    app = create_app_for_serve(executor, endpoints=str(REPO_ROOT / "endpoints.yml"))
    app.register_listener(start_loading, "after_server_start")
    app.add_route(ready, "/ready", methods=["GET"])
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", default="actions", help="the package (or module) of actions to serve")
    package = parser.parse_args().actions
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    address = urlsplit(load_settings().action_server_url)
    app = create_app(package)
    app.prepare(host=address.hostname, port=address.port, single_process=True)
    Sanic.serve_single(primary=app)


if __name__ == "__main__":
    main()

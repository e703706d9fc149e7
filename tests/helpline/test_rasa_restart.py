"""Rasa keeps its conversations in the project's PostgreSQL database (helpline/rasa_endpoints.py).

A Rasa killed in the middle of a family's legal-aid form and started again with the same
command knows where the form stood: the open form, the slots filled, every event before.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import pytest

from helpline import services
from helpline.rasa_model import model_path
from helpline.settings import Settings, load_settings
from knowledge.repository import load_seed_into
from tests.conftest import free_port, migrated_database

SENDER = "restart-family"


def _say(settings: Settings, text: str) -> list[dict[str, Any]]:
    body = json.dumps({"sender": SENDER, "message": text}, ensure_ascii=False).encode()
    request = Request(
        f"{settings.rasa_url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    with urlopen(request, timeout=60) as response:
        return list(json.loads(response.read()))


def _tracker(settings: Settings) -> dict[str, Any]:
    with urlopen(f"{settings.rasa_url}/conversations/{SENDER}/tracker", timeout=30) as response:
        return dict(json.loads(response.read()))


def _story(tracker: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(event["event"], event.get("name")) for event in tracker["events"]]


@pytest.mark.integration
@pytest.mark.postgres
def test_a_half_filled_form_survives_a_killed_rasa(tmp_path: Path) -> None:
    model = model_path()
    if not model.exists():
        pytest.fail(f"no trained Rasa model at {model}: run `make train` (make test does)")
    with migrated_database("postgres", tmp_path) as database_url:
        load_seed_into(database_url)
        settings = replace(
            load_settings(),
            database_url=database_url,
            rasa_url=f"http://127.0.0.1:{free_port()}",
            action_server_url=f"http://127.0.0.1:{free_port()}",
        )
        actions, rasa = services.action_service(settings), services.rasa_service(settings, model)
        logs = tmp_path / "logs"
        action_process = services.start(actions, logs)
        rasa_process = services.start(rasa, logs)
        try:
            services.wait_ready(actions, action_process, timeout=240)
            services.wait_ready(rasa, rasa_process, timeout=240)
            _say(settings, "我想申请法律援助")
            before = _tracker(settings)
            assert before["active_loop"].get("name"), "the request opens the legal-aid form"

            os.killpg(rasa_process.pid, signal.SIGKILL)
            rasa_process.wait()
            rasa_process = services.start(rasa, logs)
            services.wait_ready(rasa, rasa_process, timeout=240)

            after = _tracker(settings)
            assert after["active_loop"] == before["active_loop"]
            assert after["slots"] == before["slots"]
            assert _story(after)[: len(_story(before))] == _story(before)
            _say(settings, "同意")
            assert len(_tracker(settings)["events"]) > len(after["events"]), "the form goes on"
        finally:
            services.stop(rasa_process)
            services.stop(action_process)

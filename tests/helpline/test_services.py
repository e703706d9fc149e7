"""The process supervisor of ``make run``: a dead child is restarted with backoff, the others go on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpline import migrate, services
from helpline.settings import load_settings
from knowledge.repository import load_seed_into
from tests.conftest import free_port

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _wait_dead(child: services.Child) -> None:
    for _ in range(100):
        if child.process.poll() is not None:
            return
        time.sleep(0.05)
    raise AssertionError("child did not die")


def test_a_killed_child_is_restarted_with_backoff_and_the_others_keep_running(tmp_path: Path) -> None:
    clock = _Clock()
    supervisor = services.Supervisor(tmp_path, clock)
    rasa = supervisor.start(services.Service("rasa", SLEEPER, "http://127.0.0.1:1/"))
    gateway = supervisor.start(services.Service("gateway", SLEEPER, "http://127.0.0.1:1/"))
    gateway_pid = gateway.process.pid
    try:
        first_pid = rasa.process.pid
        os.kill(first_pid, signal.SIGKILL)
        _wait_dead(rasa)
        supervisor.tend()  # noticed: restart after the first delay
        assert rasa.process.pid == first_pid and rasa.restart_at == clock.now + services.RESTART_FIRST_DELAY
        clock.now += services.RESTART_FIRST_DELAY
        supervisor.tend()
        assert rasa.process.pid != first_pid and rasa.process.poll() is None
        assert rasa.delay == 2 * services.RESTART_FIRST_DELAY  # dying again soon waits longer

        os.kill(rasa.process.pid, signal.SIGKILL)
        _wait_dead(rasa)
        supervisor.tend()
        assert rasa.restart_at == clock.now + 2 * services.RESTART_FIRST_DELAY
        assert gateway.process.pid == gateway_pid and gateway.process.poll() is None
    finally:
        supervisor.stop_all()
    assert gateway.process.poll() is not None


def test_a_child_that_ran_a_long_time_is_restarted_after_the_first_delay(tmp_path: Path) -> None:
    clock = _Clock()
    supervisor = services.Supervisor(tmp_path, clock)
    child = supervisor.start(services.Service("actions", SLEEPER, "http://127.0.0.1:1/"))
    child.delay = services.RESTART_MAX_DELAY
    try:
        clock.now += services.STABLE_AFTER
        os.kill(child.process.pid, signal.SIGKILL)
        _wait_dead(child)
        supervisor.tend()
        assert child.restart_at == clock.now + services.RESTART_FIRST_DELAY
    finally:
        supervisor.stop_all()


def test_become_runs_the_service_in_this_process_in_the_repository(tmp_path: Path) -> None:
    """What a systemd unit's ``helpline serve`` does: the same command and environment, no supervisor."""
    report = tmp_path / "report"
    write = f"pathlib.Path({str(report)!r}).write_text(os.getcwd() + '|' + os.environ['MARK'])"
    shown = f"import os, pathlib; {write}"
    service = services.Service("probe", [sys.executable, "-c", shown], "", {"MARK": "same-env"})
    code = (
        f"from helpline import services\nfrom helpline.services import Service\nservices.become({service!r})"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, timeout=60)
    assert report.read_text() == f"{services.REPO_ROOT}|same-env"


def test_named_services_are_the_ones_make_run_starts() -> None:
    settings = load_settings()
    assert services.named(settings, "gateway") == services.gateway_service(settings)
    assert services.named(settings, "actions") == services.action_service(settings)
    with pytest.raises(ValueError, match="unknown service"):
        services.named(settings, "redis")


@pytest.mark.integration
def test_helpline_serve_actions_answers_ready(tmp_path: Path) -> None:
    """``helpline serve actions``, as the systemd unit runs it, becomes a working action server."""
    port = free_port()
    env = {
        **os.environ,
        "HELPLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}",
        "HELPLINE_ACTION_SERVER_URL": f"http://127.0.0.1:{port}",
    }
    migrate.upgrade(env["HELPLINE_DATABASE_URL"])
    load_seed_into(env["HELPLINE_DATABASE_URL"])
    helpline = Path(sys.executable).with_name("helpline")
    process = subprocess.Popen([str(helpline), "serve", "actions"], env=env, start_new_session=True)
    try:
        service = services.Service("actions", [], f"http://127.0.0.1:{port}/ready")
        services.wait_ready(service, process, timeout=180)
    finally:
        services.stop(process)

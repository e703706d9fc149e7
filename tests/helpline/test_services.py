"""The process supervisor of ``make run``: a dead child is restarted with backoff, the others go on."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from helpline import services

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

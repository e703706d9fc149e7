"""The three processes of the assistant, started the same way by ``make run`` and the tests.

Rasa runs in its own Python 3.10 environment; the action server and the gateway
run in the project's. Everything binds to localhost: only the gateway is meant
to be exposed, and only by a reverse proxy a site sets up on purpose.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn
from urllib.error import URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from helpline.rasa_endpoints import write_endpoints
from helpline.rasa_model import RASA_BIN, RASA_ENV, model_path
from helpline.settings import REPO_ROOT, VAR_DIR, Settings

APP_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"


@dataclass(frozen=True)
class WarmUp:
    """A request sent once the service is ready, so the first family does not pay for lazy loading."""

    url: str
    body: dict[str, str]


@dataclass(frozen=True)
class Service:
    name: str
    command: list[str]
    ready_url: str
    env: dict[str, str] = field(default_factory=dict)
    warm_up: WarmUp | None = None


def _port(url: str) -> str:
    return str(urlsplit(url).port)


def _child_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The parent's environment plus its resolved settings, so child processes agree with it.

    Models are never fetched from a hub unless a site sets ``HF_HUB_OFFLINE=0`` itself.
    """
    return {
        "HF_HUB_OFFLINE": "1",
        **os.environ,
        **extra,
        "HELPLINE_DATABASE_URL": settings.database_url,
        "HELPLINE_RASA_URL": settings.rasa_url,
        "HELPLINE_ACTION_SERVER_URL": settings.action_server_url,
        "HELPLINE_REDIS_URL": settings.redis_url,
        "HELPLINE_EMBEDDING_MODEL": settings.embedding_model,
        "HELPLINE_HOST": settings.host,
        "HELPLINE_PORT": str(settings.port),
    }


def rasa_service(settings: Settings, model: Path) -> Service:
    """Rasa on the port of ``HELPLINE_RASA_URL``, its tracker and lock stores following the settings."""
    endpoints = write_endpoints(settings, VAR_DIR / "rasa" / f"endpoints-{_port(settings.rasa_url)}.yml")
    command = [
        str(RASA_BIN), "run",
        "--model", str(model),
        "--endpoints", str(endpoints),
        "--credentials", str(REPO_ROOT / "nlu" / "credentials.yml"),
        "--interface", "127.0.0.1",
        "--port", _port(settings.rasa_url),
        "--enable-api",
    ]  # fmt: skip
    # Rasa's first message builds TensorFlow's graphs and loads jieba's dictionary: over 10 s on a
    # busy machine, longer than the gateway waits. One greeting through the REST channel pays it.
    warm_up = WarmUp(f"{settings.rasa_url}/webhooks/rest/webhook", {"sender": "warm-up", "message": "你好"})
    env = _child_env(settings, **RASA_ENV)
    return Service("rasa", command, f"{settings.rasa_url}/status", env, warm_up)


def action_service(settings: Settings) -> Service:
    """rasa-sdk's server on the host and port of ``HELPLINE_ACTION_SERVER_URL``, ready once it can answer."""
    command = [str(APP_PYTHON), "-m", "actions.server", "--actions", "actions"]
    ready_url = f"{settings.action_server_url}/ready"
    return Service("actions", command, ready_url, _child_env(settings))


def gateway_service(settings: Settings) -> Service:
    ready_url = f"http://{settings.host}:{settings.port}/livez"
    return Service("gateway", [str(APP_PYTHON), "-m", "bot"], ready_url, _child_env(settings))


SERVICE_NAMES = ("actions", "rasa", "gateway")
"""In start order: Rasa calls the action server, the gateway calls Rasa."""


def named(settings: Settings, name: str) -> Service:
    """One of :data:`SERVICE_NAMES`, as ``make run`` starts it."""
    if name == "rasa":
        return rasa_service(settings, model_path())
    if name == "actions":
        return action_service(settings)
    if name == "gateway":
        return gateway_service(settings)
    raise ValueError(f"unknown service {name!r}; one of {', '.join(SERVICE_NAMES)}")


def become(service: Service) -> NoReturn:
    """Replace this process with the service: how a systemd unit runs the same command as ``make run``."""
    os.chdir(REPO_ROOT)
    os.execve(service.command[0], service.command, service.env)


def start(service: Service, log_dir: Path) -> subprocess.Popen[bytes]:
    """Start a service in its own process group, its output going to ``log_dir/<name>.log``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / f"{service.name}.log").open("ab")
    return subprocess.Popen(
        service.command,
        cwd=REPO_ROOT,
        env=service.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(service: Service, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Block until the service answers 200 (and has been warmed up), or raise if it died or took too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{service.name} exited with code {process.returncode}")
        try:
            with urlopen(service.ready_url, timeout=2) as response:
                if response.status == 200:
                    break
        except (URLError, OSError):
            pass
        time.sleep(0.3)
    else:
        raise TimeoutError(f"{service.name} was not ready after {timeout:.0f}s")
    if service.warm_up is not None:
        _warm(service.warm_up, max(deadline - time.monotonic(), 1.0))


def _warm(warm_up: WarmUp, timeout: float) -> None:
    body = json.dumps(warm_up.body, ensure_ascii=False).encode()
    request = Request(warm_up.url, data=body, headers={"Content-Type": "application/json"})
    with urlopen(request, timeout=timeout) as response:
        response.read()


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the whole process group, then SIGKILL what is left after ``grace``."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 60.0
STABLE_AFTER = 60.0
"""A child that ran this long before dying starts again after the first delay, not a longer one."""


@dataclass
class Child:
    """A running service, and when it may next be restarted if it dies."""

    service: Service
    process: subprocess.Popen[bytes]
    started: float
    delay: float = RESTART_FIRST_DELAY
    restart_at: float | None = None


class Supervisor:
    """Keeps every service running: a child that dies is restarted with backoff, the others go on.

    The gateway answers crisis messages without Rasa and the action server, so a dying
    Rasa must never take the gateway down with it; only Ctrl-C or SIGTERM stops all.
    """

    def __init__(self, log_dir: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self._log_dir = log_dir
        self._clock = clock
        self.children: list[Child] = []

    def start(self, service: Service) -> Child:
        child = Child(service, start(service, self._log_dir), self._clock())
        self.children.append(child)
        return child

    def tend(self) -> None:
        """Restart what has died and whose backoff has passed; call it every half second."""
        now = self._clock()
        for child in self.children:
            if child.process.poll() is None:
                continue
            if child.restart_at is None:
                if now - child.started >= STABLE_AFTER:
                    child.delay = RESTART_FIRST_DELAY
                child.restart_at = now + child.delay
                print(
                    f"{child.service.name} 意外退出（代码 {child.process.returncode}），"
                    f"{child.delay:.0f} 秒后重启；日志在 {self._log_dir}/{child.service.name}.log",
                    flush=True,
                )
            elif now >= child.restart_at:
                child.process = start(child.service, self._log_dir)
                child.started, child.restart_at = now, None
                child.delay = min(child.delay * 2, RESTART_MAX_DELAY)
                print(f"已重启 {child.service.name}。", flush=True)

    def stop_all(self) -> None:
        for child in reversed(self.children):
            stop(child.process)

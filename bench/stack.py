"""A private copy of the assistant for benchmarks and evaluations: free ports, its own database.

It starts the same processes ``make run`` starts (``helpline.services``), waits until
each answers, and until the gateway has finished loading in the background, so a
figure is a running assistant's and never its first minute. The chats the load
benchmarks send (policy questions through a REST webhook) are here too.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from helpline import migrate, services
from helpline.rasa_model import ensure_trained
from helpline.settings import Settings, load_settings
from knowledge.evaluate import load_questions
from knowledge.repository import load_seed_into

IDLE_CPU_SECONDS = 0.05
"""CPU seconds per wall-clock second below which the gateway counts as idle."""
WEBHOOK = "/webhooks/rest/webhook"
"""The REST channel's path, the gateway's and Rasa's alike."""
JSON = {"Content-Type": "application/json"}
TIMEOUT = 120.0
"""Seconds any one request may take before it counts as an error."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def on_free_ports(base: Settings) -> Settings:
    """``base`` with the gateway, Rasa and the action server moved to free local ports."""
    return replace(base, port=free_port(), rasa_url=local(free_port()), action_server_url=local(free_port()))


def url(settings: Settings) -> str:
    """The gateway's base URL."""
    return f"http://{settings.host}:{settings.port}"


def plan(settings: Settings, with_rasa: bool = True) -> list[services.Service]:
    """The gateway, and before it Rasa and the action server unless Rasa is to be down."""
    gateway = [services.gateway_service(settings)]
    if not with_rasa:
        return gateway
    return [services.action_service(settings), services.rasa_service(settings, ensure_trained()), *gateway]


@contextmanager
def running(plan: list[services.Service], log_dir: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start every service of ``plan``, wait until each answers and the gateway is idle."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for service in plan:
            processes.append(services.start(service, log_dir))
        for service, process in zip(plan, processes, strict=True):
            services.wait_ready(service, process, timeout=300)
        wait_idle(processes[-1].pid)
        yield processes
    finally:
        for process in reversed(processes):
            services.stop(process)


@dataclass(frozen=True)
class Assistant:
    """A running private copy: its settings and processes (the gateway last)."""

    settings: Settings
    processes: list[subprocess.Popen[bytes]]
    names: list[str]

    @property
    def url(self) -> str:
        return url(self.settings)

    def wait_idle(self) -> None:
        """Until the gateway has done what it was given (between phases of a benchmark)."""
        wait_idle(self.processes[-1].pid)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time each process has used so far, by service name."""
        return {name: _cpu_seconds(p.pid) for name, p in zip(self.names, self.processes, strict=True)}


@contextmanager
def seeded(workdir: Path, name: str = "assistant") -> Iterator[Assistant]:
    """The whole assistant on free ports and a new SQLite database loaded from the seed, as
    ``make run`` has it, until the block ends."""
    settings = on_free_ports(replace(load_settings(), database_url=f"sqlite:///{workdir / f'{name}.db'}"))
    migrate.upgrade(settings.database_url)
    load_seed_into(settings.database_url)
    services_ = plan(settings)
    with running(services_, workdir / "logs") as processes:
        yield Assistant(settings, processes, [service.name for service in services_])


def percentile(values: list[float], share: float) -> float:
    """The value ``share`` of the way up the sorted values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def message(sender: str, text: str) -> bytes:
    """A webhook body as a widget sends it: UTF-8 JSON, non-ASCII characters as they are."""
    return json.dumps({"sender": sender, "message": text}, ensure_ascii=False).encode()


def texts(response: httpx.Response) -> list[str]:
    """The texts of a REST webhook's reply."""
    return [str(item.get("text")) for item in response.json() if isinstance(item, dict) and item.get("text")]


def policy_scripts(chats: int, messages: int) -> list[list[str]]:
    """Each family's questions, in turn from the evaluation set's policy questions (not the out-of-scope)."""
    questions = [q.text for q in load_questions() if q.expect]
    return [[questions[(n * messages + i) % len(questions)] for i in range(messages)] for n in range(chats)]


@dataclass
class Chat:
    """One family's chat: milliseconds until each answered message, and what went wrong with the rest."""

    replies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    without_text: int = 0
    """Answered messages whose reply had no text (when text was not required)."""


def unanswered(response: httpx.Response, text_required: bool = True) -> str | None:
    """What is wrong with a REST webhook's reply, or None when it is a 200 with a list of reply
    items (at least one with text, unless ``text_required`` is false)."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    try:
        items = response.json()
    except ValueError:
        return "not JSON"
    if not isinstance(items, list):
        return "not a list of replies"
    if text_required and not texts(response):
        return "no text"
    return None


def chat_options(description: str) -> argparse.ArgumentParser:
    """A benchmark's command line with the options every policy-question chat takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--chats", type=int, default=20, help="families chatting at once (default 20)")
    parser.add_argument(
        "--messages", type=int, default=10, help="questions per family and phase (default 10)"
    )
    parser.add_argument(
        "--pause", type=float, default=3.0, help="seconds between a family's messages (default 3)"
    )
    return parser


def chat(url: str, sender: str, questions: list[str], pause: float, text_required: bool = True) -> Chat:
    """Send ``questions`` in turn to the REST webhook at ``url``, ``pause`` seconds apart.

    A message counts as answered when :func:`unanswered` finds nothing wrong with its reply.
    Rasa's own channel answers some messages with a hand-off signal for the gateway and no
    text: ask it with ``text_required=False``, and those are counted in ``without_text``.
    """
    result = Chat()
    with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
        for index, question in enumerate(questions):
            if index:
                time.sleep(pause)
            started = time.perf_counter()
            try:
                response = client.post(WEBHOOK, content=message(sender, question), headers=JSON)
                elapsed = (time.perf_counter() - started) * 1000
                error = unanswered(response, text_required)
            except httpx.HTTPError as failure:
                elapsed, error = 0.0, type(failure).__name__
            if error is not None:
                result.errors.append(f"{sender}: {error}")
                continue
            result.replies.append(elapsed)
            if not texts(response):
                result.without_text += 1
    return result


LATENCY_HEADER = f"{'':<14}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}"


def latency_row(name: str, values: list[float]) -> str:
    """One line under :data:`LATENCY_HEADER`: how many, the median, p95 and the longest."""
    if not values:
        return f"{name:<14}{0:>6}"
    median, p95 = statistics.median(values), percentile(values, 0.95)
    return f"{name:<14}{len(values):>6}{median:>10.0f}{p95:>10.0f}{max(values):>10.0f}"


def proc_stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command's name: state, parent's pid, … (Linux)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, timeout: float = 300.0) -> None:
    """Wait until a process has finished loading in the background (the risk classifier)."""
    deadline = time.monotonic() + timeout
    used = _cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = _cpu_seconds(pid)
        if now - used < IDLE_CPU_SECONDS:
            return
        used = now
    raise TimeoutError(f"the process was still busy after {timeout:.0f} s")

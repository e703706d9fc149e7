"""How long from a family's crisis message to its ticket being visible in the counselors' queue.

Starts the real processes (``python -m bot``, and for "Rasa up" the Rasa server with
the trained model and the action server) on free ports and a fresh database, and
waits until the gateway has finished loading in the background (the figure is a
running gateway's, not its first minute). For each of N crisis messages it POSTs
the message to the webhook while a second thread polls the database every
millisecond for the ticket: "visible" is the time from sending to the first poll
that sees the committed ticket, "reply" the time until the family has the crisis
words. The ticket is then checked in the queue endpoint, claimed and closed, so
the queue stays as short as on a real shift.

    .venv/bin/python -m bench.handoff_latency [-n 200] [--mode up|down|both] [--database-url URL]

Goal: p95 ≤ 100 ms, with Rasa up and with Rasa down.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
from sqlalchemy import select

from bench import stack
from handoff.models import Ticket
from helpline import migrate
from helpline.db import make_engine, make_session_factory, transaction
from helpline.settings import Settings, load_settings
from helpline.users import Role, add_user

CRISIS_MESSAGES = (
    "我不想活了",
    "活着没意思，药都攒好了",
    "我想去找我儿子，今晚就走",
    "我想自杀",
    "一了百了算了，你们别管我",
)
GOAL_P95_MS = 100.0
WARM_UP = 5
"""Messages sent first and not counted: they warm the connection pool and the caches."""


def _counselor_token(database_url: str) -> str:
    engine = make_engine(database_url)
    with transaction(make_session_factory(engine)) as session:
        token = add_user(session, f"bench-{time.time_ns()}", Role.COUNSELOR)
    engine.dispose()
    return token


class _Watcher:
    """Polls the database (as the queue endpoint reads it) for a sender's ticket, every millisecond."""

    def __init__(self, database_url: str) -> None:
        self._engine = make_engine(database_url)

    def seen_at(self, sender: str, timeout: float = 10.0) -> float:
        """perf_counter() at the first poll that finds the committed ticket."""
        query = select(Ticket.id).where(Ticket.sender == sender)
        deadline = time.perf_counter() + timeout
        with self._engine.connect() as connection:
            while time.perf_counter() < deadline:
                if connection.execute(query).first() is not None:
                    return time.perf_counter()
                connection.rollback()
                time.sleep(0.001)
        raise RuntimeError(f"no ticket for {sender} after {timeout:.0f} s")

    def close(self) -> None:
        self._engine.dispose()


@dataclass
class Spans:
    """Milliseconds per message: until the ticket is committed, until the family has the reply."""

    visible: list[float] = field(default_factory=list)
    replied: list[float] = field(default_factory=list)


def _measure(gateway: str, database_url: str, token: str, count: int, label: str) -> Spans:
    headers = {"Authorization": f"Bearer {token}"}
    spans = Spans()
    watcher = _Watcher(database_url)
    try:
        with httpx.Client(base_url=gateway, timeout=30) as client, ThreadPoolExecutor(1) as pool:
            for index in range(count + WARM_UP):
                sender = f"bench-{label}-{index}-{time.time_ns()}"
                seen = pool.submit(watcher.seen_at, sender)
                started = time.perf_counter()
                reply = client.post(
                    "/webhooks/rest/webhook",
                    json={"sender": sender, "message": CRISIS_MESSAGES[index % len(CRISIS_MESSAGES)]},
                )
                replied = time.perf_counter()
                reply.raise_for_status()
                visible = seen.result()
                ticket = _in_queue(client, headers, sender)
                if index >= WARM_UP:
                    spans.visible.append((visible - started) * 1000)
                    spans.replied.append((replied - started) * 1000)
                client.post(f"/api/v1/handoffs/{ticket}/claim", headers=headers).raise_for_status()
                client.post(f"/api/v1/handoffs/{ticket}/close", json={"outcome": "bench"}, headers=headers)
    finally:
        watcher.close()
    return spans


def _in_queue(client: httpx.Client, headers: dict[str, str], sender: str) -> int:
    """The ticket as counselors see it: waiting, at crisis priority."""
    waiting = client.get("/api/v1/handoffs", params={"status": "waiting"}, headers=headers).json()
    for ticket in waiting:
        if ticket["sender"] == sender and ticket["priority"] == "crisis":
            return int(ticket["id"])
    raise RuntimeError(f"the crisis ticket of {sender} is not in the waiting queue")


def _run(mode: str, base: Settings, count: int, workdir: Path) -> Spans:
    settings = stack.on_free_ports(base)
    with stack.running(stack.plan(settings, with_rasa=mode == "up"), workdir / f"logs-{mode}"):
        token = _counselor_token(settings.database_url)
        return _measure(stack.url(settings), settings.database_url, token, count, mode)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="crisis messages per mode (default 200)")
    parser.add_argument("--mode", choices=["up", "down", "both"], default="both")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="handoff-bench-") as folder:
        workdir = Path(folder)
        url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        migrate.upgrade(url)
        base = replace(load_settings(), database_url=url)
        modes = ["down", "up"] if args.mode == "both" else [args.mode]
        results = {mode: _run(mode, base, args.n, workdir) for mode in modes}
    backend = url.split(":", 1)[0]
    print(f"\ncrisis message → ticket in the queue ({backend}, n={args.n} per mode, ms)")
    print(f"{'':12}{'visible p50':>12}{'p95':>8}{'max':>8}{'reply p50':>12}{'p95':>8}")
    worst = 0.0
    for mode, spans in results.items():
        visible_p95 = stack.percentile(spans.visible, 0.95)
        worst = max(worst, visible_p95)
        visible = f"{statistics.median(spans.visible):>12.1f}{visible_p95:>8.1f}{max(spans.visible):>8.1f}"
        replied = f"{statistics.median(spans.replied):>12.1f}{stack.percentile(spans.replied, 0.95):>8.1f}"
        print(f"Rasa {mode:7}{visible}{replied}")
    print(f"goal: ticket visible p95 ≤ {GOAL_P95_MS:.0f} ms — {'met' if worst <= GOAL_P95_MS else 'NOT met'}")
    return 0 if worst <= GOAL_P95_MS else 1


if __name__ == "__main__":
    sys.exit(main())

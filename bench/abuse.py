"""Do attackers slow other families down? 20 concurrent chats, calm and while attackers send garbage.

Starts one private copy of the whole assistant (Rasa, the action server, the gateway,
on a new database loaded from the seed; :func:`bench.stack.seeded`) and runs three
phases on it, each from an idle gateway:

* calm: 20 families chat at once through the REST webhook, each asking ``--messages``
  policy questions from knowledge/eval/questions.yaml, ``--pause`` seconds apart (a
  person reads and types; it also keeps each family under the 20-a-minute limit);
* under attack: the same 20 chats, the same questions (as new families), while
  ``--attackers`` attacker senders loop over pathological requests as fast as they are
  answered: bodies over 256 KiB (stated and streamed), 100,000-character repeats,
  ``孩子也算`` repeated to just under the body limit, control characters, emoji floods,
  malformed JSON, and plain messages past the rate limit;
* calm again: the chats once more without attackers, so the ratio of the two calm
  phases shows the noise the attack's ratio is to be read against.

A warm-up of two messages per family comes first and is not counted.
In every phase a new family says ``我不想活了`` every ``--crisis-every`` seconds, and the
time until the webhook answers with the crisis words is measured. Tickets stay open.
Nothing here asserts a timing; the exit status is 1 only when a crisis reply was
missing or an ordinary chat got an error.

    .venv/bin/python -m bench.abuse [--chats 20] [--messages 10] [--pause 3] [--attackers 3]
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import stack
from bot.app import MAX_BODY_BYTES
from bot.texts import TOO_FAST
from handoff.texts import CRISIS_WARM

CRISIS_TEXT = "我不想活了"
WARM_UP = 2
"""Messages per family sent first and not counted, so the first phase is not the gateway's first minute."""

Body = bytes | Callable[[], Iterator[bytes]]
"""A request body, or a function giving it in chunks (sent chunked, without a length)."""


def _streamed(body: bytes, chunk: int = 16 * 1024) -> Callable[[], Iterator[bytes]]:
    return lambda: (body[start : start + chunk] for start in range(0, len(body), chunk))


def attacks(sender: str) -> list[tuple[str, Body]]:
    """What one attacker sender sends, in turn, over and over."""
    over_limit = stack.message(sender, "x" * MAX_BODY_BYTES)
    controls = "".join(map(chr, range(32))) + "\x7f\u200b\u202e\ufeff孩子也算"
    return [
        ("body over 256 KiB", over_limit),
        ("streamed body over 256 KiB", _streamed(over_limit)),
        ("84,000 characters of 孩子也算", stack.message(sender, "孩子也算" * 21_000)),
        ("100,000 × a", stack.message(sender, "a" * 100_000)),
        ("100,001 × a", stack.message(sender, "a" * 100_001)),
        ("control characters", stack.message(sender, controls * 1_200)),
        ("emoji flood", stack.message(sender, "😀🙏💔🕯️" * 13_000)),
        ("malformed JSON", b'{"sender": "' + sender.encode() + b'", "message": "unterminated'),
        ("nested JSON", b"[" * 100_000),
        ("not UTF-8", b"\xff\xfe\x00" * 10_000),
        *[("past the rate limit", stack.message(sender, "你好"))] * 5,
    ]


@dataclass
class Phase:
    """What one phase measured, in milliseconds."""

    name: str
    chats: list[float] = field(default_factory=list)
    chat_errors: list[str] = field(default_factory=list)
    crisis: list[float] = field(default_factory=list)
    crisis_missed: int = 0
    attack_outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(attack, HTTP status or client error) → requests"""
    attack_seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds each process used during the phase."""
    seconds: float = 0.0


def _crisis(url: str, label: str, every: float, done: threading.Event, phase: Phase) -> None:
    """A new family in crisis every ``every`` seconds until the chats are done."""
    with httpx.Client(base_url=url, timeout=stack.TIMEOUT) as client:
        for number in itertools.count():
            started = time.perf_counter()
            try:
                response = client.post(
                    stack.WEBHOOK,
                    content=stack.message(f"{label}-crisis-{number}", CRISIS_TEXT),
                    headers=stack.JSON,
                )
                answered = response.status_code == 200 and CRISIS_WARM in stack.texts(response)
            except httpx.HTTPError:
                answered = False
            if answered:
                phase.crisis.append((time.perf_counter() - started) * 1000)
            else:
                phase.crisis_missed += 1
            if done.wait(every):
                return


def _attack(url: str, sender: str, stop: threading.Event, phase: Phase, lock: threading.Lock) -> None:
    """Send the attacks in turn, each as soon as the last is answered, until told to stop."""
    with httpx.Client(base_url=url, timeout=stack.TIMEOUT) as client:
        for name, body in itertools.cycle(attacks(sender)):
            if stop.is_set():
                return
            content = body() if callable(body) else body
            try:
                response = client.post(stack.WEBHOOK, content=content, headers=stack.JSON)
                outcome = str(response.status_code)
                if response.status_code == 200 and TOO_FAST in stack.texts(response):
                    outcome = "200 too fast"
            except httpx.HTTPError as failure:
                outcome = type(failure).__name__
            with lock:
                phase.attack_outcomes[name, outcome] += 1


def run_phase(
    assistant: stack.Assistant,
    name: str,
    scripts: list[list[str]],
    pause: float,
    crisis_every: float,
    attackers: int,
) -> Phase:
    """The chats (and the crisis families), with ``attackers`` attacking meanwhile; from an idle gateway."""
    assistant.wait_idle()
    phase, lock = Phase(name), threading.Lock()
    cpu_before, began = assistant.cpu_seconds(), time.perf_counter()
    label = name.replace(" ", "-")
    chats_done, stop = threading.Event(), threading.Event()
    with ThreadPoolExecutor(len(scripts) + attackers + 1) as pool:
        attacking = [
            pool.submit(_attack, assistant.url, f"{label}-attacker-{n}", stop, phase, lock)
            for n in range(attackers)
        ]
        started = time.perf_counter()
        crisis = pool.submit(_crisis, assistant.url, label, crisis_every, chats_done, phase)
        chats = [
            pool.submit(stack.chat, assistant.url, f"{label}-family-{n}", script, pause)
            for n, script in enumerate(scripts)
        ]
        for future in chats:
            done = future.result()
            phase.chats += done.replies
            phase.chat_errors += done.errors
        chats_done.set()
        crisis.result()
        stop.set()
        for future in attacking:
            future.result()
        phase.attack_seconds = time.perf_counter() - started if attackers else 0.0
    phase.seconds = time.perf_counter() - began
    phase.cpu = {name: used - cpu_before[name] for name, used in assistant.cpu_seconds().items()}
    return phase


def _p95_ratios(samples: list[list[float]]) -> str:
    calm, attacked, again = (stack.percentile(values, 0.95) if values else float("nan") for values in samples)
    return (
        f"p95 under attack / calm: {attacked / calm:.2f}   (calm again / calm: {again / calm:.2f}, the noise)"
    )


def report(phases: list[Phase], chats: int, messages: int, pause: float, attackers: int) -> str:
    lines = [
        f"\n{chats} ordinary chats at once, {messages} policy questions each, {pause:g} s apart "
        f"(REST webhook, Rasa up); {attackers} attackers in the middle phase",
        stack.LATENCY_HEADER,
        *(stack.latency_row(p.name, p.chats) for p in phases),
        _p95_ratios([p.chats for p in phases]),
        f"\ncrisis reply to {CRISIS_TEXT} (a new family each time)",
        stack.LATENCY_HEADER,
        *(stack.latency_row(p.name, p.crisis) for p in phases),
        _p95_ratios([p.crisis for p in phases]),
    ]
    lines.append("\nCPU seconds used per second of the phase (2 cores)")
    for p in phases:
        shares = ", ".join(f"{name} {used / p.seconds:.2f}" for name, used in p.cpu.items())
        lines.append(f"{p.name:<14}{shares}   ({p.seconds:.0f} s)")
    attacked = phases[1]
    total = sum(attacked.attack_outcomes.values())
    rate = total / attacked.attack_seconds if attacked.attack_seconds else 0.0
    lines.append(f"\nattackers: {total} requests in {attacked.attack_seconds:.0f} s ({rate:.1f}/s)")
    by_attack: dict[str, list[str]] = {}
    for (name, outcome), count in sorted(attacked.attack_outcomes.items()):
        by_attack.setdefault(name, []).append(f"{outcome} ×{count}")
    lines += [f"  {name:<32}{', '.join(outcomes)}" for name, outcomes in by_attack.items()]
    problems = [
        f"{p.name}: {len(p.chat_errors)} chat errors ({', '.join(p.chat_errors[:3])})"
        for p in phases
        if p.chat_errors
    ]
    problems += [f"{p.name}: {p.crisis_missed} crisis replies missing" for p in phases if p.crisis_missed]
    lines += problems or ["every chat message answered, every crisis reply given"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = stack.chat_options(__doc__.splitlines()[0])
    parser.add_argument("--attackers", type=int, default=3, help="attacker senders (default 3)")
    parser.add_argument("--crisis-every", type=float, default=2.0, help="seconds between crisis families (2)")
    args = parser.parse_args(argv)
    plan = stack.policy_scripts(args.chats, args.messages)
    with (
        tempfile.TemporaryDirectory(prefix="abuse-bench-") as folder,
        stack.seeded(Path(folder), "abuse") as own,
    ):
        run_phase(own, "warm-up", [script[:WARM_UP] for script in plan], args.pause, args.crisis_every, 0)
        phases = [
            run_phase(own, name, plan, args.pause, args.crisis_every, attackers)
            for name, attackers in (("calm", 0), ("under attack", args.attackers), ("calm again", 0))
        ]
    print(report(phases, args.chats, args.messages, args.pause, args.attackers))
    return 1 if any(p.chat_errors or p.crisis_missed for p in phases) else 0


if __name__ == "__main__":
    sys.exit(main())

"""What the gateway adds to a reply, and how much memory the running assistant holds.

Starts one private copy of the whole assistant (Rasa, the action server, the gateway,
on a new database loaded from the seed; :func:`bench.stack.seeded`) and sends the same
chats to two targets, in alternating phases, each from an idle gateway:

* gateway: ``--chats`` families at once through the gateway's REST webhook, each asking
  ``--messages`` policy questions from knowledge/eval/questions.yaml, ``--pause`` seconds
  apart: each message stored, screened for crisis and routed by the gateway, then
  answered by Rasa and the action server;
* rasa: the same chats, the same questions (as new senders, so no tracker is shared),
  with the same JSON body straight to Rasa's own REST channel
  (``{rasa_url}/webhooks/rest/webhook``): Rasa and the action server alone. Rasa answers
  some questions with only a hand-off signal for the gateway (no text); those count as
  answered, and how many there were is printed.

The phases go gateway, rasa, gateway, rasa, … (``--rounds`` of each), so what drifts
during the run (the machine's other load, anything warming up) touches both targets
alike; each target's figures pool its phases. A warm-up of two messages per family to
each target comes before its first phase and is not timed.

Messages through the gateway carry its ranking of the knowledge base, so the action
server holds no embedding model; plain Rasa's messages do not, and the first one makes
the action server load a model of its own. So the memory of the processes ``make run``
starts (the gateway, Rasa, the action server, and all their descendants: the action
server's Sanic worker does the actions) is read twice: after an untimed gateway phase
before anything is sent to Rasa directly, as ``make run`` holds it serving families, and
after all phases; the timed phases come after both warm-ups. Each is summed:
resident (VmRSS, and its peak VmHWM, from
/proc/<pid>/status) and proportional (Pss from /proc/<pid>/smaps_rollup, which shares
a page among the processes mapping it, so its sum counts each page once). ``make run``'s
own supervisor (make and ``helpline.run``) is not started here and not counted. MB are
10^6 bytes.

Targets: gateway p95 ≤ 1.3 × plain Rasa's; the resident memory of all the processes
together ≤ 2.5 GB. Nothing here asserts a figure; the exit status is 1 only when a
request (warm-up included) got an error: not a 200, or a reply without text.

    .venv/bin/python -m bench.overhead [--chats 20] [--messages 10] [--pause 3] [--rounds 2]
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from actions.policy import NOT_READY
from bench import stack

WARM_UP = 2
"""Messages per family and target sent first and not counted."""
TARGETS = ("gateway", "rasa")
GOAL_RATIO = 1.3
"""Gateway p95 / plain Rasa p95."""
GOAL_BYTES = 2.5e9
"""All the processes' resident memory together."""


@dataclass
class Phase:
    """One target's chats, all families at once: reply times in ms, and the errors."""

    target: str
    name: str
    replies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    without_text: int = 0
    """Rasa's replies that were only a hand-off signal for the gateway."""


def run_phase(
    assistant: stack.Assistant, target: str, name: str, scripts: list[list[str]], pause: float
) -> Phase:
    """Every family's chat at once to ``target`` (the gateway or Rasa itself), from an idle gateway."""
    gateway = target == "gateway"
    base = assistant.url if gateway else assistant.settings.rasa_url
    assistant.wait_idle()
    phase, label = Phase(target, name), name.replace(" ", "-")
    with ThreadPoolExecutor(len(scripts)) as pool:
        chats = [
            pool.submit(
                stack.chat, base, f"overhead-{label}-family-{n}", script, pause, text_required=gateway
            )
            for n, script in enumerate(scripts)
        ]
        for future in chats:
            done = future.result()
            phase.replies += done.replies
            phase.errors += done.errors
            phase.without_text += done.without_text
    return phase


@dataclass(frozen=True)
class Resident:
    """One process's memory, in KiB as /proc has it: resident, its peak, and proportional (PSS)."""

    service: str
    pid: int
    parent: int
    command: str
    rss_kib: int
    peak_kib: int
    pss_kib: int


def status_kib(status: str, key: str) -> int:
    """A ``VmRSS:    1234 kB``-style line of /proc/<pid>/status or smaps_rollup, in KiB; 0 when
    missing (a zombie)."""
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name == key:
            return int(value.split()[0])
    return 0


def descendants(root: int, parents: dict[int, int]) -> list[int]:
    """``root`` and every process below it (pid → parent's pid), parents before their children."""
    children: dict[int, list[int]] = {}
    for pid, parent in sorted(parents.items()):
        children.setdefault(parent, []).append(pid)
    found: list[int] = []
    waiting = [root]
    while waiting:
        pid = waiting.pop()
        found.append(pid)
        waiting += reversed(children.get(pid, []))
    return found


def process_parents() -> dict[int, int]:
    """Every running process's parent (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(stack.proc_stat(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
    return parents


def resident(assistant: stack.Assistant) -> list[Resident]:
    """Each of the assistant's processes and of their descendants, with its memory now."""
    parents = process_parents()
    found: list[Resident] = []
    for service, process in zip(assistant.names, assistant.processes, strict=True):
        for pid in descendants(process.pid, parents):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                command = Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:
                continue  # gone meanwhile
            rss, peak = status_kib(status, "VmRSS"), status_kib(status, "VmHWM")
            found.append(Resident(service, pid, parents[pid], command, rss, peak, status_kib(rollup, "Pss")))
    return found


def _mb(kib: int) -> float:
    return kib * 1024 / 1e6


def _pooled(phases: Iterable[Phase], target: str) -> list[float]:
    return [value for phase in phases if phase.target == target for value in phase.replies]


MEMORY_SERVING = "after an untimed gateway phase, as make run serves families (no plain Rasa yet)"
MEMORY_DIRECT = "after all phases (plain Rasa's direct messages made the action server load its own model)"


def memory_table(when: str, memory: list[Resident]) -> list[str]:
    """The processes' memory, MB, and the total against the target."""
    rss, pss = sum(_mb(r.rss_kib) for r in memory), sum(_mb(r.pss_kib) for r in memory)
    return [
        f"\nmemory {when}, MB: resident (VmRSS), its peak (VmHWM), proportional (PSS: shared pages",
        "split among the processes sharing them, so the PSS total counts each page once)",
        f"{'':<10}{'pid':>8}{'parent':>8}  {'command':<12}{'RSS':>8}{'peak':>8}{'PSS':>8}",
        *(
            f"{r.service:<10}{r.pid:>8}{r.parent:>8}  {r.command:<12}"
            f"{_mb(r.rss_kib):>8.0f}{_mb(r.peak_kib):>8.0f}{_mb(r.pss_kib):>8.0f}"
            for r in memory
        ),
        f"{'total':<10}{len(memory):>8}  {'processes':<20}{rss:>8.0f}{'':>8}{pss:>8.0f}",
        f"resident memory of all the processes: {rss / 1000:.2f} GB   (target ≤ {GOAL_BYTES / 1e9:g} GB; "
        f"PSS {pss / 1000:.2f} GB)",
    ]


def report(
    phases: list[Phase],
    warm_ups: list[Phase],
    memory: dict[str, list[Resident]],
    chats: int,
    messages: int,
    pause: float,
) -> str:
    order = ", ".join(p.target for p in phases)
    lines = [
        f"\n{chats} chats at once, {messages} policy questions each, {pause:g} s apart, "
        f"through the gateway's REST webhook and straight to Rasa's; phases {order}",
        stack.LATENCY_HEADER,
        *(stack.latency_row(p.name, p.replies) for p in phases),
        *(stack.latency_row(f"{target} (all)", _pooled(phases, target)) for target in TARGETS),
    ]
    gateway, rasa = (_pooled(phases, target) for target in TARGETS)
    if gateway and rasa:
        ratio = stack.percentile(gateway, 0.95) / stack.percentile(rasa, 0.95)
        lines.append(f"p95 gateway / plain Rasa: {ratio:.2f}   (target ≤ {GOAL_RATIO:g})")
    signals = sum(p.without_text for p in phases if p.target == "rasa")
    if signals:
        lines.append(
            f"({signals} of plain Rasa's {len(rasa)} replies were only a hand-off signal for the gateway, "
            "no text: Rasa read distress, a crisis, an emergency or a request for a person)"
        )
    for when, processes in memory.items():
        lines += memory_table(when, processes)
    errors = [
        f"{p.name}: {len(p.errors)} errors ({', '.join(p.errors[:3])})" for p in warm_ups + phases if p.errors
    ]
    lines += errors or ["every message answered"]
    return "\n".join(lines)


def own_model_loaded(assistant: stack.Assistant, question: str, wait: float = 180.0) -> None:
    """Block until the action server answers Rasa's direct clients from its own model.

    Messages through the gateway carry its ranking, so the action server holds no model; the
    first message straight to Rasa makes it load one, and until then it answers "please ask
    again". Waiting here keeps that load out of plain Rasa's timed figures."""
    deadline = time.monotonic() + wait
    with httpx.Client(base_url=assistant.settings.rasa_url, timeout=stack.TIMEOUT) as client:
        while time.monotonic() < deadline:
            response = client.post(
                stack.WEBHOOK, content=stack.message("overhead-load", question), headers=stack.JSON
            )
            if response.status_code == 200 and NOT_READY not in " ".join(stack.texts(response)):
                return
            time.sleep(1.0)
    raise RuntimeError(f"the action server did not load its own model within {wait:g} s")


def main(argv: list[str] | None = None) -> int:
    parser = stack.chat_options(__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="phases per target, alternating (default 2)")
    args = parser.parse_args(argv)
    plan = stack.policy_scripts(args.chats, args.messages)
    warm_up = [script[:WARM_UP] for script in plan]
    with (
        tempfile.TemporaryDirectory(prefix="overhead-bench-") as folder,
        stack.seeded(Path(folder), "overhead") as own,
    ):
        warm_ups = [
            run_phase(own, "gateway", "warm-up gateway", warm_up, args.pause),
            run_phase(own, "gateway", "gateway, for memory", plan, args.pause),
        ]
        memory = {MEMORY_SERVING: resident(own)}
        own_model_loaded(own, plan[0][0])
        warm_ups.append(run_phase(own, "rasa", "warm-up rasa", warm_up, args.pause))
        phases = [
            run_phase(own, target, f"{target} {round_}", plan, args.pause)
            for round_ in range(1, args.rounds + 1)
            for target in TARGETS
        ]
        memory[MEMORY_DIRECT] = resident(own)
    print(report(phases, warm_ups, memory, args.chats, args.messages, args.pause))
    return 1 if any(p.errors for p in warm_ups + phases) else 0


if __name__ == "__main__":
    sys.exit(main())

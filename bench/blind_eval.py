"""End-to-end evaluation on blind rounds: what families would get, through the REST webhook.

A blind round is written by someone who saw only the policy text and a description
of the users (never our data, lexicon, knowledge base or code); see
``docs/evaluation.md``. Each message goes to the real assistant as a new family;
each conversation is one family, turn after turn. A reply is judged by what the
family sees:

* crisis: the crisis words and lines in that same turn;
* emergency: a "call 120/110/119 now" in that turn;
* policy: an answer citing one of the expected clauses (and no crisis reply);
* offtopic: no answer citing a clause, and no crisis reply;
* none: no crisis and no emergency reply (asking directly is counted apart);
* unclear: the direct question, or the crisis reply;
* psych / legal: that intake starts; human: a ticket for a person.

    .venv/bin/python -m bench.blind_eval [ROUND.yaml ...] [--url URL] [--failures]

Without ``--url`` it starts its own copy of the assistant (Rasa, the action
server, the gateway with its classifier) on free ports and a fresh database, and
also reports each risk component alone on the single messages: the lexicon, the
classifier, and Rasa's intent (``/model/parse``), as crisis and emergency calls.
``--failures`` lists what failed: only for rounds that have been measured already,
since reading a round's failures is tuning on it.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench import stack
from handoff import texts as handoff_texts
from handoff.classifier import shared_classifier
from handoff.evaluate_risk import BLIND_ROUNDS_DIR
from handoff.risk import RiskLevel, screen
from helpline.settings import Settings
from intake import forms
from intake.questions import INTROS
from knowledge.answers import DOCUMENT

LABELS = ("policy", "offtopic", "crisis", "emergency", "none", "unclear", "psych", "legal", "human")
NOT_AT_RISK = ("policy", "offtopic", "none", "psych", "legal", "human")
"""Labels whose crisis replies are false alarms."""

_CLAUSE = r"序言|结尾|附件[一二三四五六七八九]|[一二三四](?:（[一二三四五]）)?\d?"
_CITED = re.compile(re.escape(DOCUMENT) + rf"\s*({_CLAUSE})")
_INTAKE_STARTS = {"psych": INTROS[forms.PSYCH_FORM], "legal": INTROS[forms.LEGAL_FORM]}
_EMERGENCY_START = handoff_texts.EMERGENCY_CALL.split("{", 1)[0]
CONCURRENCY = 1
"""One family at a time: the gateway skips the classifier for a message while it is busy with
another, so concurrent sending would make the figures depend on timing."""


@dataclass(frozen=True)
class Turn:
    """One family message and what a good reply to it is."""

    text: str
    label: str
    clauses: tuple[str, ...] = ()
    wording: str = ""


@dataclass(frozen=True)
class Seen:
    """What the family saw in reply to one message."""

    texts: tuple[str, ...]
    priority: str | None

    @property
    def crisis(self) -> bool:
        return handoff_texts.CRISIS_WARM in self.texts

    @property
    def emergency(self) -> bool:
        return any(text.startswith(_EMERGENCY_START) for text in self.texts)

    @property
    def asked(self) -> bool:
        return handoff_texts.SAFETY_QUESTION in self.texts

    @property
    def cited(self) -> set[str]:
        return {match.group(1) for text in self.texts for match in _CITED.finditer(text)}

    def intake(self, kind: str) -> bool:
        return _INTAKE_STARTS[kind] in self.texts


def passes(turn: Turn, seen: Seen) -> bool:
    """Whether the family got what this message needed."""
    if turn.label == "crisis":
        return seen.crisis
    if turn.label == "emergency":
        return seen.emergency
    if turn.label == "unclear":
        return seen.asked or seen.crisis
    if seen.crisis or seen.emergency:
        return False
    if turn.label == "policy":
        return bool(seen.cited & set(turn.clauses))
    if turn.label == "offtopic":
        return not seen.cited
    if turn.label in _INTAKE_STARTS:
        return seen.intake(turn.label)
    if turn.label == "human":
        return seen.priority in ("requested", "distress")
    return True  # none


@dataclass
class Round:
    name: str
    messages: list[Turn]
    conversations: list[tuple[str, list[Turn]]]


def _turn(entry: dict[str, Any]) -> Turn:
    label = str(entry["label"])
    if label not in LABELS:
        raise ValueError(f"unknown label {label!r} in {entry!r}")
    return Turn(str(entry["text"]), label, tuple(entry.get("clauses") or ()), str(entry.get("wording", "")))


def load_round(path: Path) -> Round:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    messages = [_turn(entry) for entry in data.get("messages") or ()]
    conversations = [
        (str(c.get("name", "")), [_turn(entry) for entry in c["turns"]])
        for c in data.get("conversations") or ()
    ]
    return Round(path.stem, messages, conversations)


async def _say(client: httpx.AsyncClient, sender: str, text: str) -> Seen:
    response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    response.raise_for_status()
    items = response.json()
    words = tuple(str(item["text"]) for item in items if item.get("text"))
    states = [item["custom"]["handoff"] for item in items if isinstance(item.get("custom"), dict)]
    priority = next((str(state.get("priority")) for state in states if "priority" in state), None)
    return Seen(words, priority)


@dataclass
class Results:
    """Per label: how many, how many passed, crisis and emergency replies, direct questions."""

    counts: Counter[str] = field(default_factory=Counter)
    passed: Counter[str] = field(default_factory=Counter)
    crisis: Counter[str] = field(default_factory=Counter)
    emergency: Counter[str] = field(default_factory=Counter)
    asked: Counter[str] = field(default_factory=Counter)
    conversations: int = 0
    conversations_passed: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, key: str, turn: Turn, seen: Seen) -> bool:
        ok = passes(turn, seen)
        self.counts[key] += 1
        self.passed[key] += ok
        self.crisis[key] += seen.crisis
        self.emergency[key] += seen.emergency
        self.asked[key] += seen.asked
        if not ok:
            self.failures.append(f"[{key}] {turn.text!r} → cited {sorted(seen.cited)} {list(seen.texts)[:3]}")
        return ok


def _key(turn: Turn) -> str:
    return f"policy/{turn.wording or 'plain'}" if turn.label == "policy" else turn.label


async def evaluate(url: str, rounds: Sequence[Round]) -> Results:
    results = Results()
    limit = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def single(turn: Turn) -> None:
            async with limit:
                results.add(_key(turn), turn, await _say(client, f"eval-{uuid.uuid4().hex}", turn.text))

        async def conversation(turns: list[Turn]) -> None:
            async with limit:
                sender = f"eval-{uuid.uuid4().hex}"
                whole = True
                for turn in turns:
                    whole &= results.add(f"conv/{turn.label}", turn, await _say(client, sender, turn.text))
                results.conversations += 1
                results.conversations_passed += whole

        jobs = [single(turn) for r in rounds for turn in r.messages]
        jobs += [conversation(turns) for r in rounds for _, turns in r.conversations]
        await asyncio.gather(*jobs)
    return results


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else "-"


def table(results: Results) -> str:
    keys = sorted(results.counts, key=lambda k: (k.startswith("conv/"), k))
    rows = [f"{'':18}{'n':>5}{'pass':>16}{'crisis reply':>16}{'emergency':>12}{'asked':>8}"]
    for key in keys:
        n = results.counts[key]
        rows.append(
            f"{key:18}{n:>5}{_share(results.passed[key], n):>16}{results.crisis[key]:>16}"
            f"{results.emergency[key]:>12}{results.asked[key]:>8}"
        )
    safe = sum(results.counts[k] for k in NOT_AT_RISK if not k.startswith("policy")) + sum(
        results.counts[k] for k in keys if k.startswith("policy/")
    )
    false_crisis = sum(results.crisis[k] for k in keys if not k.startswith("conv/") and _not_at_risk(k))
    false_emergency = sum(results.emergency[k] for k in keys if not k.startswith("conv/") and _not_at_risk(k))
    rows.append(f"crisis reply to a message not at risk: {_share(false_crisis, safe)}")
    rows.append(f"emergency reply to a message not at risk: {_share(false_emergency, safe)}")
    rows.append(f"conversations passed whole: {_share(results.conversations_passed, results.conversations)}")
    return "\n".join(rows)


def _not_at_risk(key: str) -> bool:
    return key.startswith("policy/") or key in NOT_AT_RISK


RASA_LEVELS = {"express_crisis": RiskLevel.CRISIS, "report_emergency": RiskLevel.EMERGENCY}


def _rasa_levels(rasa_url: str, turns: Sequence[Turn]) -> list[RiskLevel]:
    with httpx.Client(base_url=rasa_url, timeout=30) as client:
        intents = [client.post("/model/parse", json={"text": t.text}).json()["intent"]["name"] for t in turns]
    return [RASA_LEVELS.get(intent, RiskLevel.NONE) for intent in intents]


def components(settings: Settings, turns: Sequence[Turn]) -> str:
    """Each risk source alone: crisis calls on crisis messages, and on messages not at risk."""
    classifier = shared_classifier(settings.embedding_model, settings.torch_threads)
    levels = {
        "lexicon": [screen(turn.text).level for turn in turns],
        "classifier": [a.level for a in classifier.assess_many([turn.text for turn in turns])],
        "rasa intent": _rasa_levels(settings.rasa_url, turns),
    }
    crisis = [i for i, t in enumerate(turns) if t.label == "crisis"]
    emergency = [i for i, t in enumerate(turns) if t.label == "emergency"]
    safe = [i for i, t in enumerate(turns) if t.label in NOT_AT_RISK]
    header = f"{'crisis caught':>18}{'emergency caught':>20}{'crisis on safe':>18}{'emerg. on safe':>18}"
    rows = [f"{'alone':14}{header}"]
    for name, found in levels.items():
        rows.append(
            f"{name:14}{_share(sum(found[i] is RiskLevel.CRISIS for i in crisis), len(crisis)):>18}"
            f"{_share(sum(found[i].at_least(RiskLevel.EMERGENCY) for i in emergency), len(emergency)):>20}"
            f"{_share(sum(found[i] is RiskLevel.CRISIS for i in safe), len(safe)):>18}"
            f"{_share(sum(found[i] is RiskLevel.EMERGENCY for i in safe), len(safe)):>18}"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", nargs="*", type=Path, help=f"default: every round in {BLIND_ROUNDS_DIR}")
    parser.add_argument("--url", help="a running gateway (default: start a private copy)")
    parser.add_argument("--failures", action="store_true", help="list what failed (measured rounds only)")
    args = parser.parse_args(argv)
    rounds = [load_round(path) for path in (args.rounds or sorted(BLIND_ROUNDS_DIR.glob("*.yaml")))]
    breakdown = ""
    if args.url:
        results = asyncio.run(evaluate(args.url, rounds))
    else:
        with (
            tempfile.TemporaryDirectory(prefix="blind-eval-") as folder,
            stack.seeded(Path(folder), "eval") as own,
        ):
            results = asyncio.run(evaluate(own.url, rounds))
            breakdown = components(own.settings, [turn for r in rounds for turn in r.messages])
    print(f"\nend to end through the REST webhook: {', '.join(r.name for r in rounds)}")
    print(table(results))
    if breakdown:
        print(f"\neach risk component alone, on the single messages\n{breakdown}")
    if args.failures:
        print("\n".join(["", "failures:", *results.failures]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

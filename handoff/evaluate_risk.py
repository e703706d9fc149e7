"""Measure the lexicon risk screen on a labelled corpus.

Usage: ``python -m handoff.evaluate_risk [corpus.yaml ...]`` (default: both corpora).

Prints per-level recall and precision, crisis recall, the false-alarm rate on
'none' sentences, a confusion matrix, and every crisis sentence that was missed,
so staff can see at once whether a lexicon edit is safe.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from handoff.risk import Lexicon, RiskLevel, screen

CORPUS_DIR = Path(__file__).with_name("corpus")
BLIND_ROUNDS_DIR = Path(__file__).parents[1] / "tests" / "data" / "blind"
"""Blind rounds (docs/evaluation.md): measured once, then regression and training data."""
DEFAULT_CORPORA = (CORPUS_DIR / "risk_labelled.yaml", CORPUS_DIR / "risk_heldout.yaml")
LEVELS = (RiskLevel.CRISIS, RiskLevel.EMERGENCY, RiskLevel.DISTRESS, RiskLevel.NONE)


@dataclass(frozen=True)
class Example:
    """One labelled message."""

    text: str
    level: RiskLevel
    ambiguous: bool = False


@dataclass(frozen=True)
class Outcome:
    """An example with what the screen said about it."""

    example: Example
    predicted: RiskLevel
    ambiguous: bool


def load_corpus(path: str | Path) -> list[Example]:
    """Read a corpus file; a malformed entry is an error, since a silent skip would hide a miss."""
    with Path(path).open(encoding="utf-8") as handle:
        entries = yaml.safe_load(handle) or []
    examples = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            raise ValueError(f"{path}: each entry needs a text: {entry!r}")
        examples.append(
            Example(entry["text"], RiskLevel(entry["level"]), bool(entry.get("ambiguous", False)))
        )
    return examples


def run(examples: Sequence[Example], lexicon: Lexicon | None = None) -> list[Outcome]:
    """Screen every example."""
    outcomes = []
    for example in examples:
        assessment = screen(example.text, lexicon)
        outcomes.append(Outcome(example, assessment.level, assessment.ambiguous))
    return outcomes


def recall(outcomes: Sequence[Outcome], level: RiskLevel) -> float:
    """Share of examples labelled ``level`` that were screened exactly as ``level``."""
    labelled = [o for o in outcomes if o.example.level is level]
    return _ratio(sum(o.predicted is level for o in labelled), len(labelled))


def precision(outcomes: Sequence[Outcome], level: RiskLevel) -> float:
    """Share of examples screened as ``level`` that are labelled ``level``."""
    predicted = [o for o in outcomes if o.predicted is level]
    return _ratio(sum(o.example.level is level for o in predicted), len(predicted))


def false_alarm_rate(outcomes: Sequence[Outcome]) -> float:
    """Share of 'none' sentences screened as crisis or emergency: those would page a human."""
    safe = [o for o in outcomes if o.example.level is RiskLevel.NONE]
    return _ratio(sum(o.predicted.at_least(RiskLevel.EMERGENCY) for o in safe), len(safe))


def flag_rate(outcomes: Sequence[Outcome]) -> float:
    """Share of 'none' sentences screened as anything but none (distress included)."""
    safe = [o for o in outcomes if o.example.level is RiskLevel.NONE]
    return _ratio(sum(o.predicted is not RiskLevel.NONE for o in safe), len(safe))


def missed_crises(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """Crisis sentences the screen did not call crisis: the bug that matters most."""
    return [
        o for o in outcomes if o.example.level is RiskLevel.CRISIS and o.predicted is not RiskLevel.CRISIS
    ]


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def report(name: str, outcomes: Sequence[Outcome]) -> str:
    """The printable report for one corpus."""
    lines = [f"== {name}: {len(outcomes)} sentences"]
    for level in LEVELS:
        count = sum(o.example.level is level for o in outcomes)
        lines.append(
            f"  {level:<9} n={count:<4} recall={recall(outcomes, level):6.1%}"
            f"  precision={precision(outcomes, level):6.1%}"
        )
    ambiguous = [o for o in outcomes if o.example.ambiguous]
    lines.append(f"  crisis recall:        {recall(outcomes, RiskLevel.CRISIS):.1%}")
    lines.append(f"  false alarms on none: {false_alarm_rate(outcomes):.1%} (screened crisis or emergency)")
    lines.append(f"  any flag on none:     {flag_rate(outcomes):.1%} (distress included)")
    if ambiguous:
        asked = sum(o.ambiguous or o.predicted is RiskLevel.CRISIS for o in ambiguous)
        lines.append(f"  ambiguous asked/escalated: {asked}/{len(ambiguous)}")
    lines.extend(_confusion(outcomes))
    lines.extend(f"  MISSED CRISIS: {o.example.text!r} -> {o.predicted}" for o in missed_crises(outcomes))
    return "\n".join(lines)


def _confusion(outcomes: Sequence[Outcome]) -> list[str]:
    """Rows: label; columns: screened level."""
    counts = Counter((o.example.level, o.predicted) for o in outcomes)
    header = "  label \\ screened " + "".join(f"{level:>10}" for level in LEVELS)
    rows = [f"  {label:<17}" + "".join(f"{counts[label, got]:>10}" for got in LEVELS) for label in LEVELS]
    return [header, *rows]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the report for each corpus; exit 1 if any crisis sentence was missed."""
    paths = [Path(arg) for arg in (sys.argv[1:] if argv is None else argv)] or list(DEFAULT_CORPORA)
    missed = 0
    for path in paths:
        outcomes = run(load_corpus(path))
        missed += len(missed_crises(outcomes))
        print(report(path.name, outcomes))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Measure the lexicon, the embedding classifier and their combination on the evaluation splits.

Usage: ``python -m handoff.classifier [--retrain] [--latency] [--verbose]``.

The splits are the ones training never sees: risk_heldout.yaml, risk_fresh.yaml and
nlu/eval/intents.yml (express_crisis → crisis, report_emergency → emergency,
express_distress → distress, every other intent → none). The combination is what
the gateway runs on a first message: the two weighed by :func:`handoff.safety.weigh`
(the classifier's crisis alone asks directly).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from handoff.classifier import (
    DEFAULT_CACHE_DIR,
    DEFAULT_TRAINING,
    SOURCE_NAME,
    RiskClassifier,
    cache_key,
    cache_path,
    load_examples,
    load_or_train,
    training_examples,
    training_seconds,
)
from handoff.evaluate_risk import (
    CORPUS_DIR,
    Outcome,
    false_alarm_rate,
    flag_rate,
    missed_crises,
    recall,
    report,
)
from handoff.risk import RiskAssessment, RiskLevel, screen
from handoff.safety import LEXICON, Verdict, weigh
from helpline.embeddings import load_encoder
from helpline.settings import REPO_ROOT, load_settings

SPLITS = (
    CORPUS_DIR / "risk_heldout.yaml",
    CORPUS_DIR / "risk_fresh.yaml",
    REPO_ROOT / "nlu" / "eval" / "intents.yml",
)
SYSTEMS = ("lexicon", "classifier", "combined")


@dataclass(frozen=True)
class SplitResult:
    """Every system's outcomes on one split."""

    name: str
    outcomes: dict[str, list[Outcome]]


def combined(lexicon: RiskAssessment, classifier: RiskAssessment) -> Verdict:
    """What :class:`handoff.safety.SafetyNet` decides from the two sources."""
    return weigh({LEXICON: _verdict(lexicon), SOURCE_NAME: _verdict(classifier)})


def _verdict(assessment: RiskAssessment) -> Verdict:
    return Verdict(assessment.level, (), assessment.ambiguous)


def evaluate(classifier: RiskClassifier, path: Path) -> SplitResult:
    """Screen, classify (one batch) and combine every example of a split."""
    examples = load_examples(path)
    texts = [example.text for example in examples]
    lexicon = [screen(text) for text in texts]
    learnt = classifier.assess_many(texts)
    outcomes: dict[str, list[Outcome]] = {name: [] for name in SYSTEMS}
    for example, by_lexicon, by_classifier in zip(examples, lexicon, learnt, strict=True):
        both = combined(by_lexicon, by_classifier)
        outcomes["lexicon"].append(Outcome(example, by_lexicon.level, by_lexicon.ambiguous))
        outcomes["classifier"].append(Outcome(example, by_classifier.level, by_classifier.ambiguous))
        outcomes["combined"].append(Outcome(example, both.level, both.ambiguous))
    return SplitResult(path.name, outcomes)


def crisis_caught(outcomes: Sequence[Outcome]) -> str:
    crises = [o for o in outcomes if o.example.level is RiskLevel.CRISIS]
    return f"{len(crises) - len(missed_crises(outcomes))}/{len(crises)}"


def asked_rate(outcomes: Sequence[Outcome]) -> float:
    """Share of 'none' sentences that would get the direct safety question."""
    safe = [o for o in outcomes if o.example.level is RiskLevel.NONE]
    return sum(o.ambiguous for o in safe) / len(safe) if safe else float("nan")


def summary(results: Sequence[SplitResult]) -> str:
    """One line per split and system: the figures that matter most."""
    lines = [
        f"{'split':<20}{'system':<12}{'crisis caught':>14}{'recall':>8}"
        f"{'false alarms':>14}{'asked':>8}{'any flag':>10}   (the last three on 'none' sentences)"
    ]
    for result in results:
        for system in SYSTEMS:
            outcomes = result.outcomes[system]
            lines.append(
                f"{result.name:<20}{system:<12}{crisis_caught(outcomes):>14}"
                f"{recall(outcomes, RiskLevel.CRISIS):>8.1%}{false_alarm_rate(outcomes):>14.1%}"
                f"{asked_rate(outcomes):>8.1%}{flag_rate(outcomes):>10.1%}"
            )
    return "\n".join(lines)


def latency(classifier: RiskClassifier, messages: Sequence[str]) -> str:
    """Per-message time of the classifier alone, one message at a time as the gateway calls it."""
    times = []
    for message in messages:
        started = time.perf_counter()
        classifier.assess(message)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    return (
        f"per-message latency over {len(times)} messages: median {statistics.median(times):.0f} ms,"
        f" p95 {p95:.0f} ms, max {times[-1]:.0f} ms"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures; exit 1 if the combination missed a crisis sentence of any split."""
    parser = argparse.ArgumentParser(prog="python -m handoff.classifier", description=__doc__)
    parser.add_argument("--retrain", action="store_true", help="train again even if a cached file exists")
    parser.add_argument("--latency", action="store_true", help="also time the classifier message by message")
    parser.add_argument("--verbose", action="store_true", help="full report per split and system")
    args = parser.parse_args(argv)

    settings = load_settings()
    started = time.monotonic()
    encoder = load_encoder(settings.embedding_model, settings.torch_threads)
    print(f"encoder {encoder.name} loaded in {time.monotonic() - started:.1f} s")
    started = time.monotonic()
    classifier = load_or_train(encoder, DEFAULT_CACHE_DIR, retrain=args.retrain)
    path = cache_path(DEFAULT_CACHE_DIR, cache_key(encoder, DEFAULT_TRAINING))
    training = training_examples(DEFAULT_TRAINING)
    counts = {level.value: sum(e.level is level for e in training.examples) for level in RiskLevel}
    print(
        f"classifier {path.name}: ready in {time.monotonic() - started:.1f} s (training took"
        f" {training_seconds(path):.0f} s on {len(training.examples)} sentences {counts},"
        f" {int(training.blind.sum())} of them from blind rounds)"
    )
    thresholds = classifier.thresholds
    print(f"thresholds: crisis P >= {thresholds.crisis:.3f}, ask P >= {thresholds.ask:.3f}")

    results = [evaluate(classifier, split) for split in SPLITS]
    print(summary(results))
    if args.verbose:
        for result in results:
            for system in SYSTEMS:
                print(report(f"{result.name} / {system}", result.outcomes[system]))
    missed = [o for result in results for o in missed_crises(result.outcomes["combined"])]
    for outcome in missed:
        print(f"  MISSED BY BOTH: {outcome.example.text!r}")
    if args.latency:
        fresh = [example.text for example in load_examples(SPLITS[1])]
        print(latency(classifier, fresh))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())

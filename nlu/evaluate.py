"""Intent accuracy, macro-F1 and the confusion matrix of the trained model on a held-out set.

Runs in Rasa's own environment (``.venv-rasa/bin/python nlu/evaluate.py``), loads the
exact model file for the current training data and parses every example of
``nlu/eval/`` — examples training never sees. ``--json`` prints the figures for tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

NLU_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(NLU_DIR.parent))

from helpline.rasa_model import model_path  # noqa: E402 - needs the repo root on sys.path


def load_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs from a Rasa NLU YAML file."""
    pairs = []
    for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
        for line in block["examples"].splitlines():
            text = line.strip().removeprefix("- ").strip()
            if text:
                pairs.append((text, block["intent"]))
    return pairs


async def predict(model: Path, texts: list[str]) -> list[str]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [(await agent.parse_message(text))["intent"]["name"] for text in texts]


def scores(gold: list[str], predicted: list[str]) -> dict:
    labels = sorted(set(gold))
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for g, p in zip(gold, predicted, strict=True):
        confusion[g][p] += 1
    f1 = {}
    for label in labels:
        tp = confusion[label][label]
        fp = sum(confusion[g][label] for g in labels if g != label)
        fn = sum(confusion[label].values()) - tp
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    return {
        "examples": len(gold),
        "accuracy": accuracy,
        "macro_f1": sum(f1.values()) / len(f1),
        "f1": f1,
        "confusion": {g: dict(confusion[g]) for g in labels},
    }


def print_report(result: dict, errors: list[tuple[str, str, str]]) -> None:
    figures = f"accuracy: {result['accuracy']:.3f}  macro-F1: {result['macro_f1']:.3f}"
    print(f"examples: {result['examples']}  {figures}")
    print("\nper-intent F1:")
    for label, value in result["f1"].items():
        print(f"  {label:24s} {value:.3f}")
    print("\nconfusion (gold -> predicted: count), off-diagonal only:")
    for gold, row in result["confusion"].items():
        wrong = {p: n for p, n in row.items() if p != gold}
        if wrong:
            print(f"  {gold:24s} {wrong}")
    print("\nerrors:")
    for text, gold, predicted in errors:
        print(f"  [{gold} -> {predicted}] {text}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=NLU_DIR / "eval" / "intents.yml")
    parser.add_argument("--json", action="store_true", help="print only the figures as JSON")
    args = parser.parse_args()
    model = model_path()
    if not model.exists():
        print(f"no model at {model}: run `make train` first", file=sys.stderr)
        return 2
    examples = load_examples(args.data)
    gold = [intent for _, intent in examples]
    predicted = asyncio.run(predict(model, [text for text, _ in examples]))
    result = scores(gold, predicted)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        errors = [(t, g, p) for (t, g), p in zip(examples, predicted, strict=True) if g != p]
        print_report(result, errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The trained model on the held-out set: macro-F1 must stay at or above 0.90."""

from __future__ import annotations

import json
import subprocess

import pytest

from helpline.rasa_model import model_path
from helpline.settings import REPO_ROOT

pytestmark = pytest.mark.integration

MIN_MACRO_F1 = 0.90


@pytest.fixture(scope="module")
def report() -> dict:
    if not model_path().exists():
        pytest.fail("no trained Rasa model: run `make train` (make test does)")
    completed = subprocess.run(
        [str(REPO_ROOT / ".venv-rasa/bin/python"), "nlu/evaluate.py", "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_macro_f1_on_held_out_examples(report: dict) -> None:
    print(f"\nheld-out: accuracy {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f}")
    assert report["macro_f1"] >= MIN_MACRO_F1, report["f1"]


def test_no_crisis_example_is_read_as_harmless(report: dict) -> None:
    """Rasa is only the second crisis signal, but it must not call a crisis small talk."""
    harmless = {"greet", "goodbye", "thank", "affirm", "out_of_scope", "bot_challenge", "ask_policy"}
    missed = {p: n for p, n in report["confusion"]["express_crisis"].items() if p in harmless}
    assert not missed, missed

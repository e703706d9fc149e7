"""Tests for the embedding risk classifier and its place in the safety net.

The corpus tests run the real default model and the cached classifier (trained
once if missing) and check what the gateway runs: lexicon OR classifier. One test
per crisis sentence, so a miss names the sentence.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from handoff import classifier as risk_classifier
from handoff.classifier import (
    CLASSES,
    DEFAULT_CACHE_DIR,
    DEFAULT_TRAINING,
    BackgroundClassifier,
    ClassifierError,
    RiskClassifier,
    cache_key,
    cache_path,
    choose_thresholds,
    load,
    load_examples,
    load_nlu_examples,
    load_or_train,
    pieces,
    shared_classifier,
    training_examples,
)
from handoff.evaluate_classifier import SPLITS, combined
from handoff.evaluate_risk import BLIND_ROUNDS_DIR, Example
from handoff.risk import RiskAssessment, RiskLevel, screen
from handoff.safety import LexiconSource, SafetyNet, Verdict
from helpline.embeddings import Encoder

HELDOUT, FRESH, NLU_EVAL = SPLITS
CRISIS = [
    pytest.param(e.text, id=f"{path.stem}:{e.text}")
    for path in (HELDOUT, FRESH)
    for e in load_examples(path)
    if e.level is RiskLevel.CRISIS
]


@pytest.fixture(scope="session")
def trained(encoder: Encoder) -> RiskClassifier:
    return load_or_train(encoder, DEFAULT_CACHE_DIR)


@pytest.fixture(scope="session")
def combined_verdicts(trained: RiskClassifier) -> dict[str, Verdict]:
    """Lexicon and classifier weighed on every evaluation sentence, the classifier in one batch."""
    texts = [e.text for path in SPLITS for e in load_examples(path)]
    learnt = trained.assess_many(texts)
    pairs = zip(texts, learnt, strict=True)
    return {text: combined(screen(text), by_classifier) for text, by_classifier in pairs}


@pytest.fixture(scope="session")
def combined_levels(combined_verdicts: dict[str, Verdict]) -> dict[str, RiskLevel]:
    return {text: verdict.level for text, verdict in combined_verdicts.items()}


# --- the corpora ------------------------------------------------------------------------


@pytest.mark.parametrize("text", CRISIS)
def test_every_crisis_sentence_gets_the_crisis_reply_or_the_direct_question(
    text: str, combined_verdicts: dict[str, Verdict]
) -> None:
    """Crisis from the lexicon; the classifier's crisis alone asks (with the lines) unless confirmed."""
    verdict = combined_verdicts[text]
    caught = verdict.level is RiskLevel.CRISIS or verdict.unconfirmed is RiskLevel.CRISIS
    assert caught, f"MISSED CRISIS {text!r}: {verdict.level}"


def test_false_alarms_on_none_sentences_are_bounded(combined_levels: dict[str, RiskLevel]) -> None:
    """Ordinary questions (nlu/eval) rarely page anyone; the death-word traps do more often."""
    rates = {}
    for path in SPLITS:
        safe = [e.text for e in load_examples(path) if e.level is RiskLevel.NONE]
        alarms = sum(combined_levels[text].at_least(RiskLevel.EMERGENCY) for text in safe)
        rates[path.name] = alarms / len(safe)
        print(f"{path.name}: {alarms}/{len(safe)} 'none' sentences raised crisis or emergency")
    assert rates[NLU_EVAL.name] <= 0.10
    assert rates[HELDOUT.name] <= 0.70 and rates[FRESH.name] <= 0.70


def test_per_message_latency_with_one_thread(trained: RiskClassifier) -> None:
    messages = ["你好", "孩子走了以后我一个人过 请问特扶金怎么申请", "活着太遭罪了 想去那边享福去"] * 3
    times = []
    for message in messages:
        started = time.perf_counter()
        trained.assess(message)
        times.append(time.perf_counter() - started)
    median, worst = statistics.median(times), max(times)
    print(f"classifier latency (1 thread): median {median * 1000:.0f} ms, max {worst * 1000:.0f} ms")
    assert median < 2.0


# --- messages and training data -----------------------------------------------------------


def test_pieces_are_the_whole_message_then_each_clause() -> None:
    assert pieces("问下补助的事 其实我也不想活了。") == [
        "问下补助的事 其实我也不想活了。",
        "问下补助的事",
        "其实我也不想活了",
    ]
    assert pieces("不想活了") == ["不想活了"]
    assert pieces("  ") == []
    assert len(pieces("啊 " * 100)) == 2


def test_nlu_intents_map_to_levels_and_annotations_are_dropped(tmp_path: Path) -> None:
    nlu = tmp_path / "nlu.yml"
    nlu.write_text(
        'version: "3.1"\nnlu:\n- intent: express_crisis\n  examples: |\n    - 不想活了\n'
        "- intent: ask_policy\n  examples: |\n    - [特扶金](benefit)多少钱\n"
        "- synonym: 特扶金\n  examples: |\n    - 特别扶助金\n",
        encoding="utf-8",
    )
    assert load_nlu_examples(nlu) == [
        Example("不想活了", RiskLevel.CRISIS),
        Example("特扶金多少钱", RiskLevel.NONE),
    ]


# --- the cache ---------------------------------------------------------------------------------

TINY = {
    RiskLevel.CRISIS: ["我不想活了", "想去陪孩子", "药都攒好了", "我想跳楼", "活着没意思", "我想死"],
    RiskLevel.EMERGENCY: ["老伴晕倒了", "家里着火了", "有人打我", "快叫救护车", "我摔了起不来", "煤气漏了"],
    RiskLevel.DISTRESS: ["心里难受", "睡不着", "太孤单了", "天天哭", "想孩子", "心里空落落的"],
    RiskLevel.NONE: ["你好", "特扶金多少钱", "谢谢", "今天天气不错", "怎么申请补助", "再见"],
}


def _write_tiny(path: Path, extra: str = "") -> Path:
    lines = [f"- {{text: {text}, level: {level.value}}}" for level, texts in TINY.items() for text in texts]
    path.write_text("\n".join(lines) + extra + "\n", encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> Iterator[Path]:
    yield _write_tiny(tmp_path / "tiny.yaml")


def test_cache_is_reused_and_invalidated_when_training_data_changes(
    encoder: Encoder, tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    first = load_or_train(encoder, cache, (tiny,))
    path = cache_path(cache, cache_key(encoder, (tiny,)))
    assert path.is_file()
    assert first.thresholds.ask <= first.thresholds.crisis

    real_train = risk_classifier.train
    calls: list[int] = []
    monkeypatch.setattr(risk_classifier, "train", lambda *a: calls.append(1) or real_train(*a))
    again = load_or_train(encoder, cache, (tiny,))
    assert calls == []
    assert np.allclose(again.weights.coef, first.weights.coef)

    _write_tiny(tiny, extra="\n- {text: 孩子走了我也不想活了, level: crisis}")
    load_or_train(encoder, cache, (tiny,))
    assert calls == [1]
    assert cache_path(cache, cache_key(encoder, (tiny,))) != path


def test_a_damaged_cache_fails_cleanly_and_is_retrained(encoder: Encoder, tiny: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    path = cache_path(cache, cache_key(encoder, (tiny,)))
    path.write_bytes(b"not a numpy file")
    with pytest.raises(ClassifierError):
        load(path, encoder)
    with pytest.raises(ClassifierError):
        load_or_train(encoder, cache, (tiny,), may_train=False)
    assert load_or_train(encoder, cache, (tiny,)).assess("我不想活了").level is not None
    assert load(path, encoder).thresholds.crisis > 0


def test_blind_rounds_are_single_messages_with_risk_levels_and_marked_blind() -> None:
    round_path = next(path for path in DEFAULT_TRAINING if path.parent == BLIND_ROUNDS_DIR)
    examples = {example.text: example.level for example in load_examples(round_path)}
    data = yaml.safe_load(round_path.read_text(encoding="utf-8"))
    assert len(examples) == len({message["text"] for message in data["messages"]})
    expected = {"crisis": RiskLevel.CRISIS, "unclear": RiskLevel.DISTRESS, "policy": RiskLevel.NONE}
    for message in data["messages"]:
        if message["label"] in expected:
            assert examples[message["text"]] is expected[message["label"]], message
    training = training_examples((round_path,))
    assert training.blind.all() and len(training.blind) == len(training.examples)


def test_thresholds_keep_the_recall_asked_for_out_of_fold() -> None:
    labels = np.asarray([CLASSES.index(RiskLevel.CRISIS)] * 100 + [0] * 10)
    scores = np.concatenate([np.linspace(0.01, 1.0, 100), np.zeros(10)])
    thresholds = choose_thresholds([scores, scores + 0.001], labels, np.zeros(110, dtype=bool))
    caught = scores[:100]
    assert (caught >= thresholds.crisis).mean() >= risk_classifier.CRISIS_RECALL
    assert (caught >= thresholds.ask).mean() >= risk_classifier.ASK_RECALL
    assert thresholds.ask <= thresholds.crisis


def test_missing_training_data_fails_cleanly(encoder: Encoder, tmp_path: Path) -> None:
    with pytest.raises(ClassifierError, match="training data missing"):
        load_or_train(encoder, tmp_path, (tmp_path / "absent.yaml",))


# --- in the gateway -------------------------------------------------------------------------------


def test_missing_model_leaves_the_lexicon_working(tmp_path: Path) -> None:
    background = BackgroundClassifier(lambda: shared_classifier(str(tmp_path / "no-model"), 1, tmp_path), 1.0)
    background.start()
    assert background.loaded.wait(60)
    assert not background.ready
    net = SafetyNet([LexiconSource(), background])
    assert net.assess("我不想活了").level is RiskLevel.CRISIS
    assert net.assess("你好").level is RiskLevel.NONE
    assert screen("我不想活了").is_crisis
    background.close()


class _Slow:
    """A classifier that takes its time (two busy cores) and would say crisis."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    def assess(self, text: str) -> RiskAssessment:
        self.calls += 1
        time.sleep(self.seconds)
        return RiskAssessment(RiskLevel.CRISIS)


def test_a_slow_classifier_is_skipped_not_waited_for() -> None:
    slow = _Slow(1.0)
    background = BackgroundClassifier(lambda: slow, timeout=0.1)  # type: ignore[arg-type, return-value]
    background.start()
    assert background.loaded.wait(5) and background.ready
    started = time.monotonic()
    assert background.assess("你好").level is RiskLevel.NONE  # timed out
    assert background.assess("你好").level is RiskLevel.NONE  # still busy: skipped at once
    assert time.monotonic() - started < 0.5
    assert slow.calls == 1
    background.close()


def test_the_crisis_path_does_not_wait_for_later_sources() -> None:
    slow = _Slow(5.0)

    class Source:
        name = "slow"

        def assess(self, text: str) -> RiskAssessment:
            return slow.assess(text)

    net = SafetyNet([LexiconSource(), Source()])
    started = time.monotonic()
    assert net.assess("我不想活了").level is RiskLevel.CRISIS
    assert time.monotonic() - started < 1.0
    assert slow.calls == 0


def test_turned_off_it_never_loads() -> None:
    loads: list[int] = []
    background = BackgroundClassifier(lambda: loads.append(1), timeout=0)  # type: ignore[arg-type, return-value]
    background.start()
    assert background.loaded.is_set() and not background.ready and loads == []
    assert background.assess("我不想活了").level is RiskLevel.NONE


@pytest.mark.parametrize(("p_crisis", "firm"), [(risk_classifier.FIRM, True), (0.99, True), (0.6, False)])
def test_a_crisis_is_firm_only_from_the_firm_probability_up(p_crisis: float, firm: bool) -> None:
    probabilities = np.zeros(len(risk_classifier.CLASSES))
    probabilities[risk_classifier.CLASSES.index(RiskLevel.CRISIS)] = p_crisis
    probabilities[risk_classifier.CLASSES.index(RiskLevel.NONE)] = 1 - p_crisis
    decided = risk_classifier.decide(
        risk_classifier.Scored("x", probabilities), risk_classifier.Thresholds(0.5, 0.4)
    )
    assert decided.level is RiskLevel.CRISIS and decided.firm is firm

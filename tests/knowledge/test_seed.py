"""The seed knowledge base against the document it is drawn from."""

from __future__ import annotations

import re

from knowledge.yamlio import SEED_DIR, read_records

POLICY = (SEED_DIR / "policy-2013.txt").read_text(encoding="utf-8")


def _compact(text: str) -> str:
    """Line breaks and spaces are layout, not wording."""
    return re.sub(r"\s+", "", text)


def test_every_entry_quotes_the_document_word_for_word() -> None:
    """The 原文 an answer offers must be the document's own words: none paraphrased, none invented."""
    document = _compact(POLICY)
    entries = read_records(SEED_DIR / "entries.yaml")
    assert len(entries) >= 30
    misquoted = [entry["id"] for entry in entries if _compact(entry["text"]) not in document]
    assert misquoted == []


def test_the_document_is_the_published_one() -> None:
    document = _compact(POLICY)
    assert "西政办发〔2013〕17号" in document and "本意见自2013年9月10日起实施" in document

"""Mistyped words put right before the knowledge base is searched (``knowledge/misspellings.yaml``).

Voice input and pinyin keyboards give a word that sounds like the one meant (心里资询 for
心理咨询, 题检 for 体检). The embedding model reads some of them through, but with a weaker
score, and the character bigrams that separate neighbouring entries are lost. The list is
data that hotline staff keep; only retrieval reads the corrected text, so what the safety
screen and the transcript see is what the family typed.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

MISSPELLINGS_PATH = Path(__file__).with_name("misspellings.yaml")


class Speller:
    """Replaces every listed slip with what was meant, longest first, in one pass."""

    def __init__(self, misspellings: dict[str, str]) -> None:
        check(misspellings)
        self._meant = dict(misspellings)
        typed = sorted(misspellings, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(word) for word in typed)) if typed else None

    @classmethod
    def load(cls, path: Path = MISSPELLINGS_PATH) -> Speller:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls({str(typed): str(meant) for typed, meant in (data.get("misspellings") or {}).items()})

    def corrected(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda match: self._meant[match.group(0)], text)


def check(misspellings: dict[str, str]) -> None:
    """Refuse a list that would garble text: empty words, a word replaced by itself, or a
    correction that another entry would change again (the replacement is one pass, so such a
    chain would silently stop half-way)."""
    for typed, meant in misspellings.items():
        if not typed.strip() or not meant.strip():
            raise ValueError(f"misspellings: an empty word in {typed!r}: {meant!r}")
        if typed == meant:
            raise ValueError(f"misspellings: {typed!r} is replaced by itself")
        undone = [other for other in misspellings if other != typed and other in meant]
        if undone:
            raise ValueError(f"misspellings: {typed!r} → {meant!r} would be changed again by {undone[0]!r}")


@cache
def default_speller() -> Speller:
    return Speller.load()

"""``helpline lexicon check``: is a changed lexicon file safe to put live?

A staff edit to ``handoff/lexicon.yaml`` takes effect when the gateway restarts,
and a gateway refuses to start on a lexicon that does not load. This check says
so before that, and more: whether every entry still finishes fast on long repeats
of its own words (the input that froze the old backtracking engine), and whether
every crisis and emergency sentence of the labelled corpora is still caught.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from handoff.evaluate_risk import DEFAULT_CORPORA, load_corpus
from handoff.risk import DEFAULT_LEXICON_PATH, Lexicon, RiskLevel, screen

REPEAT_CHARS = 2000
"""Length of the crafted message each entry is tried on."""

SLOW_SECONDS = 0.25
"""An entry slower than this on its crafted message is reported (the gateway's deadline is 1 s)."""


@dataclass(frozen=True)
class Problem:
    """One reason the file is not safe to put live."""

    kind: str  # load | slow | missed
    detail: str


def entry_pieces(written: str) -> list[str]:
    """The literal words of an entry: what a crafted message would repeat."""
    return re.findall(r"[\u3400-\u9fff]+|[a-z]+", written) or [written]


def crafted_message(written: str, length: int = REPEAT_CHARS) -> str:
    """The entry's own pieces repeated to ``length`` characters."""
    joined = "".join(entry_pieces(written))
    return (joined * (length // len(joined) + 1))[:length]


def entries(lexicon: Lexicon) -> list[str]:
    """Every rule, guard and negation as written."""
    return [rule.matcher.written for rule in lexicon.rules] + [g.matcher.written for g in lexicon.guards]


def slow_entries(lexicon: Lexicon, limit: float = SLOW_SECONDS) -> Iterator[tuple[str, float]]:
    """Entries whose crafted message takes longer than ``limit`` seconds to screen."""
    for written in entries(lexicon):
        started = time.perf_counter()
        screen(crafted_message(written), lexicon)
        took = time.perf_counter() - started
        if took > limit:
            yield written, took


def missed_sentences(lexicon: Lexicon) -> Iterator[str]:
    """Crisis and emergency sentences of the labelled and held-out corpora that the lexicon
    does not catch (the fresh rounds measure, they are not all caught by the lexicon alone)."""
    for path in DEFAULT_CORPORA:
        for example in load_corpus(path):
            if example.level not in (RiskLevel.CRISIS, RiskLevel.EMERGENCY):
                continue
            found = screen(example.text, lexicon).level
            if example.level is RiskLevel.CRISIS and found is not RiskLevel.CRISIS:
                yield f"crisis → {found.value}: {example.text}"
            elif example.level is RiskLevel.EMERGENCY and not found.at_least(RiskLevel.EMERGENCY):
                yield f"emergency → {found.value}: {example.text}"


def check(path: str | Path = DEFAULT_LEXICON_PATH) -> list[Problem]:
    """Every problem with the lexicon file at ``path``; empty means safe to put live."""
    try:
        lexicon = Lexicon.load(path)
    except (OSError, ValueError, yaml.YAMLError) as error:
        return [Problem("load", str(error))]
    problems = [Problem("slow", f"{took:.2f} s: {written}") for written, took in slow_entries(lexicon)]
    problems += [Problem("missed", sentence) for sentence in missed_sentences(lexicon)]
    return problems

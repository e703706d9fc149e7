"""``helpline lexicon check``: a changed lexicon is checked before it can take effect."""

from __future__ import annotations

from pathlib import Path

from handoff import cli, lexicon_check
from handoff.risk import DEFAULT_LEXICON_PATH


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_LEXICON_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "lexicon.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_maintained_lexicon_passes() -> None:
    assert lexicon_check.check() == []


def test_a_lookaround_is_refused_before_it_can_take_effect(tmp_path: Path) -> None:
    path = _variant(tmp_path, "'想(要|去|着|过|一|早点|快点|赶紧)?死'", "'想(?!念)死'")
    [problem] = lexicon_check.check(path)
    assert problem.kind == "load" and "not_before / not_after / unless" in problem.detail


def test_an_edit_that_loses_a_crisis_sentence_is_reported(tmp_path: Path) -> None:
    path = _variant(tmp_path, "terms: [自杀, ", "terms: [")
    problems = lexicon_check.check(path)
    assert problems and {problem.kind for problem in problems} == {"missed"}
    assert any("自杀" in problem.detail for problem in problems)


def test_the_command_exits_non_zero_and_says_why(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "lexicon.yaml"
    broken.write_text("crisis: [", encoding="utf-8")
    parser = cli.argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["lexicon", "check", str(broken)])
    assert args.handler(args) == 1
    assert "[load]" in capsys.readouterr().out

"""``helpline cases …`` on a real database: list, show (access-logged), update (audited), purge."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from helpline import cli
from helpline.access_log import accesses
from helpline.db import make_engine, make_session_factory, transaction
from intake import cases, forms
from tests.conftest import PSYCH_CONSENT


@pytest.fixture
def number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HELPLINE_DATABASE_URL", url)
    cli.migrate.upgrade(url)
    slots = {"psych_consent": PSYCH_CONSENT.version, "psych_phone": "13812345678", "psych_street": "月坛"}
    with transaction(_sessions()) as session:
        return cases.create_case(session, forms.psych_case("fam", slots)).number


def _sessions() -> sessionmaker[Session]:
    """The database the command line uses (from HELPLINE_DATABASE_URL)."""
    return make_session_factory(make_engine(cli.load_settings().database_url))


def test_list_show_update_and_the_trail_they_leave(number: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["cases", "list", "--street", "月坛", "--by", "wang"]) == 0
    assert number in capsys.readouterr().out
    assert cli.main(["cases", "show", number, "--by", "wang"]) == 0
    shown = capsys.readouterr().out
    assert "13812345678" in shown and PSYCH_CONSENT.version in shown
    assert (
        cli.main(["cases", "update", number, "--status", "accepted", "--note", "已电话联系", "--by", "li"])
        == 0
    )
    assert "已受理" in capsys.readouterr().out
    with _sessions()() as session:
        case = cases.get_case(session, number)
        assert [(e.action, e.actor, e.note) for e in case.events][-1] == ("status", "li", "已电话联系")
        assert [(r.user_name, r.action) for r in accesses(session, f"case:{case.id}")] == [
            ("wang", "read"),
            ("li", "update"),
        ]


def test_refusals_exit_non_zero_and_change_nothing(number: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["cases", "update", number, "--status", "done", "--by", "li"]) == 1
    assert "new → done" in capsys.readouterr().err
    assert cli.main(["cases", "update", number, "--by", "li"]) == 2
    assert cli.main(["cases", "show", "XC-1999-000001"]) == 1
    with _sessions()() as session:
        assert cases.get_case(session, number).status == "new"


def test_purge_reports_what_it_erased(number: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["cases", "purge"]) == 0
    assert "已删除 0 个" in capsys.readouterr().out

import pytest
from sqlalchemy.orm import Session, sessionmaker

from helpline.cli import main as cli_main
from helpline.db import transaction
from helpline.users import Role, UserExists, add_user, authenticate, deactivate


def test_token_authenticates_until_revoked(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        token = add_user(session, "wang", Role.COUNSELOR)
    with sessions() as session:
        user = authenticate(session, token)
        assert user is not None and user.role == "counselor"
        assert user.token_hash != token
        assert authenticate(session, token + "x") is None
        assert authenticate(session, "") is None
    with transaction(sessions) as session:
        assert deactivate(session, "wang")
    with sessions() as session:
        assert authenticate(session, token) is None


def test_duplicate_name_is_refused(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        add_user(session, "li", Role.STAFF)
    with pytest.raises(UserExists), transaction(sessions) as session:
        add_user(session, "li", Role.ADMIN)


def test_cli_prints_the_token_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HELPLINE_DATABASE_URL", database_url)
    assert cli_main(["users", "add", "zhao", "--role", "staff"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert cli_main(["users", "add", "zhao", "--role", "staff"]) == 1
    assert cli_main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "zhao\tstaff\t启用" in listing
    assert token not in listing

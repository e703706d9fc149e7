import io

import pytest
from sqlalchemy.orm import Session, sessionmaker

from helpline.cli import main as cli_main
from helpline.db import make_engine, make_session_factory, transaction
from helpline.users import (
    DepartmentError,
    PasswordTooShort,
    Role,
    UserExists,
    add_user,
    authenticate,
    check_password,
    deactivate,
    list_users,
    set_department,
    set_password,
)


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
        add_user(session, "li", Role.STAFF, "justice")
    with pytest.raises(UserExists), transaction(sessions) as session:
        add_user(session, "li", Role.ADMIN)


@pytest.mark.parametrize(
    ("role", "department"),
    [(Role.STAFF, None), (Role.STAFF, "mars"), (Role.ADMIN, "justice"), (Role.COUNSELOR, "justice")],
)
def test_only_staff_belong_to_a_department_from_the_directory(
    sessions: sessionmaker[Session], role: Role, department: str | None
) -> None:
    with pytest.raises(DepartmentError), transaction(sessions) as session:
        add_user(session, "zhou", role, department)
    with sessions() as session:
        assert list_users(session) == []


@pytest.mark.parametrize(
    ("role", "department", "street"),
    [
        (Role.STAFF, "street_office", None),
        (Role.STAFF, "street_office", "火星"),
        (Role.STAFF, "civil_affairs", "德胜"),
        (Role.ADMIN, None, "德胜"),
        (Role.COUNSELOR, None, "德胜"),
    ],
)
def test_only_street_office_staff_belong_to_a_street_of_the_district(
    sessions: sessionmaker[Session], role: Role, department: str | None, street: str | None
) -> None:
    with pytest.raises(DepartmentError), transaction(sessions) as session:
        add_user(session, "zhou", role, department, street)
    with sessions() as session:
        assert list_users(session) == []


def test_a_staff_user_keeps_their_department_and_can_move(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        token = add_user(session, "sun", Role.STAFF, "justice")
        add_user(session, "boss", Role.ADMIN)
    with transaction(sessions) as session:
        assert set_department(session, "sun", "street_office", "德胜")
        assert not set_department(session, "nobody", "justice")
    for department, street in [("mars", None), ("street_office", None), ("justice", "德胜")]:
        with pytest.raises(DepartmentError), transaction(sessions) as session:
            set_department(session, "sun", department, street)
    with pytest.raises(DepartmentError), transaction(sessions) as session:
        set_department(session, "boss", "justice")
    with sessions() as session:
        user = authenticate(session, token)
        assert user is not None and (user.department, user.street) == ("street_office", "德胜")
        listed = [(u.name, u.department, u.street) for u in list_users(session)]
        assert listed == [("boss", None, None), ("sun", "street_office", "德胜")]


def test_leaving_the_street_office_drops_the_street(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        add_user(session, "sun", Role.STAFF, "street_office", "月坛")
        assert set_department(session, "sun", "civil_affairs")
    with sessions() as session:
        assert [(u.department, u.street) for u in list_users(session)] == [("civil_affairs", None)]


def test_cli_prints_the_token_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HELPLINE_DATABASE_URL", database_url)
    assert cli_main(["users", "add", "zhao", "--role", "staff", "--department", "justice"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert cli_main(["users", "add", "zhao", "--role", "staff", "--department", "justice"]) == 1
    assert cli_main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "zhao\tstaff\tjustice\t-\t启用" in listing
    assert token not in listing


def test_cli_staff_need_a_department_and_others_none(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HELPLINE_DATABASE_URL", database_url)
    assert cli_main(["users", "add", "qian", "--role", "staff"]) == 1
    assert "--department" in capsys.readouterr().err
    assert cli_main(["users", "add", "qian", "--role", "staff", "--department", "mars"]) == 1
    assert "civil_affairs（区民政局）" in capsys.readouterr().err
    assert cli_main(["users", "add", "admin1", "--role", "admin", "--department", "justice"]) == 1
    assert cli_main(["users", "add", "admin1", "--role", "admin"]) == 0
    assert cli_main(["users", "add", "qian", "--role", "staff", "--department", "civil_affairs"]) == 0
    assert cli_main(["users", "department", "qian", "justice"]) == 0
    assert cli_main(["users", "department", "nobody", "justice"]) == 1
    capsys.readouterr()
    assert cli_main(["users", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing == ["admin1\tadmin\t-\t-\t启用", "qian\tstaff\tjustice\t-\t启用"]


def test_cli_street_office_staff_need_their_street(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HELPLINE_DATABASE_URL", database_url)
    assert cli_main(["users", "add", "ma", "--role", "staff", "--department", "street_office"]) == 1
    assert "--street" in capsys.readouterr().err
    street_office = ["users", "add", "ma", "--role", "staff", "--department", "street_office"]
    assert cli_main([*street_office, "--street", "火星"]) == 1
    assert "德胜、什刹海" in capsys.readouterr().err
    justice = ["users", "add", "he", "--role", "staff", "--department", "justice"]
    assert cli_main([*justice, "--street", "德胜"]) == 1
    assert "street_office" in capsys.readouterr().err
    assert cli_main([*street_office, "--street", "德胜"]) == 0
    assert "（staff，street_office 德胜）" in capsys.readouterr().out
    assert cli_main(["users", "department", "ma", "street_office"]) == 1
    assert cli_main(["users", "department", "ma", "street_office", "--street", "月坛"]) == 0
    assert "ma 现在属于 street_office 月坛。" in capsys.readouterr().out
    assert cli_main(["users", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["ma\tstaff\tstreet_office\t月坛\t启用"]


def test_a_console_password_signs_in_only_its_active_user(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        add_user(session, "wu", Role.COUNSELOR)
        add_user(session, "nopass", Role.COUNSELOR)
        assert set_password(session, "wu", "correct horse")
        assert not set_password(session, "nobody", "correct horse")
    with pytest.raises(PasswordTooShort), transaction(sessions) as session:
        set_password(session, "wu", "short")
    with transaction(sessions) as session:
        user = check_password(session, "wu", "correct horse")
        assert user is not None and user.name == "wu"
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
        assert check_password(session, "wu", "correct horsE") is None
        assert check_password(session, "nopass", "") is None
        assert check_password(session, "nobody", "correct horse") is None
        assert deactivate(session, "wu")
    with sessions() as session:
        assert check_password(session, "wu", "correct horse") is None


def test_cli_sets_a_password_from_stdin(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HELPLINE_DATABASE_URL", database_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("first password\n"))
    assert cli_main(["users", "add", "feng", "--role", "counselor", "--password"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("too short\n"))
    assert cli_main(["users", "passwd", "feng"]) == 1
    assert "至少要 10 个字符" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("second password\n"))
    assert cli_main(["users", "passwd", "feng"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("second password\n"))
    assert cli_main(["users", "passwd", "nobody"]) == 1
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        assert check_password(session, "feng", "first password") is None
        assert check_password(session, "feng", "second password") is not None
    engine.dispose()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_asks_twice_at_a_terminal(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HELPLINE_DATABASE_URL", database_url)
    typed = iter(["one password", "another one"])
    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("getpass.getpass", lambda _prompt: next(typed))
    assert cli_main(["users", "add", "chu", "--role", "admin", "--password"]) == 1
    assert "两次输入的密码不一样" in capsys.readouterr().err
    assert cli_main(["users", "list"]) == 0
    assert "chu" not in capsys.readouterr().out

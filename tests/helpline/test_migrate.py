"""Migrations on a database that already holds data, as an upgrade in production meets it."""

from alembic import command
from sqlalchemy import Engine, inspect, text

from helpline import migrate
from helpline.db import make_engine, make_session_factory, transaction
from helpline.users import check_password, list_users, set_department, set_password


def _columns(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def _upgraded_with_users(database_url: str, release: str, column: str, insert: str) -> Engine:
    """The database back at ``release`` (without ``column`` on users), ``insert`` run, then upgraded."""
    command.downgrade(migrate.alembic_config(database_url), release)
    engine = make_engine(database_url)
    assert column not in _columns(engine, "users")
    with engine.begin() as connection:
        connection.execute(text(insert))
    migrate.upgrade(database_url)
    assert column in _columns(engine, "users")
    return engine


def test_user_departments_are_added_to_existing_users(database_url: str) -> None:
    engine = _upgraded_with_users(
        database_url,
        "0008@0002",  # the release before 0008
        "department",
        "INSERT INTO users (name, role, token_hash, active, created_at)"
        " VALUES ('old-staff', 'staff', 'hash-1', true, CURRENT_TIMESTAMP),"
        " ('old-admin', 'admin', 'hash-2', true, CURRENT_TIMESTAMP)",
    )
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        assert [(u.name, u.role, u.department) for u in list_users(session)] == [
            ("old-admin", "admin", None),
            ("old-staff", "staff", None),
        ]
        assert set_department(session, "old-staff", "justice")
    with sessions() as session:
        assert [u.department for u in list_users(session)] == [None, "justice"]
    engine.dispose()


def test_user_streets_are_added_to_existing_users(database_url: str) -> None:
    engine = _upgraded_with_users(
        database_url,
        "0008",  # the release before 0009
        "street",
        "INSERT INTO users (name, role, token_hash, active, department, created_at)"
        " VALUES ('old-street', 'staff', 'hash-1', true, 'street_office', CURRENT_TIMESTAMP)",
    )
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        assert [(u.department, u.street) for u in list_users(session)] == [("street_office", None)]
        assert set_department(session, "old-street", "street_office", "德胜")
    with sessions() as session:
        assert [u.street for u in list_users(session)] == ["德胜"]
    engine.dispose()


def test_existing_users_have_no_console_password_until_given_one(database_url: str) -> None:
    engine = _upgraded_with_users(
        database_url,
        "0009",  # the release before 0010
        "password_hash",
        "INSERT INTO users (name, role, token_hash, active, created_at)"
        " VALUES ('old-counselor', 'counselor', 'hash-1', true, CURRENT_TIMESTAMP)",
    )
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        assert check_password(session, "old-counselor", "") is None
        assert set_password(session, "old-counselor", "a new password")
    with transaction(sessions) as session:
        assert check_password(session, "old-counselor", "a new password") is not None
    engine.dispose()

"""``helpline``: the command line for staff and operators.

Each domain package adds its own sub-commands through a ``register(subparsers)``
function, so this module only wires them together.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from handoff import cli as handoff_cli
from handoff import queue
from helpline import messages, migrate, services, users
from helpline.db import make_engine, make_session_factory, transaction, utcnow
from helpline.rasa_endpoints import erase_trackers_before
from helpline.settings import load_settings
from intake import cases, drafts
from intake import cli as intake_cli
from knowledge import cli as knowledge_cli

Handler = Callable[[argparse.Namespace], int]


def _db_upgrade(_args: argparse.Namespace) -> int:
    migrate.upgrade(load_settings().database_url)
    print("数据库已是最新结构。")
    return 0


def _register_db(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply all migrations").set_defaults(handler=_db_upgrade)


def open_sessions() -> sessionmaker[Session]:
    """Sessions on the configured database, migrated first so commands never see an old schema."""
    url = load_settings().database_url
    migrate.upgrade(url)
    return make_session_factory(make_engine(url))


def _place(department: str | None, street: str | None) -> str:
    """Where a staff user belongs, as messages show it: "justice", "street_office 德胜"."""
    return " ".join(part for part in (department, street) if part)


class PasswordMismatch(ValueError):
    """The two typed passwords differ."""


def _read_password() -> str:
    """Typed twice, unseen, at a terminal; else the first line of standard input (scripts, pipes).

    Never an argument: a password on the command line stays in the shell history and ``ps``.
    """
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("新密码：")
    if getpass.getpass("再输入一次：") != first:
        raise PasswordMismatch
    return first


def _password_refused(error: ValueError) -> int:
    if isinstance(error, PasswordMismatch):
        print("两次输入的密码不一样，密码没有改。", file=sys.stderr)
    else:
        print(f"密码至少要 {users.MIN_PASSWORD_CHARS} 个字符，密码没有改。", file=sys.stderr)
    return 1


def _users_add(args: argparse.Namespace) -> int:
    try:
        password = _read_password() if args.password else None
        with transaction(open_sessions()) as session:
            token = users.add_user(session, args.name, users.Role(args.role), args.department, args.street)
            if password is not None:
                users.set_password(session, args.name, password)
    except (PasswordMismatch, users.PasswordTooShort) as error:
        return _password_refused(error)
    except users.UserExists:
        print(f"用户 {args.name} 已存在。", file=sys.stderr)
        return 1
    except users.DepartmentError as error:
        print(error, file=sys.stderr)
        return 1
    where = f"，{_place(args.department, args.street)}" if args.department else ""
    print(f"已创建 {args.name}（{args.role}{where}）。令牌只显示这一次，请妥善保存：\n{token}")
    return 0


def _users_passwd(args: argparse.Namespace) -> int:
    try:
        password = _read_password()
        with transaction(open_sessions()) as session:
            found = users.set_password(session, args.name, password)
    except (PasswordMismatch, users.PasswordTooShort) as error:
        return _password_refused(error)
    print(f"{args.name} 的工作台密码已设置。" if found else f"没有用户 {args.name}。")
    return 0 if found else 1


def _users_department(args: argparse.Namespace) -> int:
    try:
        with transaction(open_sessions()) as session:
            found = users.set_department(session, args.name, args.department, args.street)
    except users.DepartmentError as error:
        print(error, file=sys.stderr)
        return 1
    where = _place(args.department, args.street)
    print(f"{args.name} 现在属于 {where}。" if found else f"没有用户 {args.name}。")
    return 0 if found else 1


def _users_list(_args: argparse.Namespace) -> int:
    with open_sessions()() as session:
        for user in users.list_users(session):
            state = "启用" if user.active else "停用"
            print(f"{user.name}\t{user.role}\t{user.department or '-'}\t{user.street or '-'}\t{state}")
    return 0


def _users_revoke(args: argparse.Namespace) -> int:
    with transaction(open_sessions()) as session:
        found = users.deactivate(session, args.name)
    print(f"已停用 {args.name}。" if found else f"没有用户 {args.name}。")
    return 0 if found else 1


PASSWORD_HELP = "also set a web console password: typed twice at a terminal, else read from stdin"
STREET_HELP = "street_office staff only, required: their 街道, e.g. 德胜 (they see only its cases)"


def _register_users(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("users", help="counselor, staff and admin accounts")
    commands = parser.add_subparsers(dest="users_command", required=True)
    add = commands.add_parser("add", help="create a user and print its token once")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[role.value for role in users.Role])
    add.add_argument("--department", help="staff only, required: the department id, e.g. justice")
    add.add_argument("--street", help=STREET_HELP)
    add.add_argument("--password", action="store_true", help=PASSWORD_HELP)
    add.set_defaults(handler=_users_add)
    passwd = commands.add_parser("passwd", help="set a user's web console password")
    passwd.add_argument("name")
    passwd.set_defaults(handler=_users_passwd)
    department = commands.add_parser("department", help="move a staff user to another department or street")
    department.add_argument("name")
    department.add_argument("department", help="the department id, e.g. civil_affairs")
    department.add_argument("--street", help=STREET_HELP)
    department.set_defaults(handler=_users_department)
    commands.add_parser("list", help="list users").set_defaults(handler=_users_list)
    revoke = commands.add_parser("revoke", help="deactivate a user's token")
    revoke.add_argument("name")
    revoke.set_defaults(handler=_users_revoke)


def _purge(_args: argparse.Namespace) -> int:
    """Run daily (cron): everything past its retention, cases and conversations alike."""
    settings = load_settings()
    cutoff = utcnow() - timedelta(days=settings.message_retention_days)
    with transaction(open_sessions()) as session:
        erased = cases.erase_expired(session)
        dropped = drafts.delete_expired(session)
        blanked = messages.erase_before(session, cutoff)
        quoted = queue.erase_before(session, cutoff)
    forgotten = erase_trackers_before(settings.database_url, cutoff)
    print(
        f"已删除 {erased} 个办结登记的个人信息、{dropped} 份过期草稿；"
        f"清空 {blanked} 条超过 {settings.message_retention_days} 天的对话内容，"
        f"{quoted} 条风险摘录和工单备注，以及对话引擎里 {forgotten} 段旧对话。"
    )
    return 0


def _register_purge(subparsers: argparse._SubParsersAction) -> None:
    subparsers.add_parser("purge", help="erase personal data past its retention (run daily)").set_defaults(
        handler=_purge
    )


def _serve(args: argparse.Namespace) -> int:
    """Become one service (systemd's ExecStart): the command and environment ``make run`` would use."""
    services.become(services.named(load_settings(), args.service))


def _register_serve(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser("serve", help="run one process in the foreground (for systemd units)")
    serve.add_argument("service", choices=services.SERVICE_NAMES)
    serve.set_defaults(handler=_serve)


REGISTRARS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _register_db,
    _register_users,
    knowledge_cli.register,
    handoff_cli.register,
    intake_cli.register,
    _register_purge,
    _register_serve,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpline", description="西城区失独家庭帮扶助手：管理命令")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for register in REGISTRARS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())

"""``helpline``: the command line for staff and operators.

Each domain package adds its own sub-commands through a ``register(subparsers)``
function, so this module only wires them together.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from helpline import migrate
from helpline.settings import load_settings

Handler = Callable[[argparse.Namespace], int]


def _db_upgrade(_args: argparse.Namespace) -> int:
    migrate.upgrade(load_settings().database_url)
    print("数据库已是最新结构。")
    return 0


def _register_db(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply all migrations").set_defaults(handler=_db_upgrade)


REGISTRARS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (_register_db,)


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

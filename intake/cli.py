"""``helpline cases …``: intake cases from the command line, for staff without the web console.

Reads of a case (its phone number and what the family said) are access-logged and
changes are audited under ``--by`` (default: $USER), exactly as through the API.
Unlike the API it shows every department's cases: whoever runs it holds the database's
address and could read them all anyway, so narrowing here would only look like a limit.
The department scope lives where staff sign in with their own token, in the API.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from helpline.access_log import log_access
from helpline.db import transaction
from intake import cases, drafts
from intake.cases import BEIJING, KIND_LABELS, STATUS_LABELS, Case, CaseKind, CaseStatus

Handler = Callable[[argparse.Namespace], int]


def _sessions() -> sessionmaker[Session]:
    """The migrated database (imported late: ``helpline.cli`` imports this module to register it)."""
    from helpline.cli import open_sessions

    return open_sessions()


def _actor(args: argparse.Namespace) -> str:
    return args.by or getpass.getuser()


def _when(case: Case) -> str:
    return f"{case.created_at.astimezone(BEIJING):%Y-%m-%d %H:%M}"


def _line(case: Case) -> str:
    flags = "".join(flag for flag, on in (("优先", case.priority), ("上门", case.home_visit)) if on)
    label = f"{KIND_LABELS[CaseKind(case.kind)]}\t{STATUS_LABELS[CaseStatus(case.status)]}"
    return f"{case.number}\t{label}\t{case.department}\t{case.street or '-'}\t{flags or '-'}\t{_when(case)}"


def _list(args: argparse.Namespace) -> int:
    with transaction(_sessions()) as session:
        found = cases.list_cases(
            session,
            status=CaseStatus(args.status) if args.status else None,
            kind=CaseKind(args.kind) if args.kind else None,
            department=args.department,
            street=args.street,
            limit=args.limit,
        )
        log_access(session, _actor(args), "list", "cases")
        for case in found:
            print(_line(case))
    return 0


def _print_case(case: Case) -> None:
    print(_line(case))
    print(f"电话：{case.phone or '未留'}")
    for key, value in case.details.items():
        print(f"{key}：{value}")
    print(f"同意书版本：{case.consent_version}")
    for event in case.events:
        change = f"{event.from_status or ''} → {event.to_status}" if event.to_status else ""
        note = f"  {event.note}" if event.note else ""
        print(
            f"  {event.at.astimezone(BEIJING):%Y-%m-%d %H:%M}  {event.actor}  {event.action} {change}{note}"
        )


def _show(args: argparse.Namespace) -> int:
    try:
        with transaction(_sessions()) as session:
            case = cases.get_case(session, args.number)
            log_access(session, _actor(args), "read", f"case:{case.id}")
            _print_case(case)
    except cases.CaseNotFound:
        print(f"没有编号为 {args.number} 的登记。", file=sys.stderr)
        return 1
    return 0


def _update(args: argparse.Namespace) -> int:
    if args.status is None and not args.note:
        print("请给出 --status 或 --note。", file=sys.stderr)
        return 2
    try:
        with transaction(_sessions()) as session:
            case = cases.get_case(session, args.number)
            status = CaseStatus(args.status) if args.status else None
            cases.update_case(session, case, actor=_actor(args), status=status, note=args.note)
            log_access(session, _actor(args), "update", f"case:{case.id}")
            print(_line(case))
    except cases.CaseNotFound:
        print(f"没有编号为 {args.number} 的登记。", file=sys.stderr)
        return 1
    except cases.InvalidTransition as error:
        print(f"状态不能这样改：{error}", file=sys.stderr)
        return 1
    return 0


def _purge(_args: argparse.Namespace) -> int:
    """Run daily (cron): erases what the consent texts promise to erase."""
    with transaction(_sessions()) as session:
        erased = cases.erase_expired(session)
        dropped = drafts.delete_expired(session)
    print(f"已删除 {erased} 个办结登记的个人信息，{dropped} 份过期草稿。")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``helpline cases …`` to the main command line."""
    parser = subparsers.add_parser("cases", help="psychological-support and legal-aid cases")
    commands = parser.add_subparsers(dest="cases_command", required=True)
    actor = argparse.ArgumentParser(add_help=False)
    actor.add_argument("--by", help="who reads or changes the case (default: $USER)")

    listing = commands.add_parser("list", help="list cases, priority first", parents=[actor])
    listing.add_argument("--status", choices=[status.value for status in CaseStatus])
    listing.add_argument("--kind", choices=[kind.value for kind in CaseKind])
    listing.add_argument("--department", help="e.g. civil_affairs, justice")
    listing.add_argument("--street", help="e.g. 德胜")
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(handler=_list)

    show = commands.add_parser(
        "show", help="one case with phone and history (access-logged)", parents=[actor]
    )
    show.add_argument("number")
    show.set_defaults(handler=_show)

    update = commands.add_parser("update", help="change status and/or add a note", parents=[actor])
    update.add_argument("number")
    update.add_argument("--status", choices=[status.value for status in CaseStatus])
    update.add_argument("--note")
    update.set_defaults(handler=_update)

    commands.add_parser("purge", help="erase personal data past its retention").set_defaults(handler=_purge)

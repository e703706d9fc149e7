"""``helpline handoff list``: the queue from the command line, for on-call staff and operators.

It shows ids, priorities and waiting times only; transcripts are read through the
counselor API, where every read is access-logged.
"""

from __future__ import annotations

import argparse

from handoff import lexicon_check, queue
from handoff.models import Status
from helpline.db import utcnow


def _list(args: argparse.Namespace) -> int:
    from helpline.cli import open_sessions  # helpline.cli imports this module to register it

    status = Status(args.status)
    now = utcnow()
    with open_sessions()() as session:
        tickets = queue.ordered(session, status)
    if not tickets:
        print("没有工单。")
        return 0
    print("编号\t位置\t优先级\t渠道\t家属\t已等(分钟)\t接手人")
    for place, ticket in enumerate(tickets, start=1):
        waited = round(queue.waited(ticket, now).total_seconds() / 60)
        position = place if status is Status.WAITING else "-"
        print(
            f"{ticket.id}\t{position}\t{ticket.priority}\t{ticket.channel}\t{ticket.sender}\t{waited}\t"
            f"{ticket.claimed_by or '-'}"
        )
    return 0


def _lexicon_check(args: argparse.Namespace) -> int:
    problems = lexicon_check.check(args.file)
    for problem in problems:
        print(f"[{problem.kind}] {problem.detail}")
    if problems:
        print(f"{args.file}：发现 {len(problems)} 个问题，请改好后再上线。")
        return 1
    print(f"{args.file}：可以上线（能加载、每条规则都快、标注语料里的危机和紧急句子都能识别）。")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    lexicon = subparsers.add_parser("lexicon", help="the crisis lexicon (handoff/lexicon.yaml)")
    lexicon_commands = lexicon.add_subparsers(dest="lexicon_command", required=True)
    checking = lexicon_commands.add_parser("check", help="is a changed lexicon file safe to put live?")
    checking.add_argument("file", nargs="?", default=str(lexicon_check.DEFAULT_LEXICON_PATH))
    checking.set_defaults(handler=_lexicon_check)

    parser = subparsers.add_parser("handoff", help="the human hand-off queue")
    commands = parser.add_subparsers(dest="handoff_command", required=True)
    listing = commands.add_parser("list", help="tickets in queue order")
    listing.add_argument(
        "--status", choices=[status.value for status in Status], default=Status.WAITING.value
    )
    listing.set_defaults(handler=_list)

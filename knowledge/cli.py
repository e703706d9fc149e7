"""``helpline kb …``: the knowledge base from the command line, for hotline staff.

Every change runs in one transaction through :mod:`knowledge.repository` and is
audited under ``--by`` (default: $USER). Refused input prints every reason and
changes nothing; the exit code is then 1.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session, sessionmaker

from helpline.db import transaction
from knowledge import repository
from knowledge.schema import SchemaError
from knowledge.yamlio import HEADERS, Kind, YamlFormatError, dump, parse

Handler = Callable[[argparse.Namespace], int]


def open_sessions() -> sessionmaker[Session]:
    """The migrated database; imported here because ``helpline.cli`` imports this module to register it."""
    from helpline.cli import open_sessions as open_migrated

    return open_migrated()


def _kind_of(path: Path) -> Kind:
    try:
        return Kind(path.stem)
    except ValueError:
        names = "、".join(kind.filename for kind in Kind)
        raise YamlFormatError(f"文件名应为 {names} 之一 / unknown file name {path.name}") from None


def _actor(args: argparse.Namespace) -> str:
    return args.by or getpass.getuser() or "cli"


def _refusals(handler: Handler) -> Handler:
    """Turn refused input into a readable message and exit code 1 (nothing was written)."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except SchemaError as error:
            print("未保存，原因如下 / refused, nothing changed:", file=sys.stderr)
            for line in error.errors:
                print(f"  - {line}", file=sys.stderr)
        except (repository.NotFound, YamlFormatError, OSError) as error:
            print(f"未保存 / refused: {error}", file=sys.stderr)
        return 1

    return run


def _show_record(kind: Kind, record: dict[str, Any]) -> str:
    return dump(kind, [record]).removeprefix(HEADERS[kind])


def _one_record(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict):
        raise YamlFormatError("文件应包含一条记录（YAML 映射） / the file must hold one record")
    return data


def _settings_changes(assignments: list[str]) -> dict[str, Any]:
    """``--set field=value``; the value is read as YAML so ``tags=[a, b]`` is a list."""
    changes = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise YamlFormatError(f"--set 应写成 字段=值：{item} / use field=value")
        changes[name.strip()] = yaml.safe_load(value) if value.strip() else ""
    return changes


def _list(args: argparse.Namespace) -> int:
    with open_sessions()() as session:
        for entry in repository.list_entries(session):
            print(f"{entry.id}\t{entry.status}\tv{entry.version}\t{entry.clause}\t{entry.title}")
    return 0


def _show(args: argparse.Namespace) -> int:
    with open_sessions()() as session:
        entry = repository.get_entry(session, args.id)
        print(_show_record(Kind.ENTRIES, repository.entry_record(entry)), end="")
        pending = repository.pending_record(session, args.id)
        if pending["version"] != entry.version or entry.status != "published":
            print(f"# 待发布草稿 pending draft: v{pending['version']}（helpline kb publish {args.id}）")
    return 0


def _add(args: argparse.Namespace) -> int:
    with transaction(open_sessions()) as session:
        entry = repository.create_entry(session, _one_record(args.file), _actor(args))
    print(f"已创建草稿 {entry.id} v{entry.version}；发布前可预览：helpline kb publish {entry.id} --preview")
    return 0


def _edit(args: argparse.Namespace) -> int:
    changes = _one_record(args.file) if args.file else {}
    changes.update(_settings_changes(args.set or []))
    if changes.get("id") == args.id:
        del changes["id"]
    if not changes:
        raise YamlFormatError("没有要修改的内容：给出文件或 --set / give a file or --set")
    with transaction(open_sessions()) as session:
        before = repository.latest_version(session, args.id).version
        version = repository.edit_entry(session, args.id, changes, _actor(args))
    if version.version == before:
        print("内容没有变化 / nothing changed")
    else:
        print(f"已保存为草稿 v{version.version}；发布：helpline kb publish {args.id}")
    return 0


def _publish(args: argparse.Namespace) -> int:
    if args.preview:
        return _preview(args)
    with transaction(open_sessions()) as session:
        entry = repository.publish(session, args.id, _actor(args))
    print(f"已发布 {entry.id} v{entry.version}，下一条消息起生效 / live from the next message")
    return 0


def _preview(args: argparse.Namespace) -> int:
    # Loading the model takes seconds: only the commands that need it import it.
    from helpline.embeddings import load_encoder
    from helpline.settings import load_settings
    from knowledge.evaluate import load_questions, preview, thresholds_from
    from knowledge.retrieval import Retriever

    settings = load_settings()
    sessions = open_sessions()
    retriever = Retriever(sessions, load_encoder(settings.embedding_model, settings.torch_threads))
    with sessions() as session:
        changes = preview(session, retriever, args.id, thresholds_from(settings), load_questions())
    print(f"发布后评测集中答案会变化的问题：{len(changes)} 个 / eval questions whose answer changes")
    for change in changes:
        print(f"  {change.question}\n    现在 now: {change.before}\n    发布后 after: {change.after}")
    return 0


def _history(args: argparse.Namespace) -> int:
    with open_sessions()() as session:
        entry = repository.get_entry(session, args.id)
        for version in repository.history(session, args.id):
            live = " ← 线上 live" if entry.status == "published" and version.version == entry.version else ""
            published = (
                f" 发布 {version.published_at:%Y-%m-%d %H:%M} {version.published_by}"
                if version.published_at
                else ""
            )
            created = f"{version.created_at:%Y-%m-%d %H:%M} {version.created_by}"
            print(f"v{version.version}\t{created}{published}{live}")
        print("审计 audit:")
        for record in repository.audit_trail(session, "entry", args.id):
            print(f"  {record.at:%Y-%m-%d %H:%M:%S}\t{record.actor}\t{record.action}")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    with transaction(open_sessions()) as session:
        entry = repository.rollback(session, args.id, args.version, _actor(args))
    print(f"已恢复 v{args.version} 的内容，发布为 v{entry.version} / restored and published")
    return 0


def _import(args: argparse.Namespace) -> int:
    path: Path = args.path
    texts = (
        repository.read_folder(path) if path.is_dir() else {_kind_of(path): path.read_text(encoding="utf-8")}
    )
    if not texts:
        raise YamlFormatError(f"{path} 里没有知识库文件 / no knowledge files found")
    for kind, text in texts.items():
        try:
            parse(text)
        except YamlFormatError as error:
            raise YamlFormatError(f"{kind.filename}: {error}") from None
    with transaction(open_sessions()) as session:
        reports = repository.import_texts(session, texts, _actor(args))
    for kind, report in reports.items():
        counts = f"新增 {len(report.created)}，修改 {len(report.changed)}，未变 {len(report.unchanged)}"
        print(f"{kind.filename}: {counts}")
    return 0


def _export(args: argparse.Namespace) -> int:
    path: Path = args.path
    kinds = list(Kind) if path.is_dir() or not path.suffix else [_kind_of(path)]
    with open_sessions()() as session:
        texts = {kind: repository.export_text(session, kind) for kind in kinds}
    for kind, text in texts.items():
        target = path / kind.filename if len(kinds) > 1 else path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"已导出 {target}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from knowledge import evaluate

    return evaluate.main(["--live"])


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``helpline kb …`` to the main command line."""
    parser = subparsers.add_parser("kb", help="policy knowledge base: list, edit, publish, roll back")
    commands = parser.add_subparsers(dest="kb_command", required=True)
    actor = argparse.ArgumentParser(add_help=False)
    actor.add_argument("--by", help="who makes the change (default: $USER)")

    def command(name: str, handler: Handler, help_text: str, *parents: argparse.ArgumentParser) -> Any:
        sub = commands.add_parser(name, help=help_text, parents=list(parents))
        sub.set_defaults(handler=_refusals(handler))
        return sub

    command("list", _list, "list entries")
    command("show", _show, "show one entry as YAML").add_argument("id")
    command("add", _add, "add a draft entry from a YAML file", actor).add_argument("file", type=Path)
    edit = command("edit", _edit, "edit an entry into a new draft version", actor)
    edit.add_argument("id")
    edit.add_argument("file", type=Path, nargs="?", help="YAML with the fields to change")
    edit.add_argument("--set", action="append", metavar="FIELD=VALUE", help="change one field (repeatable)")
    publish = command("publish", _publish, "publish the newest version (live in the next message)", actor)
    publish.add_argument("id")
    publish.add_argument(
        "--preview", action="store_true", help="only show eval questions whose answer changes"
    )
    command("history", _history, "versions and audit trail").add_argument("id")
    rollback = command("rollback", _rollback, "publish an earlier version's content again", actor)
    rollback.add_argument("id")
    rollback.add_argument("version", type=int)
    command("import", _import, "import a YAML file or a folder of them", actor).add_argument(
        "path", type=Path
    )
    command("export", _export, "export to a YAML file or a folder").add_argument("path", type=Path)
    command("eval", _eval, "evaluate the live knowledge base on the evaluation set")

"""Every change to the knowledge base: create, edit, publish, roll back, import, with an audit trail.

The CLI and the HTTP API are thin shells over these functions; they pass a session
inside a transaction, so a refused change (SchemaError, Conflict, NotFound) writes
nothing at all. Drafts never reach families: an edit makes a new version, and only
publishing (or rolling back) copies a version into the live row and bumps the
revision counter that answering processes watch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from helpline.db import make_engine, make_session_factory, transaction, utcnow
from knowledge import schema
from knowledge.models import AuditRecord, Department, Entry, EntryVersion, Fact, HelpLine, Revision, Status
from knowledge.yamlio import FIELDS, SEED_DIR, Kind, dump, parse

ENTRY_FIELDS = tuple(name for name, _style in FIELDS[Kind.ENTRIES])
CONTENT_FIELDS = tuple(name for name in ENTRY_FIELDS if name not in ("id", "status", "version"))
"""What a version holds; id, status and version describe it instead of being part of it."""

DIRECTORY_MODELS: dict[Kind, type[Department] | type[HelpLine] | type[Fact]] = {
    Kind.DEPARTMENTS: Department,
    Kind.HELPLINES: HelpLine,
    Kind.FACTS: Fact,
}
AUDIT_ENTITY = {
    Kind.ENTRIES: "entry",
    Kind.DEPARTMENTS: "department",
    Kind.HELPLINES: "helpline",
    Kind.FACTS: "fact",
}
IMPORT_ORDER = (Kind.DEPARTMENTS, Kind.HELPLINES, Kind.FACTS, Kind.ENTRIES)
"""Departments first: entries name them."""


class NotFound(LookupError):
    """No entry (or version, or directory row) with that id."""


class Conflict(ValueError):
    """The change was made against an older version than the one stored."""


@dataclass
class ImportReport:
    """What an import did, per file kind: ids created, changed, and left as they were."""

    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def jsonable(record: dict[str, Any]) -> dict[str, Any]:
    """Dates as ISO strings, for JSON columns and API responses."""
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in record.items()}


def _from_json(record: dict[str, Any], date_fields: tuple[str, ...]) -> dict[str, Any]:
    return {
        key: date.fromisoformat(value) if key in date_fields and isinstance(value, str) else value
        for key, value in record.items()
    }


# ---- revision counter and audit -------------------------------------------------------------------


def current_revision(session: Session) -> int:
    """The counter readers compare to know whether anything they answer from changed."""
    return session.scalar(select(Revision.value).where(Revision.id == 1)) or 0


def _bump_revision(session: Session) -> None:
    session.execute(update(Revision).where(Revision.id == 1).values(value=Revision.value + 1))


def _audit(
    session: Session,
    actor: str,
    entity: str,
    entity_id: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        AuditRecord(
            at=utcnow(),
            actor=actor,
            entity=entity,
            entity_id=entity_id,
            action=action,
            before=jsonable(before) if before is not None else None,
            after=jsonable(after) if after is not None else None,
        )
    )


def audit_trail(session: Session, entity: str, entity_id: str) -> list[AuditRecord]:
    query = select(AuditRecord).where(AuditRecord.entity == entity, AuditRecord.entity_id == entity_id)
    return list(session.scalars(query.order_by(AuditRecord.id)))


# ---- entries: reading ---------------------------------------------------------------------------------


def entry_record(entry: Entry) -> dict[str, Any]:
    """The live entry as a record in file order (what export writes)."""
    return {name: getattr(entry, name) for name in ENTRY_FIELDS}


def version_record(version: EntryVersion, status: str) -> dict[str, Any]:
    content = _from_json(version.snapshot, ("valid_from", "valid_to"))
    return {"id": version.entry_id, **content, "status": status, "version": version.version}


def list_entries(session: Session, status: Status | None = None) -> list[Entry]:
    query = select(Entry).order_by(Entry.position, Entry.id)
    if status is not None:
        query = query.where(Entry.status == status.value)
    return list(session.scalars(query))


def get_entry(session: Session, entry_id: str) -> Entry:
    entry = session.get(Entry, entry_id)
    if entry is None:
        raise NotFound(f"没有条目 {entry_id} / no entry {entry_id}")
    return entry


def history(session: Session, entry_id: str) -> list[EntryVersion]:
    """Every version of an entry, oldest first."""
    get_entry(session, entry_id)
    query = select(EntryVersion).where(EntryVersion.entry_id == entry_id).order_by(EntryVersion.version)
    return list(session.scalars(query))


def get_version(session: Session, entry_id: str, version: int) -> EntryVersion:
    row = session.scalar(
        select(EntryVersion).where(EntryVersion.entry_id == entry_id, EntryVersion.version == version)
    )
    if row is None:
        raise NotFound(f"条目 {entry_id} 没有版本 {version} / {entry_id} has no version {version}")
    return row


def latest_version(session: Session, entry_id: str) -> EntryVersion:
    return history(session, entry_id)[-1]


def pending_record(session: Session, entry_id: str) -> dict[str, Any]:
    """The newest version as a record: what would go live on publish."""
    entry = get_entry(session, entry_id)
    latest = latest_version(session, entry_id)
    live = entry.status == Status.PUBLISHED and entry.version == latest.version
    return version_record(latest, Status.PUBLISHED if live else Status.DRAFT)


def department_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Department.id)))


# ---- entries: changing --------------------------------------------------------------------------------


def _content(record: dict[str, Any]) -> dict[str, Any]:
    return {name: record[name] for name in CONTENT_FIELDS}


def _add_version(
    session: Session, entry_id: str, version: int, record: dict[str, Any], actor: str
) -> EntryVersion:
    row = EntryVersion(
        entry_id=entry_id,
        version=version,
        snapshot=jsonable(_content(record)),
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def _set_live(entry: Entry, record: dict[str, Any], status: Status, version: int, actor: str) -> None:
    for name in CONTENT_FIELDS:
        setattr(entry, name, record[name])
    entry.status = status.value
    entry.version = version
    entry.updated_at = utcnow()
    entry.updated_by = actor


def _go_live(session: Session, entry: Entry, version: EntryVersion, actor: str) -> None:
    """Copy a version into the live row and tell every answering process (revision bump)."""
    _set_live(entry, version_record(version, Status.PUBLISHED), Status.PUBLISHED, version.version, actor)
    version.published_at = utcnow()
    version.published_by = actor
    _bump_revision(session)


def _next_position(session: Session) -> int:
    return (session.scalar(select(func.max(Entry.position))) or 0) + 1


def _new_entry(session: Session, record: dict[str, Any], actor: str, position: int) -> Entry:
    entry = Entry(id=record["id"], position=position)
    _set_live(entry, record, Status.DRAFT, record["version"], actor)
    session.add(entry)
    version = _add_version(session, entry.id, record["version"], record, actor)
    if record["status"] == Status.PUBLISHED:
        _go_live(session, entry, version, actor)
    return entry


def _validated(
    session: Session, record: dict[str, Any], extra_departments: set[str] = frozenset()
) -> dict[str, Any]:
    return schema.validate(Kind.ENTRIES, [record], department_ids(session) | extra_departments)[0]


def create_entry(session: Session, record: dict[str, Any], actor: str) -> Entry:
    """A new entry as a draft, version 1; families see it only after :func:`publish`."""
    clean = _validated(session, {**record, "status": Status.DRAFT.value, "version": 1})
    if session.get(Entry, clean["id"]) is not None:
        raise schema.SchemaError([f"条目 {clean['id']}：id 已存在 / id {clean['id']} already exists"])
    entry = _new_entry(session, clean, actor, _next_position(session))
    _audit(session, actor, AUDIT_ENTITY[Kind.ENTRIES], entry.id, "create", None, entry_record(entry))
    return entry


def edit_entry(session: Session, entry_id: str, changes: dict[str, Any], actor: str) -> EntryVersion:
    """A new draft version with ``changes`` applied to the newest version; the live row is untouched.

    Returns the newest version, which is the old one when ``changes`` change nothing.
    """
    fixed = sorted(set(changes) & {"id", "status", "version"})
    if fixed:
        raise schema.SchemaError(
            [f"不能直接修改 {', '.join(fixed)}（请用 publish/rollback） / {fixed} cannot be edited"]
        )
    entry = get_entry(session, entry_id)
    latest = latest_version(session, entry_id)
    base = version_record(latest, Status.DRAFT)
    clean = _validated(session, {**base, **changes, "version": latest.version + 1})
    if _content(clean) == _content(base):
        return latest
    version = _add_version(session, entry_id, latest.version + 1, clean, actor)
    if entry.status == Status.DRAFT:
        _set_live(entry, clean, Status.DRAFT, version.version, actor)
    _audit(session, actor, "entry", entry_id, "edit", base, version_record(version, Status.DRAFT))
    return version


def publish(session: Session, entry_id: str, actor: str) -> Entry:
    """Make the newest version live for every answering process (within its next message)."""
    entry = get_entry(session, entry_id)
    latest = latest_version(session, entry_id)
    if entry.status == Status.PUBLISHED and entry.version == latest.version:
        return entry
    before = entry_record(entry)
    _go_live(session, entry, latest, actor)
    _audit(session, actor, "entry", entry_id, "publish", before, entry_record(entry))
    return entry


def rollback(session: Session, entry_id: str, version: int, actor: str) -> Entry:
    """Publish the content of an earlier ``version`` again, as a new version (history stays linear)."""
    entry = get_entry(session, entry_id)
    old = get_version(session, entry_id, version)
    latest = latest_version(session, entry_id)
    before = entry_record(entry)
    restored = _add_version(session, entry_id, latest.version + 1, version_record(old, Status.DRAFT), actor)
    _go_live(session, entry, restored, actor)
    _audit(
        session,
        actor,
        "entry",
        entry_id,
        "rollback",
        before,
        {**entry_record(entry), "from_version": version},
    )
    return entry


# ---- directories: departments, help lines, facts ------------------------------------------------------


def directory_record(kind: Kind, row: Department | HelpLine | Fact) -> dict[str, Any]:
    return {name: getattr(row, name) for name, _style in FIELDS[kind]}


def list_directory(session: Session, kind: Kind) -> list[Any]:
    """Rows in display order: help lines by priority, the others as they were added."""
    model = DIRECTORY_MODELS[kind]
    first = HelpLine.priority if model is HelpLine else model.position
    return list(session.scalars(select(model).order_by(first, getattr(model, schema.key_field(kind)))))


def _upsert_directory(session: Session, kind: Kind, record: dict[str, Any], actor: str, action: str) -> bool:
    """Write one validated directory record; returns whether anything changed."""
    model = DIRECTORY_MODELS[kind]
    key = record[schema.key_field(kind)]
    row = session.get(model, key)
    before = directory_record(kind, row) if row is not None else None
    if before == record:
        return False
    if row is None:
        row = model(**record)
        if hasattr(row, "position"):
            row.position = (session.scalar(select(func.max(model.position))) or 0) + 1
        session.add(row)
    else:
        for name, value in record.items():
            setattr(row, name, value)
    session.flush()
    _audit(session, actor, AUDIT_ENTITY[kind], key, action, before, record)
    return True


def put_directory(session: Session, kind: Kind, record: dict[str, Any], actor: str) -> dict[str, Any]:
    """Create or replace one department, help line or fact (staff filling in phones, figures…)."""
    clean = schema.validate(kind, [record])[0]
    _upsert_directory(session, kind, clean, actor, "update")
    return clean


# ---- import / export ---------------------------------------------------------------------------------


def _plan_entries(session: Session, records: list[dict[str, Any]]) -> list[str]:
    """Conflicts that refuse the whole import: a changed entry based on an older version."""
    conflicts = []
    for record in records:
        if session.get(Entry, record["id"]) is None:
            continue
        latest = latest_version(session, record["id"])
        changed = _content(version_record(latest, Status.DRAFT)) != _content(record)
        if changed and record["version"] != latest.version:
            conflicts.append(
                f"条目 {record['id']}：文件基于版本 {record['version']}，数据库已有版本 {latest.version}，"
                f"请先导出最新内容再修改 / stale: version {record['version']} < {latest.version}"
            )
    return conflicts


def _import_entry(session: Session, record: dict[str, Any], actor: str, report: ImportReport) -> None:
    entry = session.get(Entry, record["id"])
    if entry is None:
        entry = _new_entry(session, record, actor, _next_position(session))
        _audit(session, actor, "entry", entry.id, "import", None, entry_record(entry))
        report.created.append(entry.id)
        return
    before = entry_record(entry)
    latest = latest_version(session, entry.id)
    changed = _content(version_record(latest, Status.DRAFT)) != _content(record)
    if changed:
        latest = _add_version(session, entry.id, latest.version + 1, record, actor)
        if entry.status == Status.DRAFT:
            _set_live(entry, record, Status.DRAFT, latest.version, actor)
    if record["status"] == Status.PUBLISHED and (
        entry.status != Status.PUBLISHED or entry.version != latest.version
    ):
        _go_live(session, entry, latest, actor)
        changed = True
    if not changed:
        report.unchanged.append(entry.id)
        return
    _audit(session, actor, "entry", entry.id, "import", before, version_record(latest, record["status"]))
    report.changed.append(entry.id)


def import_records(
    session: Session,
    kind: Kind,
    records: list[dict[str, Any]],
    actor: str,
    departments: set[str] = frozenset(),
) -> ImportReport:
    """Validate every record first, then write them all; any problem raises and writes nothing."""
    report = ImportReport()
    if kind is Kind.ENTRIES:
        clean = schema.validate(kind, records, department_ids(session) | departments)
        conflicts = _plan_entries(session, clean)
        if conflicts:
            raise schema.SchemaError(conflicts)
        for record in clean:
            _import_entry(session, record, actor, report)
        return report
    for record in schema.validate(kind, records):
        key = record[schema.key_field(kind)]
        existed = session.get(DIRECTORY_MODELS[kind], key) is not None
        if not _upsert_directory(session, kind, record, actor, "import"):
            report.unchanged.append(key)
        else:
            (report.changed if existed else report.created).append(key)
    return report


def import_texts(session: Session, texts: dict[Kind, str], actor: str) -> dict[Kind, ImportReport]:
    """Import several files at once (departments before the entries naming them), all or nothing."""
    parsed = {kind: parse(texts[kind]) for kind in IMPORT_ORDER if kind in texts}
    errors: list[str] = []
    incoming_departments = {
        r.get("id") for r in parsed.get(Kind.DEPARTMENTS, []) if isinstance(r.get("id"), str)
    }
    for kind, records in parsed.items():
        try:
            known = department_ids(session) | incoming_departments
            schema.validate(kind, records, known)
        except schema.SchemaError as error:
            errors.extend(error.errors)
    if errors:
        raise schema.SchemaError(errors)
    return {
        kind: import_records(session, kind, records, actor, incoming_departments)
        for kind, records in parsed.items()
    }


def export_text(session: Session, kind: Kind) -> str:
    """The live state of one file kind in the canonical YAML layout."""
    if kind is Kind.ENTRIES:
        return dump(kind, [entry_record(entry) for entry in list_entries(session)])
    return dump(kind, [directory_record(kind, row) for row in list_directory(session, kind)])


def read_folder(folder: Path) -> dict[Kind, str]:
    """The knowledge files present in ``folder`` (entries.yaml, departments.yaml, …)."""
    return {
        kind: (folder / kind.filename).read_text(encoding="utf-8")
        for kind in Kind
        if (folder / kind.filename).exists()
    }


def load_seed_if_empty(session: Session, actor: str = "seed") -> bool:
    """Fill an empty knowledge base from the seed YAML in the repository; False when it had content."""
    if session.scalar(select(func.count()).select_from(Entry)):
        return False
    import_texts(session, read_folder(SEED_DIR), actor)
    return True


def load_seed_into(database_url: str) -> bool:
    """:func:`load_seed_if_empty` on a migrated database given by URL (``make run`` calls it)."""
    engine = make_engine(database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            return load_seed_if_empty(session)
    finally:
        engine.dispose()

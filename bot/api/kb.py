"""The staff API for the policy knowledge base at ``/api/v1/kb`` (roles staff or admin).

A thin shell over :mod:`knowledge.repository`: each request is one transaction,
a refused change (422 with every reason) writes nothing, and every change is
audited under the caller's user name. Publishing is live for the next family
message in every process; nothing is restarted and Rasa is not retrained.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bot import openapi
from bot.auth import require_roles
from helpline.db import transaction
from helpline.users import Role, User
from knowledge import repository
from knowledge.evaluate import Change, load_questions, preview, thresholds_from
from knowledge.retrieval import Retriever
from knowledge.schema import SchemaError
from knowledge.yamlio import Kind, YamlFormatError

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge base 知识库"], responses=openapi.SIGNED_IN)

Staff = Annotated[User, Depends(require_roles(Role.STAFF))]

Id = Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")]
ShortText = Annotated[str, Field(min_length=1, max_length=300)]
Question = Annotated[str, Field(min_length=1, max_length=120)]


class EntryFields(BaseModel):
    """Every field may be sent; :mod:`knowledge.schema` checks clause paths, departments and sizes."""

    title: str | None = Field(default=None, max_length=100, description="标题 / title")
    clause: str | None = Field(
        default=None, max_length=32, description="条款路径，如 三（五）2 / clause path"
    )
    text: str | None = Field(default=None, max_length=4000, description="原文（逐字） / verbatim text")
    answer: str | None = Field(default=None, max_length=400, description="简短回答 / short answer")
    conditions: list[ShortText] | None = Field(default=None, max_length=20)
    departments: list[ShortText] | None = Field(default=None, max_length=12, description="部门 id")
    next_step: str | None = Field(default=None, max_length=300)
    questions: list[Question] | None = Field(default=None, max_length=60, description="示例问题")
    tags: list[ShortText] | None = Field(default=None, max_length=20)
    valid_from: date | None = None
    valid_to: date | None = None


class EntryCreate(EntryFields):
    id: Id


class RollbackBody(BaseModel):
    version: int = Field(ge=1, le=1_000_000, description="要恢复的版本 / version to restore")


class DepartmentBody(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    duties: str = Field(default="", max_length=2000)
    phone: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    hours: str | None = Field(default=None, max_length=100)


class HelpLineBody(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    number: str = Field(min_length=1, max_length=50)
    hours: str = Field(default="", max_length=100)
    scope: str = Field(default="", max_length=300)
    priority: int = Field(default=100, ge=0, le=1000)


class FactBody(BaseModel):
    label: str = Field(min_length=1, max_length=100)
    value: str | None = Field(default=None, max_length=100, description="数值；录入时必须给生效日期")
    unit: str = Field(default="", max_length=32)
    effective_from: date | None = None
    decided_by: str = Field(default="", max_length=200)
    clauses: list[Annotated[str, Field(max_length=32)]] = Field(default_factory=list, max_length=20)
    note: str = Field(default="", max_length=1000)


class Refused(BaseModel):
    detail: str
    errors: list[str] = Field(description="every reason, one line each")


class Refusal(BaseModel):
    """A change the knowledge base's own checks refused (SchemaError, or YAML that is not records)."""

    detail: Refused | str


REFUSED = {
    422: {"model": Refusal, "description": "内容有误，未保存: refused with every reason; nothing changed"}
}
CHANGE = {**openapi.NOT_FOUND, **REFUSED}
"""A change to one entry: an unknown entry or version is a 404, a refused one a 422."""


class ImportBody(BaseModel):
    """File kind → YAML text, e.g. {"entries": "- id: …"}; departments are imported before entries."""

    files: dict[Kind, Annotated[str, Field(max_length=200_000)]] = Field(min_length=1)


@contextmanager
def _changing(request: Request) -> Iterator[Session]:
    """One transaction; refused input becomes 422 with every reason, unknown ids 404."""
    try:
        with transaction(request.app.state.sessions) as session:
            yield session
    except SchemaError as error:
        detail = {"detail": "内容有误，未保存。/ refused, nothing changed.", "errors": error.errors}
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from None
    except YamlFormatError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    except repository.NotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None


@contextmanager
def _reading(request: Request) -> Iterator[Session]:
    try:
        with request.app.state.sessions() as session:
            yield session
    except repository.NotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None


def _entry_out(session: Session, entry_id: str) -> dict[str, Any]:
    entry = repository.get_entry(session, entry_id)
    pending = repository.pending_record(session, entry_id)
    has_draft = pending["version"] != entry.version or entry.status != "published"
    draft = repository.jsonable(pending) if has_draft else None
    return {**repository.jsonable(repository.entry_record(entry)), "draft": draft}


def _retriever(request: Request) -> Retriever:
    """The gateway's retriever, loaded on the first preview only (the model takes seconds to load)."""
    if getattr(request.app.state, "kb_retriever", None) is None:
        from helpline.embeddings import load_encoder

        settings = request.app.state.settings
        encoder = load_encoder(settings.embedding_model, settings.torch_threads)
        request.app.state.kb_retriever = Retriever(request.app.state.sessions, encoder)
    return request.app.state.kb_retriever


def _preview(request: Request, entry_id: str) -> list[Change]:
    with _reading(request) as session:
        retriever = _retriever(request)
        thresholds = thresholds_from(request.app.state.settings)
        return preview(session, retriever, entry_id, thresholds, load_questions())


# ---- entries -----------------------------------------------------------------------------------------


@router.get("/entries", summary="条目列表 / list entries")
def list_entries(request: Request, user: Staff) -> list[dict[str, Any]]:
    """所有条目的线上版本（按文件顺序）。/ The live version of every entry, in document order."""
    with _reading(request) as session:
        return [repository.jsonable(repository.entry_record(e)) for e in repository.list_entries(session)]


@router.post(
    "/entries",
    status_code=status.HTTP_201_CREATED,
    summary="新建草稿 / create a draft entry",
    responses=REFUSED,
)
def create_entry(body: EntryCreate, request: Request, user: Staff) -> dict[str, Any]:
    """新条目是草稿，发布后才对家属可见。/ A new entry is a draft until it is published."""
    with _changing(request) as session:
        entry = repository.create_entry(session, body.model_dump(exclude_none=True), user.name)
        return _entry_out(session, entry.id)


@router.get("/entries/{entry_id}", summary="查看条目 / show an entry", responses=openapi.NOT_FOUND)
def get_entry(entry_id: str, request: Request, user: Staff) -> dict[str, Any]:
    """线上内容，以及待发布的草稿（如有）。/ The live content and the pending draft, if any."""
    with _reading(request) as session:
        return _entry_out(session, entry_id)


@router.patch("/entries/{entry_id}", summary="修改为新草稿 / edit into a new draft version", responses=CHANGE)
def edit_entry(entry_id: str, body: EntryFields, request: Request, user: Staff) -> dict[str, Any]:
    """只改发送的字段；发布前线上内容不变。/ Changes only the fields sent; live waits for publish."""
    with _changing(request) as session:
        repository.edit_entry(session, entry_id, body.model_dump(exclude_unset=True), user.name)
        return _entry_out(session, entry_id)


@router.get(
    "/entries/{entry_id}/preview", summary="发布预览 / preview a publish", responses=openapi.NOT_FOUND
)
def preview_entry(entry_id: str, request: Request, user: Staff) -> dict[str, Any]:
    """评测集中发布后答案会变化的问题。/ Evaluation questions whose answer would change on publish."""
    changes = _preview(request, entry_id)
    return {"entry": entry_id, "changes": [asdict(change) for change in changes]}


@router.post("/entries/{entry_id}/publish", summary="发布 / publish the newest version", responses=CHANGE)
def publish_entry(
    entry_id: str,
    request: Request,
    user: Staff,
    preview_only: Annotated[
        bool, Query(alias="preview", description="只预览，不发布 / preview only")
    ] = False,
) -> dict[str, Any]:
    """下一条消息起生效，无需重启或重新训练。/ Live from the next message; no restart, no retraining."""
    if preview_only:
        return preview_entry(entry_id, request, user)
    with _changing(request) as session:
        repository.publish(session, entry_id, user.name)
        return _entry_out(session, entry_id)


@router.get(
    "/entries/{entry_id}/history",
    summary="版本与审计 / versions and audit trail",
    responses=openapi.NOT_FOUND,
)
def entry_history(entry_id: str, request: Request, user: Staff) -> dict[str, Any]:
    """每个版本的完整内容，以及谁在何时改了什么。/ Every version, and who changed what when."""
    with _reading(request) as session:
        entry = repository.get_entry(session, entry_id)
        versions = [
            {
                **repository.jsonable(
                    repository.version_record(v, "published" if v.published_at else "draft")
                ),
                "created_at": v.created_at.isoformat(),
                "created_by": v.created_by,
                "published_at": v.published_at.isoformat() if v.published_at else None,
                "published_by": v.published_by,
                "live": entry.status == "published" and v.version == entry.version,
            }
            for v in repository.history(session, entry_id)
        ]
        audit = [
            {
                "at": a.at.isoformat(),
                "actor": a.actor,
                "action": a.action,
                "before": a.before,
                "after": a.after,
            }
            for a in repository.audit_trail(session, "entry", entry_id)
        ]
        return {"versions": versions, "audit": audit}


@router.post("/entries/{entry_id}/rollback", summary="回滚 / roll back to a version", responses=CHANGE)
def rollback_entry(entry_id: str, body: RollbackBody, request: Request, user: Staff) -> dict[str, Any]:
    """把旧版本内容作为新版本发布。/ Publishes an earlier version's content as a new version."""
    with _changing(request) as session:
        repository.rollback(session, entry_id, body.version, user.name)
        return _entry_out(session, entry_id)


# ---- directories -------------------------------------------------------------------------------------


def _directory(request: Request, kind: Kind) -> list[dict[str, Any]]:
    with _reading(request) as session:
        return [
            repository.jsonable(repository.directory_record(kind, row))
            for row in repository.list_directory(session, kind)
        ]


def _put(request: Request, kind: Kind, key: str, body: BaseModel, user: User) -> dict[str, Any]:
    with _changing(request) as session:
        record = {"key" if kind is Kind.FACTS else "id": key, **body.model_dump()}
        return repository.jsonable(repository.put_directory(session, kind, record, user.name))


@router.get("/departments", summary="部门目录 / departments")
def list_departments(request: Request, user: Staff) -> list[dict[str, Any]]:
    """部门、职责和工作人员填写的电话、地址、办公时间。/ Departments with staff-entered contacts."""
    return _directory(request, Kind.DEPARTMENTS)


@router.put(
    "/departments/{department_id}", summary="填写部门 / create or update a department", responses=REFUSED
)
def put_department(department_id: str, body: DepartmentBody, request: Request, user: Staff) -> dict[str, Any]:
    """电话等下一条消息起生效。/ Contacts show in answers from the next message."""
    return _put(request, Kind.DEPARTMENTS, department_id, body, user)


@router.get("/helplines", summary="热线目录 / help lines")
def list_helplines(request: Request, user: Staff) -> list[dict[str, Any]]:
    """心理援助和紧急求助热线，按 priority 排序。/ Crisis and help lines by priority."""
    return _directory(request, Kind.HELPLINES)


@router.put("/helplines/{helpline_id}", summary="填写热线 / create or update a help line", responses=REFUSED)
def put_helpline(helpline_id: str, body: HelpLineBody, request: Request, user: Staff) -> dict[str, Any]:
    """危机流程立即使用新号码。/ The crisis path uses the new number at once."""
    return _put(request, Kind.HELPLINES, helpline_id, body, user)


@router.get("/facts", summary="待定数额 / open figures")
def list_facts(request: Request, user: Staff) -> list[dict[str, Any]]:
    """文件未写明的数额；未录入时机器人只说明由谁决定。/ Figures the document leaves open."""
    return _directory(request, Kind.FACTS)


@router.put("/facts/{key}", summary="录入数额 / set an open figure", responses=REFUSED)
def put_fact(key: str, body: FactBody, request: Request, user: Staff) -> dict[str, Any]:
    """数值必须带生效日期。/ A value needs its effective date."""
    return _put(request, Kind.FACTS, key, body, user)


# ---- import / export ---------------------------------------------------------------------------------


@router.post("/import", summary="导入 YAML / import YAML", responses=REFUSED)
def import_yaml(body: ImportBody, request: Request, user: Staff) -> dict[str, Any]:
    """全部校验通过才写入，否则什么都不改。/ All or nothing: any problem refuses the whole import."""
    with _changing(request) as session:
        reports = repository.import_texts(session, dict(body.files), user.name)
        return {kind.value: asdict(report) for kind, report in reports.items()}


@router.get(
    "/export",
    summary="导出 YAML / export YAML",
    response_class=PlainTextResponse,
    responses={200: {"content": {"application/yaml": {}}}},
)
def export_yaml(request: Request, user: Staff, kind: Kind = Kind.ENTRIES) -> PlainTextResponse:
    """与种子文件格式完全一致，可再导入。/ The seed files' exact layout; re-importable byte for byte."""
    with _reading(request) as session:
        text = repository.export_text(session, kind)
    return PlainTextResponse(text, media_type="application/yaml; charset=utf-8")

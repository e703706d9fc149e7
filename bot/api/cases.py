"""The staff API for intake cases at ``/api/v1/cases`` (roles staff or admin).

A thin shell over :mod:`intake.cases`: list and filter, read one case (phone and
what the family said: the read is access-logged), and move it through its
lifecycle with a note. Every change is an audited case event under the caller's name.

Staff see only the cases their department acts on, and a street office's staff only
those of their own 街道 (what the consent texts promise families); another department's
or street's case answers 404 like a number never given out. Admins see every case.
Counselors have no access: they work hand-offs, not cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, Field, model_validator

from bot import openapi
from bot.auth import require_roles
from helpline.access_log import log_access
from helpline.db import transaction
from helpline.users import Role, User
from intake import cases
from intake.cases import Case, CaseKind, CaseStatus, Scope

router = APIRouter(prefix="/api/v1/cases", tags=["cases 登记"], responses=openapi.SIGNED_IN)

Staff = Annotated[User, Depends(require_roles(Role.STAFF))]


def _seen_by(user: Staff) -> Scope | None:
    """The cases the caller sees; None for an admin, who sees every case.

    A staff account made before users had departments has none, and a street office's made
    before they had streets has no street: it is turned away with what to do, rather than
    shown everything or an empty list that looks like no work.
    """
    if user.role == Role.ADMIN.value:
        return None
    if user.department is None:
        _not_set_up("所属部门")
    if user.department == cases.STREET_OFFICE and user.street is None:
        _not_set_up("所在街道")
    return Scope(user.department, user.street)


def _not_set_up(what: str) -> NoReturn:
    """403 naming the missing setting: the account is real, it only cannot be scoped yet."""
    raise HTTPException(
        status.HTTP_403_FORBIDDEN, f"您的账号还没有设置{what}，请管理员用 helpline users department 设置。"
    )


SeenBy = Annotated[Scope | None, Depends(_seen_by)]
Number = Annotated[str, Field(max_length=32, description="编号，如 XC-2026-000123")]


class CaseSummary(BaseModel):
    """What a list shows: no phone, nothing the family said."""

    number: str
    kind: CaseKind
    status: CaseStatus
    status_label: str = Field(description="家属听到的状态说法")
    department: str = Field(description="负责部门 id（区民政局 civil_affairs，区司法局 justice）")
    departments: list[str] = Field(description="参与办理的部门 id（心理关爱还有所在街道 street_office）")
    street: str | None = Field(description="所在街道")
    priority: bool = Field(description="优先办理（法律援助全部优先）")
    home_visit: bool = Field(description="主动上门法律援助")
    created_at: datetime
    updated_at: datetime


class CaseEventView(BaseModel):
    at: datetime
    actor: str
    action: str = Field(description="created / status / note / erased")
    from_status: CaseStatus | None
    to_status: CaseStatus | None
    note: str | None


class CaseDetail(CaseSummary):
    """One case in full; reading it is recorded in the access log."""

    phone: str | None
    details: dict[str, Any] = Field(description="表单内容：关爱方式、时间，或法律事项、简述、经济和出行情况")
    consent_version: str = Field(description="家属同意的告知书版本")
    finished_at: datetime | None
    erased_at: datetime | None = Field(description="保存期满、个人信息已删除的时间")
    events: list[CaseEventView]


class CaseUpdate(BaseModel):
    """A status change, a note, or both (new → accepted → in_progress → done; closed from any open state)."""

    status: CaseStatus | None = None
    note: str | None = Field(default=None, min_length=1, max_length=4000)

    @model_validator(mode="after")
    def something_to_do(self) -> CaseUpdate:
        self.note = (self.note or "").strip() or None
        if self.status is None and self.note is None:
            raise ValueError("status or note is required")
        return self


def _summary(case: Case) -> dict[str, Any]:
    return {
        "number": case.number,
        "kind": case.kind,
        "status": case.status,
        "status_label": cases.STATUS_LABELS[CaseStatus(case.status)],
        "department": case.department,
        "departments": list(case.departments),
        "street": case.street,
        "priority": case.priority,
        "home_visit": case.home_visit,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
    }


def _detail(case: Case) -> CaseDetail:
    events = [
        CaseEventView(
            at=e.at,
            actor=e.actor,
            action=e.action,
            from_status=e.from_status,
            to_status=e.to_status,
            note=e.note,
        )
        for e in case.events
    ]
    return CaseDetail(
        **_summary(case),
        phone=case.phone,
        details=case.details,
        consent_version=case.consent_version,
        finished_at=case.finished_at,
        erased_at=case.erased_at,
        events=events,
    )


@contextmanager
def _domain_errors() -> Iterator[None]:
    try:
        yield
    except cases.CaseNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有这个编号的登记。") from error
    except cases.InvalidTransition as error:
        raise HTTPException(status.HTTP_409_CONFLICT, f"状态不能这样改：{error}") from error


@router.get("", response_model=list[CaseSummary])
def list_cases(
    request: Request,
    user: Staff,
    seen_by: SeenBy,
    status_: Annotated[CaseStatus | None, Query(alias="status")] = None,
    kind: CaseKind | None = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    street: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """The caller's cases, priority first then newest, narrowed by status, kind, department or street."""
    with transaction(request.app.state.sessions) as session:
        found = cases.list_cases(
            session,
            status=status_,
            kind=kind,
            department=department,
            street=street,
            seen_by=seen_by,
            limit=limit,
            offset=offset,
        )
        log_access(session, user.name, "list", "cases")
        return [_summary(case) for case in found]


@router.get("/{number}", response_model=CaseDetail, responses=openapi.NOT_FOUND)
def read_case(request: Request, number: str, user: Staff, seen_by: SeenBy) -> CaseDetail:
    """One case with its phone number, form answers and history; the read is access-logged."""
    with _domain_errors(), transaction(request.app.state.sessions) as session:
        case = cases.get_case(session, number, seen_by=seen_by)
        log_access(session, user.name, "read", f"case:{case.id}")
        return _detail(case)


@router.patch("/{number}", response_model=CaseDetail, responses={**openapi.NOT_FOUND, **openapi.CONFLICT})
def update_case(request: Request, number: str, body: CaseUpdate, user: Staff, seen_by: SeenBy) -> CaseDetail:
    """Move the case on and/or add a note; 409 when the status cannot follow the current one."""
    with _domain_errors(), transaction(request.app.state.sessions) as session:
        case = cases.get_case(session, number, seen_by=seen_by)
        cases.update_case(session, case, actor=user.name, status=body.status, note=body.note)
        log_access(session, user.name, "update", f"case:{case.id}")
        return _detail(case)

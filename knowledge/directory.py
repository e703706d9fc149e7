"""Who to call: departments and crisis/help lines, as staff keep them in the database.

The crisis path calls :func:`helplines` and must never come back empty-handed: when
the table has no rows yet (a fresh install, a wiped database) the numbers in the
seed YAML are used instead, so a person at risk is always given a number to call.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge import models
from knowledge.yamlio import SEED_DIR, read_records


@dataclass(frozen=True)
class HelpLineInfo:
    """A line to call, e.g. 北京心理危机研究与干预中心 010-82951332, 24小时."""

    id: str
    name: str
    number: str
    hours: str
    scope: str
    priority: int


@dataclass(frozen=True)
class DepartmentInfo:
    """A responsible department; phone, address and hours are None until staff enter them."""

    id: str
    name: str
    duties: str
    phone: str | None
    address: str | None
    hours: str | None


Info = TypeVar("Info", HelpLineInfo, DepartmentInfo)


def _from_row(cls: type[Info], row: Any) -> Info:
    return cls(**{field.name: getattr(row, field.name) for field in fields(cls)})


@lru_cache(maxsize=1)
def _seed_helplines() -> tuple[HelpLineInfo, ...]:
    rows = [HelpLineInfo(**record) for record in read_records(SEED_DIR / "helplines.yaml")]
    return tuple(sorted(rows, key=lambda line: (line.priority, line.id)))


@lru_cache(maxsize=1)
def _seed_departments() -> dict[str, DepartmentInfo]:
    records = read_records(SEED_DIR / "departments.yaml")
    return {record["id"]: DepartmentInfo(**record) for record in records}


def helplines(session: Session) -> list[HelpLineInfo]:
    """All help lines, most important first; the seed's when staff have none stored."""
    order = (models.HelpLine.priority, models.HelpLine.id)
    rows = session.scalars(select(models.HelpLine).order_by(*order)).all()
    if not rows:
        return list(_seed_helplines())
    return [_from_row(HelpLineInfo, row) for row in rows]


def all_departments(session: Session) -> dict[str, DepartmentInfo]:
    """Every department by id, in the directory's order; the seed's when staff have none stored.

    This is the one list of department ids: cases are routed to them and staff users belong to one.
    """
    order = (models.Department.position, models.Department.id)
    rows = session.scalars(select(models.Department).order_by(*order)).all()
    if not rows:
        return dict(_seed_departments())
    return {row.id: _from_row(DepartmentInfo, row) for row in rows}


def departments(session: Session, ids: list[str]) -> list[DepartmentInfo]:
    """The departments named by ``ids``, in that order; unknown ids are skipped."""
    known = all_departments(session)
    return [known[i] for i in ids if i in known]

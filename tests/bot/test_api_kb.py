"""The staff API of the knowledge base through the real gateway app and a real database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from helpline.db import transaction
from helpline.settings import load_settings
from helpline.users import Role
from knowledge.repository import load_seed_if_empty
from knowledge.yamlio import SEED_DIR
from tests.conftest import bearer_token

NEW_ENTRY = {
    "id": "phone-visit",
    "title": "电话回访",
    "clause": "四2",
    "text": "原文。",
    "answer": "志愿者会定期打电话问候您。",
    "departments": ["youth_league"],
    "questions": ["有人打电话回访吗"],
}


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(replace(load_settings(), database_url=database_url))) as test_client:
        with transaction(test_client.app.state.sessions) as session:
            load_seed_if_empty(session)
        yield test_client


def _auth(client: TestClient, role: Role, name: str = "staff1") -> dict[str, str]:
    with transaction(client.app.state.sessions) as session:
        return {"Authorization": f"Bearer {bearer_token(session, name, role)}"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/kb/entries"),
        ("post", "/api/v1/kb/entries/effective-date/publish"),
        ("get", "/api/v1/kb/export"),
    ],
)
def test_anonymous_is_401_and_counselor_403(client: TestClient, method: str, path: str) -> None:
    assert client.request(method, path).status_code == 401
    counselor = _auth(client, Role.COUNSELOR, "c1")
    assert client.request(method, path, headers=counselor).status_code == 403


def test_staff_create_edit_publish_history_rollback(client: TestClient) -> None:
    staff = _auth(client, Role.STAFF)
    created = client.post("/api/v1/kb/entries", json=NEW_ENTRY, headers=staff)
    assert created.status_code == 201, created.text
    assert (created.json()["status"], created.json()["version"]) == ("draft", 1)
    edited = client.patch("/api/v1/kb/entries/phone-visit", json={"tags": ["志愿者"]}, headers=staff)
    assert edited.json()["draft"]["tags"] == ["志愿者"]
    published = client.post("/api/v1/kb/entries/phone-visit/publish", headers=staff).json()
    assert (published["status"], published["version"], published["draft"]) == ("published", 2, None)
    client.patch("/api/v1/kb/entries/phone-visit", json={"answer": "改过的回答。"}, headers=staff)
    client.post("/api/v1/kb/entries/phone-visit/publish", headers=staff)
    restored = client.post(
        "/api/v1/kb/entries/phone-visit/rollback", json={"version": 2}, headers=staff
    ).json()
    assert (restored["answer"], restored["version"]) == (NEW_ENTRY["answer"], 4)
    history = client.get("/api/v1/kb/entries/phone-visit/history", headers=staff).json()
    assert [v["version"] for v in history["versions"]] == [1, 2, 3, 4]
    assert history["versions"][-1]["live"] is True
    assert [a["action"] for a in history["audit"]] == [
        "create",
        "edit",
        "publish",
        "edit",
        "publish",
        "rollback",
    ]
    assert {a["actor"] for a in history["audit"]} == {"staff1"}


def test_refused_input_is_422_with_reasons_and_changes_nothing(client: TestClient) -> None:
    admin = _auth(client, Role.ADMIN, "admin1")
    before = client.get("/api/v1/kb/export", headers=admin).text
    bad = client.patch(
        "/api/v1/kb/entries/effective-date", json={"clause": "第九条", "departments": ["mars"]}, headers=admin
    )
    assert bad.status_code == 422
    assert any("条款路径" in e for e in bad.json()["detail"]["errors"])
    assert any("未知部门 mars" in e for e in bad.json()["detail"]["errors"])
    too_long = client.post("/api/v1/kb/entries", json={**NEW_ENTRY, "answer": "长" * 401}, headers=admin)
    assert too_long.status_code == 400
    assert client.get("/api/v1/kb/entries/nope", headers=admin).status_code == 404
    assert client.get("/api/v1/kb/export", headers=admin).text == before


def test_export_matches_the_seed_and_import_round_trips(client: TestClient) -> None:
    staff = _auth(client, Role.STAFF)
    exported = client.get("/api/v1/kb/export", params={"kind": "entries"}, headers=staff)
    assert exported.text == (SEED_DIR / "entries.yaml").read_text(encoding="utf-8")
    report = client.post(
        "/api/v1/kb/import", json={"files": {"entries": exported.text}}, headers=staff
    ).json()
    assert report["entries"]["changed"] == [] and len(report["entries"]["unchanged"]) == 38
    broken = client.post("/api/v1/kb/import", json={"files": {"entries": "- id: [oops"}}, headers=staff)
    assert broken.status_code == 422


def test_staff_fill_in_contacts_and_figures(client: TestClient) -> None:
    staff = _auth(client, Role.STAFF)
    department = {"name": "区司法局", "phone": "010-1111 2222", "address": "西城区某街1号"}
    assert client.put("/api/v1/kb/departments/justice", json=department, headers=staff).status_code == 200
    justice = next(
        d for d in client.get("/api/v1/kb/departments", headers=staff).json() if d["id"] == "justice"
    )
    assert justice["phone"] == "010-1111 2222"
    fact = {"label": "北京市最低工资标准", "value": "2540", "unit": "元/月"}
    assert client.put("/api/v1/kb/facts/min_wage_beijing", json=fact, headers=staff).status_code == 422
    fact["effective_from"] = "2025-09-01"
    assert client.put("/api/v1/kb/facts/min_wage_beijing", json=fact, headers=staff).status_code == 200
    lines = client.get("/api/v1/kb/helplines", headers=staff).json()
    assert lines[0]["number"] == "010-82951332"


def test_openapi_documents_the_kb_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/kb/entries", "/api/v1/kb/entries/{entry_id}/publish", "/api/v1/kb/import"):
        assert path in paths
    assert "发布" in paths["/api/v1/kb/entries/{entry_id}/publish"]["post"]["summary"]

"""The console in Debian's real Chromium (Playwright, headless) against a real gateway process.

A counselor signs in and goes on duty, a family's crisis message appears in the queue without
a reload (with the banner and the beep), the counselor claims it, replies with Enter, sees the
family's answer arrive live, writes a private note, and closes it as a false alarm. Playwright
never downloads a browser here: it drives ``/usr/bin/chromium``, which ``.ci/run`` installs
when it is missing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from handoff.models import Ticket
from helpline import migrate, services
from helpline.db import make_engine, make_session_factory, transaction
from helpline.settings import Settings
from helpline.users import Role, add_user, set_password
from tests.bot.console.conftest import PASSWORD, console_settings
from tests.conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.browser]
"""A gateway process and a browser: some 20 s here."""

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = os.environ.get("HELPLINE_TEST_SCREENSHOTS", "")
"""A folder to save the pages' screenshots in (e.g. docs/screenshots); unset, none are taken."""


def _screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    workdir = tmp_path_factory.mktemp("browser")
    settings = replace(console_settings(f"sqlite:///{workdir / 'console.db'}"), port=free_port())
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with transaction(make_session_factory(engine)) as session:
        add_user(session, "counselor1", Role.COUNSELOR)
        set_password(session, "counselor1", PASSWORD)
    engine.dispose()
    service = services.gateway_service(settings)
    process = services.start(service, workdir / "logs")
    try:
        services.wait_ready(service, process, timeout=120)
        yield settings
    finally:
        services.stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: .ci/run installs Debian's chromium package")
    with sync_playwright() as playwright:
        # Sound without a click first, so the test can tell that the alert beeped.
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--autoplay-policy=no-user-gesture-required"]
        )
        yield launched
        launched.close()


def _family_says(settings: Settings, sender: str, text: str) -> None:
    url = f"http://{settings.host}:{settings.port}/webhooks/rest/webhook"
    httpx.post(url, json={"sender": sender, "message": text}, timeout=30).raise_for_status()


def _sign_in(page: Page, settings: Settings) -> None:
    page.goto(f"http://{settings.host}:{settings.port}/console/login")
    page.get_by_label("用户名").fill("counselor1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"http://{settings.host}:{settings.port}/console/queue")


def test_a_crisis_shows_up_live_then_is_claimed_answered_closed(gateway: Settings, browser: Browser) -> None:
    page = browser.new_page()
    _sign_in(page, gateway)
    expect(page.get_by_text("现在没有人在等待。")).to_be_visible()
    page.get_by_role("button", name="我在岗，开始接待").click()
    expect(page.locator("#on-duty")).to_contain_text("counselor1（您）")
    page.wait_for_timeout(500)  # the stream is open

    sent_at = time.monotonic()
    _family_says(gateway, "browser-family", "我不想活了")
    row = page.locator("[data-crisis]")
    expect(row).to_be_visible(timeout=2000)
    assert time.monotonic() - sent_at < 2.0
    expect(page.locator("#crisis-alert")).to_be_visible()
    assert page.evaluate("window.consoleBeeps") >= 1
    expect(row).to_contain_text("我不想活了")
    _screenshot(page, "console-queue")

    row.get_by_role("button", name="接入").click()
    expect(page).to_have_url(f"http://{gateway.host}:{gateway.port}/console/tickets/{row_id(gateway)}")
    box = page.get_by_label("回复家属（Enter 发送，Shift+Enter 换行）")
    box.fill("我在这儿陪着您，慢慢说。")
    box.press("Enter")
    expect(page.locator("#transcript")).to_contain_text("我在这儿陪着您，慢慢说。")
    expect(box).to_have_value("")

    _family_says(gateway, "browser-family", "谢谢你，我刚才是在说电视剧的台词")
    expect(page.locator("#transcript")).to_contain_text("电视剧的台词", timeout=3000)
    expect(page.locator("#transcript mark")).to_contain_text("我不想活了")
    page.get_by_label("写一条备注").fill("家属说在看电视剧")
    page.get_by_role("button", name="保存备注").click()
    expect(page.locator("#notes")).to_contain_text("家属说在看电视剧")
    expect(page.get_by_label("写一条备注")).to_have_value("")
    _screenshot(page, "console-conversation")

    page.get_by_label("结果").select_option("no_risk")
    page.get_by_label("备注（只有咨询师能看到）").fill("误报")
    page.get_by_role("button", name="结束并交回助手").click()
    expect(page).to_have_url(f"http://{gateway.host}:{gateway.port}/console/queue")
    engine = make_engine(gateway.database_url)
    with make_session_factory(engine)() as session:
        ticket = session.get(Ticket, row_id(gateway))
        assert ticket is not None and (ticket.status, ticket.outcome) == ("closed", "no_risk")
    engine.dispose()

    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(f"http://{gateway.host}:{gateway.port}/console/login")


def row_id(settings: Settings) -> int:
    """The id of the browser family's (only) ticket."""
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session:
        found = session.scalar(select(Ticket.id).where(Ticket.sender == "browser-family"))
    engine.dispose()
    assert found is not None
    return int(found)

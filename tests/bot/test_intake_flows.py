"""The intake end to end: the gateway, a real Rasa server with the trained model, the action server.

Buttons are pressed by sending their payloads, exactly as a web widget or Telegram does;
typed answers go through the NLU. Each test is one family (its own sender id).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from bot.rasa_client import RasaClient
from helpline.db import transaction
from helpline.users import Role, add_user
from intake import cases, drafts
from intake.questions import AFFIRM, DENY, REQUEST_HUMAN, SKIP, choose
from tests.conftest import LEGAL_CONSENT, PSYCH_CONSENT

pytestmark = pytest.mark.integration


@dataclass
class Family:
    """One family talking to the gateway; remembers what it was last told."""

    gateway: TestClient
    sender: str
    replies: list[dict] = field(default_factory=list)

    def says(self, message: str) -> Family:
        response = self.gateway.post(
            "/webhooks/rest/webhook", json={"sender": self.sender, "message": message}
        )
        assert response.status_code == 200
        self.replies = response.json()
        return self

    @property
    def text(self) -> str:
        return "\n".join(item.get("text") or "" for item in self.replies)

    @property
    def payloads(self) -> list[str]:
        return [button["payload"] for item in self.replies for button in item.get("buttons") or []]

    @property
    def handoff(self) -> dict | None:
        return next(
            (i["custom"]["handoff"] for i in self.replies if "handoff" in (i.get("custom") or {})), None
        )

    def cases(self) -> list[cases.Case]:
        with _sessions(self.gateway)() as session:
            return cases.cases_for_sender(session, self.sender)


def _sessions(gateway: TestClient):
    return gateway.app.state.sessions


def _family(gateway: TestClient, name: str) -> Family:
    return Family(gateway, f"intake-{name}")


# ---- what am I entitled to? ----------------------------------------------------------------------


def test_entitlement_check_one_question_at_a_time_to_a_result(gateway: TestClient) -> None:
    family = _family(gateway, "entitled")
    family.says("我能享受哪些帮扶？")
    assert "户口在北京市西城区吗" in family.text and family.payloads == [AFFIRM, DENY, SKIP]
    family.says(AFFIRM)
    assert "没有再生育、也没有收养" in family.text
    family.says(AFFIRM)
    assert "多大岁数" in family.text and choose("60+") in family.payloads
    family.says("72")
    assert "最低工资标准" in family.text
    family.says(SKIP)
    assert "完全自理" in family.text
    family.says(AFFIRM)
    assert "三无" in family.text
    family.says(DENY)
    assert "再要孩子" in family.text
    family.says(DENY)
    assert "养老院" in family.text
    family.says(choose("institution"))
    result = family.text
    assert "很可能可以享受" in result
    assert "每年一次免费体检（三（四）1）" in result and "优先安排入住养老服务机构（三（五）2）" in result
    assert "要看“家庭月人均收入低于北京市最低工资标准”" in result
    assert "所在街道办事处核查家庭经济状况，区人口计生委核实审批经济救助" in result
    assert "暂时不适用" in result and "部门审核决定" in result


def test_not_from_xicheng_is_told_at_once_and_why(gateway: TestClient) -> None:
    family = _family(gateway, "elsewhere").says("帮我看看我能申请什么")
    family.says(DENY)
    assert "要看“有北京市西城区户籍”" in family.text and "部门审核决定" in family.text
    assert "很可能可以享受" not in family.text


def test_typed_answers_and_a_kind_re_ask_for_an_impossible_age(gateway: TestClient) -> None:
    family = _family(gateway, "typed").says("我能享受哪些帮扶？")
    family.says("是的").says("对")
    family.says("我今年两百岁")
    assert "岁数好像不太对" in family.text and "多大岁数" in family.text
    family.says("六十八")
    assert "最低工资标准" in family.text


# ---- psychological support -----------------------------------------------------------------------


def test_psych_support_with_consent_becomes_a_case_and_its_status(gateway: TestClient) -> None:
    family = _family(gateway, "psych").says("帮我预约心理咨询")
    assert PSYCH_CONSENT.text in family.text and family.payloads == [AFFIRM, DENY]
    family.says(AFFIRM)
    assert "哪种关爱方式" in family.text
    family.says(choose("station"))
    family.says("138 1234 5678")
    assert "什么时候给您打电话" in family.text
    family.says("下午")
    assert "哪个街道" in family.text and len(family.payloads) == 16
    family.says(choose("德胜"))
    (case,) = family.cases()
    assert case.number in family.text and "区民政局和德胜街道办事处" in family.text
    assert (case.phone, case.street, case.consent_version) == ("13812345678", "德胜", PSYCH_CONSENT.version)
    family.says("我的申请怎么样了")
    assert f"{case.number} 心理关爱" in family.text and "等待受理" in family.text
    stranger = _family(gateway, "stranger").says("我的申请怎么样了")
    assert case.number not in stranger.text and "还没查到" in stranger.text


def test_no_consent_still_gets_help_lines_and_nothing_is_stored(gateway: TestClient) -> None:
    family = _family(gateway, "no-consent").says("帮我预约心理咨询")
    family.says(DENY)
    assert "010-82951332" in family.text and "新希望家园" in family.text
    assert family.cases() == []


def test_bad_phone_numbers_re_ask_twice_then_offer_a_person_who_takes_over(gateway: TestClient) -> None:
    family = _family(gateway, "bad-phone").says("帮我预约心理咨询").says(AFFIRM).says(choose("hotline"))
    family.says("1234")
    assert "号码好像不太对" in family.text and "留一个方便联系您的电话" in family.text
    family.says("12812345678")
    assert "号码好像不太对" in family.text
    family.says("123456789")
    assert "请工作人员来帮您" in family.text and REQUEST_HUMAN in family.payloads
    family.says(REQUEST_HUMAN)
    assert "继续刚才的登记" in family.text and family.handoff is not None
    with _sessions(gateway)() as session:
        draft = drafts.latest_draft(session, family.sender)
    assert draft.form == "psych_form" and draft.slots["psych_way"] == "hotline"
    _counselor_closes(gateway, family.handoff["id"])
    family.says("继续刚才的登记")
    assert "接着来" in family.text and "留一个方便联系您的电话" in family.text
    family.says(SKIP)
    assert "哪个街道" in family.text  # no phone, so no call time
    family.says("月坛")
    (case,) = family.cases()
    assert case.phone is None and case.street == "月坛" and case.details["way"] == "hotline"


def _counselor_closes(gateway: TestClient, ticket: int) -> None:
    with transaction(_sessions(gateway)) as session:
        headers = {"Authorization": f"Bearer {add_user(session, f'counselor-{ticket}', Role.COUNSELOR)}"}
    assert gateway.post(f"/api/v1/handoffs/{ticket}/claim", headers=headers).status_code == 200
    closed = gateway.post(f"/api/v1/handoffs/{ticket}/close", json={"outcome": "resolved"}, headers=headers)
    assert closed.status_code == 200


# ---- legal aid -----------------------------------------------------------------------------------


def test_legal_aid_with_hardship_and_mobility_is_a_priority_home_visit(gateway: TestClient) -> None:
    family = _family(gateway, "legal").says("我需要法律援助")
    assert LEGAL_CONSENT.text in family.text
    family.says(AFFIRM).says(choose("litigation"))
    assert "简单说说" in family.text
    family.says("邻居把我家的房子占了，不肯还")
    family.says(AFFIRM)
    assert "出门" in family.text
    family.says(AFFIRM)
    assert "上门服务" in family.text
    family.says(AFFIRM).says(SKIP).says(choose("牛街"))
    (case,) = family.cases()
    assert case.department == "justice" and case.priority and case.home_visit
    assert case.details["description"] == "邻居把我家的房子占了，不肯还" and case.street == "牛街"
    assert case.number in family.text and "主动上门法律援助" in family.text and "优先办理" in family.text


def test_cancel_midway_keeps_nothing_and_says_so(gateway: TestClient) -> None:
    family = _family(gateway, "cancel").says("我需要法律援助").says(AFFIRM).says(choose("consult"))
    family.says("算了，不办了")
    assert "法律援助登记不办了" in family.text and "没有交给任何部门" in family.text
    family.says("继续刚才的登记")
    assert "没有找到没填完的登记" in family.text
    assert family.cases() == []


def test_a_form_survives_a_restarted_conversation(gateway: TestClient) -> None:
    family = _family(gateway, "restart").says("我能享受哪些帮扶？").says(AFFIRM).says(AFFIRM)
    asyncio.run(_restart(gateway, family.sender))
    family.says("我能享受哪些帮扶？")
    assert "填到一半" in family.text and "多大岁数" in family.text


async def _restart(gateway: TestClient, sender: str) -> None:
    settings = gateway.app.state.settings
    rasa = RasaClient(settings.rasa_url, settings.rasa_timeout)
    try:
        await rasa.reset_tracker(sender)
    finally:
        await rasa.aclose()


def test_an_old_button_with_no_question_open_is_answered_kindly(gateway: TestClient) -> None:
    family = _family(gateway, "stale").says(choose("德胜"))
    assert "不用回答" in family.text and "/check_entitlement" in family.payloads

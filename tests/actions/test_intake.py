"""The intake actions called as the action server calls them, on a real (SQLite) database.

The domain file is read as Rasa reads it, and checked against the forms in intake/.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from actions import intake as actions
from helpline import migrate
from helpline.db import make_engine, make_session_factory, transaction
from helpline.settings import REPO_ROOT
from intake import cases, consent, drafts, forms, questions
from knowledge import repository
from knowledge.yamlio import Kind
from tests.conftest import LEGAL_CONSENT, PSYCH_CONSENT

DOMAIN: dict[str, Any] = yaml.safe_load((REPO_ROOT / "nlu/domain/intake.yml").read_text(encoding="utf-8"))
SENDER = "family-1"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per module; each test gets a copy (migrating takes a second)."""
    folder = tmp_path_factory.mktemp("template")
    migrate.upgrade(f"sqlite:///{folder / 'actions.db'}")
    return folder


@pytest.fixture
def db(migrated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    for file in migrated.iterdir():
        shutil.copy(file, tmp_path / file.name)
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    monkeypatch.setenv("HELPLINE_DATABASE_URL", url)
    actions._sessions.cache_clear()
    engine = make_engine(url)
    yield make_session_factory(engine)
    actions._sessions.cache_clear()
    engine.dispose()


def _tracker(
    slots: dict[str, Any] | None = None,
    *,
    intent: str = "inform",
    text: str = "",
    candidates: dict[str, Any] | None = None,
    loop: str | None = None,
    sender: str = SENDER,
) -> Tracker:
    """A tracker as Rasa sends it: slot candidates are the SlotSet events after the user's message."""
    candidates = candidates or {}
    events = [{"event": "user", "text": text}] + [
        {"event": "slot", "name": name, "value": value} for name, value in candidates.items()
    ]
    return Tracker(
        sender_id=sender,
        slots={**(slots or {}), **candidates},
        latest_message={"intent": {"name": intent, "confidence": 1.0}, "text": text, "entities": []},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": loop} if loop else {},
        latest_action_name="action_listen",
    )


def _run(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return events, dispatcher


def _slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def _texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(message.get("text") or "" for message in dispatcher.messages)


def _payloads(dispatcher: CollectingDispatcher) -> list[str]:
    return [button["payload"] for message in dispatcher.messages for button in message.get("buttons") or []]


# ---- the domain and the forms agree --------------------------------------------------------------


def test_domain_forms_are_the_intake_forms() -> None:
    assert {name: form["required_slots"] for name, form in DOMAIN["forms"].items()} == {
        name: list(slots) for name, slots in forms.FORM_SLOTS.items()
    }


def test_every_action_in_the_domain_is_served_and_every_question_has_an_ask_action() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(DOMAIN["actions"]) <= set(executor.actions)
    asked = {name.removeprefix("action_ask_") for name in DOMAIN["actions"] if name.startswith("action_ask_")}
    assert asked == set(forms.VALIDATORS)


def test_every_slot_is_filled_only_while_its_question_is_asked() -> None:
    for name, slot in DOMAIN["slots"].items():
        for mapping in slot["mappings"]:
            if mapping["type"] != "custom":
                assert mapping["conditions"] == [{"active_loop": _form_of(name), "requested_slot": name}], (
                    name
                )


def _form_of(slot: str) -> str:
    return next(form for form, slots in forms.FORM_SLOTS.items() if slot in slots)


def test_free_text_never_swallows_a_hand_off_signal_or_a_cancel() -> None:
    for name, slot in DOMAIN["slots"].items():
        for mapping in slot["mappings"]:
            if mapping["type"] == "from_text":
                assert {"request_human", "express_crisis", "express_distress", "stop_form"} <= set(
                    mapping["not_intent"]
                ), name


def test_every_button_value_is_one_its_slot_accepts() -> None:
    context = forms.Context(today=date(2026, 11, 29), chat_retention_days=365)
    payload_values = {questions.AFFIRM: "yes", questions.DENY: "no", questions.SKIP: "unknown"}
    for slot in forms.VALIDATORS:
        for button in questions.prompt(slot, chat_retention_days=365).buttons:
            if button.payload.startswith("/inform"):
                value = json.loads(button.payload.removeprefix("/inform"))["choice"]
            else:
                mapped = {m.get("intent"): m.get("value") for m in DOMAIN["slots"][slot]["mappings"]}
                value = mapped.get(button.payload.lstrip("/"), payload_values.get(button.payload))
            assert forms.validate(slot, value, context) is not None or slot.endswith("consent"), (
                slot,
                button,
            )


# ---- validation ----------------------------------------------------------------------------------


def test_a_valid_answer_is_stored_canonically_and_the_draft_saved(db: sessionmaker[Session]) -> None:
    tracker = _tracker(
        {"ent_hukou": "yes", "ent_lost_child": "yes", "requested_slot": "ent_age"},
        candidates={"ent_age": "六十八岁"},
        loop=forms.ENTITLEMENT_FORM,
        text="六十八岁",
    )
    events, dispatcher = _run(actions.ValidateEntitlementForm(), tracker)
    assert _slots(events)["ent_age"] == "68"
    assert dispatcher.messages == []
    with db() as session:
        draft = drafts.latest_draft(session, SENDER, forms.ENTITLEMENT_FORM)
    assert draft.slots == {"ent_hukou": "yes", "ent_lost_child": "yes", "ent_age": "68"}


def test_a_wrong_answer_is_re_asked_kindly_twice_then_a_person_is_offered(db: sessionmaker[Session]) -> None:
    retries = None
    said = []
    for attempt in range(1, 4):
        tracker = _tracker(
            {"psych_consent": PSYCH_CONSENT.version, "psych_way": "peer", "intake_retries": retries},
            candidates={"psych_phone": "12345"},
            loop=forms.PSYCH_FORM,
        )
        events, dispatcher = _run(actions.ValidatePsychForm(), tracker)
        assert _slots(events)["psych_phone"] is None
        retries = _slots(events)["intake_retries"]
        assert retries == {"psych_phone": attempt}
        said.append((_texts(dispatcher), _payloads(dispatcher)))
    assert "号码好像不太对" in said[0][0] and "号码好像不太对" in said[1][0]
    assert "请工作人员来帮您" in said[2][0]
    assert said[2][1] == [questions.REQUEST_HUMAN, questions.SKIP, questions.STOP]


def test_a_good_answer_resets_the_count(db: sessionmaker[Session]) -> None:
    tracker = _tracker(
        {"psych_consent": PSYCH_CONSENT.version, "intake_retries": {"psych_phone": 2}},
        candidates={"psych_phone": "138 1234 5678"},
        loop=forms.PSYCH_FORM,
    )
    events, _ = _run(actions.ValidatePsychForm(), tracker)
    assert _slots(events)["psych_phone"] == "13812345678" and _slots(events)["intake_retries"] is None


def test_nothing_extracted_returns_nothing_so_the_form_lets_the_message_go(db: sessionmaker[Session]) -> None:
    tracker = _tracker({"requested_slot": "ent_hukou"}, intent="request_human", loop=forms.ENTITLEMENT_FORM)
    events, dispatcher = _run(actions.ValidateEntitlementForm(), tracker)
    assert [e for e in events if e["name"] != "requested_slot"] == [] and dispatcher.messages == []
    with db() as session:
        assert drafts.latest_draft(session, SENDER) is None


def test_slots_reset_at_the_start_of_a_form_are_not_wrong_answers(db: sessionmaker[Session]) -> None:
    reset = dict.fromkeys(forms.PSYCH_SLOTS)
    events, dispatcher = _run(actions.ValidatePsychForm(), _tracker(candidates=reset, loop=forms.PSYCH_FORM))
    assert dispatcher.messages == [] and "intake_retries" not in _slots(events)


def test_not_from_xicheng_ends_the_check_at_once(db: sessionmaker[Session]) -> None:
    tracker = _tracker(candidates={"ent_hukou": "no"}, loop=forms.ENTITLEMENT_FORM)
    events, _ = _run(actions.ValidateEntitlementForm(), tracker)
    assert _slots(events)["requested_slot"] is None


def test_declined_consent_ends_the_form(db: sessionmaker[Session]) -> None:
    tracker = _tracker(candidates={"legal_consent": "no"}, loop=forms.LEGAL_FORM)
    events, _ = _run(actions.ValidateLegalForm(), tracker)
    assert _slots(events)["legal_consent"] == consent.DECLINED and _slots(events)["requested_slot"] is None


# ---- questions -----------------------------------------------------------------------------------


def test_questions_come_with_buttons_and_skip(db: sessionmaker[Session]) -> None:
    _, dispatcher = _run(actions.ASK_ACTIONS[0](), _tracker())
    assert questions.SKIP in _payloads(dispatcher)


def test_the_income_question_shows_the_minimum_wage_once_staff_set_it(db: sessionmaker[Session]) -> None:
    ask = next(cls() for cls in actions.ASK_ACTIONS if cls.slot == "ent_income")
    _, before = _run(ask, _tracker())
    assert "由街道核查" in _texts(before)
    with transaction(db) as session:
        repository.put_directory(session, Kind.FACTS, _min_wage_fact("2540"), actor="staff")
    _, after = _run(ask, _tracker())
    assert "目前是 2540 元/月" in _texts(after)


def _min_wage_fact(value: str) -> dict[str, Any]:
    return {
        "key": "min_wage_beijing",
        "label": "北京市最低工资标准",
        "value": value,
        "unit": "元/月",
        "effective_from": date(2025, 9, 1),
        "decided_by": "北京市人力资源和社会保障局公布",
        "note": "",
    }


def test_consent_question_is_the_versioned_text(db: sessionmaker[Session]) -> None:
    ask = next(cls() for cls in actions.ASK_ACTIONS if cls.slot == "psych_consent")
    _, dispatcher = _run(ask, _tracker())
    assert _texts(dispatcher) == PSYCH_CONSENT.text
    assert _payloads(dispatcher) == [questions.AFFIRM, questions.DENY]


def test_consent_tells_and_records_this_sites_chat_retention(
    db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPLINE_MESSAGE_RETENTION_DAYS", "30")
    ask = next(cls() for cls in actions.ASK_ACTIONS if cls.slot == "legal_consent")
    _, dispatcher = _run(ask, _tracker())
    assert "聊天记录保存30天" in _texts(dispatcher)
    tracker = _tracker(candidates={"legal_consent": "yes"}, loop=forms.LEGAL_FORM)
    events, _ = _run(actions.ValidateLegalForm(), tracker)
    assert _slots(events)["legal_consent"] == consent.consent_for("legal", 30).version


# ---- start, pause, resume, cancel ----------------------------------------------------------------


def test_start_is_fresh_without_a_draft_and_resumes_with_one(db: sessionmaker[Session]) -> None:
    events, dispatcher = _run(actions.ActionStartForm(), _tracker(intent="request_legal_aid"))
    assert "法律援助" in _texts(dispatcher) and set(_slots(events).values()) == {None}
    with transaction(db) as session:
        drafts.save_draft(session, SENDER, forms.LEGAL_FORM, {"legal_matter": "consult"})
    events, dispatcher = _run(actions.ActionStartForm(), _tracker(intent="request_legal_aid"))
    assert _texts(dispatcher) == questions.RESUMING and _slots(events)["legal_matter"] == "consult"


def test_a_legal_matter_told_with_the_request_is_kept_and_not_asked_again(db: sessionmaker[Session]) -> None:
    told = "那我申请一个 孩子的抚恤金让单位扣着不给"
    events, dispatcher = _run(actions.ActionStartForm(), _tracker(intent="request_legal_aid", text=told))
    assert questions.MATTER_NOTED in _texts(dispatcher)
    assert _slots(events)["legal_description"] == told
    events, dispatcher = _run(
        actions.ActionStartForm(), _tracker(intent="request_legal_aid", text="我想申请法律援助")
    )
    assert questions.MATTER_NOTED not in _texts(dispatcher) and set(_slots(events).values()) == {None}


def test_pause_keeps_the_answers_and_leaves_the_form(db: sessionmaker[Session]) -> None:
    slots = {"psych_consent": PSYCH_CONSENT.version, "psych_way": "hotline"}
    events, dispatcher = _run(
        actions.ActionPauseForm(), _tracker(slots, intent="request_human", loop=forms.PSYCH_FORM)
    )
    assert ActiveLoop(None) in events
    assert "继续刚才的登记" in _texts(dispatcher)
    with db() as session:
        assert drafts.latest_draft(session, SENDER).slots == slots


def test_pause_says_nothing_about_forms_to_someone_in_crisis(db: sessionmaker[Session]) -> None:
    slots = {"psych_consent": PSYCH_CONSENT.version}
    _, dispatcher = _run(
        actions.ActionPauseForm(), _tracker(slots, intent="express_crisis", loop=forms.PSYCH_FORM)
    )
    assert dispatcher.messages == []
    with db() as session:
        assert drafts.latest_draft(session, SENDER) is not None


def test_resume_reopens_the_latest_draft_or_offers_the_forms(db: sessionmaker[Session]) -> None:
    _, dispatcher = _run(actions.ActionResumeForm(), _tracker(intent="resume_form"))
    assert _payloads(dispatcher) == ["/check_entitlement", "/request_psych_support", "/request_legal_aid"]
    with transaction(db) as session:
        drafts.save_draft(session, SENDER, forms.ENTITLEMENT_FORM, {"ent_hukou": "yes"})
    events, _ = _run(actions.ActionResumeForm(), _tracker(intent="resume_form"))
    assert _slots(events)["ent_hukou"] == "yes"
    assert FollowupAction(forms.ENTITLEMENT_FORM) in events
    events, dispatcher = _run(actions.ActionResumeForm(), _tracker(loop=forms.LEGAL_FORM))
    assert events == [] and _texts(dispatcher) == questions.CONTINUING


def test_cancel_deletes_the_draft_and_says_what_was_kept(db: sessionmaker[Session]) -> None:
    with transaction(db) as session:
        drafts.save_draft(session, SENDER, forms.LEGAL_FORM, {"legal_matter": "consult"})
        kept = cases.create_case(session, forms.psych_case(SENDER, {"psych_consent": PSYCH_CONSENT.version}))
    events, dispatcher = _run(actions.ActionCancelForm(), _tracker(intent="stop_form", loop=forms.LEGAL_FORM))
    assert "法律援助登记不办了" in _texts(dispatcher) and f"{kept.number} 不受影响" in _texts(dispatcher)
    assert _slots(events)["legal_matter"] is None
    with db() as session:
        assert drafts.latest_draft(session, SENDER) is None
    _, dispatcher = _run(actions.ActionCancelForm(), _tracker(intent="stop_form"))
    assert _texts(dispatcher) == questions.NOTHING_TO_CANCEL


def test_a_button_with_no_question_open_offers_the_draft(db: sessionmaker[Session]) -> None:
    with transaction(db) as session:
        drafts.save_draft(session, SENDER, forms.PSYCH_FORM, {"psych_way": "peer"})
    _, dispatcher = _run(actions.ActionAnswerOutsideForm(), _tracker(intent="skip"))
    assert _payloads(dispatcher) == [questions.RESUME]


# ---- results -------------------------------------------------------------------------------------


def test_entitlement_result_comes_from_the_knowledge_base(db: sessionmaker[Session]) -> None:
    with transaction(db) as session:
        repository.load_seed_if_empty(session)
        drafts.save_draft(session, SENDER, forms.ENTITLEMENT_FORM, {"ent_hukou": "yes"})
    slots = {"ent_hukou": "yes", "ent_lost_child": "yes", "ent_age": "72", "ent_income": "unknown"}
    events, dispatcher = _run(actions.ActionSubmitEntitlement(), _tracker(slots))
    text = _texts(dispatcher)
    assert "每年一次免费体检（三（四）1）" in text and "找区卫生局" in text
    assert "所在街道办事处核查家庭经济状况" in text and "部门审核决定" in text
    assert set(_slots(events).values()) == {None}
    with db() as session:
        assert drafts.latest_draft(session, SENDER) is None


def test_psych_case_is_created_for_civil_affairs_and_the_street(db: sessionmaker[Session]) -> None:
    slots = {
        "psych_consent": PSYCH_CONSENT.version,
        "psych_way": "station",
        "psych_phone": "13812345678",
        "psych_call_time": "afternoon",
        "psych_street": "德胜",
    }
    _, dispatcher = _run(actions.ActionSubmitPsych(), _tracker(slots))
    with db() as session:
        (case,) = cases.cases_for_sender(session, SENDER)
        assert (case.department, case.street, case.phone, case.consent_version) == (
            "civil_affairs",
            "德胜",
            "13812345678",
            PSYCH_CONSENT.version,
        )
    assert case.number in _texts(dispatcher) and "区民政局和德胜街道办事处" in _texts(dispatcher)


def test_declined_psych_consent_creates_no_case_and_gives_the_help_lines(db: sessionmaker[Session]) -> None:
    _, dispatcher = _run(actions.ActionSubmitPsych(), _tracker({"psych_consent": consent.DECLINED}))
    assert "010-82951332" in _texts(dispatcher) and "心理关爱服务站" in _texts(dispatcher)
    with db() as session:
        assert cases.cases_for_sender(session, SENDER) == []


def test_legal_case_is_priority_with_a_home_visit_when_asked(db: sessionmaker[Session]) -> None:
    slots = {
        "legal_consent": LEGAL_CONSENT.version,
        "legal_matter": "litigation",
        "legal_description": "房子被占",
        "legal_hardship": "yes",
        "legal_mobility": "yes",
        "legal_home_visit": "yes",
        "legal_phone": "unknown",
        "legal_street": "unknown",
    }
    _, dispatcher = _run(actions.ActionSubmitLegal(), _tracker(slots))
    with db() as session:
        (case,) = cases.cases_for_sender(session, SENDER)
        assert case.department == "justice" and case.priority and case.home_visit and case.phone is None
    assert "主动上门法律援助" in _texts(dispatcher)


def test_a_family_hears_only_its_own_cases(db: sessionmaker[Session]) -> None:
    with transaction(db) as session:
        mine = cases.create_case(session, forms.psych_case(SENDER, {"psych_consent": PSYCH_CONSENT.version}))
        theirs = cases.create_case(
            session, forms.psych_case("other", {"psych_consent": PSYCH_CONSENT.version})
        )
    _, dispatcher = _run(actions.ActionCaseStatus(), _tracker(intent="ask_case_status"))
    assert mine.number in _texts(dispatcher) and theirs.number not in _texts(dispatcher)

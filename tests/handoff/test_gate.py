"""The safety stage on its own, on real databases: what each kind of message leads to."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from handoff import crisis, duty, queue, texts
from handoff.gate import FamilyMessage, Gate, Turn
from handoff.models import Notification, Priority, Signal, Ticket
from handoff.risk import RiskAssessment, RiskLevel, RiskSignal
from handoff.safety import LexiconSource, SafetyNet
from helpline.db import make_engine, make_session_factory, transaction, utcnow

_ids = itertools.count(1)


@pytest.fixture
def gate(sessions: sessionmaker[Session]) -> Gate:
    return Gate(sessions, SafetyNet(), minutes_per_place=5.0)


def _say(gate: Gate, text_: str, sender: str = "fam") -> Turn:
    return gate.before_rasa(FamilyMessage(sender, "rest", text_, next(_ids)))


def _texts(turn: Turn) -> str:
    return "\n".join(u.text for u in turn.replies)


def _ticket(sessions: sessionmaker[Session], sender: str = "fam") -> Ticket | None:
    with sessions() as session:
        return queue.open_ticket_of(session, sender)


def test_crisis_gets_warm_words_then_lines_then_a_place_and_no_rasa(gate: Gate, sessions) -> None:
    with transaction(sessions) as session:
        duty.go_on(session, "c1", utcnow())
    turn = _say(gate, "我真的不想活了")
    assert not turn.ask_rasa and turn.level is RiskLevel.CRISIS and turn.notified
    warm, lines, place = (u.text for u in turn.replies)
    assert warm == texts.CRISIS_WARM
    for number, hours in [
        ("010-82951332", "24小时"),
        ("400-161-9995", "24小时"),
        ("12356", "每天至少18小时"),
    ]:
        assert number in lines and hours in lines
    assert "120" in lines and "110" in lines
    assert texts.PLACE_URGENT in place and "分钟" not in place, "a crisis is never told a wait"
    ticket = _ticket(sessions)
    assert (ticket.priority, ticket.status) == ("crisis", "waiting")
    with sessions() as session:
        assert session.scalar(select(Notification.kind)) == "new_ticket"
        signal = session.scalar(select(Signal).where(Signal.level == "crisis"))
        assert signal.sentence == "我真的不想活了" and signal.source == "lexicon"


def test_with_nobody_on_duty_a_crisis_hears_we_are_reaching_someone_and_gets_the_lines(gate: Gate) -> None:
    _, lines, place = (u.text for u in _say(gate, "我真的不想活了").replies)
    assert "010-82951332" in lines and "400-161-9995" in lines
    assert texts.PLACE_URGENT_NOBODY in place
    assert texts.PLACE_URGENT not in place and "分钟" not in place and "小时" not in place
    calm = _texts(_say(gate, "转人工", sender="other"))
    assert "现在暂时没有工作人员在线" in calm and "分钟" not in calm


def test_staff_edited_help_lines_are_what_the_family_gets(gate: Gate, sessions) -> None:
    with transaction(sessions) as session:
        session.execute(
            text(
                "INSERT INTO kb_helplines (id, name, number, hours, scope, priority) "
                "VALUES ('local', '西城区心理援助热线', '010-12345678', '每天8点到22点', '', 1)"
            )
        )
    replies = _texts(_say(gate, "我想自杀"))
    assert "西城区心理援助热线 010-12345678（每天8点到22点）" in replies
    assert "400-161-9995" not in replies


def test_a_broken_help_line_table_still_gives_the_default_lines_and_a_ticket(gate: Gate, sessions) -> None:
    with transaction(sessions) as session:
        session.execute(text("DROP TABLE kb_helplines"))
    turn = _say(gate, "活够了，想一了百了")
    assert "010-82951332" in _texts(turn)
    assert _ticket(sessions).priority == "crisis"


class _Exploding:
    name = "classifier"

    def assess(self, text_: str) -> RiskAssessment:
        raise RuntimeError("model not loaded")


class _Worried:
    name = "classifier"

    def assess(self, text_: str) -> RiskAssessment:
        return RiskAssessment(RiskLevel.CRISIS)


def test_a_failing_source_never_silences_the_lexicon(sessions) -> None:
    gate = Gate(sessions, SafetyNet([_Exploding(), LexiconSource()]), 5.0)
    assert _say(gate, "不想活了").level is RiskLevel.CRISIS


def test_another_sources_crisis_alone_answers_then_asks_directly_and_its_yes_is_a_crisis(sessions) -> None:
    gate = Gate(sessions, SafetyNet([LexiconSource(), _Worried()]), 5.0)
    message = FamilyMessage("fam", "rest", "养老院能优先安排吗", next(_ids))
    before = gate.before_rasa(message)
    assert before.ask_rasa and before.replies == [] and before.unconfirmed is RiskLevel.CRISIS
    after = gate.after_rasa(message, before, [])  # Rasa answered the question, no risk intent
    assert not after.replaces_rasa, "the answer to the question stays"
    assert after.replies[0].text == texts.SAFETY_QUESTION and "010-82951332" in _texts(after)
    assert _ticket(sessions) is None
    assert _say(gate, "有").level is RiskLevel.CRISIS


def test_another_sources_crisis_confirmed_by_rasas_intent_is_a_crisis(sessions) -> None:
    gate = Gate(sessions, SafetyNet([LexiconSource(), _Worried()]), 5.0)
    message = FamilyMessage("fam", "rest", "这条老命我不要了", next(_ids))
    after = gate.after_rasa(message, gate.before_rasa(message), [{"intent": "express_crisis"}])
    assert after.replaces_rasa and after.level is RiskLevel.CRISIS
    assert _ticket(sessions).priority == "crisis"


def test_another_sources_crisis_is_confirmed_by_the_lexicons_doubt_now_or_earlier(sessions) -> None:
    gate = Gate(sessions, SafetyNet([LexiconSource(), _Worried()]), 5.0)
    assert _say(gate, "活着太累了", sender="a").level is RiskLevel.CRISIS  # the lexicon's ambiguous phrase
    grief = _say(gate, "想我儿子了", sender="c")  # grief alone confirms nothing: asked after the answer
    assert grief.level is RiskLevel.DISTRESS and grief.unconfirmed is RiskLevel.CRISIS and grief.ask_rasa
    lexicon_only = Gate(sessions, SafetyNet(), 5.0)
    gate_alone = Gate(sessions, SafetyNet([_Worried()]), 5.0)
    _say(lexicon_only, "我天天哭", sender="b")
    grief_earlier = _say(gate_alone, "今天天气不错", sender="b")
    assert grief_earlier.level is RiskLevel.DISTRESS, "grief earlier confirms nothing: still asks"
    _say(lexicon_only, "活着太累了", sender="d")
    doubt_earlier = _say(gate_alone, "今天天气不错", sender="d")
    assert doubt_earlier.level is RiskLevel.CRISIS, "the lexicon's doubt earlier confirms"


def test_another_sources_emergency_alone_is_no_emergency(sessions) -> None:
    class Alarmed:
        name = "classifier"

        def assess(self, text_: str) -> RiskAssessment:
            return RiskAssessment(RiskLevel.EMERGENCY)

    gate = Gate(sessions, SafetyNet([LexiconSource(), Alarmed()]), 5.0)
    turn = _say(gate, "住院了能帮忙找个陪护吗")
    assert turn.level is RiskLevel.NONE and turn.ask_rasa
    assert _ticket(sessions) is None


def test_emergency_names_the_number_for_what_happened(gate: Gate, sessions) -> None:
    turn = _say(gate, "厨房着火了")
    assert turn.replies[0].text.startswith("请马上拨打 119（火警）")
    assert not turn.ask_rasa
    assert _ticket(sessions).priority == "emergency"
    turn = _say(gate, "老伴晕倒了叫不醒", sender="fam2")
    assert turn.replies[0].text.startswith("请马上拨打 120（急救）")


def test_asking_for_a_person_queues_at_any_time(gate: Gate, sessions) -> None:
    for typed in ["人工", " 转人工！", "转 人 工"]:
        sender = f"fam-{typed.strip()}"
        turn = _say(gate, typed, sender=sender)
        assert not turn.ask_rasa
        assert "第 " in _texts(turn)
        assert _ticket(sessions, sender).priority == "requested"
    assert _say(gate, "人工服务是什么意思，怎么申请补贴", sender="other").ask_rasa


def test_a_request_after_distress_is_queued_as_distress(gate: Gate, sessions) -> None:
    turn = _say(gate, "晚上一个人睡不着，天天哭")
    assert turn.ask_rasa and turn.level is RiskLevel.DISTRESS
    assert turn.replies[-1].buttons[0].payload == texts.HANDOFF_PHRASE
    _say(gate, texts.HANDOFF_PHRASE)
    assert _ticket(sessions).priority == "distress"


def test_ambiguous_asks_directly_and_yes_is_a_crisis(gate: Gate, sessions) -> None:
    turn = _say(gate, "活着太累了")
    assert not turn.ask_rasa
    assert turn.replies[0].text == texts.SAFETY_QUESTION
    assert turn.replies[1].text.startswith(texts.SAFETY_LINES_INTRO)
    assert _ticket(sessions) is None
    turn = _say(gate, "是")
    assert turn.level is RiskLevel.CRISIS
    assert "010-82951332" in _texts(turn)
    assert _ticket(sessions).priority == "crisis"
    with sessions() as session:
        answer = session.scalar(select(Signal).where(Signal.source == "safety_answer"))
        assert (answer.level, answer.sentence) == ("crisis", "是")


@pytest.mark.parametrize("answer", ["没有", "没有，就是累", "不是的"])
def test_ambiguous_then_no_is_thanked_without_a_ticket(gate: Gate, sessions, answer: str) -> None:
    _say(gate, "熬一天算一天吧")
    turn = _say(gate, answer)
    assert [u.text for u in turn.replies] == [texts.SAFETY_ANSWER_NO]
    assert _ticket(sessions) is None
    assert _say(gate, "补贴怎么申请").ask_rasa


def test_ambiguous_then_an_unclear_answer_goes_on_normally(gate: Gate, sessions) -> None:
    _say(gate, "没什么盼头了")
    turn = _say(gate, "补贴什么时候发")
    assert turn.ask_rasa and _ticket(sessions) is None


def test_messages_while_waiting_go_to_the_ticket_and_can_raise_it(gate: Gate, sessions) -> None:
    _say(gate, "人工")
    turn = _say(gate, "补贴什么时候发")
    assert not turn.ask_rasa
    assert "第 1 位" in _texts(turn)
    turn = _say(gate, "我不想活了")
    assert "010-82951332" in _texts(turn)
    assert _ticket(sessions).priority == "crisis"
    turn = _say(gate, "你们快点")
    assert "010-82951332" not in _texts(turn)
    assert _ticket(sessions).priority == "crisis"
    again = _say(gate, "药我都攒好了 够用了")
    assert "010-82951332" in _texts(again), "a crisis while waiting gets the lines again"
    assert texts.CRISIS_WARM in _texts(again) and texts.LINES_REPEAT_INTRO in _texts(again)
    assert texts.CRISIS_LINES_INTRO not in _texts(again), "not the whole script again"


def test_a_doubt_said_while_waiting_at_risk_gets_warmth_and_the_lines_again(gate: Gate, sessions) -> None:
    _say(gate, "我不想活了")
    turn = _say(gate, "甭劝我了")
    assert texts.CRISIS_WARM in _texts(turn) and "010-82951332" in _texts(turn)
    assert "010-82951332" not in _texts(_say(gate, "好的")), "a calm message is only acknowledged"


def test_a_family_waiting_in_an_emergency_is_reminded_of_the_numbers(gate: Gate, sessions) -> None:
    _say(gate, "老伴在厕所摔了 叫也不答应")
    assert _ticket(sessions).priority == "emergency"
    turn = _say(gate, "快点儿啊")
    assert "请马上拨打 120" in _texts(turn) and "110" not in _texts(turn), "the number for a fall"
    assert "请马上拨打" not in _texts(_say(gate, "救护车来了 我先跟着去医院")), "help has come"
    _say(gate, "人工", sender="other")
    assert "请马上拨打" not in _texts(_say(gate, "快点儿啊", sender="other")), "not in a plain request"


def test_nothing_from_the_bot_once_a_counselor_has_the_ticket(gate: Gate, sessions) -> None:
    _say(gate, "人工")
    with transaction(sessions) as session:
        queue.claim(session, _ticket(sessions).id, "c1", utcnow())
    for message in ["你好", "我想死", "活着太累了", "人工"]:
        turn = _say(gate, message)
        assert turn.replies == [] and not turn.ask_rasa
    ticket = _ticket(sessions)
    assert ticket.priority == "crisis"
    with sessions() as session:
        audiences = session.scalars(
            select(Notification.audience).where(Notification.kind == "priority_raised")
        )
        assert list(audiences) == ["counselor:c1"]


def test_rasa_intents_are_a_second_signal(gate: Gate, sessions) -> None:
    message = FamilyMessage("fam", "rest", "我天天哭 心里有个念头压着", next(_ids))
    before = gate.before_rasa(message)
    assert before.ask_rasa
    after = gate.after_rasa(message, before, [{"intent": "express_crisis", "confidence": 0.9}])
    assert after.replaces_rasa and after.replies[0].text == texts.SAFETY_QUESTION, "grief confirms nothing"
    assert "010-82951332" in _texts(after)
    assert _ticket(sessions) is None
    with sessions() as session:
        assert session.scalar(select(Signal.category).where(Signal.source == "rasa")) == "express_crisis"


def test_rasa_crisis_alone_asks_directly_instead_of_opening_a_ticket(gate: Gate, sessions) -> None:
    message = FamilyMessage("fam", "rest", "社保卡激活在哪办", next(_ids))
    before = gate.before_rasa(message)
    after = gate.after_rasa(message, before, [{"intent": "express_crisis", "confidence": 0.6}])
    assert after.replaces_rasa and after.replies[0].text == texts.SAFETY_QUESTION
    assert "010-82951332" in _texts(after)
    assert _ticket(sessions) is None
    assert _say(gate, "没有").replies[0].text == texts.SAFETY_ANSWER_NO


def test_rasa_emergency_alone_opens_nothing(gate: Gate, sessions) -> None:
    message = FamilyMessage("fam", "rest", "有人能陪我去医院看病吗", next(_ids))
    after = gate.after_rasa(message, gate.before_rasa(message), [{"intent": "report_emergency"}])
    assert after.replies == [] and not after.replaces_rasa
    assert _ticket(sessions) is None


def test_rasa_request_human_and_distress(gate: Gate, sessions) -> None:
    message = FamilyMessage("a", "rest", "能不能找个人和我聊聊", next(_ids))
    after = gate.after_rasa(message, gate.before_rasa(message), [{"intent": "request_human"}])
    assert not after.replaces_rasa, "a paused form's words from Rasa are kept"
    assert "第 1 位" in _texts(after) and _ticket(sessions, "a").priority == "requested"
    message = FamilyMessage("b", "rest", "心里空落落的", next(_ids))
    before = gate.before_rasa(message)
    after = gate.after_rasa(message, before, [{"intent": "express_distress"}])
    assert after.replies == [] and not after.replaces_rasa, "the lexicon already said the distress words"
    message = FamilyMessage("c", "rest", "最近不太好", next(_ids))
    after = gate.after_rasa(message, gate.before_rasa(message), [{"intent": "express_distress"}])
    assert [u.text for u in after.replies] == [u.text for u in crisis.distress_reply()]
    assert _ticket(sessions, "c") is None


def test_state_item_while_open_and_once_after_close(gate: Gate, sessions) -> None:
    assert gate.state_item("fam") is None
    _say(gate, "人工")
    ticket_id = _ticket(sessions).id
    assert gate.state_item("fam") == {
        "id": ticket_id,
        "status": "waiting",
        "priority": "requested",
        "position": 1,
    }
    with transaction(sessions) as session:
        ticket, _ = queue.claim(session, ticket_id, "c1", utcnow())
        queue.close(session, ticket, "c1", "resolved", "", utcnow())
    assert gate.state_item("fam") == {
        "id": ticket_id,
        "status": "closed",
        "priority": "requested",
        "position": 0,
    }
    assert gate.state_item("fam") is None


def test_a_crisis_ticket_closed_while_rasa_was_down_resets_rasa_before_the_next_turn(
    gate: Gate, sessions
) -> None:
    _say(gate, "不想活了")
    with transaction(sessions) as session:
        ticket, _ = queue.claim(session, _ticket(sessions).id, "c1", utcnow())
        queue.close(session, ticket, "c1", "safe", "", utcnow())
    turn = _say(gate, "你好")
    assert turn.ask_rasa and turn.reset_rasa_first
    gate.rasa_reset_done("fam")
    assert not _say(gate, "你好").reset_rasa_first


@pytest.fixture
def broken_gate(tmp_path) -> Iterator[Gate]:
    """A gate on a database without a single table: every query fails."""
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'nothing.db'}")
    yield Gate(make_session_factory(engine), SafetyNet(), 5.0)
    engine.dispose()


def test_with_a_failing_database_a_crisis_still_gets_the_lines(broken_gate: Gate) -> None:
    turn = _say(broken_gate, "我想自杀")
    assert turn.replies[0].text == texts.CRISIS_WARM
    assert "010-82951332" in _texts(turn)
    assert not turn.ask_rasa
    assert _say(broken_gate, "你好").ask_rasa


def test_priorities_map_from_risk_levels() -> None:
    assert Priority.for_risk(RiskLevel.CRISIS) is Priority.CRISIS
    assert Priority.for_risk(RiskLevel.NONE) is None


def test_a_family_may_withdraw_its_own_request_but_not_a_crisis(gate: Gate, sessions) -> None:
    _say(gate, "人工", sender="asked")
    turn = _say(gate, "不用了 我自己去街道问问", sender="asked")
    assert [u.text for u in turn.replies] == [texts.WITHDRAWN]
    assert _ticket(sessions, "asked") is None
    _say(gate, "我不想活了", sender="risk")
    turn = _say(gate, "我没事了", sender="risk")
    assert texts.WITHDRAWN not in _texts(turn)
    assert _ticket(sessions, "risk").priority == "crisis", "a crisis ticket stays until a counselor closes it"


def test_a_waiting_family_still_gets_answers_a_claimed_one_hears_only_the_counselor(
    gate: Gate, sessions
) -> None:
    _say(gate, "人工")
    waiting = _say(gate, "体检在哪做")
    assert waiting.while_waiting and not waiting.ask_rasa
    with transaction(sessions) as session:
        queue.claim(session, _ticket(sessions).id, "wang", utcnow())
    claimed = _say(gate, "体检在哪做")
    assert claimed.replies == [] and not claimed.while_waiting


def test_the_last_single_offer_is_remembered_once(gate: Gate) -> None:
    gate.remember_offer("fam", "/request_legal_aid")
    assert gate.take_offer("fam") == "/request_legal_aid"
    assert gate.take_offer("fam") is None
    gate.remember_offer("fam", None)
    assert gate.take_offer("fam") is None


def test_another_sources_crisis_alone_on_a_practical_message_is_not_asked_about(sessions) -> None:
    class Worried:
        name = "classifier"

        def assess(self, text_: str) -> RiskAssessment:
            signal = RiskSignal(RiskLevel.CRISIS, "classifier", "p_crisis=0.90", text_)
            return RiskAssessment(RiskLevel.CRISIS, (signal,))

    gate = Gate(sessions, SafetyNet([LexiconSource(), Worried()]), 5.0)
    message = FamilyMessage("fam", "rest", "我们老两口想住养老院 能优先安排吗", next(_ids))
    before = gate.before_rasa(message)
    after = gate.after_rasa(message, before, [], intent="ask_policy")
    assert after.replies == [] and not after.replaces_rasa
    with sessions() as session:
        assert session.scalar(select(Signal.source)) == "classifier", "still kept for the summary"


class _FirmlyWorried:
    name = "classifier"

    def assess(self, text_: str) -> RiskAssessment:
        signal = RiskSignal(RiskLevel.CRISIS, "classifier", "p_crisis=0.95", text_)
        return RiskAssessment(RiskLevel.CRISIS, (signal,), firm=True)


def test_another_sources_firm_crisis_is_asked_about_even_on_a_practical_message(sessions) -> None:
    gate = Gate(sessions, SafetyNet([LexiconSource(), _FirmlyWorried()]), 5.0)
    message = FamilyMessage("fam", "rest", "这礼拜六的事我都安排妥了 你们查查", next(_ids))
    after = gate.after_rasa(message, gate.before_rasa(message), [], intent="ask_case_status")
    assert not after.replaces_rasa, "Rasa's answer stays, the question follows it"
    assert after.replies[0].text == texts.SAFETY_QUESTION and "010-82951332" in _texts(after)
    assert _ticket(sessions) is None


def test_a_request_for_a_person_with_another_sources_crisis_pending_also_asks(sessions) -> None:
    gate = Gate(sessions, SafetyNet([LexiconSource(), _Worried()]), 5.0)
    message = FamilyMessage("fam", "rest", "我想开着车出去兜兜", next(_ids))
    before = gate.before_rasa(message)
    assert _ticket(sessions) is None and before.ask_rasa
    after = gate.after_rasa(message, before, [{"intent": "request_human"}])
    assert _ticket(sessions) is not None, "Rasa heard a request for a person: queued"
    assert texts.SAFETY_QUESTION in _texts(after) and "010-82951332" in _texts(after)
    assert _say(gate, "有").level is RiskLevel.CRISIS

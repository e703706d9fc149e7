"""One decision per message: the intent, the best entry and the form, weighed once."""

from __future__ import annotations

import json

import pytest

from knowledge.answers import Thresholds
from knowledge.retrieval import Hit
from knowledge.routing import (
    TO_RASA,
    Reading,
    Route,
    elliptical,
    entry_payload,
    hits_in,
    hits_metadata,
    in_context,
    intake_asked_for,
    may_follow_on,
    route,
)

THRESHOLDS = Thresholds(confident=0.92, close=0.904, margin=0.005)
GOOD = Hit("medical-free-annual-checkup", 0.95, 0.93)
WEAK = Hit("medical-free-annual-checkup", 0.80, 0.85)


def _route(text: str, intent: str | None, best: Hit | None = GOOD, in_form: bool = False) -> Route:
    return route(Reading(text, intent, best, in_form), THRESHOLDS)


@pytest.mark.parametrize("intent", ["out_of_scope", "nlu_fallback", "express_distress", "inform", None])
def test_a_question_that_matches_an_entry_is_answered_whatever_intent_is_near(intent: str | None) -> None:
    assert _route("免费体检一年几回", intent) == Route(GOOD.entry_id)


def test_ask_policy_goes_to_rasas_policy_action_as_it_is_unless_read_with_the_topic_before() -> None:
    assert _route("免费体检一年几回", "ask_policy") == Route(fallback=GOOD.entry_id)
    follow_up = Reading("那我老伴户口在外地呢", "ask_policy", GOOD, in_form=False, in_context=True)
    assert route(follow_up, THRESHOLDS) == Route(GOOD.entry_id)


def test_a_follow_up_is_told_by_its_first_or_last_words() -> None:
    assert elliptical("那要是在家养老呢") and elliptical("要是我走不动道呢") and elliptical("那找谁")
    assert not elliptical("免费体检一年几回")


def test_a_short_question_may_lean_on_the_topic_before_a_long_or_plain_one_does_not() -> None:
    assert may_follow_on("要钱不") and may_follow_on("不要钱？") and may_follow_on("谁给认定")
    assert not may_follow_on("好的 谢谢您") and not may_follow_on("我们家月收入挺低的 不知道能不能有补助")


def test_a_short_question_takes_the_topic_only_when_that_reads_clearly_better() -> None:
    topical = Hit("elderly-nursing-home", 0.93, 0.92)
    assert in_context(WEAK, topical) == topical
    assert in_context(GOOD, Hit("elderly-nursing-home", 0.91, 0.90)) is None
    assert in_context(GOOD, topical) is None, "alone it reads as well (那体检呢): a new question"
    same = Hit(GOOD.entry_id, 0.96, 0.94)
    assert in_context(GOOD, same) == same, "both readings agree: it is read in context"
    assert in_context(WEAK, None) is None


def test_inside_a_form_the_family_answers_the_forms_question() -> None:
    assert _route("腿脚不好 出不了门", "out_of_scope", in_form=True) is TO_RASA


def test_nothing_close_enough_or_nothing_loaded_goes_to_rasa() -> None:
    assert _route("今天天气不错", "out_of_scope", best=WEAK) is TO_RASA
    assert _route("今天天气不错", "out_of_scope", best=None) is TO_RASA


def test_follow_ups_stay_with_the_entry_discussed_before() -> None:
    assert _route("那找谁办", "out_of_scope") is TO_RASA


def test_the_entitlement_check_only_for_what_am_i_entitled_to() -> None:
    assert _route("退休金没几个钱 能给点补助不", "check_entitlement") == Route(GOOD.entry_id)
    assert _route("我们这样的到底能享受点啥", "check_entitlement") is TO_RASA


def test_case_status_only_for_ones_own_application() -> None:
    assert _route("健康档案在哪建", "ask_case_status") == Route(GOOD.entry_id)
    assert _route("我的申请办得怎么样了", "ask_case_status") is TO_RASA


@pytest.mark.parametrize("intent", ["request_legal_aid", "request_psych_support"])
def test_a_question_about_an_intake_is_answered_and_the_intake_offered(intent: str) -> None:
    assert _route("律师能上家来不", intent) == Route(GOOD.entry_id)
    assert _route("法律援助要钱吗", intent) == Route(GOOD.entry_id)
    assert _route("我想申请 麻烦您给我登记一下", intent) is TO_RASA


@pytest.mark.parametrize("intent", ["greet", "thank", "affirm", "request_human", "express_crisis"])
def test_everything_else_stays_with_rasa_and_the_handoff(intent: str) -> None:
    assert _route("好的", intent) is TO_RASA


def test_the_payload_makes_rasa_answer_that_entry() -> None:
    assert entry_payload("new-hope-home") == '/ask_policy{"kb_entry": "new-hope-home"}'


def test_the_ranking_sent_to_rasa_comes_back_as_it_was() -> None:
    hits = [Hit("new-hope-home", 0.9, 0.88), Hit("psych-counseling-free", 0.7, 0.69)]
    assert hits_in(json.loads(json.dumps(hits_metadata(hits)))) == hits
    assert hits_in(hits_metadata([])) == []


@pytest.mark.parametrize(
    "metadata", [None, {}, {"kb_hits": "x"}, {"kb_hits": [["a", "b", 1]]}, {"kb_hits": [1]}]
)
def test_anything_but_a_ranking_means_the_message_did_not_come_through_the_gateway(metadata: object) -> None:
    assert hits_in(metadata) is None


@pytest.mark.parametrize("intent", ["deny", "affirm"])
def test_a_short_follow_up_read_as_yes_or_no_is_answered_with_its_topic(intent: str) -> None:
    follow_up = Reading("收钱不", intent, GOOD, in_form=False, in_context=True)
    assert route(follow_up, THRESHOLDS) == Route(GOOD.entry_id)
    assert _route("不用了", intent) == TO_RASA, "without the topic a no stays a no"


@pytest.mark.parametrize(
    ("text", "intake"),
    [
        ("我想报名参加心理咨询 怎么给我约上", "request_psych_support"),
        ("孩子原单位的抚恤金拖着不给 我想申请律师帮忙维权 我腿不好能上门儿吗", "request_legal_aid"),
        ("能给我安排一次心理疏导不", "request_psych_support"),
        ("我想找个心理医生聊聊 你能帮我联系一个吗", "request_psych_support"),
        ("老伴儿让我去看看心理方面的 您这儿能给预约不", "request_psych_support"),
    ],
)
def test_a_request_in_so_many_words_starts_its_intake_even_with_a_question(text: str, intake: str) -> None:
    assert intake_asked_for(text) == intake
    assert _route(text, "ask_policy") == Route(intake=intake)
    assert _route(text, "request_legal_aid") == TO_RASA, "Rasa's own request intent starts it"


@pytest.mark.parametrize(
    "text", ["心理咨询要钱吗", "法律援助都管啥", "我想咨询一下体检的事 怎么约", "心理咨询热线能联系上吗"]
)
def test_a_question_is_not_a_request(text: str) -> None:
    assert intake_asked_for(text) is None


def test_another_places_policy_goes_to_the_policy_action_which_says_it_is_not_ours() -> None:
    assert _route("朝阳区对失独家庭有什么补助政策", None) == TO_RASA
    assert _route("户口在朝阳区 人一直住在西城 能享受帮扶吗", None) == Route(GOOD.entry_id)

"""What families read: clause and department always, figures only once entered, no guesses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from helpline.db import transaction
from helpline.embeddings import Encoder
from helpline.settings import load_settings
from knowledge import answers, repository
from knowledge.answers import FollowUp, Outcome
from knowledge.entitlement import beijing_today
from knowledge.evaluate import thresholds_from
from knowledge.retrieval import Retriever
from knowledge.yamlio import Kind

THRESHOLDS = thresholds_from(load_settings())
Ask = Callable[..., answers.Answer]


@pytest.fixture
def ask(seeded_sqlite: sessionmaker[Session], encoder: Encoder) -> Ask:
    retriever = Retriever(seeded_sqlite, encoder)

    def ask(text: str, last: str | None = None) -> answers.Answer:
        with seeded_sqlite() as session:
            hits = retriever.search(text, day=beijing_today())
            return answers.respond(session, hits, text, THRESHOLDS, last)

    return ask


def test_a_clear_question_gets_the_answer_with_clause_and_department(ask: Ask) -> None:
    answer = ask("我想去养老院，能优先安排吗")
    assert answer.outcome is Outcome.CONFIDENT
    assert answer.entry_id == "elderly-care-nursing-home-priority"
    assert "依据：西政办发〔2013〕17号 三（五）2" in answer.text
    assert "找谁办：区民政局、各街道办事处" in answer.text
    assert answer.text.count("依据") == 1


@pytest.mark.parametrize("question", ["明天天气咋样", "银行卡密码忘了咋办", "电费在哪交"])
def test_out_of_scope_is_an_honest_not_sure(ask: Ask, question: str) -> None:
    answer = ask(question)
    assert answer.outcome is Outcome.NOT_SURE
    assert answer.entry_id is None and answer.offer_human
    assert "不太确定" in answer.text and "各街道办事处" in answer.text


def test_the_subsidy_amount_is_never_invented(ask: Ask, seeded_sqlite: sessionmaker[Session]) -> None:
    answer = ask("一定的补助到底是多少钱", last=None)
    assert answer.entry_id == "living-subsidy-amount-open"
    assert "没有写具体金额" in answer.text
    follow = ask("给多少", last="living-subsidy-low-income")
    assert "文件没有写具体数额" in follow.text and "区人口计生委审批" in follow.text
    with transaction(seeded_sqlite) as session:
        fact = {"key": "living_subsidy_amount", "label": "生活困难补助标准", "value": "800", "unit": "元/月"}
        fact |= {"effective_from": date(2025, 1, 1), "decided_by": "区人口计生委审批"}
        fact |= {"clauses": ["三（三）1"]}
        repository.put_directory(session, Kind.FACTS, fact, "staff1")
    follow = ask("给多少", last="living-subsidy-low-income")
    assert "生活困难补助标准：800元/月（2025年1月1日起执行" in follow.text


def test_follow_ups_refer_to_the_entry_just_discussed(ask: Ask, seeded_sqlite: sessionmaker[Session]) -> None:
    last = "legal-aid-home-visit"
    contact = ask("那找谁办？", last)
    assert contact.entry_id == last and "区司法局：联系方式工作人员还没有录入" in contact.text
    with transaction(seeded_sqlite) as session:
        justice = {"id": "justice", "name": "区司法局", "phone": "010-1111 2222"}
        justice["hours"] = "工作日 9:00-17:00"
        repository.put_directory(session, Kind.DEPARTMENTS, justice, "staff1")
    assert "区司法局：电话 010-1111 2222；办公时间 工作日 9:00-17:00" in ask("那找谁办？", last).text
    documents = ask("要带什么？", last)
    assert "没有列出要带哪些材料" in documents.text and "依据" in documents.text
    qualify = ask("我够条件吗？", last)
    assert "经济困难" in qualify.text and "行动不便" in qualify.text and qualify.offer_entitlement_check
    original = ask("原文", last)
    assert "为经济困难、行动不便且个人提出申请" in original.text and "三（三）3" in original.text


def test_a_follow_up_with_nothing_before_asks_which_measure(ask: Ask) -> None:
    assert "哪一项" in ask("那找谁办？").text


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("那找谁办？", FollowUp.CONTACT),
        ("要带什么？", FollowUp.DOCUMENTS),
        ("我够条件吗？", FollowUp.QUALIFY),
        ("原文", FollowUp.ORIGINAL),
        ("具体给多少钱", None),
        ("补助找谁申请", None),
        ("我想去养老院", None),
    ],
)
def test_follow_up_detection(text: str, kind: FollowUp | None) -> None:
    assert answers.follow_up(text) == kind


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("朝阳区对失独家庭有什么补助政策？", "朝阳"),
        ("天津那边失独的有啥补贴", "天津"),
        ("朝阳区那边对失独家庭有啥政策 跟西城一样吗", "朝阳"),
    ],
)
def test_another_places_policy_is_not_answered_from_ours(ask: Ask, text: str, place: str) -> None:
    answer = ask(text)
    assert answer.outcome is Outcome.NOT_SURE and answer.offer_human
    assert f"{place}的政策我这儿没有" in answer.text and "依据" not in answer.text


def test_a_question_about_us_from_someone_registered_elsewhere_is_ours(ask: Ask) -> None:
    assert answers.elsewhere("我户口搁海淀呢人住德胜门这边儿 你们这帮扶我能沾上不") is None
    assert ask("户口在朝阳区，但人一直住在西城，可以享受西城区的失独帮扶吗？").outcome is not Outcome.NOT_SURE

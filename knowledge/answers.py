"""What the assistant says about the policy: an answer, a choice of entries, or an honest "not sure".

Rules that keep every answer right:
* the wording comes from the live entry (staff's text), never from the model;
* every answer ends with its clause (依据) and the department to contact;
* a figure appears only when staff entered it, with its effective date; otherwise
  the answer says the document sets no figure and who decides it;
* when retrieval is not sure, nothing is guessed: the family is pointed to the
  street office (the catch-all office of 附件七) or a person.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge import directory
from knowledge.entitlement import beijing_today, condition
from knowledge.models import Entry, Fact, Status
from knowledge.retrieval import Hit

DOCUMENT = "西政办发〔2013〕17号"
FALLBACK_DEPARTMENT = "street_office"
"""附件七: the street office is responsible for the overall support of the families in its area."""
MAX_CHOICES = 3
CHOICE_WINDOW = 0.02
"""A runner-up is offered as a choice only when it ranks this close to the best entry."""

_TRAILING_BASIS = re.compile(r"\s*（依据：[^（）\n]*(?:（[^（）\n]*）[^（）\n]*)*）\s*$")
"""A trailing （依据：三（五）2） as staff write it; one level of brackets inside, as clause paths have."""


class Outcome(StrEnum):
    CONFIDENT = "confident"
    CHOICES = "choices"
    NOT_SURE = "not_sure"


class FollowUp(StrEnum):
    """Questions about the entry just discussed."""

    CONTACT = "contact"
    DOCUMENTS = "documents"
    QUALIFY = "qualify"
    ORIGINAL = "original"
    AMOUNT = "amount"


@dataclass(frozen=True)
class Thresholds:
    """On the semantic score of the best entry; calibrated with ``python -m knowledge.evaluate``."""

    confident: float
    close: float
    margin: float


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    entry_ids: tuple[str, ...]


@dataclass(frozen=True)
class Choice:
    entry_id: str
    title: str


@dataclass(frozen=True)
class Answer:
    """What to send. ``entry_id`` is the entry now under discussion (for follow-ups)."""

    text: str
    outcome: Outcome
    entry_id: str | None = None
    choices: tuple[Choice, ...] = ()
    offer_human: bool = False
    offer_entitlement_check: bool = False
    offer_intake: str | None = None
    """The intake (an intent) the answered measure has, offered after the answer."""


def decide(hits: Sequence[Hit], thresholds: Thresholds) -> Decision:
    """Confident, a close call between a few entries, or not sure."""
    if not hits or hits[0].semantic < thresholds.close:
        return Decision(Outcome.NOT_SURE, ())
    best = hits[0]
    runner_up = hits[1].score if len(hits) > 1 else float("-inf")
    if best.semantic >= thresholds.confident and best.score - runner_up >= thresholds.margin:
        return Decision(Outcome.CONFIDENT, (best.entry_id,))
    close = [hit.entry_id for hit in hits[:MAX_CHOICES] if best.score - hit.score <= CHOICE_WINDOW]
    return Decision(Outcome.CHOICES, tuple(close))


# ---- follow-ups --------------------------------------------------------------------------------------

_FOLLOW_UP_WORDS: dict[FollowUp, tuple[str, ...]] = {
    FollowUp.ORIGINAL: ("原文", "原话", "条文", "文件怎么写", "文件原文", "怎么规定的"),
    FollowUp.DOCUMENTS: (
        "带什么",
        "带啥",
        "带哪些",
        "什么材料",
        "啥材料",
        "哪些材料",
        "材料",
        "证件",
        "准备什么",
        "准备啥",
    ),
    FollowUp.QUALIFY: (
        "够条件",
        "够不够条件",
        "符合条件",
        "符合不符合",
        "符不符合",
        "够格",
        "能享受",
        "能不能享受",
        "有资格",
        "啥条件",
        "什么条件",
    ),
    FollowUp.AMOUNT: ("多少钱", "给多少", "补多少", "发多少", "金额", "标准是多少", "多少"),
    FollowUp.CONTACT: (
        "归谁管",
        "归哪个部门管",
        "归哪个部门",
        "哪个部门管",
        "谁来管",
        "找谁",
        "找哪个",
        "找哪",
        "哪个部门",
        "谁管",
        "谁负责",
        "联系",
        "电话",
        "地址",
        "在哪办",
        "去哪办",
        "去哪",
        "在哪",
        "哪里办",
        "办公时间",
        "几点",
    ),
}
_FILLER = re.compile(
    r"[\W_\s]|那么|那|请问|我们|咱们|俺们|我|咱|俺|这个|这事|这|呢|啊|呀|吗|么|吧|嘛|要|得|该|应该|需要|去|办理|办|申请|儿|的|可以|能|都|还"
)


def follow_up(text: str) -> FollowUp | None:
    """The follow-up a message is, when it is nothing else ("那找谁办？", "要带什么？", "原文").

    A message with any words of its own beyond the follow-up phrase and fillers
    ("补助找谁申请") is a new question and goes to retrieval instead.
    """
    for kind, words in _FOLLOW_UP_WORDS.items():
        for word in words:
            if word in text and not _FILLER.sub("", text.replace(word, "", 1)):
                return kind
    return None


# ---- composing ---------------------------------------------------------------------------------------


def _body(entry: Entry) -> str:
    """The staff-written answer without its own trailing 依据 (added uniformly below)."""
    return _TRAILING_BASIS.sub("", entry.answer).strip()


def _basis(entry: Entry) -> str:
    return f"依据：{DOCUMENT} {entry.clause}"


def _department_names(session: Session, ids: list[str]) -> str:
    named = []
    for department in directory.departments(session, ids):
        named.append(f"{department.name}（{department.phone}）" if department.phone else department.name)
    return "、".join(named)


def _contact_line(session: Session, entry: Entry) -> str:
    return f"找谁办：{_department_names(session, entry.departments)}"


def _facts_for(session: Session, entry: Entry) -> list[Fact]:
    return [
        fact for fact in session.scalars(select(Fact).order_by(Fact.position)) if entry.clause in fact.clauses
    ]


def _fact_line(fact: Fact) -> str:
    if fact.value and fact.effective_from:
        day = fact.effective_from
        since = f"{day.year}年{day.month}月{day.day}日"
        return f"{fact.label}：{fact.value}{fact.unit}（{since}起执行，{fact.decided_by}）。"
    return f"{fact.label}：文件没有写具体数额，由{fact.decided_by}；工作人员录入正式标准后我再告诉您。"


def _entered_facts(session: Session, entry: Entry) -> list[str]:
    return [_fact_line(fact) for fact in _facts_for(session, entry) if fact.value and fact.effective_from]


def _compose(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


REQUEST_LEGAL_AID = "request_legal_aid"
REQUEST_PSYCH_SUPPORT = "request_psych_support"
INTAKE_AFTER = {
    "三（三）3": REQUEST_LEGAL_AID,
    "附件三": REQUEST_LEGAL_AID,
    "三（二）1": REQUEST_PSYCH_SUPPORT,
}
"""The clauses whose measure has an intake here (the intents that start it): after answering
one, that intake is offered, so "行 那您给我申请一个" has something to accept."""
INTAKE_OFFERS = {
    REQUEST_LEGAL_AID: ("想请律师团帮忙的话，我现在就可以帮您登记法律援助。", "帮我登记法律援助"),
    REQUEST_PSYCH_SUPPORT: ("想有人陪您说说话的话，我现在就可以帮您登记心理关爱服务。", "帮我登记心理关爱"),
}
"""What the offer says, and its one button's title (the button sends the intent)."""


def intake_offer(intent: str) -> tuple[str, str, str]:
    """(words, button title, payload) of the offer of an intake."""
    words, title = INTAKE_OFFERS[intent]
    return words, title, f"/{intent}"


def answer_entry(session: Session, entry: Entry) -> Answer:
    """The full answer for one entry."""
    facts = "\n".join(_entered_facts(session, entry))
    text = _compose(
        _body(entry), facts, _basis(entry), _contact_line(session, entry), "（想看文件原文，回复“原文”。）"
    )
    return Answer(text, Outcome.CONFIDENT, entry.id, offer_intake=INTAKE_AFTER.get(entry.clause))


def answer_follow_up(session: Session, entry: Entry, kind: FollowUp) -> Answer:
    """Answer "who / what to bring / do I qualify / 原文 / how much" about ``entry``."""
    if kind is FollowUp.ORIGINAL:
        text = _compose(f"文件原文（{DOCUMENT} {entry.clause}）：", entry.text, _contact_line(session, entry))
        return Answer(text, Outcome.CONFIDENT, entry.id)
    if kind is FollowUp.CONTACT:
        return Answer(_contact_text(session, entry), Outcome.CONFIDENT, entry.id, offer_human=True)
    if kind is FollowUp.DOCUMENTS:
        text = _compose(
            f"关于“{entry.title}”，文件里没有列出要带哪些材料，我不能乱说。建议办理前先打电话问清楚。",
            entry.next_step,
            _basis(entry),
            _contact_line(session, entry),
        )
        return Answer(text, Outcome.CONFIDENT, entry.id, offer_human=True)
    if kind is FollowUp.QUALIFY:
        return Answer(
            _qualify_text(session, entry), Outcome.CONFIDENT, entry.id, offer_entitlement_check=True
        )
    facts = [_fact_line(fact) for fact in _facts_for(session, entry)]
    amount = "\n".join(facts) or f"关于“{entry.title}”，文件里没有写具体金额或标准。"
    return Answer(_compose(amount, _basis(entry), _contact_line(session, entry)), Outcome.CONFIDENT, entry.id)


def _contact_text(session: Session, entry: Entry) -> str:
    lines = [f"“{entry.title}”可以找："]
    for department in directory.departments(session, entry.departments):
        details = [
            f"电话 {department.phone}" if department.phone else "",
            f"地址 {department.address}" if department.address else "",
            f"办公时间 {department.hours}" if department.hours else "",
        ]
        known = "；".join(detail for detail in details if detail)
        lines.append(f"· {department.name}：{known or '联系方式工作人员还没有录入'}")
    return _compose(*lines, entry.next_step, _basis(entry))


def _qualify_text(session: Session, entry: Entry) -> str:
    if not entry.conditions:
        return _compose(
            f"“{entry.title}”文件里没有写具体的申请条件。", _basis(entry), _contact_line(session, entry)
        )
    conditions = [f"· {condition(key).label}" for key in entry.conditions]
    return _compose(
        f"“{entry.title}”，文件写的条件是：",
        *conditions,
        f"最后是否符合，以{_department_names(session, entry.departments)}核实为准。",
        "想对照您家的情况逐条看看，点下面的“帮我看看能享受什么”。",
        _basis(entry),
    )


def not_sure(session: Session) -> Answer:
    """Honest and useful: no guess, a department and a person instead."""
    office = _department_names(session, [FALLBACK_DEPARTMENT])
    text = (
        "这个问题我不太确定，怕说错耽误您的事。\n"
        f"您可以问问{office}，各项帮扶都可以先找他们；也可以输入“人工”，请工作人员帮您。"
    )
    return Answer(text, Outcome.NOT_SURE, offer_human=True)


_OTHER_PLACE = re.compile(
    r"东城|朝阳|海淀|丰台|石景山|门头沟|房山|通州|顺义|昌平|大兴|怀柔|平谷|密云|延庆|"
    r"天津|上海|河北|河南|山东|山西|外地|外省|别的区|其他区|别的省"
)
_ABOUT_US = re.compile(r"西城|你们|咱们|咱这|这儿|这边|这里|户口|户籍|住在|住着|人住|搬")
_COMPARED_WITH_US = re.compile(
    r"(跟|和|与|比)(咱们?|我们|你们)?西城(区)?(的)?(一样|比|差不多|相比|比较|有啥不同|有什么不同)?"
)
"""西城 named only to compare (朝阳区那边有啥政策 跟西城一样吗, blind round 11): about the other place."""


def elsewhere(text: str) -> str | None:
    """The other district or province a question is about, when it is not about us: 朝阳区对失独
    家庭有什么补助政策 (blind round 8); not 户口在朝阳 人住西城 能享受吗, which asks about us."""
    place = _OTHER_PLACE.search(text)
    return place.group() if place and not _ABOUT_US.search(_COMPARED_WITH_US.sub("", text)) else None


def outside_district(place: str) -> Answer:
    """A question about another place's policy: say what we cover, never answer it from ours."""
    text = (
        f"我这里只能解答北京市西城区对失独家庭的帮扶（{DOCUMENT}），{place}的政策我这儿没有，怕说错。"
        f"\n{place}的情况，请问当地的街道或者民政、卫生健康部门。要是您家户口在西城，也可以问我西城的帮扶。"
    )
    return Answer(text, Outcome.NOT_SURE, offer_human=True)


def ask_which() -> Answer:
    """A follow-up ("那找谁办？") with nothing discussed before it."""
    text = "您问的是哪一项帮扶呢？说说具体的事，比如“生活补助找谁办”，我帮您查。"
    return Answer(text, Outcome.NOT_SURE, offer_human=True)


def choices(session: Session, entry_ids: tuple[str, ...]) -> Answer:
    titles = {e.id: e.title for e in session.scalars(select(Entry).where(Entry.id.in_(entry_ids)))}
    options = tuple(Choice(i, titles[i]) for i in entry_ids if i in titles)
    return Answer(
        "您想问的是下面哪一项？点一下我详细说。", Outcome.CHOICES, choices=options, offer_human=True
    )


def published_entry(session: Session, entry_id: str, day: date | None = None) -> Entry | None:
    """The entry if families may be answered from it today (published and in force)."""
    entry = session.get(Entry, entry_id)
    today = day or beijing_today()
    if entry is None or entry.status != Status.PUBLISHED:
        return None
    if (entry.valid_from and entry.valid_from > today) or (entry.valid_to and entry.valid_to < today):
        return None
    return entry


def respond(
    session: Session, hits: Sequence[Hit], text: str, thresholds: Thresholds, last_entry: str | None = None
) -> Answer:
    """The answer to one family message from its ranked entries, given the entry discussed just
    before (if any)."""
    kind = follow_up(text)
    if kind is not None:
        previous = published_entry(session, last_entry) if last_entry else None
        return answer_follow_up(session, previous, kind) if previous is not None else ask_which()
    place = elsewhere(text)
    if place is not None:
        return outside_district(place)
    decision = decide(hits, thresholds)
    if decision.outcome is Outcome.NOT_SURE:
        return not_sure(session)
    entry = published_entry(session, decision.entry_ids[0])
    if entry is None:
        return not_sure(session)
    if decision.outcome is Outcome.CHOICES:
        return best_with_others(session, entry, decision.entry_ids[1:])
    return answer_entry(session, entry)


def best_with_others(session: Session, best: Entry, others: tuple[str, ...]) -> Answer:
    """A close call: the best entry's answer, and the runners-up one tap away.

    Blind round 5 showed families asked to choose first mostly got no answer at all;
    the best entry was the right one far more often than not.
    """
    answer = answer_entry(session, best)
    alternatives = choices(session, others).choices
    if not alternatives:
        return answer
    text = _compose(answer.text, "要是您想问的是别的，点下面的选项。")
    return replace(answer, text=text, outcome=Outcome.CHOICES, choices=alternatives, offer_human=True)

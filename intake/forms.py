"""The three intake forms as data: their questions, the answers each accepts, and what is asked when.

* ``entitlement_form`` asks only the questions whose conditions still decide a
  measure (:func:`knowledge.entitlement.open_conditions`), in a fixed order.
* ``psych_form`` and ``legal_form`` ask for consent first; "不同意" ends the form
  without collecting anything else.

Slot values are canonical strings: ``yes``/``no``/``unknown`` for yes-no questions,
an option's value for choices, ``unknown`` whenever the family skipped. The
validators here turn what arrives (a button's canonical value or typed text) into
such a value, or ``None`` to ask again. Rasa's domain file holds the question
texts and buttons; ``tests/actions`` checks that their payloads are these values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from intake import consent
from intake.cases import CaseKind, NewCase
from intake.validation import (
    AGE_60_PLUS,
    AGE_UNDER_60,
    accepts,
    age_answer,
    clean_text,
    normalise,
    parse_age,
    parse_choice,
    parse_phone,
    parse_street,
    parse_yes_no,
    skips,
)
from knowledge.entitlement import Answer, EntryConditions, open_conditions

ENTITLEMENT_FORM = "entitlement_form"
PSYCH_FORM = "psych_form"
LEGAL_FORM = "legal_form"
FORMS = (ENTITLEMENT_FORM, PSYCH_FORM, LEGAL_FORM)

UNKNOWN = Answer.UNKNOWN.value
YES = Answer.YES.value
NO = Answer.NO.value
DESCRIPTION_MAX_CHARS = 300
CALL_TIME_MAX_CHARS = 30


@dataclass(frozen=True)
class Option:
    """A choice: the value stored, the button's label, and words that name it when typed."""

    value: str
    label: str
    words: tuple[str, ...]


PSYCH_WAYS = (
    Option("hotline", "心理咨询热线", ("热线", "打电话聊", "电话咨询")),
    Option("station", "心理关爱服务站", ("服务站", "关爱站", "去站里")),
    Option("new_hope", "新希望家园活动", ("新希望", "家园", "活动")),
    Option("peer", "同伴互助", ("同伴", "互助", "一样经历")),
    Option("home_visit", "上门看望", ("上门", "来家", "到家")),
)
LEGAL_MATTERS = (
    Option("consult", "法律咨询", ("咨询", "问问", "问一下")),
    Option("document", "代拟法律文书", ("文书", "代写", "起草", "写材料", "写状子")),
    Option("defense", "刑事辩护", ("刑事", "辩护")),
    Option("litigation", "诉讼代理", ("诉讼", "打官司", "起诉", "官司", "上法院")),
    Option("non_litigation", "非诉讼代理", ("非诉讼", "调解", "协商", "仲裁")),
    Option("other", "其他", ("其他", "别的", "其它")),
)
CALL_TIMES = (
    Option("morning", "上午", ("上午", "早上", "早晨")),
    Option("afternoon", "下午", ("下午", "午后")),
    Option("evening", "晚上", ("晚上", "傍晚", "晚饭后")),
    Option("anytime", "什么时候都行", ("都行", "随时", "都可以", "什么时候")),
)
CHILD_WISHES = (
    Option("birth", "想再生育", ("再生", "生育", "再要一个", "生孩子", "生一个")),
    Option("adopt", "想领养", ("领养", "收养", "抱养")),
    Option(
        "neither",
        "都没有这个打算",
        ("都不", "都没", "没打算", "不考虑", "不想", "不要了", "不打算", "不生了", "岁数大了", "要不了"),
    ),
)
CARE_WISHES = (
    Option("institution", "住养老院", ("养老院", "养老机构", "敬老院", "养老服务机构", "住机构")),
    Option(
        "home",
        "在家养老",
        ("在家", "居家", "家里", "自己家", "家待着", "不去养老院", "不想去养老院", "不住养老院"),
    ),
)
_TIME_WORDS = re.compile(r"[点时周星礼日天早晚午]")
_BELOW_WORDS = ("低于", "不到", "达不到", "不够", "没到", "少于", "比最低工资低")
_NOT_BELOW_WORDS = ("不低于", "高于", "超过", "多于", "够了", "比最低工资高")


@dataclass(frozen=True)
class Said:
    """How families say yes or no to one question in their own words, besides 是/不是.

    A word inside a longer one that matched does not count, so 不方便 is "yes" to "出门不方便吗"
    although it holds 方便, and 没有困难 is "no" although it holds 困难.
    """

    yes: tuple[str, ...]
    no: tuple[str, ...] = ()


HARDSHIP = Said(
    yes=("有困难", "困难", "紧巴", "拮据", "不够花", "不够用", "没钱", "没什么钱", "手头紧", "吃紧", "难",
         "低保", "穷", "就靠", "只靠", "入不敷出", "揭不开锅"),
    no=("没困难", "没有困难", "不困难", "没啥困难", "不难", "过得去", "够花", "够用", "不缺钱", "还行",
        "宽裕", "不差钱"),
)  # fmt: skip
MOBILITY = Said(
    yes=("不方便", "出不了门", "出不去", "腿脚不好", "腿脚不便", "腿不好", "走不动", "走不了", "下不了楼",
         "卧床", "瘫", "轮椅", "拄拐", "行动不便", "不利索", "挪不动"),
    no=("能出门", "方便", "腿脚还行", "腿脚利索", "能走", "走得动", "没问题", "还行", "出门没事"),
)  # fmt: skip
HOME_VISIT = Said(
    yes=("需要上门", "上门", "上家", "来家", "到家", "敢情好", "那最好", "太好了", "需要"),
    no=("不用", "不需要", "不必", "我自己去", "我能去"),
)  # fmt: skip
SELF_CARE = Said(
    yes=("能完全自理", "能自理", "自己来", "自己能", "能自己", "都能干", "利索", "没问题"),
    no=("不能完全自理", "不能自理", "卧床", "瘫", "需要人照顾", "离不开人", "自己来不了", "得有人伺候"),
)  # fmt: skip
UNSURE = ("再想想", "想想", "还没想好", "看情况", "说不好")
"""Words for "I don't know yet" beside those :func:`parse_yes_no` knows (the "再想想" button)."""


def _words(options: Sequence[Option]) -> dict[str, tuple[str, ...]]:
    return {option.value: (option.label, *option.words) for option in options}


@dataclass(frozen=True)
class Context:
    """What some answers are judged against: today's date (ages), how long this site keeps
    conversations (which consent text was shown), and the minimum wage, if set."""

    today: date
    chat_retention_days: int
    min_wage_yuan: float | None = None


Validator = Callable[[str, Context], str | None]


def _yes_no(value: str, _context: Context) -> str | None:
    """是 / 不是 / 不清楚 as typed, or an everyday yes or no to a question (行啊, 不用了)."""
    if value in (YES, NO, UNKNOWN):
        return value
    if any(word in normalise(value) for word in UNSURE):
        return UNKNOWN
    answer = parse_yes_no(value)
    if answer is not None:
        return answer.value
    accepted = accepts(value)
    return None if accepted is None else YES if accepted else NO


def _fact(said: Said) -> Validator:
    """A yes-no question answered with the fact itself: 出不了门, 就靠退休金 日子紧巴."""

    def validate(value: str, context: Context) -> str | None:
        named = parse_choice(value, {YES: said.yes, NO: said.no})
        return named or _yes_no(value, context)

    return validate


def _consent_for(purpose: str) -> Validator:
    def validate(value: str, context: Context) -> str | None:
        current = consent.consent_for(purpose, context.chat_retention_days).version
        if value in (current, consent.DECLINED):
            return value
        answer = _yes_no(value, context)
        if answer == YES:
            return current
        return consent.DECLINED if answer == NO else None

    return validate


def _choice(options: Sequence[Option], *, unknown: bool = True) -> Validator:
    values = {option.value for option in options} | ({UNKNOWN} if unknown else set())
    words = _words(options)

    def validate(value: str, _context: Context) -> str | None:
        return value if value in values else parse_choice(value, words)

    return validate


def _age(value: str, context: Context) -> str | None:
    if value in (AGE_60_PLUS, AGE_UNDER_60, UNKNOWN):
        return value
    return parse_age(value, context.today)


def _income(value: str, context: Context) -> str | None:
    """Below the Beijing minimum wage? A typed amount is compared when staff have set the figure."""
    if value in (YES, NO, UNKNOWN):
        return value
    clean = normalise(value)
    if any(word in clean for word in _NOT_BELOW_WORDS):
        return NO
    if any(word in clean for word in _BELOW_WORDS):
        return YES
    amount = re.search(r"[0-9]+(?:\.[0-9]+)?", clean)
    if amount:
        if context.min_wage_yuan is None:
            return UNKNOWN
        return YES if float(amount.group()) < context.min_wage_yuan else NO
    return _yes_no(value, context)


def _street(value: str, _context: Context) -> str | None:
    return UNKNOWN if value == UNKNOWN else parse_street(value)


def _phone(value: str, _context: Context) -> str | None:
    return UNKNOWN if value == UNKNOWN else parse_phone(value)


def _call_time(value: str, context: Context) -> str | None:
    """A button's value, one option's word alone, or the family's own words when they name a time."""
    words = _words(CALL_TIMES)
    clean = normalise(value)
    exact = next((option for option, names in words.items() if clean in (option, *names)), None)
    if exact:
        return exact
    text = clean_text(value, CALL_TIME_MAX_CHARS)
    if text and _TIME_WORDS.search(text):
        return text
    return _choice(CALL_TIMES)(value, context)


def _description(value: str, _context: Context) -> str | None:
    return UNKNOWN if value == UNKNOWN else clean_text(value, DESCRIPTION_MAX_CHARS)


VALIDATORS: Mapping[str, Validator] = {
    "ent_hukou": _yes_no,
    "ent_lost_child": _yes_no,
    "ent_age": _age,
    "ent_income": _income,
    "ent_self_care": _fact(SELF_CARE),  # yes means fully self-caring: "能完全自理吗？"
    "ent_sanwu": _yes_no,
    "ent_children": _choice(CHILD_WISHES),
    "ent_care": _choice(CARE_WISHES),
    "psych_consent": _consent_for("psych"),
    "psych_way": _choice(PSYCH_WAYS),
    "psych_phone": _phone,
    "psych_call_time": _call_time,
    "psych_street": _street,
    "legal_consent": _consent_for("legal"),
    "legal_matter": _choice(LEGAL_MATTERS),
    "legal_description": _description,
    "legal_hardship": _fact(HARDSHIP),
    "legal_mobility": _fact(MOBILITY),
    "legal_home_visit": _fact(HOME_VISIT),
    "legal_phone": _phone,
    "legal_street": _street,
}

REASK: Mapping[str, str] = {
    "ent_age": "utter_reask_age",
    "ent_income": "utter_reask_income",
    "psych_consent": "utter_reask_consent",
    "legal_consent": "utter_reask_consent",
    "psych_phone": "utter_reask_phone",
    "legal_phone": "utter_reask_phone",
    "psych_call_time": "utter_reask_call_time",
    "psych_street": "utter_reask_street",
    "legal_street": "utter_reask_street",
    "legal_description": "utter_reask_description",
}
"""The kind explanation given before a question is asked again; choices and yes/no share one."""
DEFAULT_REASK = "utter_reask_choice"


def validate(slot: str, value: Any, context: Context) -> str | None:
    """The canonical value of ``value`` for ``slot``, or None to ask again.

    Every question but consent can be passed on in words (不清楚, 不留电话), as with its button.
    """
    if value is None or not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    if not slot.endswith("_consent") and skips(str(value)):
        return UNKNOWN
    return VALIDATORS[slot](str(value), context)


# ---- the entitlement check ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One question of the entitlement check, the conditions it settles and how."""

    slot: str
    conditions: tuple[str, ...]
    answers: Callable[[str], dict[str, Answer]]


def _settles(condition: str, *, inverted: bool = False) -> Callable[[str], dict[str, Answer]]:
    flip = {Answer.YES: Answer.NO, Answer.NO: Answer.YES, Answer.UNKNOWN: Answer.UNKNOWN}

    def answers(value: str) -> dict[str, Answer]:
        answer = Answer(value)
        return {condition: flip[answer] if inverted else answer}

    return answers


def _wishes(chosen_to_condition: Mapping[str, str]) -> Callable[[str], dict[str, Answer]]:
    """One choice among wishes: the chosen one is yes, the others no; "unknown" leaves all unknown."""

    def answers(value: str) -> dict[str, Answer]:
        if value == UNKNOWN:
            return dict.fromkeys(chosen_to_condition.values(), Answer.UNKNOWN)
        return {
            condition: Answer.YES if choice == value else Answer.NO
            for choice, condition in chosen_to_condition.items()
        }

    return answers


QUESTIONS: tuple[Question, ...] = (
    Question("ent_hukou", ("xicheng_hukou",), _settles("xicheng_hukou")),
    Question("ent_lost_child", ("lost_only_child",), _settles("lost_only_child")),
    Question("ent_age", ("age_60_plus",), lambda value: {"age_60_plus": age_answer(value)}),
    Question("ent_income", ("income_below_min_wage",), _settles("income_below_min_wage")),
    Question("ent_self_care", ("not_self_caring",), _settles("not_self_caring", inverted=True)),
    Question("ent_sanwu", ("sanwu",), _settles("sanwu")),
    Question(
        "ent_children", ("wish_birth", "wish_adopt"), _wishes({"birth": "wish_birth", "adopt": "wish_adopt"})
    ),
    Question(
        "ent_care",
        ("wish_institution", "wish_home_care"),
        _wishes({"institution": "wish_institution", "home": "wish_home_care"}),
    ),
)


def entitlement_answers(slots: Mapping[str, Any], context: Context) -> dict[str, Answer]:
    """The engine's answers from the form's slots; a value that does not validate counts as not asked."""
    answers: dict[str, Answer] = {}
    for question in QUESTIONS:
        value = validate(question.slot, slots.get(question.slot), context)
        if value is not None:
            answers.update(question.answers(value))
    return answers


def entitlement_slots(
    slots: Mapping[str, Any], entries: Sequence[EntryConditions], context: Context
) -> list[str]:
    """The questions of this check: those answered already and those whose conditions still matter."""
    still_open = open_conditions(entitlement_answers(slots, context), entries)
    return [
        question.slot
        for question in QUESTIONS
        if slots.get(question.slot) is not None or still_open.intersection(question.conditions)
    ]


# ---- psychological support and legal aid ---------------------------------------------------------------

PSYCH_SLOTS = ("psych_consent", "psych_way", "psych_phone", "psych_call_time", "psych_street")
LEGAL_SLOTS = (
    "legal_consent",
    "legal_matter",
    "legal_description",
    "legal_hardship",
    "legal_mobility",
    "legal_home_visit",
    "legal_phone",
    "legal_street",
)
FORM_SLOTS: Mapping[str, tuple[str, ...]] = {
    ENTITLEMENT_FORM: tuple(question.slot for question in QUESTIONS),
    PSYCH_FORM: PSYCH_SLOTS,
    LEGAL_FORM: LEGAL_SLOTS,
}


_LEGAL_REQUEST = re.compile(
    r"法律援助|法援|律师|申请|打官司|帮忙|帮帮|帮我|给我|我想|我要|想找|想请|需要|一个|一下|能不能|可以|能|吗|那|吧|呢|个"
)
_NOT_WORDS = re.compile(r"[\W_]+")
MATTER_MIN_CHARS = 6
"""Characters left after the request words for a message to have told its matter too."""


def matter_told(text: str) -> str | None:
    """The message that asked for legal aid, as the matter's description, when it told the matter
    too ("那我申请一个 孩子的抚恤金让单位扣着不给"), so the family is not asked to tell it again;
    None for a bare request ("我想申请法律援助", "给我找个律师")."""
    rest = _LEGAL_REQUEST.sub("", _NOT_WORDS.sub("", normalise(text)))
    return clean_text(text, DESCRIPTION_MAX_CHARS) if len(rest) >= MATTER_MIN_CHARS else None


def psych_slots(slots: Mapping[str, Any]) -> list[str]:
    """Consent first; nothing more after "不同意"; no call time without a phone number."""
    if slots.get("psych_consent") == consent.DECLINED:
        return ["psych_consent"]
    no_phone = slots.get("psych_phone") == UNKNOWN
    return [slot for slot in PSYCH_SLOTS if not (slot == "psych_call_time" and no_phone)]


def wants_home_visit(slots: Mapping[str, Any]) -> bool:
    """主动上门法律援助 (三（三）3): economic hardship, difficulty moving, and the person asks for it."""
    return all(slots.get(slot) == YES for slot in ("legal_hardship", "legal_mobility", "legal_home_visit"))


def legal_slots(slots: Mapping[str, Any]) -> list[str]:
    """Consent first; the home-visit question only when hardship and mobility both apply."""
    if slots.get("legal_consent") == consent.DECLINED:
        return ["legal_consent"]
    visit_possible = slots.get("legal_hardship") == YES and slots.get("legal_mobility") == YES
    return [slot for slot in LEGAL_SLOTS if slot != "legal_home_visit" or visit_possible]


def _known(value: Any) -> Any:
    return None if value in (None, UNKNOWN) else value


def psych_case(sender: str, slots: Mapping[str, Any]) -> NewCase:
    return NewCase(
        kind=CaseKind.PSYCH,
        sender=sender,
        consent_version=slots["psych_consent"],
        street=_known(slots.get("psych_street")),
        phone=_known(slots.get("psych_phone")),
        details={"way": slots.get("psych_way"), "call_time": slots.get("psych_call_time") or UNKNOWN},
    )


def legal_case(sender: str, slots: Mapping[str, Any]) -> NewCase:
    """Every legal-aid case is handled with priority (优先提供援助); home visits as the document says."""
    return NewCase(
        kind=CaseKind.LEGAL,
        sender=sender,
        consent_version=slots["legal_consent"],
        street=_known(slots.get("legal_street")),
        phone=_known(slots.get("legal_phone")),
        details={
            "matter": slots.get("legal_matter"),
            "description": slots.get("legal_description"),
            "economic_hardship": slots.get("legal_hardship"),
            "mobility_difficulty": slots.get("legal_mobility"),
            "asked_home_visit": slots.get("legal_home_visit") or NO,
        },
        priority=True,
        home_visit=wants_home_visit(slots),
    )


def option_label(options: Sequence[Option], value: str | None) -> str:
    return next((option.label for option in options if option.value == value), "未说明")

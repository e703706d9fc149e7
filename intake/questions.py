"""What the forms say: each question with its buttons, the kind re-asks, and the offer of a person.

Buttons send canonical values without going through the NLU: ``/affirm``, ``/deny``,
``/skip``, or ``/inform{"choice": "<value>"}`` for an option of :mod:`intake.forms`,
so a button always means exactly what its label says. Every question can be skipped
("不清楚/跳过"), and typed answers are read by :mod:`intake.forms` as well.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from intake import consent, forms
from intake.forms import Option
from intake.streets import STREETS

AFFIRM = "/affirm"
DENY = "/deny"
SKIP = "/skip"
REQUEST_HUMAN = "/request_human"
STOP = "/stop_form"
RESUME = "/resume_form"
SKIP_LABEL = "不清楚/跳过"
MAX_REASKS = 2
"""A wrong answer is explained and asked again twice; after that a person is offered."""


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Prompt:
    text: str
    buttons: tuple[Button, ...] = ()


LEAVE_FORM_INTENTS = frozenset(payload.removeprefix("/") for payload in (STOP, RESUME))
"""Typed messages inside a form that are not its answer: 算了不办了, 继续刚才的登记. Not Rasa's
request_human, which it reads into answers such as 打电话聊就行: a typed 找人工 is taken by the
gateway's own hand-off check before Rasa (handoff.safety.asks_for_human)."""


def choose(value: str) -> str:
    """The payload of an option's button: the intent ``inform`` with the entity ``choice``."""
    return "/inform" + json.dumps({"choice": value}, ensure_ascii=False)


def typed_answer(text: str) -> str:
    """What the gateway sends for words typed inside a form: the intent ``inform`` with the entity
    ``answer``, so the form's validator reads them, knowing the question, instead of an intent
    guessed from the words alone (能出门 read as yes, 有困难 as an emergency)."""
    return "/inform" + json.dumps({"answer": " ".join(text.split())}, ensure_ascii=False)


def _options(options: Sequence[Option], skip: str = SKIP_LABEL) -> tuple[Button, ...]:
    return (*(Button(option.label, choose(option.value)) for option in options), Button(skip, SKIP))


def _yes_no(yes: str = "是", no: str = "不是", skip: str = SKIP_LABEL) -> tuple[Button, ...]:
    return (Button(yes, AFFIRM), Button(no, DENY), Button(skip, SKIP))


_CONSENT_BUTTONS = (Button("同意", AFFIRM), Button("不同意", DENY))
_AGE_BUTTONS = (
    Button("60岁及以上", choose("60+")),
    Button("不到60岁", choose("<60")),
    Button(SKIP_LABEL, SKIP),
)

PROMPTS: dict[str, Prompt] = {
    "ent_hukou": Prompt("先问第一个：您的户口在北京市西城区吗？", _yes_no()),
    "ent_lost_child": Prompt(
        "请原谅我问得直接：您的独生子女去世后，您家没有再生育、也没有收养孩子，对吗？",
        _yes_no("对", "不对"),
    ),
    "ent_age": Prompt("您今年多大岁数了？直接打数字就行，比如“68”，也可以点下面的按钮。", _AGE_BUTTONS),
    "ent_self_care": Prompt(
        "您的生活能完全自理吗？（能不能自理，最后要由区卫生局指定的医疗机构鉴定。）",
        _yes_no("能完全自理", "不能完全自理"),
    ),
    "ent_sanwu": Prompt(
        "您是“三无”吗？就是没有工作、没有收入、也没有劳动能力。（最后由民政部门认定。）", _yes_no()
    ),
    "ent_children": Prompt("您还想再要孩子，或者领养一个孩子吗？", _options(forms.CHILD_WISHES)),
    "ent_care": Prompt("将来养老，您更想住养老院，还是在家养老？", _options(forms.CARE_WISHES, "还没想好")),
    "psych_way": Prompt("您想要哪种关爱方式？", _options(forms.PSYCH_WAYS, "都可以，听安排")),
    "psych_phone": Prompt(
        "留一个方便联系您的电话吧，手机或者座机都行。不想留也可以，工作人员会在这里给您留言。",
        (Button("不留电话", SKIP),),
    ),
    "psych_call_time": Prompt("什么时候给您打电话比较方便？", _options(forms.CALL_TIMES)),
    "psych_street": Prompt(
        "您住在哪个街道？",
        (*(Button(street, choose(street)) for street in STREETS), Button(SKIP_LABEL, SKIP)),
    ),
    "legal_matter": Prompt("您需要哪方面的法律帮助？", _options(forms.LEGAL_MATTERS)),
    "legal_description": Prompt(
        "简单说说是什么事就行，几句话，300字以内。不方便说的话可以跳过，律师会再详细问您。",
        (Button("跳过", SKIP),),
    ),
    "legal_hardship": Prompt("您家里经济上有困难吗？", _yes_no("有困难", "没有")),
    "legal_mobility": Prompt("您出门是不是不太方便？比如腿脚不好、卧床。", _yes_no("是，不方便", "能出门")),
    "legal_home_visit": Prompt(
        "按文件规定，经济困难、行动不便的，可以申请律师主动上门。您需要上门服务吗？",
        _yes_no("需要上门", "不用", "再想想"),
    ),
    "legal_phone": Prompt(
        "留一个方便联系您的电话吧，手机或者座机都行。不想留也可以，工作人员会在这里给您留言。",
        (Button("不留电话", SKIP),),
    ),
    "legal_street": Prompt(
        "您住在哪个街道？",
        (*(Button(street, choose(street)) for street in STREETS), Button(SKIP_LABEL, SKIP)),
    ),
}


def prompt(slot: str, min_wage: str | None = None, *, chat_retention_days: int) -> Prompt:
    """The question for ``slot``; the income question shows the minimum wage once staff have set it,
    the consent question how long this site keeps conversations."""
    if slot == "ent_income":
        figure = f"（目前是 {min_wage}）" if min_wage else "（具体标准由街道核查时告诉您）"
        return Prompt(
            f"您家里每人每月的收入，低于北京市最低工资标准吗？{figure}",
            _yes_no("低于", "不低于"),
        )
    if slot.endswith("_consent"):
        text = consent.consent_for(slot.removesuffix("_consent"), chat_retention_days).text
        return Prompt(text, _CONSENT_BUTTONS)
    return PROMPTS[slot]


INTROS = {
    forms.ENTITLEMENT_FORM: (
        "好的，我帮您对照一下政策。我会一个一个问几个简单的问题，不清楚的可以跳过；"
        "您的回答只用来给您算结果。中途不想问了，说“算了”就行。"
    ),
    forms.PSYCH_FORM: "好的，我帮您登记心理关爱服务，几个问题就好。中途不想登记了，说“算了”就行。",
    forms.LEGAL_FORM: "好的，我帮您登记法律援助，几个问题就好。中途不想登记了，说“算了”就行。",
}
MATTER_NOTED = "您刚才说的事情我已经记下了，后面不用再说一遍。"
RESUMING = "上次您填到一半，我们从没填完的地方接着来。"
CONTINUING = "好的，我们接着来。"

REASKS = {
    "ent_age": "这个岁数好像不太对，麻烦您再说一下，比如“68”或者“六十八岁”。",
    "ent_income": "没太看明白。您点“低于”或“不低于”就行，不清楚也可以点“不清楚/跳过”。",
    "consent": "需要您点一下“同意”或“不同意”。不同意也没关系，照样可以用热线和公开的服务。",
    "phone": "这个号码好像不太对。手机号是1开头的11位数字；座机是010加8位数字，比如010-12345678。",
    "call_time": "没太看明白，您点一下下面的按钮，或者说个时间，比如“下午三点以后”。",
    "street": "没找到这个街道。西城区的街道在下面的按钮里，点一下就行；不清楚也可以跳过。",
    "description": "说个大概就行，最好不超过300个字，律师会再详细问您。",
}
DEFAULT_REASK = "没太看明白，您点一下下面的按钮就行；不清楚也可以点“不清楚/跳过”。"
OFFER_PERSON = Prompt(
    "这一步好像不太好填，没关系。要不要请工作人员来帮您？",
    (Button("找工作人员", REQUEST_HUMAN), Button("跳过这一题", SKIP), Button("不办了", STOP)),
)


def reask(slot: str, attempt: int) -> Prompt:
    """What to say after the ``attempt``-th answer that did not fit ``slot`` (before asking again)."""
    if attempt > MAX_REASKS:
        return OFFER_PERSON
    key = slot if slot in REASKS else slot.split("_", 1)[1]
    return Prompt(REASKS.get(key, DEFAULT_REASK))


NOTHING_TO_RESUME = Prompt(
    "没有找到没填完的登记。您想做什么？",
    (
        Button("我能享受哪些帮扶", "/check_entitlement"),
        Button("登记心理关爱", "/request_psych_support"),
        Button("登记法律援助", "/request_legal_aid"),
    ),
)
ANSWER_WITHOUT_QUESTION = "这个问题现在不用回答了。"
RESUME_OFFER = Prompt("您还有没填完的登记，要接着填吗？", (Button("继续刚才的登记", RESUME),))
NOTHING_TO_CANCEL = "好的，没问题。还有什么我能帮您的吗？"

"""Which way a family message goes: one decision from Rasa's intent, the knowledge base and the form.

Rasa's intent alone used to decide the route before the knowledge base was asked,
so a question that mentioned 补助 started the entitlement questionnaire, a question
about legal aid started the legal-aid intake, and a question about the health record
got "no application found" (blind round 5, docs/evaluation.md). Here the intent, the
best knowledge-base match and whether a form is open are weighed once, in one place
(Rasa's confidence is not used: on round 5 it was about 1.0 for nearly every message):

* inside a form, what the family types answers the form's question: Rasa as is;
* a policy question gets its answer whatever other intent is near; the entitlement
  check starts when a family asks what they are entitled to, case status is for a
  family asking about its own application;
* a question about legal aid or psychological support is answered first and the
  intake offered after; a plain request starts the intake, and so does a request in so
  many words that comes with a question (我想报名参加心理咨询 怎么给我约上);
* greetings, thanks, yes and no, requests for a person, follow-ups ("那找谁办") and
  risk intents stay with Rasa and the hand-off.

The safety screen has already run by then (``handoff``); nothing here lowers risk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from knowledge.answers import REQUEST_LEGAL_AID, REQUEST_PSYCH_SUPPORT, Thresholds, elsewhere, follow_up
from knowledge.retrieval import Hit

ASK_POLICY = "ask_policy"
CHECK_ENTITLEMENT = "check_entitlement"
ASK_CASE_STATUS = "ask_case_status"

ANSWERED_WHATEVER_THE_INTENT = frozenset({"out_of_scope", "nlu_fallback", "express_distress", "inform"})
"""Intents under which a message that matches an entry well is answered from it. ``ask_policy``
goes to Rasa's policy action as it is, which answers it the same way (and weighs close calls).
``inform`` (an age, a street) outside a form got "这个问题现在不用回答了" when it came with a question
about the topic before (我六十八了 够岁数不, after the check-up: blind rounds 5-11); in a form the
form reads it first."""
INTAKE_REQUESTED_UNDER = frozenset({ASK_POLICY, "express_distress", "out_of_scope", "nlu_fallback"})
"""Intents under which a request for an intake in so many words starts it (Rasa's own request
intents start it anyway; None, Rasa down, cannot start a form)."""
ANSWERED_IN_CONTEXT = frozenset({ASK_POLICY, "affirm", "deny"})
"""Intents under which a follow-up read with the topic before it is answered from it: a short
question is easily read as yes or no (收钱不, 要钱不: blind round 8)."""

_QUESTION = re.compile(
    r"[吗么嘛呢？?]|不[呢啊呀]?[？?。\s]*$|没[有]?[呢啊呀]?[？?。\s]*$|能不能|可不可以|是不是|有没有|要不要|"
    r"要钱|收费|花钱|多少|几[回次个天]|啥|什么|怎么|咋|哪|谁|管用|算不算|行不行"
)
"""A question rather than a request: 律师能上家来不, 法律援助要钱吗, 心理热线是真的不."""

_ASKS_TO_APPLY = re.compile(
    r"(想|要|帮我|给我|您给我|麻烦您?|请)(报名|报个名|申请|登记|约|预约|安排|办一下|办个)"
    r"|(帮我|给我|替我|帮着)联系|(能|可以)给(我|俺)?(预约|约|安排|联系)"
)
"""A request for an intake, even when a question comes with it: 我想报名参加心理咨询 怎么给我约上,
我想申请律师帮忙维权 我腿不好能上门儿吗 (blind round 8), 想找个心理医生聊聊 你能帮我联系一个吗,
看看心理方面的 您这儿能给预约不 (round 11)."""
_LEGAL_MATTER = re.compile(r"法律|律师|官司|诉讼|起诉|维权|答辩|状子")
_PSYCH_MATTER = re.compile(r"心理|咨询师|疏导|倾诉")

_OWN_APPLICATION = re.compile(
    r"我(的|们的|家的|那个)?(申请|登记|案子|事儿?|材料)|办得怎么样|进度|批下来|到哪一步|有结果"
)
_ENTITLEMENT_REQUEST = re.compile(
    r"(能|可以)?享受(点|些)?(什么|啥|哪些|哪几样)|都有(啥|什么|哪些)|帮我(看看|对照|算算|捋)|对照一下|够什么条件"
)


@dataclass(frozen=True)
class Reading:
    """What is known about one message before anyone answers it.

    ``intent`` is None when Rasa could not be asked; ``best`` is the best entry,
    None when the knowledge base is not loaded yet.
    """

    text: str
    intent: str | None
    best: Hit | None
    in_form: bool
    in_context: bool = False
    """``best`` was found with the entry discussed before (a follow-up such as 那要是…呢)."""


@dataclass(frozen=True)
class Route:
    """Answer ``entry_id`` (through Rasa's policy action, or directly when Rasa is down; a
    measure with an intake offers it after the answer); without one, Rasa takes the message."""

    entry_id: str | None = None
    fallback: str | None = None
    """The entry to answer from if Rasa or its action server fails on this message."""
    form_answer: bool = False
    """The message answers the open form's question: the form's validator reads it."""
    intake: str | None = None
    """The intent of the intake the family asks to start (the request beats its question words)."""


TO_RASA = Route()


_ELLIPTICAL = re.compile(r"^(那|那要是|要是|如果|万一|那我|那俺|还有|再|光|只)|[呢呐]\W*$")
"""A follow-up that only makes sense with the topic before it: 那要是在家养老呢, 要是我走不动道呢."""


def elliptical(text: str) -> bool:
    """Whether a message leans on the previous turn's topic."""
    return bool(_ELLIPTICAL.search(text.strip()))


SHORT_QUESTION_CHARS = 14
"""A question this short may lean on the topic before it without saying so: 要钱不, 不要钱？, 谁给认定
(blind round 7's conversations), 谁给核查啊 上哪儿去申请 (round 11); it is read both ways and the
clearly better reading wins (:func:`in_context`). 10 before the margin there; 14 passed one more of the
70 measured conversations."""


def may_follow_on(text: str) -> bool:
    """Whether a message is worth reading together with the previous turn's topic."""
    stripped = text.strip()
    short_question = len(stripped) <= SHORT_QUESTION_CHARS and _QUESTION.search(stripped) is not None
    return elliptical(stripped) or short_question


CONTEXT_MARGIN = 0.03
"""How much better the reading with the topic must match than the message alone to win.

The topic is read as the previous entry's title in front of the message, and a title matches
its own entry almost word for word: read that way, 那体检呢 and 体检是谁管的 after the health
record, or 那要是在家养老呢 after nursing homes, went back to the entry before although the
message alone named its entry (blind rounds 10 and 11). Follow-ups that do need the topic
(要钱不, 谁给认定, 收费不) match 0.03 to 0.08 better with it."""


def in_context(alone: Hit | None, with_topic: Hit | None) -> Hit | None:
    """The reading with the topic when it matches clearly better than the message alone, or both
    find the same entry; None when the message is best read as a new question (an elliptical one
    that names its own topic too: 那体检呢)."""
    if with_topic is None or alone is None or with_topic.entry_id == alone.entry_id:
        return with_topic
    return with_topic if with_topic.semantic > alone.semantic + CONTEXT_MARGIN else None


def route(reading: Reading, thresholds: Thresholds) -> Route:
    """The one decision for a message (see the module's docstring)."""
    best = reading.best
    if reading.in_form or best is None or best.semantic < thresholds.close or follow_up(reading.text):
        return TO_RASA
    if elsewhere(reading.text):
        return TO_RASA  # another place's policy: the policy action says it is not ours to answer
    intent = reading.intent
    asked_for = intake_asked_for(reading.text)
    if asked_for is not None and intent in INTAKE_REQUESTED_UNDER:
        return Route(intake=asked_for)
    if intent is None or intent in ANSWERED_WHATEVER_THE_INTENT:
        return Route(best.entry_id)
    if reading.in_context and intent in ANSWERED_IN_CONTEXT:
        return Route(best.entry_id)  # Rasa's policy action would search the words without their topic
    if intent == ASK_POLICY:
        return Route(fallback=best.entry_id)
    if intent == CHECK_ENTITLEMENT and not _ENTITLEMENT_REQUEST.search(reading.text):
        return Route(best.entry_id)
    if intent == ASK_CASE_STATUS and not _OWN_APPLICATION.search(reading.text):
        return Route(best.entry_id)
    if (
        intent in (REQUEST_LEGAL_AID, REQUEST_PSYCH_SUPPORT)
        and _QUESTION.search(reading.text)
        and not asked_for
    ):
        return Route(best.entry_id)
    return TO_RASA


def intake_asked_for(text: str) -> str | None:
    """The intake (its intent) a message asks to start in so many words, if any."""
    if not _ASKS_TO_APPLY.search(text):
        return None
    if _LEGAL_MATTER.search(text):
        return REQUEST_LEGAL_AID
    return REQUEST_PSYCH_SUPPORT if _PSYCH_MATTER.search(text) else None


def entry_payload(entry_id: str) -> str:
    """The message that makes Rasa answer one entry: what a choice button sends, and the route."""
    return "/" + ASK_POLICY + json.dumps({"kb_entry": entry_id}, ensure_ascii=False)


HITS_KEY = "kb_hits"
"""The metadata key under which the gateway sends Rasa the entries it ranked for a message."""


def hits_metadata(hits: Sequence[Hit]) -> dict[str, Any]:
    """The ranked entries as message metadata: Rasa's policy action answers from them, so only
    the gateway holds the embedding model (a second copy cost the action server about 0.9 GB)."""
    return {HITS_KEY: [[hit.entry_id, hit.score, hit.semantic] for hit in hits]}


def hits_in(metadata: object) -> list[Hit] | None:
    """The ranked entries sent along with a message; None when it did not come through the gateway
    (a client talking to Rasa directly), or what came is not a ranking."""
    ranked = metadata.get(HITS_KEY) if isinstance(metadata, dict) else None
    if not isinstance(ranked, list):
        return None
    try:
        return [Hit(str(entry_id), float(score), float(semantic)) for entry_id, score, semantic in ranked]
    except (TypeError, ValueError):
        return None

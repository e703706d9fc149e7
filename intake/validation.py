"""Reading what families type into a form: phone numbers, ages, streets, yes/no and choices.

Every reader returns a clean value or ``None``; ``None`` means "ask again, kindly"
(the form counts the re-asks and offers a person after two). Text is normalised
first (NFKC turns full-width ６８ and （０１０） into 68 and (010)), because older
users often type with a Chinese input method's full-width digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date

from intake.streets import STREETS
from knowledge.entitlement import Answer

MIN_AGE = 18
MAX_AGE = 120
"""A parent who lost a child is an adult; nobody alive is older than this."""

_SEPARATORS = re.compile(r"[\s\-()（）.·—_/]+")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_BEIJING_LANDLINE = re.compile(r"(?:010)?([2-9][0-9]{7})")
_COUNTRY_PREFIX = re.compile(r"^(?:\+?86|0086)(?=1[3-9][0-9]{9}$|10[2-9][0-9]{7}$)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise(text: str) -> str:
    """NFKC, trimmed, runs of whitespace made one space."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def parse_phone(text: str) -> str | None:
    """A Chinese mobile (1[3-9] and 9 digits) or a Beijing landline (010 and 8 digits, or 8 digits).

    Spaces, dashes, brackets and a +86 / 0086 prefix are allowed; exactly one number
    must be given (short numbers such as "3点" around it are ignored).
    Returns ``13812345678`` or ``010-82951332``.
    """
    runs = [run for run in re.findall(r"\+?[0-9]+", _SEPARATORS.sub("", normalise(text))) if len(run) >= 5]
    numbers = [_phone(run) for run in runs]
    if len(numbers) != 1:
        return None
    return numbers[0]


def _phone(run: str) -> str | None:
    digits = _COUNTRY_PREFIX.sub("", run)
    if _MOBILE.fullmatch(digits):
        return digits
    landline = _BEIJING_LANDLINE.fullmatch(digits)
    if landline:
        return f"010-{landline.group(1)}"
    return None


_DIGIT_CHARS = ("零〇", "一", "二两", "三", "四", "五", "六", "七", "八", "九")
_CHINESE_DIGITS = {char: value for value, chars in enumerate(_DIGIT_CHARS) for char in chars}
_CHINESE_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百]+")


def chinese_number(text: str) -> int | None:
    """六十八 → 68, 七十 → 70, 一百零二 → 102, 十二 → 12; None for anything else."""
    total, current = 0, 0
    for char in text:
        if char in _CHINESE_DIGITS:
            current = _CHINESE_DIGITS[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    number = total + current
    return number if text else None


AGE_60_PLUS = "60+"
AGE_UNDER_60 = "<60"
AGE_UNKNOWN = Answer.UNKNOWN.value
_UNDER = ("不到", "没到", "未满")
_NEARLY = ("快", "差")
_OVER = ("及以上", "以上", "往上")
_BIRTH_YEAR = re.compile(r"((?:19|20)?[0-9]{2})\s*年")


def parse_age(text: str, today: date) -> str | None:
    """An age as the form stores it: "68", or "unknown" when only a birth year near 60 was given.

    Accepts 68, 68岁, 六十八, 七十多 (70: enough to tell "60 or over"), 快七十了 (69),
    不到60 and 60岁及以上 (the buttons' labels), and a birth year (1950年生的, 50年的).
    Ages outside 18–120 are impossible → None.
    """
    clean = normalise(text)
    birth = _BIRTH_YEAR.search(clean)
    if birth:
        year = int(birth.group(1))
        age = today.year - (year if year > 99 else 1900 + year)
        if age == 60:
            return AGE_UNKNOWN  # whether 年满60周岁 depends on the birthday
        return str(age) if MIN_AGE <= age <= MAX_AGE else None
    match = re.search(r"[0-9]+", clean) or _CHINESE_NUMBER.search(clean)
    if match is None:
        return None
    number = int(match.group()) if match.group().isdigit() else chinese_number(match.group())
    if number is None:
        return None
    before = clean[: match.start()]
    if before.endswith(_UNDER):
        return AGE_UNDER_60 if number <= 60 else AGE_UNKNOWN  # 不到70: could be 50 or 69
    if before.endswith(_NEARLY):
        number -= 1
    if number >= 60 and clean[match.end() :].lstrip("周岁").startswith(_OVER):
        return AGE_60_PLUS  # "60岁及以上", the button's label typed out
    return str(number) if MIN_AGE <= number <= MAX_AGE else None


def age_answer(value: str) -> Answer:
    """Whether a stored age value means "年满60周岁"."""
    if value == AGE_60_PLUS:
        return Answer.YES
    if value == AGE_UNDER_60:
        return Answer.NO
    if value.isdigit():
        return Answer.YES if int(value) >= 60 else Answer.NO
    return Answer.UNKNOWN


_UNKNOWN_WORDS = ("不清楚", "不知道", "不确定", "说不好", "说不准", "不记得", "跳过", "不太清楚", "不晓得")
_SKIP_WORDS = (*_UNKNOWN_WORDS, "听安排", "还没想好", "没想好", "不留电话", "不想留", "不留了")


def skips(text: str) -> bool:
    """Whether a typed answer passes on the question: 不清楚/跳过, 不留电话, 都可以，听安排."""
    clean = normalise(text)
    return any(word in clean for word in _SKIP_WORDS)


_NO_STARTS = ("不", "没", "无", "否", "非")
_YES_STARTS = ("是", "对", "有", "嗯", "能", "会", "想", "要", "在", "愿意", "同意", "属于")


def parse_yes_no(text: str) -> Answer | None:
    """Typed yes/no/don't-know when the NLU did not already read it as affirm/deny/skip.

    "Don't know" is checked first and "no" before "yes", because their words contain
    the others (不知道 starts with 不, 没有 contains 有).
    """
    clean = normalise(text)
    if any(word in clean for word in _UNKNOWN_WORDS):
        return Answer.UNKNOWN
    if clean.startswith(_NO_STARTS):
        return Answer.NO
    if clean.startswith(_YES_STARTS):
        return Answer.YES
    return None


_DECLINE_WORDS = ("不用", "不要", "不需要", "算了", "别了", "先不")
_ACCEPT_STARTS = (
    "行", "好", "可以", "中", "成", "得嘞", "麻烦", "那就", "那您", "那你", "给我", "帮我", "安排", "那好",
)  # fmt: skip


ACCEPT_MAX_CHARS = 6
"""A yes to an offer by its first word (有, 想, 要 …) is short: "有时候觉得熬不下去" starts with 有
and says something else (blind round 8)."""


_QUESTION = re.compile(r"[吗嘛么呢?]$|不$|没有?$|什么|啥|怎么|咋|多少|哪|几[个岁天次]")
"""A question back, not an answer: "要钱不" (does it cost?) starts like 要 (yes) (blind round 9)."""


def accepts(text: str) -> bool | None:
    """How a family answered an offer ("帮您登记吗？", "想找人聊聊吗？") in everyday words:
    True for 行 / 好啊 / 那您给我申请一个, False for 不用了, None when it is something else
    (a question back, such as 要钱不, included)."""
    clean = normalise(text)
    if any(word in clean for word in _DECLINE_WORDS):
        return False
    if _QUESTION.search(clean.rstrip("。.!~ ")):
        return None
    answer = parse_yes_no(text)
    if answer is Answer.NO:
        return False
    if (answer is Answer.YES and len(clean) <= ACCEPT_MAX_CHARS) or clean.startswith(_ACCEPT_STARTS):
        return True
    return None


def parse_street(text: str) -> str | None:
    """One of Xicheng's streets named in the text (德胜, 德胜街道, 我住月坛那边); None if none or two."""
    clean = normalise(text)
    found = [street for street in STREETS if street in clean]
    return found[0] if len(found) == 1 else None


def parse_choice(text: str, options: Mapping[str, Sequence[str]]) -> str | None:
    """The one option named in ``text``; None when none or several are.

    A word inside a longer matched word does not count (诉讼 in 非诉讼代理), so
    "非诉讼代理" names only the option that owns 非诉讼.
    """
    clean = normalise(text)
    matched = [(value, word) for value, words in options.items() for word in words if word in clean]
    named = {
        value for value, word in matched if not any(word != other and word in other for _, other in matched)
    }
    return named.pop() if len(named) == 1 else None


def clean_text(text: str, max_chars: int) -> str | None:
    """Free text kept as the family wrote it (full-width punctuation too), minus control characters
    and extra spaces; None when empty, too long, or a leftover button payload."""
    clean = " ".join(_CONTROL.sub("", text).split())
    if not clean or len(clean) > max_chars or clean.startswith("/"):
        return None
    return clean

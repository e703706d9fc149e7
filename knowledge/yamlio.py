"""The knowledge base as YAML files: read any valid YAML, write one canonical layout.

Staff edit these files by hand and keep them under version control, so an export
must look exactly like the seed (same comments, field order, quoting and blank
lines) and export(import(file)) must give back the same bytes. A generic YAML
dumper cannot promise that, so records are written field by field with a fixed
style per field; every scalar is checked by reading it back and double-quoted
when the plain form would change its meaning.
"""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

KNOWLEDGE_DIR = Path(__file__).resolve().parent
SEED_DIR = KNOWLEDGE_DIR / "seed"
EVAL_FILE = KNOWLEDGE_DIR / "eval" / "questions.yaml"


class Kind(StrEnum):
    """The four files of the knowledge base; the value is the file's stem."""

    ENTRIES = "entries"
    DEPARTMENTS = "departments"
    HELPLINES = "helplines"
    FACTS = "facts"

    @property
    def filename(self) -> str:
        return f"{self.value}.yaml"


class Style(StrEnum):
    SCALAR = "scalar"  # plain when safe, else double-quoted
    QUOTED = "quoted"  # always double-quoted (phone numbers: "120" must stay text)
    BLOCK = "block"  # literal block |- (long Chinese text)
    FLOW = "flow"  # [a, b] (short id lists)
    SEQUENCE = "sequence"  # one "- item" per line (example questions)


FIELDS: dict[Kind, tuple[tuple[str, Style], ...]] = {
    Kind.ENTRIES: (
        ("id", Style.SCALAR),
        ("title", Style.SCALAR),
        ("clause", Style.SCALAR),
        ("text", Style.BLOCK),
        ("answer", Style.BLOCK),
        ("conditions", Style.FLOW),
        ("departments", Style.FLOW),
        ("next_step", Style.SCALAR),
        ("questions", Style.SEQUENCE),
        ("tags", Style.FLOW),
        ("status", Style.SCALAR),
        ("version", Style.SCALAR),
        ("valid_from", Style.SCALAR),
        ("valid_to", Style.SCALAR),
    ),
    Kind.DEPARTMENTS: (
        ("id", Style.SCALAR),
        ("name", Style.SCALAR),
        ("duties", Style.BLOCK),
        ("phone", Style.QUOTED),
        ("address", Style.SCALAR),
        ("hours", Style.SCALAR),
    ),
    Kind.HELPLINES: (
        ("id", Style.SCALAR),
        ("name", Style.SCALAR),
        ("number", Style.QUOTED),
        ("hours", Style.SCALAR),
        ("scope", Style.SCALAR),
        ("priority", Style.SCALAR),
    ),
    Kind.FACTS: (
        ("key", Style.SCALAR),
        ("label", Style.SCALAR),
        ("value", Style.QUOTED),
        ("unit", Style.SCALAR),
        ("effective_from", Style.SCALAR),
        ("decided_by", Style.SCALAR),
        ("clauses", Style.FLOW),
        ("note", Style.SCALAR),
    ),
}

HEADERS: dict[Kind, str] = {
    Kind.ENTRIES: (
        "# 西城区失独家庭帮扶政策知识库（种子数据）\n"
        "# 来源：《北京市西城区对失去独生子女家庭开展帮扶工作的意见》西政办发〔2013〕17号\n"
        "# text 字段为原文逐字摘录（原文中句内断行已连接）；文件未写明的数额、电话、地址一律不填。\n"
    ),
    Kind.DEPARTMENTS: (
        "# 部门及职责（duties 为附件原文逐字摘录）。\n"
        "# 电话、地址、办公时间文件中没有，由工作人员核实后填写；尚未填写的为 null。\n"
    ),
    Kind.HELPLINES: "# 心理援助与紧急求助热线（priority 越小越靠前显示）\n",
    Kind.FACTS: (
        "# 待工作人员填写的开放数据项：文件未给出数值，value 为 null 表示尚未录入；\n"
        "# 录入前机器人不显示任何数额，只说明由谁决定/核查。\n"
    ),
}

INDENT = "  "


class YamlFormatError(ValueError):
    """The text is not YAML, or not a list of records."""


def parse(text: str) -> list[dict[str, Any]]:
    """Records from YAML text; a clear error when it is not a list of mappings."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"（第 {mark.line + 1} 行）" if mark is not None else ""
        raise YamlFormatError(f"YAML 格式错误{where} / invalid YAML{where}") from error
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise YamlFormatError("文件应是一个列表，每项是一条记录 / the file must be a list of records")
    return data


def read_records(path: Path) -> list[dict[str, Any]]:
    return parse(path.read_text(encoding="utf-8"))


def _reads_back(line: str, value: Any) -> bool:
    try:
        return yaml.safe_load(line) == {"k": value}
    except yaml.YAMLError:
        return False


def _quoted(value: str) -> str:
    """A YAML double-quoted scalar; JSON's string escapes are a subset of YAML's."""
    return json.dumps(value, ensure_ascii=False)


def _scalar(value: Any, style: Style) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool | int | date):
        return str(value).lower() if isinstance(value, bool) else str(value)
    text = str(value)
    if style is Style.QUOTED or not text or not _reads_back(f"k: {text}", text):
        return _quoted(text)
    return text


def _flow_item(value: str) -> str:
    return value if value and _reads_back(f"k: [{value}]", [value]) else _quoted(value)


def _field(name: str, value: Any, style: Style) -> list[str]:
    """The lines of one ``name: value`` pair at record level."""
    if style is Style.BLOCK and isinstance(value, str) and value:
        body = [f"{INDENT}{line}" if line else "" for line in value.split("\n")]
        if _reads_back("\n".join(["k: |-", *body]), value):
            return [f"{INDENT}{name}: |-", *(f"{INDENT}{line}" if line else "" for line in body)]
    if style is Style.FLOW and isinstance(value, list):
        return [f"{INDENT}{name}: [{', '.join(_flow_item(str(item)) for item in value)}]"]
    if style is Style.SEQUENCE and isinstance(value, list):
        if not value:
            return [f"{INDENT}{name}: []"]
        return [f"{INDENT}{name}:", *(f"{INDENT * 2}- {_scalar(item, Style.SCALAR)}" for item in value)]
    return [f"{INDENT}{name}: {_scalar(value, style)}"]


def _record(kind: Kind, record: dict[str, Any]) -> str:
    lines: list[str] = []
    for name, style in FIELDS[kind]:
        lines.extend(_field(name, record.get(name), style))
    lines[0] = "- " + lines[0].removeprefix(INDENT)
    return "\n".join(lines) + "\n"


def dump(kind: Kind, records: list[dict[str, Any]]) -> str:
    """The canonical text of a file of ``kind``: header, then records separated by a blank line."""
    return HEADERS[kind] + "\n".join(_record(kind, record) for record in records)

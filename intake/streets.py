"""西城区's 街道办事处: the streets a family can name, and the office that serves it."""

from __future__ import annotations

STREETS: tuple[str, ...] = (
    "德胜",
    "什刹海",
    "西长安街",
    "大栅栏",
    "天桥",
    "新街口",
    "金融街",
    "椿树",
    "陶然亭",
    "广安门内",
    "牛街",
    "白纸坊",
    "广安门外",
    "月坛",
    "展览路",
)
"""The 15 streets of Xicheng today, in the district's usual order."""


def office_name(street: str) -> str:
    """How a street's office is called in a sentence: 德胜 → 德胜街道办事处."""
    return f"{street}街道办事处"

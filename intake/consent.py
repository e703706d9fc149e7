"""What families agree to before an intake collects anything (PIPL: consent for sensitive data).

A person's psychological state, health and finances are sensitive personal
information, so each form opens by saying what is collected, why, who sees it and
how long it is kept, and asks for a separate yes. Each text has a version; the case
stores the version the family agreed to, so what they were told can always be shown
again. Changing a text (or a retention period it promises) means a new version.

"Who sees it" is exactly who can open the case: the staff of the departments it is
routed to (:data:`intake.cases.DEPARTMENT_FOR`, and for psychological support the
office of the family's own 街道, no other street's), and the helpline's admins, who see
every case. How long the conversation
itself is kept is a site's setting (HELPLINE_MESSAGE_RETENTION_DAYS), so it is passed
in and named in the version: a site that changes it asks families again.
"""

from __future__ import annotations

from dataclasses import dataclass

CASE_RETENTION_DAYS = 365
"""Personal details of a finished case are erased this long after it is done or closed."""

DRAFT_RETENTION_DAYS = 7
"""An unfinished form is kept this long so it can be resumed, then deleted."""

EDITION = "2026-03"
"""The wording's edition: a new one whenever a word of the texts below changes."""


@dataclass(frozen=True)
class Consent:
    purpose: str
    version: str
    text: str


@dataclass(frozen=True)
class _Wording:
    """The lines that differ between the forms; the rest of the text is the same for both."""

    collected: str
    why: str
    readers: str
    kept_after: str
    sensitive: str


_WORDINGS = {
    "psych": _Wording(
        collected="您想要的关爱方式、联系电话、方便接电话的时间、所在街道",
        why="只用来给您安排心理关爱服务、和您联系",
        readers="区民政局和您所在街道办事处负责心理关爱的工作人员",
        kept_after="服务结束后",
        sensitive="心里的事属于敏感个人信息",
    ),
    "legal": _Wording(
        collected="您要办的法律事项和简单情况、家里经济和出行情况、联系电话、所在街道",
        why="只用来给您安排法律援助，看是否需要上门服务",
        readers="区司法局负责法律援助的工作人员",
        kept_after="事情办完后",
        sensitive="经济、健康情况属于敏感个人信息",
    ),
}
PURPOSES = tuple(_WORDINGS)


def _span(days: int) -> str:
    """A period as a family says it: 365 → 1年, 30 → 30天."""
    return f"{days // 365}年" if days % 365 == 0 else f"{days}天"


def consent_for(purpose: str, chat_retention_days: int) -> Consent:
    """The text for ``purpose`` ("psych" or "legal") as this site keeps conversations."""
    wording = _WORDINGS[purpose]
    text = (
        "登记之前，先跟您说清楚您的信息怎么用：\n"
        f"• 记下什么：{wording.collected}。\n"
        f"• 为什么记：{wording.why}。\n"
        f"• 谁能看到：{wording.readers}，还有管理这条热线的管理员；别的部门看不到。\n"
        f"• 保存多久：{wording.kept_after}保存{_span(CASE_RETENTION_DAYS)}，到期删除；"
        f"没填完的最多保存{DRAFT_RETENTION_DAYS}天；我们的聊天记录保存{_span(chat_retention_days)}，到期清空。\n"
        f"{wording.sensitive}，需要您点头我们才登记。您同意吗？"
    )
    return Consent(purpose=purpose, version=f"{purpose}-{EDITION}-chat{chat_retention_days}", text=text)


DECLINED = "declined"
"""Stored in the consent slot when the family says no (the version string when they say yes)."""

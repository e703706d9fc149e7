"""What families agree to before an intake collects anything (PIPL: consent for sensitive data).

A person's psychological state, health and finances are sensitive personal
information, so each form opens by saying what is collected, why, who sees it and
how long it is kept, and asks for a separate yes. Each text has a version; the case
stores the version the family agreed to, so what they were told can always be shown
again. Changing a text (or a retention period it promises) means a new version.
"""

from __future__ import annotations

from dataclasses import dataclass

CASE_RETENTION_DAYS = 365
"""Personal details of a finished case are erased this long after it is done or closed."""

DRAFT_RETENTION_DAYS = 7
"""An unfinished form is kept this long so it can be resumed, then deleted."""


@dataclass(frozen=True)
class Consent:
    purpose: str
    version: str
    text: str


PSYCH = Consent(
    purpose="psych",
    version="psych-2026-01",
    text=(
        "登记之前，先跟您说清楚您的信息怎么用：\n"
        "• 记下什么：您想要的关爱方式、联系电话、方便接电话的时间、所在街道。\n"
        "• 为什么记：只用来给您安排心理关爱服务、和您联系。\n"
        "• 谁能看到：区民政局和您所在街道负责这项工作的人员。\n"
        f"• 保存多久：服务结束后保存{CASE_RETENTION_DAYS // 365}年，到期删除；"
        f"没填完的最多保存{DRAFT_RETENTION_DAYS}天。\n"
        "心里的事属于敏感个人信息，需要您点头我们才登记。您同意吗？"
    ),
)

LEGAL = Consent(
    purpose="legal",
    version="legal-2026-01",
    text=(
        "登记之前，先跟您说清楚您的信息怎么用：\n"
        "• 记下什么：您要办的法律事项和简单情况、家里经济和出行情况、联系电话、所在街道。\n"
        "• 为什么记：只用来给您安排法律援助，看是否需要上门服务。\n"
        "• 谁能看到：区司法局负责法律援助的工作人员。\n"
        f"• 保存多久：事情办完后保存{CASE_RETENTION_DAYS // 365}年，到期删除；"
        f"没填完的最多保存{DRAFT_RETENTION_DAYS}天。\n"
        "经济、健康情况属于敏感个人信息，需要您点头我们才登记。您同意吗？"
    ),
)

BY_PURPOSE = {consent.purpose: consent for consent in (PSYCH, LEGAL)}
DECLINED = "declined"
"""Stored in the consent slot when the family says no (the version string when they say yes)."""

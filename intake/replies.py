"""The intake's answers that depend on data: entitlement results, case confirmations, case status.

Fixed sentences (the questions, the kind re-asks) live in Rasa's domain file; what is
built from the knowledge base or a case is written here, warm, plain and short, and
kept free of Rasa so it can be tested directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from intake import forms
from intake.cases import BEIJING, KIND_LABELS, STATUS_LABELS, STREET_OFFICE, Case, CaseKind, CaseStatus
from intake.consent import DRAFT_RETENTION_DAYS
from intake.streets import office_name
from knowledge.directory import DepartmentInfo, HelpLineInfo
from knowledge.entitlement import Assessment, Check, Measure, condition

ITEMS_PER_MESSAGE = 6
"""Long lists are split so one chat bubble stays readable on a phone."""

FORM_LABELS = {
    forms.ENTITLEMENT_FORM: "帮扶查询",
    forms.PSYCH_FORM: "心理关爱登记",
    forms.LEGAL_FORM: "法律援助登记",
}
FINAL_DECISION = (
    "以上是按您的回答做的初步判断，最后能不能享受，由负责的部门审核决定。拿不准的，可以先问所在街道办事处。"
)


def department_names(infos: Iterable[DepartmentInfo]) -> dict[str, str]:
    """Department id → how to say it to one family ("所在街道办事处" rather than "各街道办事处")."""
    names = {info.id: info.name for info in infos}
    if STREET_OFFICE in names:
        names[STREET_OFFICE] = "所在街道办事处"
    return names


def _names(ids: Iterable[str], names: Mapping[str, str]) -> str:
    return "、".join(names.get(department, department) for department in ids)


def _chunks(header: str, lines: Sequence[str]) -> list[str]:
    parts = [lines[i : i + ITEMS_PER_MESSAGE] for i in range(0, len(lines), ITEMS_PER_MESSAGE)]
    return [(header + "\n" if n == 0 else "") + "\n".join(part) for n, part in enumerate(parts)]


def _likely_line(measure: Measure, names: Mapping[str, str]) -> str:
    entry = measure.entry
    return f"• {entry.title}（{entry.clause}）\n  找{_names(entry.departments, names)}：{entry.next_step}"


def _labels(keys: Iterable[str]) -> str:
    return "、".join(f"“{condition(key).label}”" for key in keys)


def _grouped(measures: Iterable[Measure], keys_of) -> list[str]:
    """One line per reason, naming every measure that shares it (keeps "not Xicheng" to one line)."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for measure in measures:
        groups.setdefault(keys_of(measure), []).append(f"{measure.entry.title}（{measure.entry.clause}）")
    return [f"• 要看{_labels(keys)}：{'；'.join(titles)}" for keys, titles in groups.items()]


def _check_line(check: Check, names: Mapping[str, str]) -> str:
    who = "，".join(f"{names.get(v.department, v.department)}{v.does}" for v in check.verified_by)
    return f"• {check.label}：{who}"


def entitlement_messages(assessment: Assessment, names: Mapping[str, str], min_wage: str | None) -> list[str]:
    """The result of the check: likely measures, what needs checking and by whom, what does not apply."""
    messages: list[str] = []
    if assessment.likely:
        lines = [_likely_line(m, names) for m in assessment.likely]
        messages += _chunks("按您说的情况，这些帮扶您很可能可以享受：", lines)
    if assessment.needs_check:
        lines = _grouped(assessment.needs_check, lambda m: m.unknown)
        messages += _chunks("这些还要看情况，需要先弄清楚：", lines)
    if assessment.checks:
        lines = [_check_line(c, names) for c in assessment.checks]
        if min_wage and any(c.condition == "income_below_min_wage" for c in assessment.checks):
            lines.append(f"（北京市最低工资标准目前是 {min_wage}。）")
        messages += _chunks("由谁核实：", lines)
    if assessment.not_applicable:
        lines = _grouped(assessment.not_applicable, lambda m: m.unmet)
        messages += _chunks("按您的回答，这些暂时不适用（情况变了可以再问我）：", lines)
    return [*messages, FINAL_DECISION]


def _masked(phone: str) -> str:
    """138****5678: enough for the family to recognise it, no more in the transcript."""
    return phone[:3] + "****" + phone[-4:]


def _contact(case: Case) -> str:
    return f"打电话（{_masked(case.phone)}）联系您" if case.phone else "在这里给您留言"


def case_confirmation(case: Case, names: Mapping[str, str]) -> str:
    """Told right after a case is created: its number, who acts, how they get in touch."""
    routed = [names.get(case.department, case.department)]
    if STREET_OFFICE in case.departments and case.street is not None:
        routed.append(office_name(case.street))
    lines = [f"已经帮您登记好了，编号是 {case.number}，请记一下。"]
    if case.kind == CaseKind.LEGAL.value:
        lines.append("法律援助会优先办理。")
        if case.home_visit:
            lines.append("您经济困难、出行不便，已按文件规定给您申请了主动上门法律援助。")
    lines.append(f"{'和'.join(routed)}的工作人员会尽快{_contact(case)}。")
    lines.append("想知道办得怎么样了，跟我说“我的申请怎么样了”就行。")
    return "".join(lines)


def psych_declined(helplines: Sequence[HelpLineInfo]) -> str:
    """ "不同意" still gets the lines to call and the public services nobody needs to register for."""
    lines = [f"• {line.name}：{line.number}（{line.hours}）" for line in helplines if _psychological(line)]
    return "\n".join(
        [
            "好的，不登记也没关系，什么都没有记下。您随时可以：",
            *lines,
            "• 到所在街道的心理关爱服务站，免费心理咨询、健康讲座（三（二）1）",
            "• 参加街道“新希望家园”的活动，和有一样经历的人互相陪伴（三（二）2）",
            "想找人说说话，随时输入“人工”。",
        ]
    )


def _psychological(line: HelpLineInfo) -> bool:
    return "心理" in line.name + line.scope


def legal_declined(justice: DepartmentInfo | None) -> str:
    phone = f"，电话 {justice.phone}" if justice and justice.phone else ""
    return (
        "好的，不登记也没关系，什么都没有记下。"
        f"您可以直接联系区司法局{phone}。符合法律援助条件的失独父母，法律咨询、代写法律文书、"
        "刑事辩护、诉讼和非诉讼代理都是免费的，而且优先办理（三（三）3）。"
    )


def case_status(cases: Sequence[Case]) -> str:
    """A family's own cases, newest first (never anyone else's: the caller queries by sender)."""
    if not cases:
        return "还没查到您在这里登记过的申请。需要的话，我可以帮您登记心理关爱或法律援助。"
    lines = [
        f"• {case.number} {KIND_LABELS[CaseKind(case.kind)]}"
        f"（{case.created_at.astimezone(BEIJING):%Y年%m月%d日}登记）：{STATUS_LABELS[CaseStatus(case.status)]}"
        for case in cases
    ]
    return "\n".join(["您登记的申请：", *lines, "还有疑问，可以输入“人工”问工作人员。"])


def cancelled(form: str, open_cases: Sequence[Case]) -> str:
    """ "算了/不办了": nothing of this form is kept or sent; the family's earlier cases go on."""
    text = (
        f"好的，这次的{FORM_LABELS[form]}不办了。刚才填的内容已经删掉，没有交给任何部门"
        "（聊天记录按规定保存）。"
    )
    if open_cases:
        numbers = "、".join(case.number for case in open_cases)
        text += f"您之前登记的 {numbers} 不受影响，照常办理。"
    return text + "想重新开始，随时跟我说。"


def paused(form: str) -> str:
    return (
        f"您刚才的{FORM_LABELS[form]}我先替您存着（最多保存{DRAFT_RETENTION_DAYS}天）。"
        "想接着填的时候，说“继续刚才的登记”就行。"
    )

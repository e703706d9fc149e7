"""Words the Telegram channel says, to families and to counselors, kept together for review.

Families are mostly over 60: short sentences, no jargon, always a way to reach a person.
Counselor texts name tickets by priority and a short id, never by a family's name.
"""

from __future__ import annotations

# --- families -------------------------------------------------------------------------

START = (
    "您好，我是西城区失独家庭帮扶的小助手，很高兴陪您说说话。\n\n"
    "我能帮您：\n"
    "· 讲一讲帮扶政策：特别扶助金、医疗、养老、住房这些怎么申请\n"
    "· 帮您联系心理关爱和法律援助\n"
    "· 想找工作人员说话，发 /human 或输入“人工”，我马上帮您转\n\n"
    "关于隐私：您说的话会保存在西城区帮扶服务的系统里，只有工作人员为了帮您才会查看，"
    "不会告诉别人。不想说的事，可以不说。"
)
CRISIS_LINES_TITLE = "如果您现在特别难受，或者遇到危险，请马上打电话："
HELP = (
    "您可以直接打字问我，比如“特别扶助金怎么领”。\n\n"
    "/human 找工作人员说话\n"
    "/cancel 停下正在办的事，重新开始\n"
    "/start 再看一遍我能做什么"
)
CANCELLED = "好的，刚才的事先停下了。您想问什么，随时打字告诉我。"
CANCELLED_STILL_WAITING = "好的。您找工作人员的请求还在，工作人员会尽快来和您说话。"
CANCELLED_WITH_COUNSELOR = "好的。工作人员还在这儿陪您，有什么话直接打字告诉工作人员就行。"
NOT_TEXT = "这个我暂时看不了，抱歉。麻烦您打几个字告诉我，好吗？"
VOICE = (
    "语音我暂时听不了，抱歉。方便的话请打几个字告诉我；"
    "不方便打字也没关系，点下面的按钮，我请工作人员来和您说话。"
)
HUMAN_BUTTON = "找工作人员"
BUTTONS_ONLY = "请您选一个："
BUTTON_EXPIRED = "这个按钮已经失效了，请您直接打字告诉我。"

# What a non-text message is stored as in the transcript (its content is not kept).
STORED_KIND = {
    "voice": "[语音]",
    "audio": "[音频]",
    "photo": "[图片]",
    "sticker": "[表情]",
    "location": "[位置]",
    "video": "[视频]",
    "video_note": "[视频]",
    "document": "[文件]",
    "contact": "[名片]",
    "button": "[按钮]",
    "other": "[其他消息]",
}

# --- counselors -----------------------------------------------------------------------

PRIORITY_LABELS = {
    "crisis": "🔴危机",
    "emergency": "🟠紧急",
    "distress": "🟡情绪",
    "requested": "🔵求助",
    "callback": "⚪回访",
}
CLAIM_BUTTON = "接入"
CLAIMED_BY_YOU = "已接入。"
CLAIMED_BY_OTHER = "这位家属已由其他同事接入。"
TICKET_CLOSED = "这个求助已经结束了。"
NOT_ALLOWED = "只有值班咨询师可以操作。"
NOT_A_TICKET_TOPIC = "请在求助话题里使用这个命令。"
NOTE_USAGE = "用法：/note 备注内容（只有同事能看到）"
NOTE_SAVED = "备注已保存（家属看不到）。"
TRANSFER_USAGE = "用法：/transfer 同事的 Telegram 用户编号（对方也须在值班名单里）"
TRANSFER_UNKNOWN = "这位同事不在值班名单里，没有转接。"
TRANSFERRED = "已转接给同事 {counselor}。"
NOT_CLAIMED = "请先点“接入”再回复，家属才能收到您的消息。"
NOT_YOURS = "这位家属正由 {counselor} 接待；要接手请让对方 /transfer 给您。"
TOPIC_RECREATED = "原话题不见了，已重新建立；以下是之前的对话记录。"
TRANSCRIPT_EMPTY = "（还没有对话记录）"
QUEUE_TITLE = "📋 等待与进行中的求助（{count}）"
QUEUE_EMPTY = "📋 现在没有等待中的求助。"
QUEUE_ACTIVE = "{counselor} 接待中"
QUEUE_MORE = "……还有 {count} 条，请在后台查看。"
CLAIMED_NOTE = "✅ {counselor} 已接入。在本话题里直接回复，消息会转给家属。"
TRANSFERRED_NOTE = "↪️ 已转给 {counselor}。"
PRIORITY_NOTE = "⬆️ 优先级升为 {label}。"
UNCLAIMED_NOTE = "⏰ 还没有人接入，请值班同事尽快处理。"
CLOSED_NOTE = "☑️ {counselor} 已结束这次求助，家属回到智能助手。"
CLOSED_MARK = "☑️已结束"
SUMMARY_HEAD = "{name} · {status} · 来自 {channel} · {opened} 开始"
SUMMARY_RISKS = "风险信号："
SUMMARY_INTENTS = "识别到的意图："
SUMMARY_TRANSCRIPT = "—— 对话记录 ——"
CHANNEL_LABELS = {"telegram": "Telegram", "rest": "网页"}
STATUS_LABELS = {"waiting": "等待中", "active": "接待中", "closed": "已结束"}
LEVEL_LABELS = {"crisis": "危机", "emergency": "紧急", "distress": "情绪低落", "none": "无"}

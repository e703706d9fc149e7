"""Every word the hand-off path says to a family, in one place to be read and reviewed together.

Warm, plain and short: many readers are over 60 and in grief. Never a word about
how anyone could hurt themselves; always a number to call and a person coming.
"""

# --- crisis -----------------------------------------------------------------------

CRISIS_WARM = "谢谢您愿意告诉我。您现在一定很难受，您不是一个人，我在这儿陪着您。"
CRISIS_LINES_INTRO = "现在就可以打这些电话，都有专业的人接听："
LINES_REPEAT_INTRO = "工作人员正在赶来。要是现在很难熬，请先打这些电话，都有人接听："
LINE = "· {name} {number}（{hours}）"
IMMEDIATE_DANGER = "如果有立即的危险，请马上拨打 {numbers}。"
OR = " 或 "
CRISIS_QUEUED = "我已经请心理咨询师来和您说话，{place}。在这之前我一直陪着您，想说什么都可以跟我说。"

# --- emergency --------------------------------------------------------------------

EMERGENCY_CALL = "请马上拨打 {number}（{name}）！"
EMERGENCY_ADVICE = {
    "medical": "打完电话别挂断，按接线员说的做；身边有人的话，马上叫人来帮忙，能开门就先把门打开。",
    "fall": "先别急着起身，拨打电话后保持电话畅通；身边有人的话，马上叫人来帮忙。",
    "fire_gas": "请先离开屋子，到安全的地方再打电话。闻到煤气味时不要开关电器，能开窗就开窗。",
    "violence": "请先到安全的地方，保护好自己，再打电话报警。",
    "missing_person": "请马上报警，说清楚人是什么时候、在哪里不见的。",
}
EMERGENCY_QUEUED = "我也请工作人员来跟进您的情况，{place}。打完电话后，随时回来告诉我情况。"

# --- distress and the direct question -----------------------------------------------

DISTRESS = "听您这么说，我心里也很难过。这些日子您一定很不容易，愿意的话就跟我多说说。"
DISTRESS_OFFER = "想找工作人员说说话吗？点“找人聊聊”或者输入“人工”就行。"
TALK_TO_SOMEONE = "找人聊聊"
SAFETY_QUESTION = (
    "我想直接问您一句，您别介意：您现在有没有想伤害自己、或者不想活下去的念头？怎么回答都没关系，我都在这儿。"
)
SAFETY_LINES_INTRO = "不管怎么样，这些电话随时都能打，都有专业的人接听："
ANSWER_YES = "有"
ANSWER_NO = "没有"
SAFETY_ANSWER_NO = (
    "谢谢您告诉我，我放心一些了。心里难受的时候随时来找我说说；想找工作人员聊聊，输入“人工”就行。"
)

# --- the queue ----------------------------------------------------------------------

HANDOFF_PHRASE = "转人工"
"""What the 'talk to someone' button sends, as if the family had typed it."""
QUEUED = "好的，我这就请工作人员来和您说话，{place}。等的时候您想说什么，直接发给我，工作人员来了都能看到。"
WAITING_ACK = "收到，您的话已经转给工作人员了，{place}。请再稍等一会儿。"
WAITING_ACK_AT_RISK = "我在这儿陪着您，您说的话工作人员都会看到。{place}，想说什么都可以跟我说。"
CHECKIN_AT_RISK = "我一直在这儿陪着您，{place}。想说什么都可以跟我说。"
CHECKIN_NOBODY_INTRO = (
    "我一直在这儿陪着您，正在为您联系工作人员。要是现在很难熬，请先打这些电话，都有专业的人接听："
)
CHECKIN = "还在为您排队，{place}，请再稍等一会儿。"
CALLBACK_OPENED = "您好，之前说好要回访您，{place}。"
CLAIMED = "工作人员已经来了，接下来就由工作人员和您直接说话。"
TRANSFERRED = "接下来由另一位工作人员接着陪您说话。您前面说的话，新来的工作人员都能看到，不用再从头说一遍。"
BACK_IN_QUEUE = (
    "刚才的工作人员有事要先离开，正在为您安排另一位工作人员，请稍等一会儿。您想说什么，直接发给我就行。"
)
FOLLOWUP_PROMISED = "我们约好了：{when}左右，工作人员会再来问候您。在这之前想找人说话，随时输入“人工”。"
FOLLOWUP_WHEN = "{month}月{day}日 {time} "
CLOSED = "这次和工作人员的对话结束了，谢谢您的信任。接下来由小助手继续陪您；以后想找人说话，随时输入“人工”。"
WITHDRAWN = "好的，那就先不找工作人员了。还想问什么，直接问我；以后想找人说话，随时输入“人工”。"
PLACE = "您排在第 {position} 位，大约 {minutes} 分钟内会有人来"
PLACE_NO_ESTIMATE = "您排在第 {position} 位，工作人员会尽快来"
PLACE_URGENT = "值班的人正在赶过来"
PLACE_URGENT_NOBODY = "正在为您联系工作人员"
PLACE_NOBODY = "您排在第 {position} 位，现在暂时没有工作人员在线，有人上线就会来和您说话"

"""Words the gateway itself says to families (Rasa's own answers live in nlu/domain.yml).

Kept in one place so they can be read and reviewed together: warm, plain, short.
"""

EMPTY_MESSAGE = "我在这儿听着呢。您想说什么，直接打字告诉我就行。"
TOO_LONG = (
    "您写的内容我都收到了，也都保存好了。内容比较长，我先看前面一部分；"
    "要紧的事也可以输入“人工”，请工作人员仔细看。"
)
ASSISTANT_UNAVAILABLE = (
    "实在抱歉，我这边暂时出了点问题，没能马上回答您。您的话已经记下了。"
    "需要找人说说话，可以随时输入“人工”；如果情况紧急，请直接拨打 120 或 110。"
)
NO_ANSWER = "这个问题我没能答上来，抱歉。您可以换个说法再问我，或者输入“人工”，请工作人员帮您。"
TOO_FAST = "您发得有点快，我先把这些都记下了，稍等一分钟再接着说。要是情况紧急，请直接拨打 120 或 110。"
WHILE_WAITING = "等工作人员的时候，我先回答您刚才问的："
REDUCED_SERVICE = (
    "（我这边有一部分功能暂时不太灵，这条回答是直接从政策资料里找的。要办登记或者找人，可以输入“人工”。）"
)

from sqlalchemy.orm import Session, sessionmaker

from helpline.db import transaction
from helpline.messages import Author, Direction, record, since


def test_since_returns_one_conversation_after_the_cursor(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        first = record(
            session,
            sender="a",
            channel="rest",
            direction=Direction.INBOUND,
            author=Author.FAMILY,
            text="你好",
        )
        record(
            session,
            sender="b",
            channel="rest",
            direction=Direction.INBOUND,
            author=Author.FAMILY,
            text="别人",
        )
        record(
            session,
            sender="a",
            channel="rest",
            direction=Direction.OUTBOUND,
            author=Author.BOT,
            text="您好",
            payload={"buttons": [{"title": "是", "payload": "/affirm"}]},
        )
    with sessions() as session:
        everything = since(session, "a")
        after_first = since(session, "a", after=first.id)
    assert [m.text for m in everything] == ["你好", "您好"]
    assert [m.text for m in after_first] == ["您好"]
    assert after_first[0].payload == {"buttons": [{"title": "是", "payload": "/affirm"}]}
    assert after_first[0].created_at.tzinfo is not None


def test_text_is_stored_exactly(sessions: sessionmaker[Session]) -> None:
    odd = "😢 '; DROP TABLE messages; -- <script>alert(1)</script> 孩子 \u0000x"
    with transaction(sessions) as session:
        record(
            session,
            sender="s",
            channel="rest",
            direction=Direction.INBOUND,
            author=Author.FAMILY,
            text=odd.replace("\u0000", ""),
        )
    with sessions() as session:
        assert since(session, "s")[0].text == odd.replace("\u0000", "")

"""A local stand-in of the Telegram Bot API: a real HTTP server on 127.0.0.1.

python-telegram-bot talks to it exactly as to Telegram (``base_url``), so the
library's own request, parsing and error-mapping code runs unchanged. The server
keeps chats, forum topics and messages in memory, records every call, hands out
updates through long-polling ``getUpdates``, and fails on demand: 429 with
``retry_after`` as Telegram sends it, 502 as a proxy in front of it does.

It runs in a thread of its own, like a remote server: tests (sync or async) and
the gateway under test talk to it only over HTTP or through its thread-safe helpers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

TOKEN = "123456:TEST-token"
BOT_USER = {
    "id": 999000,
    "is_bot": True,
    "first_name": "西城帮扶小助手",
    "username": "xicheng_helper_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": True,
    "supports_inline_queries": False,
}
_STRING_FIELDS = {
    "text",
    "name",
    "callback_query_id",
    "url",
    "secret_token",
    "caption",
    "icon_custom_emoji_id",
}


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class Sent:
    """A message the bot sent (or copied) into a chat."""

    chat_id: int
    message_id: int
    thread_id: int | None
    text: str | None
    reply_markup: dict[str, Any] | None
    copy_of: tuple[int, int] | None = None

    def buttons(self) -> list[tuple[str, str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(button["text"], button["callback_data"]) for row in rows for button in row]


@dataclass
class _Failure:
    method: str
    status: int
    retry_after: float | None


@dataclass
class _State:
    updates: list[dict[str, Any]] = field(default_factory=list)
    history: dict[int, dict[str, Any]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    topics: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    pinned: dict[int, int] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    next_update_id: int = 1000
    next_message_id: int = 1
    next_thread_id: int = 500


class BotApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class FakeBotApi:
    """Start with :meth:`start`, point PTB at :attr:`base_url`, stop with :meth:`stop`."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self._state = _State()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._new_update: asyncio.Event | None = None
        self._server: uvicorn.Server | None = None
        self._closing = False
        self._thread: threading.Thread | None = None
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]

    # --- lifecycle ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL is set to; PTB adds ``/bot<token>`` itself."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])])
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1, lifespan="off")
        self._server = uvicorn.Server(config)
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._new_update = asyncio.Event()
            loop.call_soon(ready.set)
            loop.run_until_complete(self._server.serve(sockets=[self._socket]))
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-bot-api", daemon=True)
        self._thread.start()
        ready.wait(5)
        deadline = time.monotonic() + 5
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> None:
        """Answer pending long polls at once, then shut the server down."""
        self._closing = True
        if self._loop is not None and self._new_update is not None:
            self._loop.call_soon_threadsafe(self._new_update.set)
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(5)

    # --- what tests do ----------------------------------------------------------------

    def fail_next(self, method: str, status: int, retry_after: float | None = None, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` fail: 429 (with retry_after) or a proxy's 5xx."""
        with self._lock:
            self._state.failures.extend(_Failure(method, status, retry_after) for _ in range(times))

    def family_says(self, chat_id: int, text: str) -> int:
        return self._push_message(self._private_chat(chat_id), self._user(chat_id), {"text": text})

    def family_sends(self, chat_id: int, kind: str) -> int:
        """A non-text message: voice, photo, sticker or location."""
        content = {
            "voice": {"voice": {"file_id": "v1", "file_unique_id": "uv1", "duration": 3}},
            "photo": {"photo": [{"file_id": "p1", "file_unique_id": "up1", "width": 90, "height": 90}]},
            "sticker": {
                "sticker": {
                    "file_id": "s1",
                    "file_unique_id": "us1",
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                }
            },
            "location": {"location": {"latitude": 39.91, "longitude": 116.36}},
        }[kind]
        return self._push_message(self._private_chat(chat_id), self._user(chat_id), content)

    def family_command(self, chat_id: int, command: str) -> int:
        entity = {"type": "bot_command", "offset": 0, "length": len(command.split()[0])}
        return self._push_message(
            self._private_chat(chat_id), self._user(chat_id), {"text": command, "entities": [entity]}
        )

    def press(self, chat_id: int, user_id: int, sent: Sent, data: str) -> int:
        """A user presses a button of a message the bot sent."""
        with self._lock:
            message = dict(self._state.messages[(sent.chat_id, sent.message_id)])
            query = {
                "id": f"cq{self._state.next_update_id}",
                "from": self._user(user_id),
                "chat_instance": f"ci{chat_id}",
                "message": message,
                "data": data,
            }
            return self._add_update({"callback_query": query})

    def counselor_says(self, group_id: int, thread_id: int | None, user_id: int, text: str) -> int:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if thread_id is not None:
            content |= {"message_thread_id": thread_id, "is_topic_message": True}
        return self._push_message(self._group_chat(group_id), self._user(user_id), content)

    def redeliver(self, update_id: int) -> None:
        """Hand out an update again, as Telegram does when it is not sure the bot got it."""
        with self._lock:
            self._queue(self._state.history[update_id])

    def delete_topic(self, group_id: int, thread_id: int) -> None:
        """What a group admin does by hand; the bot is not told, as with real Telegram."""
        with self._lock:
            self._state.topics[(group_id, thread_id)]["deleted"] = True

    def sent_to(self, chat_id: int, thread_id: int | None = None) -> list[Sent]:
        with self._lock:
            return [
                s
                for s in self._state.sent
                if s.chat_id == chat_id and (thread_id is None or s.thread_id == thread_id)
            ]

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._state.calls if method is None or c.method == method]

    def topics(self, group_id: int) -> dict[int, dict[str, Any]]:
        with self._lock:
            return {t: dict(v) for (g, t), v in self._state.topics.items() if g == group_id}

    def pinned(self, chat_id: int) -> Sent | None:
        with self._lock:
            message_id = self._state.pinned.get(chat_id)
            return next(
                (s for s in self._state.sent if (s.chat_id, s.message_id) == (chat_id, message_id)), None
            )

    def pending_updates(self) -> int:
        with self._lock:
            return len(self._state.updates)

    def wait_for(self, what: Callable[[], Any], timeout: float = 15.0, poll: float = 0.02) -> Any:
        """Block until ``what()`` is truthy and return it; fail the test after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = what()
            if result:
                return result
            time.sleep(poll)
        raise AssertionError(f"timed out after {timeout}s waiting for {getattr(what, '__name__', what)}")

    async def await_for(self, what: Callable[[], Any], timeout: float = 15.0, poll: float = 0.02) -> Any:
        """:meth:`wait_for` for async tests, which must not block their event loop."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = what()
            if result:
                return result
            await asyncio.sleep(poll)
        raise AssertionError(f"timed out after {timeout}s waiting for {getattr(what, '__name__', what)}")

    # --- building updates -----------------------------------------------------------

    @staticmethod
    def _user(user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": f"u{user_id}", "language_code": "zh-hans"}

    @staticmethod
    def _private_chat(chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "type": "private", "first_name": f"u{chat_id}"}

    @staticmethod
    def _group_chat(chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "type": "supergroup", "title": "值班咨询师", "is_forum": True}

    def _push_message(self, chat: dict[str, Any], sender: dict[str, Any], content: dict[str, Any]) -> int:
        with self._lock:
            message = self._new_message(chat, sender, content)
            return self._add_update({"message": message})

    def _new_message(
        self, chat: dict[str, Any], sender: dict[str, Any], content: dict[str, Any]
    ) -> dict[str, Any]:
        message_id = self._state.next_message_id
        self._state.next_message_id += 1
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": sender,
            **content,
        }
        self._state.messages[(chat["id"], message_id)] = message
        return message

    def _add_update(self, body: dict[str, Any]) -> int:
        update_id = self._state.next_update_id
        self._state.next_update_id += 1
        self._state.history[update_id] = {"update_id": update_id, **body}
        self._queue(self._state.history[update_id])
        return update_id

    def _queue(self, update: dict[str, Any]) -> None:
        self._state.updates.append(update)
        if self._loop is not None and self._new_update is not None:
            self._loop.call_soon_threadsafe(self._new_update.set)

    # --- the HTTP side --------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        method = request.path_params["method"]
        params = _decode(await request.body())
        with self._lock:
            self._state.calls.append(Call(method, params))
            failure = self._take_failure(method)
        if failure is not None:
            return _failure_response(failure)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        try:
            result = await handler(params) if method == "getUpdates" else handler(params)
        except BotApiError as error:
            body: dict[str, Any] = {"ok": False, "error_code": error.status, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
            return JSONResponse(body, error.status)
        return JSONResponse({"ok": True, "result": result})

    def _take_failure(self, method: str) -> _Failure | None:
        for index, failure in enumerate(self._state.failures):
            if failure.method == method:
                return self._state.failures.pop(index)
        return None

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                self._state.updates = [u for u in self._state.updates if u["update_id"] >= offset]
                ready = list(self._state.updates[: int(params.get("limit") or 100)])
                self._new_update.clear()
            left = deadline - time.monotonic()
            if ready or left <= 0 or self._closing:
                return ready
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), min(left, 0.5))

    def _api_getMe(self, _params: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER

    def _api_deleteWebhook(self, _params: dict[str, Any]) -> bool:
        with self._lock:
            self._state.webhook = {}
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self._state.webhook = params
        return True

    def _api_setMyCommands(self, _params: dict[str, Any]) -> bool:
        return True

    def _api_answerCallbackQuery(self, _params: dict[str, Any]) -> bool:
        return True

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._send(params, text=params["text"])

    def _api_copyMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            source = (int(params["from_chat_id"]), int(params["message_id"]))
            if source not in self._state.messages:
                raise BotApiError(400, "Bad Request: message to copy not found")
            original = self._state.messages[source]
            message = self._send(params, text=original.get("text"), copy_of=source)
            return {"message_id": message["message_id"]}

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            sent = self._find_sent(
                int(params["chat_id"]), int(params["message_id"]), "message to edit not found"
            )
            if sent.text == params["text"] and sent.reply_markup == params.get("reply_markup"):
                raise BotApiError(400, "Bad Request: message is not modified")
            sent.text = params["text"]
            sent.reply_markup = params.get("reply_markup")
            return self._state.messages[(sent.chat_id, sent.message_id)] | {"text": sent.text}

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            sent = self._find_sent(
                int(params["chat_id"]), int(params["message_id"]), "message to edit not found"
            )
            sent.reply_markup = params.get("reply_markup")
            return self._state.messages[(sent.chat_id, sent.message_id)]

    def _api_pinChatMessage(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self._find_sent(int(params["chat_id"]), int(params["message_id"]), "message to pin not found")
            self._state.pinned[int(params["chat_id"])] = int(params["message_id"])
        return True

    def _api_createForumTopic(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            chat_id = int(params["chat_id"])
            thread_id = self._state.next_thread_id
            self._state.next_thread_id += 1
            self._state.topics[(chat_id, thread_id)] = {
                "name": params["name"],
                "closed": False,
                "deleted": False,
            }
            return {"message_thread_id": thread_id, "name": params["name"], "icon_color": 7322096}

    def _api_editForumTopic(self, params: dict[str, Any]) -> bool:
        with self._lock:
            topic = self._topic(int(params["chat_id"]), int(params["message_thread_id"]))
            if params.get("name") == topic["name"]:
                raise BotApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
            topic["name"] = params.get("name", topic["name"])
        return True

    def _api_closeForumTopic(self, params: dict[str, Any]) -> bool:
        with self._lock:
            topic = self._topic(int(params["chat_id"]), int(params["message_thread_id"]))
            if topic["closed"]:
                raise BotApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
            topic["closed"] = True
        return True

    # --- state helpers (called with the lock held) ------------------------------------

    def _topic(self, chat_id: int, thread_id: int) -> dict[str, Any]:
        topic = self._state.topics.get((chat_id, thread_id))
        if topic is None or topic["deleted"]:
            raise BotApiError(400, "Bad Request: message thread not found")
        return topic

    def _find_sent(self, chat_id: int, message_id: int, missing: str) -> Sent:
        for sent in self._state.sent:
            if (sent.chat_id, sent.message_id) == (chat_id, message_id):
                return sent
        raise BotApiError(400, f"Bad Request: {missing}")

    def _send(
        self, params: dict[str, Any], text: str | None, copy_of: tuple[int, int] | None = None
    ) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        thread_id = int(params["message_thread_id"]) if params.get("message_thread_id") else None
        if chat_id < 0:
            chat = self._group_chat(chat_id)
            if thread_id is not None:
                self._topic(chat_id, thread_id)
        else:
            chat = self._private_chat(chat_id)
        if text is not None and len(text.encode("utf-16-le")) // 2 > 4096:
            raise BotApiError(400, "Bad Request: message is too long")
        content: dict[str, Any] = {}
        if text is not None:
            content["text"] = text
        if thread_id is not None:
            content |= {"message_thread_id": thread_id, "is_topic_message": True}
        markup = params.get("reply_markup")
        if markup:
            content["reply_markup"] = markup
        message = self._new_message(chat, BOT_USER, content)
        self._state.sent.append(Sent(chat_id, message["message_id"], thread_id, text, markup, copy_of))
        return message


def _decode(body: bytes) -> dict[str, Any]:
    """PTB posts form fields, JSON-encoding every value that is not a plain string."""
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        if key in _STRING_FIELDS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def _failure_response(failure: _Failure) -> Response:
    if failure.status == 429:
        retry_after = failure.retry_after if failure.retry_after is not None else 1
        body = {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {retry_after}",
            "parameters": {"retry_after": retry_after},
        }
        return JSONResponse(body, 429)
    return PlainTextResponse("<html><body><h1>502 Bad Gateway</h1></body></html>", failure.status)

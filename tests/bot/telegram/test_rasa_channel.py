"""A family on Telegram talking to the real Rasa server and action server, buttons included."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import texts as gateway_texts
from helpline.settings import Settings
from tests.bot.telegram.fake_bot_api import FakeBotApi
from tests.bot.telegram.harness import FAMILY, running

pytestmark = pytest.mark.integration


def test_a_family_talks_to_rasa_and_answers_a_form_with_its_buttons(
    rasa_stack: Settings, fake_api: FakeBotApi
) -> None:
    settings = replace(
        rasa_stack,
        telegram_bot_token=fake_api.token,
        telegram_api_base_url=fake_api.base_url,
        telegram_retry_base=0.01,
    )
    with running(settings, fake_api) as gateway:
        fake_api.family_says(FAMILY, "你好")
        [greeting] = gateway.wait_texts(FAMILY, 1)
        assert "您好" in greeting

        fake_api.press(FAMILY, FAMILY, fake_api.sent_to(FAMILY)[0], "p:/check_entitlement")
        question = fake_api.wait_for(lambda: [s for s in fake_api.sent_to(FAMILY) if s.reply_markup])[0]
        buttons = question.buttons()
        assert len(buttons) >= 2 and all(len(data.encode()) <= 64 for _, data in buttons)

        fake_api.press(FAMILY, FAMILY, question, buttons[0][1])
        answered = gateway.wait_texts(FAMILY, len(fake_api.sent_to(FAMILY)) + 1)
        after = answered[answered.index(question.text) + 1 :]
        assert after and not set(after) & {gateway_texts.ASSISTANT_UNAVAILABLE, gateway_texts.NO_ANSWER}
        stored = [m.text for m in gateway.stored(f"tg-{FAMILY}") if m.direction == "in"]
        assert stored[:2] == ["你好", "/check_entitlement"]

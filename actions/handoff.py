"""Rasa's half of the hand-off: its risk intents become a signal for the gateway, never words.

When Rasa recognises express_crisis, report_emergency, express_distress or
request_human, this action answers with one machine-readable item,
``{"helpline_signal": {"intent": ..., "confidence": ...}}``. The gateway's router
takes it out of the reply and gives it to :meth:`handoff.gate.Gate.after_rasa`,
which decides what the family hears: the lexicon screen has already run by then,
so Rasa is a second signal and never the only one.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from handoff.safety import signal_item


class ActionHelplineSignal(Action):
    """Passes the recognised risk intent to the gateway."""

    def name(self) -> str:
        return "action_helpline_signal"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = tracker.latest_message.get("intent") or {}
        dispatcher.utter_message(
            json_message=signal_item(str(intent.get("name", "")), intent.get("confidence"))
        )
        return []

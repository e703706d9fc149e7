"""Rasa's side of the intake forms: thin adapters over :mod:`intake` and :mod:`knowledge.entitlement`.

What to ask, what an answer means and what to say all live in the domain packages;
these actions read the tracker, call them, and turn the result into events and
messages. Form answers are saved as a draft after every answer, so a form
interrupted by a hand-off, a pause or a restarted conversation can be resumed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, ClassVar

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from helpline.db import make_engine, make_session_factory, transaction
from helpline.settings import load_settings
from intake import cases, drafts, forms, questions, replies
from intake.consent import DECLINED
from knowledge import directory
from knowledge.entitlement import Assessment, assess, beijing_today, load_entries, min_wage

REQUESTED_SLOT = "requested_slot"
RETRIES_SLOT = "intake_retries"
FORM_FOR_INTENT = {
    "check_entitlement": forms.ENTITLEMENT_FORM,
    "request_psych_support": forms.PSYCH_FORM,
    "request_legal_aid": forms.LEGAL_FORM,
}
REQUEST_HUMAN_INTENT = "request_human"


@lru_cache(maxsize=1)
def _sessions() -> sessionmaker[Session]:
    """One engine per action-server process, on the configured database."""
    return make_session_factory(make_engine(load_settings().database_url))


def _chat_retention_days() -> int:
    """How long this site keeps conversations: the consent texts say it, so it picks their version."""
    return load_settings().message_retention_days


def _context(session: Session) -> forms.Context:
    wage = min_wage(session)
    return forms.Context(
        today=beijing_today(),
        chat_retention_days=_chat_retention_days(),
        min_wage_yuan=wage.yuan if wage else None,
    )


def _intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name", ""))


def _say(dispatcher: CollectingDispatcher, prompt: questions.Prompt) -> None:
    buttons = [{"title": button.title, "payload": button.payload} for button in prompt.buttons]
    dispatcher.utter_message(text=prompt.text, buttons=buttons)


def _form_values(form: str, slots: Mapping[str, Any]) -> dict[str, Any]:
    return {slot: slots.get(slot) for slot in forms.FORM_SLOTS[form] if slots.get(slot) is not None}


def _set_form_slots(form: str, values: Mapping[str, Any]) -> list[EventType]:
    """Events that make the tracker hold exactly ``values`` for the form (a fresh or a resumed start)."""
    return [SlotSet(slot, values.get(slot)) for slot in forms.FORM_SLOTS[form]] + [
        SlotSet(RETRIES_SLOT, None)
    ]


def _names(session: Session, ids: Iterable[str]) -> dict[str, str]:
    return replies.department_names(directory.departments(session, list(ids)))


# ---- form validation ------------------------------------------------------------------------------------


class IntakeFormValidation(FormValidationAction):
    """Validates every answer of one form, counts re-asks, and saves the draft.

    An answer that does not fit is explained kindly and asked again; after
    :data:`intake.questions.MAX_REASKS` such answers to one question a person is offered.
    When nothing was extracted (a hand-off signal, "算了") no event is returned, so the
    form rejects the message and the rules take it out of the form.
    """

    form: ClassVar[str]

    def name(self) -> str:
        return f"validate_{self.form}"

    @abstractmethod
    def questions(self, slots: Mapping[str, Any], session: Session, context: forms.Context) -> list[str]:
        """The slots this form asks, given the answers so far."""

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        with _sessions()() as session:
            return self.questions(tracker.slots, session, _context(session))

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        own = set(forms.FORM_SLOTS[self.form])
        candidates = {
            slot: value
            for slot, value in tracker.slots_to_validate().items()
            if slot in own and value is not None  # a reset at the form's start is not an answer
        }
        if not candidates:
            return []
        with _sessions()() as session:
            context = _context(session)
        retries = dict(tracker.get_slot(RETRIES_SLOT) or {})
        events: list[EventType] = []
        for slot, value in candidates.items():
            clean = forms.validate(slot, value, context)
            if clean is None:
                retries[slot] = retries.get(slot, 0) + 1
                _say(dispatcher, questions.reask(slot, retries[slot]))
            else:
                retries.pop(slot, None)
            events.append(SlotSet(slot, clean))
        return [*events, SlotSet(RETRIES_SLOT, retries or None)]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        values = _form_values(self.form, tracker.slots)
        if values and any(event.get("name") in values for event in events):
            with transaction(_sessions()) as session:
                drafts.save_draft(session, tracker.sender_id, self.form, values)
        return events


class ValidateEntitlementForm(IntakeFormValidation):
    form = forms.ENTITLEMENT_FORM

    def questions(self, slots: Mapping[str, Any], session: Session, context: forms.Context) -> list[str]:
        return forms.entitlement_slots(slots, load_entries(session), context)


class ValidatePsychForm(IntakeFormValidation):
    form = forms.PSYCH_FORM

    def questions(self, slots: Mapping[str, Any], session: Session, context: forms.Context) -> list[str]:
        return forms.psych_slots(slots)


class ValidateLegalForm(IntakeFormValidation):
    form = forms.LEGAL_FORM

    def questions(self, slots: Mapping[str, Any], session: Session, context: forms.Context) -> list[str]:
        return forms.legal_slots(slots)


# ---- questions ----------------------------------------------------------------------------------------


class AskQuestion(Action, ABC):
    """Asks one form question with its buttons (Rasa calls ``action_ask_<slot>``)."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The question's slot; each subclass names one."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        wage = None
        if self.slot == "ent_income":
            with _sessions()() as session:
                wage = min_wage(session)
        figure = wage.text if wage else None
        _say(dispatcher, questions.prompt(self.slot, figure, chat_retention_days=_chat_retention_days()))
        return []


def _ask_action(slot: str) -> type[AskQuestion]:
    """The ask action of one question, bound to this module's namespace so the action
    server can pickle it into its worker process like a class written out by hand."""
    name = f"Ask_{slot}"
    action = type(name, (AskQuestion,), {"slot": slot, "__module__": __name__, "__qualname__": name})
    globals()[name] = action
    return action


ASK_ACTIONS = tuple(_ask_action(slot) for slots in forms.FORM_SLOTS.values() for slot in slots)
"""One ask action per question; they differ only in the slot, so they are made here, not written out."""


# ---- starting, pausing, resuming, cancelling ------------------------------------------------------------


class ActionStartForm(Action):
    """Opens the form the family asked for, picking up its draft if one is waiting."""

    def name(self) -> str:
        return "action_start_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        form = FORM_FOR_INTENT[_intent(tracker)]
        with _sessions()() as session:
            draft = drafts.latest_draft(session, tracker.sender_id, form)
        if draft:
            dispatcher.utter_message(text=questions.RESUMING)
            return _set_form_slots(form, draft.slots)
        dispatcher.utter_message(text=questions.INTROS[form])
        told = (
            forms.matter_told(str(tracker.latest_message.get("text") or ""))
            if form == forms.LEGAL_FORM
            else None
        )
        if told is None:
            return _set_form_slots(form, {})
        dispatcher.utter_message(text=questions.MATTER_NOTED)
        return _set_form_slots(form, {"legal_description": told})


class ActionPauseForm(Action):
    """A hand-off signal arrived mid-form: keep the answers, leave the form, let the hand-off act.

    Only a plain request for a person is told how to resume; someone in distress or
    crisis hears nothing about forms (the gateway answers them).
    """

    def name(self) -> str:
        return "action_pause_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        form = tracker.active_loop_name
        if form in forms.FORMS:
            values = _form_values(form, tracker.slots)
            if values:
                with transaction(_sessions()) as session:
                    drafts.save_draft(session, tracker.sender_id, form, values)
                if _intent(tracker) == REQUEST_HUMAN_INTENT:
                    dispatcher.utter_message(text=replies.paused(form))
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]


class ActionResumeForm(Action):
    """ "继续刚才的登记": the active form goes on, or the most recent draft is reopened."""

    def name(self) -> str:
        return "action_resume_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.active_loop_name:
            dispatcher.utter_message(text=questions.CONTINUING)
            return []
        with _sessions()() as session:
            draft = drafts.latest_draft(session, tracker.sender_id)
        if draft is None:
            _say(dispatcher, questions.NOTHING_TO_RESUME)
            return []
        dispatcher.utter_message(text=questions.RESUMING)
        return [*_set_form_slots(draft.form, draft.slots), FollowupAction(draft.form)]


class ActionCancelForm(Action):
    """ "算了/不办了": the form's answers are deleted, nothing is sent; earlier cases are unaffected."""

    def name(self) -> str:
        return "action_cancel_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        sender = tracker.sender_id
        with transaction(_sessions()) as session:
            draft = drafts.latest_draft(session, sender)
            form = tracker.active_loop_name or (draft.form if draft else None)
            drafts.delete_drafts(session, sender)
            open_cases = [
                c for c in cases.cases_for_sender(session, sender) if c.status not in cases.FINISHED
            ]
            text = replies.cancelled(form, open_cases) if form else questions.NOTHING_TO_CANCEL
        dispatcher.utter_message(text=text)
        return _set_form_slots(form, {}) if form else []


class ActionAnswerOutsideForm(Action):
    """A button pressed or "不清楚" typed when no question is open: say so, offer what is waiting."""

    def name(self) -> str:
        return "action_answer_outside_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        with _sessions()() as session:
            draft = drafts.latest_draft(session, tracker.sender_id)
        dispatcher.utter_message(text=questions.ANSWER_WITHOUT_QUESTION)
        _say(dispatcher, questions.RESUME_OFFER if draft else questions.NOTHING_TO_RESUME)
        return []


# ---- results --------------------------------------------------------------------------------------------


class ActionSubmitEntitlement(Action):
    """The entitlement result, computed from the knowledge base's conditions."""

    def name(self) -> str:
        return "action_submit_entitlement"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        form = forms.ENTITLEMENT_FORM
        with transaction(_sessions()) as session:
            context, wage = _context(session), min_wage(session)
            result = assess(forms.entitlement_answers(tracker.slots, context), load_entries(session))
            names = _names(session, _departments(result))
            drafts.delete_drafts(session, tracker.sender_id, form)
        for text in replies.entitlement_messages(result, names, wage.text if wage else None):
            dispatcher.utter_message(text=text)
        return _set_form_slots(form, {})


def _departments(result: Assessment) -> set[str]:
    """Every department the result names: those acting on likely measures and those who verify."""
    acting = {department for measure in result.likely for department in measure.entry.departments}
    return acting | {v.department for check in result.checks for v in check.verified_by}


class SubmitCase(Action, ABC):
    """Creates the case a support form collected, or gives the public options when consent was refused."""

    form: ClassVar[str]

    @abstractmethod
    def declined(self, session: Session) -> str:
        """What a family that said "不同意" is told."""

    @abstractmethod
    def new_case(self, sender: str, slots: Mapping[str, Any]) -> cases.NewCase:
        """The case the form's answers make."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        consent_slot = forms.FORM_SLOTS[self.form][0]
        with transaction(_sessions()) as session:
            if tracker.get_slot(consent_slot) == DECLINED:
                text = self.declined(session)
            else:
                case = cases.create_case(session, self.new_case(tracker.sender_id, tracker.slots))
                text = replies.case_confirmation(case, _names(session, case.departments))
            drafts.delete_drafts(session, tracker.sender_id, self.form)
        dispatcher.utter_message(text=text)
        return _set_form_slots(self.form, {})


class ActionSubmitPsych(SubmitCase):
    form = forms.PSYCH_FORM

    def name(self) -> str:
        return "action_submit_psych"

    def declined(self, session: Session) -> str:
        return replies.psych_declined(directory.helplines(session))

    def new_case(self, sender: str, slots: Mapping[str, Any]) -> cases.NewCase:
        return forms.psych_case(sender, slots)


class ActionSubmitLegal(SubmitCase):
    form = forms.LEGAL_FORM

    def name(self) -> str:
        return "action_submit_legal"

    def declined(self, session: Session) -> str:
        found = directory.departments(session, [cases.DEPARTMENT_FOR[cases.CaseKind.LEGAL]])
        return replies.legal_declined(found[0] if found else None)

    def new_case(self, sender: str, slots: Mapping[str, Any]) -> cases.NewCase:
        return forms.legal_case(sender, slots)


class ActionCaseStatus(Action):
    """ "我的申请怎么样了": the status of this conversation's own cases, and no one else's."""

    def name(self) -> str:
        return "action_case_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        with _sessions()() as session:
            text = replies.case_status(cases.cases_for_sender(session, tracker.sender_id))
        dispatcher.utter_message(text=text)
        return []

"""Clicks and form submissions on Lead messages: Edit / Delete / Next / Previous, the login link, the Lead form and
its "More fields" / "Back" pages.

Each `read_*` runs before the ack and turns the click into plain values; the front door admits the work and
runs the matching `run_*` with the person's connection. A form submission is checked before the ack: problems go
back with `response_action: errors`, so the form stays open with what the person typed and each message under
its field. What needs the org's fields (a picklist of more than 100 values typed as text, a custom phone or URL
field) is checked there too when the store holds a fresh copy of them (the front door's `check_first`). A good
one closes the form and the result is said through the response_url of the command or message that opened the
form (carried in the form's private_metadata), or by DM when that is missing or refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.leads import fields
from bot.leads.model import Lead
from bot.leads.service import LeadService
from bot.leads.validation import check_lead_values
from bot.slack.commands.lead import show_lead_form
from bot.slack.front_door import AckAnswer, Delivery, FrontDoor, Incoming, Visit, Work, replacing
from bot.slack.messages import LOGIN_LINK_ACTION
from bot.slack.views.errors import Failure
from bot.slack.views.form_context import TooMuchToCarry
from bot.slack.views.lead_actions import (
    LEAD_DELETE,
    LEAD_EDIT,
    LEAD_PAGE_NEXT,
    LEAD_PAGE_PREV,
    LeadButton,
    PageRequest,
    decode_lead_button,
    decode_page_request,
)
from bot.slack.views.lead_card import lead_card_message, lead_gone_message, lead_gone_notice
from bot.slack.views.lead_form import (
    CREATE_CALLBACK_ID,
    EDIT_CALLBACK_ID,
    FORM_AGAIN,
    FORM_PAGE_BACK,
    FORM_PAGE_MORE,
    FormContext,
    block_id_for,
    form_again_block,
    form_errors_response,
    form_values,
    lead_form_view,
    missing_required,
    shown_inputs,
)
from bot.slack.views.leads import Message, lead_deleted_message, lead_page_message, lead_saved_message
from bot.zoho import CrmError, LeadNotFound
from store import NotConnected

log = logging.getLogger(__name__)

FORM_UNREADABLE = "Sorry, this form could not be read. Close it and try again."
TOO_MUCH_TO_CARRY = (
    "The form could not show its other page: what you typed is too long for Slack to carry between pages (it "
    "keeps 3000 characters). It is all still in the form: save it, then edit the Lead for the other fields."
)
BUSY_FORM = (
    "I'm handling a lot of requests right now, so this was not saved yet. Press the button again in a minute "
    "(what you typed is still here)."
)


def _value(incoming: Incoming) -> str:
    return str(incoming.payload.get("value") or "")


# ----- Next / Previous -----------------------------------------------------------------------------------------


def read_page(incoming: Incoming) -> Work[PageRequest]:
    return Work(
        decode_page_request(_value(incoming)),
        name="lead page",
        delivery=Delivery.IN_PLACE,
        failure=Failure("No list this time"),
    )


async def run_page(visit: Visit, request: PageRequest) -> None:
    page = await visit.leads.list(request.page, request.query)
    if page.leads or request.page == 1:
        await visit.reply.send(**lead_page_message(page))
        return
    # Leads were deleted since the list was shown, and the page asked for is empty now: the list from its start.
    first = await visit.leads.list(1, request.query)
    notice = (
        f"Page {request.page} is empty now: Leads were deleted since this list was shown. Here it is from the start."
    )
    await visit.reply.send(**lead_page_message(first, notice=notice))


# ----- Edit ----------------------------------------------------------------------------------------------------


def read_edit(incoming: Incoming) -> Work[LeadButton]:
    return Work(
        decode_lead_button(_value(incoming)),
        name="lead edit button",
        delivery=Delivery.BELOW,
        failure=Failure("No Lead to edit"),
    )


async def run_edit(visit: Visit, button: LeadButton) -> None:
    """The form, filled in with the Lead as it is now; the message clicked is brought up to date when the Lead
    changed since it was sent, and says so when the Lead is gone."""
    try:
        lead = await visit.leads.get(button.lead_id)
    except LeadNotFound:
        await _show_gone(visit, button)
        return
    await show_lead_form(visit, lead)
    if button.version and lead.version != button.version:
        await _show_changed(visit, button, lead)


# ----- Delete --------------------------------------------------------------------------------------------------


def read_delete(incoming: Incoming) -> Work[LeadButton]:
    return Work(
        decode_lead_button(_value(incoming)),
        name="lead delete button",
        delivery=Delivery.BELOW,
        failure=Failure("The Lead was not deleted", "Nothing was deleted"),
    )


async def run_delete(visit: Visit, button: LeadButton) -> None:
    """Delete the Lead; the message clicked no longer offers its buttons: a list is shown again without it, a
    Lead's own message becomes what was deleted."""
    try:
        lead = await visit.leads.delete(button.lead_id)
    except LeadNotFound:
        await _show_gone(visit, button)
        return
    deleted = lead_deleted_message(button.lead_id, lead)
    if button.page is not None and await _show_list_again(visit, button.page, deleted["text"]):
        return
    if button.page is None and await _replace_clicked(visit, deleted):
        return
    await visit.reply.send(**deleted)


# ----- the message clicked, brought up to date --------------------------------------------------------------------


async def _show_gone(visit: Visit, button: LeadButton) -> None:
    """The Lead of the button no longer exists: its list shown again without it, or its message saying so (or,
    when Slack does not take the replacement, a message saying so below)."""
    if button.page is not None and await _show_list_again(visit, button.page, lead_gone_notice(button.lead_id)):
        return
    gone = lead_gone_message(button.lead_id)
    if button.page is None and await _replace_clicked(visit, gone):
        return
    await visit.reply.send(**gone)


async def _show_changed(visit: Visit, button: LeadButton, lead: Lead) -> None:
    """The Lead changed since the message was sent: its list shown again, or its message showing it as it is."""
    notice = "This Lead changed since this message was sent: here it is as it is now."
    if button.page is not None:
        await _show_list_again(visit, button.page, "")
        return
    await _replace_clicked(visit, lead_card_message(lead, await visit.leads.fields(), notice=notice))


async def _show_list_again(visit: Visit, at: PageRequest, notice: str) -> bool:
    """The list the button was on, shown again in its place as it is now, under `notice` (mrkdwn, escaped); False
    when it cannot be (Zoho did not list it, Slack refused)."""
    try:
        page = await visit.leads.list(at.page, at.query)
        if not page.leads and at.page > 1:  # the last Lead of its page: show the page before
            page = await visit.leads.list(at.page - 1, at.query)
    except (CrmError, NotConnected) as error:
        log.info("list not shown again: %s", type(error).__name__)
        return False
    return await _replace_clicked(visit, lead_page_message(page, notice=notice or None))


async def _replace_clicked(visit: Visit, message: Message) -> bool:
    """Replace the message whose button was clicked; False when Slack did not take it."""
    try:
        sent = await replacing(visit.respond, True)(**message)
    except Exception as exc:
        log.warning("clicked message not replaced: %s", type(exc).__name__)
        return False
    return getattr(sent, "status_code", 200) == 200


# ----- the Lead form -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormSubmission:
    context: FormContext
    values: dict[str, str]  # creating: every field filled in; editing: only those the person changed

    @property
    def editing(self) -> bool:
        return self.context.lead_id is not None


def read_form(incoming: Incoming) -> Work[FormSubmission] | AckAnswer:
    """Check the form before the ack: problems keep it open, each under its field."""
    view: dict[str, Any] = incoming.payload
    shown = list(shown_inputs(view)) or [f.api_name for f in fields.FIELDS]
    try:
        context = FormContext.decode(str(view.get("private_metadata") or ""))
        creating = view.get("callback_id") == CREATE_CALLBACK_ID
        if not creating and context.lead_id is None:
            raise ValueError("edit form without a lead id")
        # Editing, only what the person changed is checked and written: a field they left alone stays as it is in
        # Zoho, even one our rules would refuse or one someone changed since the form opened.
        values = form_values(view, context, editing=not creating)
        errors = missing_required(values, context, shown, editing=not creating)
        errors |= check_lead_values(_standard(values), creating=creating)
    except Exception:
        log.exception("lead form could not be read")
        return AckAnswer({"response_action": "errors", "errors": {block_id_for(shown[0]): FORM_UNREADABLE}})
    submission = FormSubmission(context, values)
    summary = "The Lead was not changed" if submission.editing else "The Lead was not created"

    async def check_with_org_fields(leads: LeadService | None) -> AckAnswer | None:
        """Every problem at once, each under its field, the form still open: those of the standard fields found
        above, and those that need the org's fields (a picklist typed as text, a custom phone or URL field…) by
        the copy the store keeps, when `leads` can read it (the front door gives None when it cannot)."""
        problems = dict(errors)
        if leads is not None:
            problems.update(await leads.known_problems(values, creating=creating) or {})
        return AckAnswer(form_errors_response(problems, shown), outcome="invalid") if problems else None

    return Work(
        submission,
        name="lead edit form" if submission.editing else "lead create form",
        delivery=Delivery.FORM,
        failure=Failure(summary, typed=_typed_in_form(values, view), again=form_again_block(context.lead_id, values)),
        response_url=context.response_url or "",
        busy_ack={"response_action": "errors", "errors": {block_id_for(shown[0]): BUSY_FORM}},
        check_first=check_with_org_fields,
    )


def _standard(values: dict[str, str]) -> dict[str, str]:
    """The values of Zoho's standard fields: what can be checked before the ack without the org's fields. The
    form's elements already hold the others to their kind (menus, pickers, number inputs); the Lead service
    checks them against the org's fields after the ack."""
    return {name: value for name, value in values.items() if fields.field_for(name) is not None}


def _typed_in_form(values: dict[str, str], view: dict[str, Any]) -> str:
    """What the person typed in the form, for echoing in a message: each field under the label the form showed
    it with (the org's), a field of another page under its standard label or API name."""
    labels = {name: str((block.get("label") or {}).get("text") or "") for name, block in shown_inputs(view).items()}
    return "; ".join(
        f"{labels.get(name) or fields.label_for(name)}: {value}" for name, value in values.items() if value
    )


async def run_form(visit: Visit, submission: FormSubmission) -> None:
    lead_id = submission.context.lead_id
    if lead_id is None:
        lead = await (await visit.leads_for(submission.values.values())).create(submission.values)
    elif not submission.values:
        await visit.reply.send(f"Nothing changed: you saved Lead `{lead_id}` without changing a field.")
        return
    else:
        lead = await (await visit.leads_for(submission.values.values())).update(lead_id, submission.values)
    await visit.reply.send(**lead_saved_message(lead, created=lead_id is None))


def read_form_again(incoming: Incoming) -> Work[FormContext]:
    return Work(
        FormContext.decode(_value(incoming)),
        name="lead form again button",
        delivery=Delivery.BELOW,
        failure=Failure("The form did not open"),
    )


async def run_form_again(visit: Visit, again: FormContext) -> None:
    """The form a refusal closed, opened again as it was sent: creating, with every value typed; editing, on the
    Lead as it is now, with the changes typed (written on save, unless changed again)."""
    lead = await visit.leads.get(again.lead_id) if again.lead_id is not None else None
    await show_lead_form(visit, lead, carried=again.carried)


# ----- turning the form's pages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageTurn:
    """A click on "More fields" / "Back": the form to show next, with everything typed so far carried."""

    view_id: str
    view_hash: str
    context: FormContext  # the page to show and the values carried to it
    editing: bool


def read_page_turn(incoming: Incoming) -> Work[PageTurn]:
    view: dict[str, Any] = incoming.body.get("view") or {}
    context = FormContext.decode(str(view.get("private_metadata") or ""))
    editing = view.get("callback_id") == EDIT_CALLBACK_ID
    target = _value(incoming)
    page = int(target) if target.isdigit() else context.page
    carried = form_values(view, context, editing=editing)
    turn = PageTurn(
        str(view.get("id") or ""), str(view.get("hash") or ""), replace(context, page=page, carried=carried), editing
    )
    return Work(turn, name="lead form page", delivery=Delivery.BELOW, failure=Failure("The form did not turn its page"))


async def run_page_turn(visit: Visit, turn: PageTurn) -> None:
    """Show the form's next (or previous) page in place; what was typed stays in the form either way."""
    leads = visit.leads
    org = await leads.fields()
    lead = await leads.get(turn.context.lead_id) if turn.editing and turn.context.lead_id else None
    try:
        view = lead_form_view(turn.context, lead, org=org)
    except TooMuchToCarry:
        await visit.reply.send(TOO_MUCH_TO_CARRY)
        return
    try:
        await visit.services.slack.views_update(view_id=turn.view_id, hash=turn.view_hash, view=view)
    except SlackApiError as exc:
        problem = str(exc.response.get("error") or "")
        log.info("form page not turned: %s", problem)
        if problem != "hash_conflict":  # another click turned it already
            await visit.reply.send(f"The form could not show its other page (Slack said `{problem}`).")


# ----- the login link ------------------------------------------------------------------------------------------


def read_login_link(incoming: Incoming) -> None:
    """The DM's "Login with Zoho" button only opens its link; Slack still sends the click, which must be acked
    (or Slack shows a warning next to the button). Nothing else to do: the browser follows the link."""
    return None


async def run_nothing(visit: Visit, request: Any) -> None:
    return None


def register(door: FrontDoor) -> None:
    door.action(LEAD_PAGE_NEXT, read_page, run_page)
    door.action(LEAD_PAGE_PREV, read_page, run_page)
    door.action(LEAD_EDIT, read_edit, run_edit)
    door.action(LEAD_DELETE, read_delete, run_delete)
    door.view(CREATE_CALLBACK_ID, read_form, run_form)
    door.view(EDIT_CALLBACK_ID, read_form, run_form)
    door.action(FORM_PAGE_MORE, read_page_turn, run_page_turn)
    door.action(FORM_AGAIN, read_form_again, run_form_again)
    door.action(FORM_PAGE_BACK, read_page_turn, run_page_turn)
    door.action(LOGIN_LINK_ACTION, read_login_link, run_nothing)

"""`/lead create|list|edit|delete`: read the typed text, check it, make one CRM call, render the answer.

Each runner gets the caller's connection (bot.lead_command has already sent a login link to anyone without one)
and answers through `reply`. Wrong input is answered before anything reaches Zoho; CRM failures are told by
`bot.lead_crm.tell_crm_error`.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.crm import CrmError
from bot.lead_command import LeadCall, register_subcommand
from bot.lead_crm import NotConnected, crm_call, tell_crm_error
from bot.leads.arguments import ArgumentError, parse_edit_arguments, parse_lead_id, parse_lead_values
from bot.leads.blocks import (
    argument_error_message,
    lead_buttons,
    lead_deleted_message,
    lead_page_message,
    lead_saved_message,
    lead_title,
    validation_error_message,
)
from bot.leads.modal import FormContext, lead_form_view
from bot.leads.model import Lead, LeadPage
from bot.leads.slack_text import typed_text
from bot.leads.validation import check_lead_values
from bot.reply import Reply
from bot.services import BotServices
from store import Connection

log = logging.getLogger(__name__)

PER_PAGE = 10


def _typed(call: LeadCall) -> str:
    return f"/lead {call.typed.strip()}"


async def open_form(
    services: BotServices, trigger_id: str, context: FormContext, lead: Lead | None = None
) -> str | None:
    """Open the Lead form with `trigger_id`; None when it opened, else Slack's error code."""
    try:
        await services.slack.views_open(trigger_id=trigger_id, view=lead_form_view(context, lead))
        return None
    except SlackApiError as exc:
        code = str(exc.response.get("error") or exc.response.status_code)
        log.warning("views.open failed: %s", code)
        return code
    except Exception as exc:  # network trouble: tell the person, never a traceback
        log.warning("views.open failed: %s", type(exc).__name__)
        return type(exc).__name__


def form_failed_message(code: str, lead: Lead | None) -> dict[str, Any]:
    """The form could not open (usually the 3-second trigger ran out while Zoho answered): say how to go on."""
    if lead is None:
        text = (
            f":warning: Slack did not open the form ({code}). Try `/lead create` again, or type the values: "
            "`/lead create last=Doe first=Jane company=Acme`."
        )
        return {"text": text}
    text = (
        f":warning: Zoho took too long for the form to open in time ({code}). "
        f"Press *Edit* to open it for {lead_title(lead)}."
    )
    return {
        "text": text,
        "blocks": [
            {"type": "section", "block_id": "lead_form_failed", "text": {"type": "mrkdwn", "text": text}},
            lead_buttons(lead, "lead_form_failed_buttons"),
        ],
    }


async def fetch_page(services: BotServices, connection: Connection, page: int, words: str) -> LeadPage:
    """One page of the caller's Leads, or of those matching `words`."""
    if words.strip():
        return await crm_call(
            services, connection, lambda crm, c: crm.search_leads(c, words, page=page, per_page=PER_PAGE)
        )
    return await crm_call(services, connection, lambda crm, c: crm.list_leads(c, page=page, per_page=PER_PAGE))


# ----- the sub-commands ----------------------------------------------------------------------------------------


async def run_create(services: BotServices, call: LeadCall, reply: Reply, connection: Connection) -> None:
    if not call.args.strip():
        context = FormContext(channel_id=call.channel_id or None, response_url=call.response_url or None)
        problem = await open_form(services, call.trigger_id, context)
        if problem:
            await reply.send(**form_failed_message(problem, None))
        return
    try:
        values = parse_lead_values(call.args)
    except ArgumentError as error:
        await reply.send(**argument_error_message(error, _typed(call)))
        return
    errors = check_lead_values(values, creating=True)
    if errors:
        await reply.send(**validation_error_message(errors, _typed(call)))
        return
    try:
        lead = await crm_call(services, connection, lambda crm, c: crm.create_lead(c, values))
    except (CrmError, NotConnected) as error:
        await tell_crm_error(
            services, call.identity, reply, error, summary="The Lead was not created", typed=_typed(call)
        )
        return
    await reply.send(**lead_saved_message(lead, created=True))


async def run_list(services: BotServices, call: LeadCall, reply: Reply, connection: Connection) -> None:
    words = " ".join(typed_text(call.args).split())
    try:
        page = await fetch_page(services, connection, 1, words)
    except (CrmError, NotConnected) as error:
        await tell_crm_error(services, call.identity, reply, error, summary="No list this time", typed=_typed(call))
        return
    await reply.send(**lead_page_message(page))


async def run_edit(services: BotServices, call: LeadCall, reply: Reply, connection: Connection) -> None:
    try:
        lead_id, values = parse_edit_arguments(call.args)
    except ArgumentError as error:
        await reply.send(**argument_error_message(error, _typed(call)))
        return
    if not values:
        await _open_edit_form(services, call, reply, connection, lead_id)
        return
    errors = check_lead_values(values, creating=False)
    if errors:
        await reply.send(**validation_error_message(errors, _typed(call)))
        return
    try:
        lead = await crm_call(services, connection, lambda crm, c: crm.update_lead(c, lead_id, values))
    except (CrmError, NotConnected) as error:
        await tell_crm_error(
            services, call.identity, reply, error, summary="The Lead was not changed", typed=_typed(call)
        )
        return
    await reply.send(**lead_saved_message(lead, created=False))


async def _open_edit_form(
    services: BotServices, call: LeadCall, reply: Reply, connection: Connection, lead_id: str
) -> None:
    try:
        lead = await crm_call(services, connection, lambda crm, c: crm.get_lead(c, lead_id))
    except (CrmError, NotConnected) as error:
        await tell_crm_error(services, call.identity, reply, error, summary="No Lead to edit", typed=_typed(call))
        return
    context = FormContext(lead_id=lead.id, channel_id=call.channel_id or None, response_url=call.response_url or None)
    problem = await open_form(services, call.trigger_id, context, lead)
    if problem:
        await reply.send(**form_failed_message(problem, lead))


async def run_delete(services: BotServices, call: LeadCall, reply: Reply, connection: Connection) -> None:
    try:
        lead_id = parse_lead_id(call.args)
    except ArgumentError as error:
        await reply.send(**argument_error_message(error, _typed(call), nothing="Nothing was deleted"))
        return
    try:
        # Read first, so the answer names what was deleted: a mistyped id shows at once whose Lead it was.
        lead = await crm_call(services, connection, lambda crm, c: crm.get_lead(c, lead_id))
        await crm_call(services, connection, lambda crm, c: crm.delete_lead(c, lead_id))
    except (CrmError, NotConnected) as error:
        await tell_crm_error(
            services, call.identity, reply, error, summary="The Lead was not deleted", typed=_typed(call)
        )
        return
    await reply.send(**lead_deleted_message(lead_id, lead))


def register_lead_subcommands() -> None:
    """Make `/lead create|list|edit|delete` known to the `/lead` router."""
    register_subcommand("create", run_create)
    register_subcommand("list", run_list)
    register_subcommand("edit", run_edit)
    register_subcommand("delete", run_delete)

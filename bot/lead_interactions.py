"""Clicks and form submissions on Lead messages: Edit / Delete / Next / Previous, and the Lead form (modal).

Every listener acks first and does the rest in the background (bot.background), like the `/lead` command.
A form submission is checked before the ack: problems go back with `response_action: errors`, so the form
stays open with what the person typed and each message under its field; a good one closes the form and the
result is said through the response_url of the command or message that opened the form (carried in the form's
private_metadata), or by DM when that is missing or refused.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.app.async_app import AsyncApp

from bot.crm import CrmError
from bot.lead_command import send_login_link
from bot.lead_crm import NotConnected, crm_call, tell_crm_error
from bot.lead_subcommands import fetch_page, form_failed_message, open_form
from bot.leads import fields
from bot.leads.actions import (
    LEAD_DELETE,
    LEAD_EDIT,
    LEAD_PAGE_NEXT,
    LEAD_PAGE_PREV,
    PageRequest,
    decode_delete_request,
    decode_page_request,
)
from bot.leads.blocks import Message, lead_deleted_message, lead_page_message, lead_saved_message
from bot.leads.modal import (
    CREATE_CALLBACK_ID,
    EDIT_CALLBACK_ID,
    FormContext,
    block_id_for,
    changed_values,
    form_errors_response,
    form_initial_values,
    parse_modal_state,
    values_to_save,
)
from bot.leads.validation import check_lead_values
from bot.reply import Reply
from bot.services import BotServices
from store import ChatIdentity, Connection

log = logging.getLogger(__name__)

NO_NOTICE = 3600.0  # a click's answer lands on its own message: no separate "Working on it…" line


def _identity(body: dict[str, Any]) -> ChatIdentity:
    user = body.get("user") or {}
    team = (body.get("team") or {}).get("id") or user.get("team_id") or (body.get("view") or {}).get("team_id")
    return ChatIdentity(team_id=str(team or ""), user_id=str(user.get("id") or ""))


def _fixed_replace(respond: Any, replace_original: bool) -> Any:
    async def post(**message: Any) -> Any:
        message["replace_original"] = replace_original
        return await respond(**message)

    return post


class _Ok:
    status_code = 200


def form_respond(services: BotServices, identity: ChatIdentity, context: FormContext) -> Any:
    """Where a form's result goes: the response_url it carries (a new message), else a DM."""

    async def post(**message: Any) -> Any:
        message["replace_original"] = False
        if context.response_url:
            try:
                sent = await services.response_urls.respond_for(context.response_url)(**message)
                if sent.status_code == 200:
                    return sent
                log.warning("form result refused by the response_url: HTTP %s", sent.status_code)
            except Exception as exc:
                log.warning("form result to the response_url failed: %s", type(exc).__name__)
        delivered = await services.messenger.dm(identity.user_id, message.get("text") or "", message.get("blocks"))
        if not delivered:
            raise RuntimeError("form result could not be delivered")
        return _Ok()

    return post


async def _connection(services: BotServices, identity: ChatIdentity, reply: Reply) -> Connection | None:
    connection = await asyncio.to_thread(services.store.connections.get, identity)
    if connection is None:
        await send_login_link(services, identity, reply, "You're not connected to Zoho CRM yet.")
    return connection


# ----- the work, after the ack ---------------------------------------------------------------------------------


async def _show_page(services: BotServices, identity: ChatIdentity, value: str, respond: Any) -> None:
    request = decode_page_request(value)
    async with Reply(_fixed_replace(respond, True), working_after=NO_NOTICE, what="lead page") as reply:
        connection = await _connection(services, identity, reply)
        if connection is None:
            return
        try:
            page = await fetch_page(services, connection, request.page, request.query)
        except (CrmError, NotConnected) as error:
            await tell_crm_error(services, identity, reply, error, summary="No list this time")
            return
        await reply.send(**lead_page_message(page))


async def _delete_clicked(services: BotServices, identity: ChatIdentity, value: str, respond: Any) -> None:
    request = decode_delete_request(value)
    lead_id = request.lead_id
    async with Reply(_fixed_replace(respond, False), working_after=NO_NOTICE, what="lead delete button") as reply:
        connection = await _connection(services, identity, reply)
        if connection is None:
            return
        try:
            lead = await crm_call(services, connection, lambda crm, c: crm.get_lead(c, lead_id))
            await crm_call(services, connection, lambda crm, c: crm.delete_lead(c, lead_id))
        except (CrmError, NotConnected) as error:
            await tell_crm_error(services, identity, reply, error, summary="The Lead was not deleted")
            return
        deleted = lead_deleted_message(lead_id, lead)
        if request.page is not None and await _show_list_without(services, connection, request.page, deleted, respond):
            return
        await reply.send(**deleted)


async def _show_list_without(
    services: BotServices, connection: Connection, at: PageRequest, deleted: Message, respond: Any
) -> bool:
    """The list the Delete button was on, shown again in its place (without the Lead) under what was deleted;
    False when it cannot be (Zoho did not list it, Slack refused), so the deletion is told on its own."""
    try:
        page = await fetch_page(services, connection, at.page, at.query)
        if not page.leads and at.page > 1:  # the last Lead of its page: show the page before
            page = await fetch_page(services, connection, at.page - 1, at.query)
    except (CrmError, NotConnected) as error:
        log.info("list not shown again after a delete: %s", type(error).__name__)
        return False
    try:
        sent = await _fixed_replace(respond, True)(**lead_page_message(page, notice=deleted["text"]))
    except Exception as exc:
        log.warning("list not shown again after a delete: %s", type(exc).__name__)
        return False
    return getattr(sent, "status_code", 200) == 200


async def _edit_clicked(services: BotServices, body: dict[str, Any], lead_id: str, respond: Any) -> None:
    identity = _identity(body)
    async with Reply(_fixed_replace(respond, False), working_after=NO_NOTICE, what="lead edit button") as reply:
        connection = await _connection(services, identity, reply)
        if connection is None:
            return
        try:
            lead = await crm_call(services, connection, lambda crm, c: crm.get_lead(c, lead_id))
        except (CrmError, NotConnected) as error:
            await tell_crm_error(services, identity, reply, error, summary="No Lead to edit")
            return
        channel = (body.get("channel") or {}).get("id")
        context = FormContext(lead_id=lead.id, channel_id=channel, response_url=body.get("response_url"))
        problem = await open_form(services, str(body.get("trigger_id") or ""), context, lead)
        if problem:
            await reply.send(**form_failed_message(problem, lead))


def _submitted_values(submitted: dict[str, str]) -> str:
    """What the person typed in the form, for echoing in a message."""
    shown = [f"{fields.label_for(name)}: {value}" for name, value in submitted.items() if value]
    return "; ".join(shown)


async def _save_form(
    services: BotServices, identity: ChatIdentity, context: FormContext, submitted: dict[str, str]
) -> None:
    editing = context.lead_id is not None
    what = "lead edit form" if editing else "lead create form"
    async with Reply(form_respond(services, identity, context), working_after=NO_NOTICE, what=what) as reply:
        connection = await _connection(services, identity, reply)
        if connection is None:
            return
        typed = _submitted_values(submitted)
        try:
            if context.lead_id is None:
                values = values_to_save(submitted)
                lead = await crm_call(services, connection, lambda crm, c: crm.create_lead(c, values))
            else:
                lead_id, changes = context.lead_id, submitted  # an edit form submits only what changed
                if not changes:
                    await reply.send(f"Nothing changed: you saved Lead `{lead_id}` without changing a field.")
                    return
                lead = await crm_call(services, connection, lambda crm, c: crm.update_lead(c, lead_id, changes))
        except (CrmError, NotConnected) as error:
            summary = "The Lead was not changed" if editing else "The Lead was not created"
            await tell_crm_error(services, identity, reply, error, summary=summary, typed=typed)
            return
        await reply.send(**lead_saved_message(lead, created=not editing))


# ----- listeners -----------------------------------------------------------------------------------------------


def register_lead_interactions(app: AsyncApp, services: BotServices) -> None:
    """Attach the Lead buttons and the Lead form to the bolt app."""

    def respond_to(body: dict[str, Any]) -> Any:
        return services.response_urls.respond_for(str(body.get("response_url") or ""))

    async def page_clicked(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        respond = respond_to(body)
        services.background.spawn(
            _show_page(services, _identity(body), str(action.get("value") or ""), respond), name="lead page"
        )

    app.action(LEAD_PAGE_NEXT)(page_clicked)
    app.action(LEAD_PAGE_PREV)(page_clicked)

    @app.action(LEAD_DELETE)
    async def delete_clicked(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        respond = respond_to(body)
        value = str(action.get("value") or "")
        services.background.spawn(_delete_clicked(services, _identity(body), value, respond), name="lead delete")

    @app.action(LEAD_EDIT)
    async def edit_clicked(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        respond = respond_to(body)
        lead_id = str(action.get("value") or "")
        services.background.spawn(_edit_clicked(services, body, lead_id, respond), name="lead edit")

    async def form_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            submitted = parse_modal_state((view.get("state") or {}).get("values"))
            context = FormContext.decode(str(view.get("private_metadata") or ""))
            creating = view.get("callback_id") == CREATE_CALLBACK_ID
            if not creating and context.lead_id is None:
                raise ValueError("edit form without a lead id")
            if creating:
                errors = check_lead_values(values_to_save(submitted), creating=True)
            else:
                # Only what the person changed is checked and written: a field they left alone stays as it is
                # in Zoho, even one our rules would refuse or one someone changed since the form opened.
                submitted = changed_values(submitted, form_initial_values(view))
                errors = check_lead_values(submitted, creating=False)
        except Exception:
            log.exception("lead form could not be read")
            problem = "Sorry, this form could not be read. Close it and try again."
            await ack(response_action="errors", errors={block_id_for("Last_Name"): problem})
            return
        if errors:
            await ack(**form_errors_response(errors))
            return
        await ack()
        services.background.spawn(_save_form(services, _identity(body), context, submitted), name="lead form")

    app.view(CREATE_CALLBACK_ID)(form_submitted)
    app.view(EDIT_CALLBACK_ID)(form_submitted)

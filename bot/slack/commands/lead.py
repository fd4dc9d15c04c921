"""`/lead`: what a person types, one sub-command each, in the table `SUBCOMMANDS` at the bottom.

`read_lead` runs before the ack: help and unknown sub-commands are answered in the ack itself; everything else
becomes a `LeadCall` that the front door admits and runs after the ack (with the person's connection, or the
login link instead). Each runner parses the rest of the text, calls one service, and renders the answer; a
problem it raises is told by the front door.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.leads.links import lead_url
from bot.leads.model import Lead
from bot.slack.commands.lead_syntax import (
    ArgumentError,
    parse_edit_arguments,
    parse_lead_id,
    parse_lead_values,
    parse_list_arguments,
    parse_nothing,
    parse_search_words,
)
from bot.slack.front_door import AckAnswer, FrontDoor, Incoming, Needs, Visit, Work
from bot.slack.messages import connected_text
from bot.slack.text import escape, split_subcommand, typed_text, utc_minute
from bot.slack.views.errors import Failure, problem_message
from bot.slack.views.help import help_blocks, help_text
from bot.slack.views.lead_card import lead_card_message
from bot.slack.views.lead_form import FormContext, lead_form_view
from bot.slack.views.leads import form_failed_message, lead_deleted_message, lead_page_message, lead_saved_message
from oauth.revocation import Forgotten, RevokeOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeadCall:
    """One `/lead` invocation, as plain values."""

    subcommand: str
    args: str  # the rest of the text as Slack sent it (escaped, with its markup): lead_syntax reads it
    typed: str  # the whole text as the person typed it (markup unwrapped, unescaped), for echoing

    @property
    def shown(self) -> str:
        return f"/lead {self.typed.strip()}"


def lead_call(raw: str) -> LeadCall:
    """`/lead`'s text as Slack sends it (escaped, with its markup), as plain values."""
    typed = typed_text(raw)
    subcommand, _ = split_subcommand(typed)
    _, args = split_subcommand(raw)
    return LeadCall(subcommand, args, typed)


def read_lead(incoming: Incoming) -> Work[LeadCall] | AckAnswer:
    """Before the ack: help, an unknown sub-command (answered at once), or the work to do."""
    raw = str(incoming.payload.get("text") or "")
    call = lead_call(raw)
    subcommand = call.subcommand
    if subcommand in ("", "help"):
        return AckAnswer({"response_type": "ephemeral", "text": help_text(), "blocks": help_blocks()})
    spec = SUBCOMMANDS.get(subcommand)
    if spec is None:
        known = ", ".join(f"`{s}`" for s in known_subcommands())
        close = difflib.get_close_matches(subcommand, known_subcommands(), n=1, cutoff=0.6)
        guess = f" Did you mean `/lead {close[0]}`?" if close else ""
        text = f"I don't know `/lead {escape(call.typed.strip()[:200])}`.{guess} Try one of {known}, or `/lead help`."
        return AckAnswer({"response_type": "ephemeral", "text": text}, outcome="invalid")
    failure = Failure(spec.summary, spec.nothing, call.shown)
    if spec.check is not None:
        try:
            spec.check(call.args)
        except ArgumentError as mistake:  # told now, connected or not: no login link offers to run a typo later
            return AckAnswer({"response_type": "ephemeral", **problem_message(mistake, failure)}, outcome="invalid")
    # What was typed after the sub-command is not repeated here (it stays with the bot), only that it was.
    offered = f"`/lead {subcommand} …` as you typed it" if call.args.strip() else f"`/lead {subcommand}`"
    return Work(
        call,
        name=f"/lead {subcommand}",
        needs=spec.needs,
        failure=failure,
        # What was typed stays with the bot: the "connected" message offers to run it, by a one-off id.
        again=f"Once you are, the message that says so offers to run your {offered}.",
        command=raw,
    )


async def run_lead(visit: Visit, call: LeadCall) -> None:
    await SUBCOMMANDS[call.subcommand].run(visit, call)


def known_subcommands() -> list[str]:
    return sorted({"help", *SUBCOMMANDS})


def register(door: FrontDoor) -> None:
    door.command("/lead", read_lead, run_lead)


# ----- the sub-commands that need no connection ------------------------------------------------------------------


async def run_login(visit: Visit, call: LeadCall) -> None:
    await send_login(visit)


async def send_login(visit: Visit) -> None:
    """A fresh login link by DM (it says so when the person is connected already: it replaces that account)."""
    # Said in the link's DM and in the reply that points to it: words that read right in both.
    reason = "You asked for a link to connect Zoho CRM."
    if visit.connection is not None:
        reason = (
            f"You're already connected as {escape(visit.connection.zoho_email or 'a Zoho user')}. A new login link "
            "connects another Zoho account instead (it replaces this one)."
        )
    await visit.send_login_link(reason)


async def run_whoami(visit: Visit, call: LeadCall) -> None:
    connection = visit.connection
    if connection is None:
        await visit.reply.send("You're not connected to Zoho CRM. Type `/lead login` to connect.")
        return
    said = f"{connected_text(connection)} Connected since {utc_minute(connection.created_at)}."
    if connection.org_id:
        links = lead_url(connection.location or "", connection.org_id, "<id>")
        said += f" Links to your Leads look like `{escape(links)}`: posted in Slack, they unfurl into a card."
    await visit.reply.send(said)


async def run_logout(visit: Visit, call: LeadCall) -> None:
    await log_out(visit)


async def log_out(visit: Visit) -> Forgotten:
    """The caller's own connection, revoked at Zoho and forgotten here; the person is told how it went."""
    identity = visit.person
    result = await visit.services.revocation.forget(identity, identity.user_id, "logout")
    if result.outcome is RevokeOutcome.NOT_CONNECTED:
        await visit.reply.send("You're not connected to Zoho CRM, so there is nothing to log out of.")
        return result
    email = result.zoho_email or (visit.connection.zoho_email if visit.connection else None)
    done = f"Logged out of Zoho CRM{f' ({escape(email)})' if email else ''}."
    if result.outcome is RevokeOutcome.QUEUED:
        await visit.reply.send(
            f"{done} Zoho could not be reached, so your token is deleted here and its revocation at Zoho is "
            "queued and retried in the background."
        )
    else:
        await visit.reply.send(f"{done} Your token was revoked at Zoho.")
    return result


# ----- the sub-commands on Leads -------------------------------------------------------------------------------


async def run_create(visit: Visit, call: LeadCall) -> None:
    if not call.args.strip():
        await open_lead_form(visit)
        return
    values = parse_lead_values(call.args)
    lead = await (await visit.leads_for(values.values())).create(values)
    await visit.reply.send(**lead_saved_message(lead, created=True))


async def run_list(visit: Visit, call: LeadCall) -> None:
    page = await visit.leads.list(1, parse_list_arguments(call.args))
    await visit.reply.send(**lead_page_message(page))


async def run_search(visit: Visit, call: LeadCall) -> None:
    page = await visit.leads.list(1, parse_search_words(call.args))
    await visit.reply.send(**lead_page_message(page))


async def run_show(visit: Visit, call: LeadCall) -> None:
    lead_id = parse_lead_id(call.args, "show")
    leads = visit.leads
    lead = await leads.get(lead_id)
    await visit.reply.send(**lead_card_message(lead, await leads.fields()))


async def run_edit(visit: Visit, call: LeadCall) -> None:
    lead_id, values = parse_edit_arguments(call.args)
    if not values:
        visit.failure = dataclasses.replace(visit.failure, summary="No Lead to edit")
        await open_lead_form(visit, lead_id)
        return
    lead = await (await visit.leads_for(values.values())).update(lead_id, values)
    await visit.reply.send(**lead_saved_message(lead, created=False))


async def run_delete(visit: Visit, call: LeadCall) -> None:
    lead_id = parse_lead_id(call.args, "delete")
    lead = await visit.leads.delete(lead_id)
    await visit.reply.send(**lead_deleted_message(lead_id, lead))


async def open_lead_form(visit: Visit, lead_id: str | None = None, prefill: Mapping[str, str] | None = None) -> None:
    """Open the Lead form, built from the person's org's fields (filled in with the Lead `lead_id`, when editing;
    else a create form starting from `prefill`) with the request's trigger_id; when Slack does not open it (the
    3-second trigger ran out while Zoho answered, say), say how to go on."""
    lead = await visit.leads.get(lead_id) if lead_id is not None else None
    await show_lead_form(visit, lead, prefill)


async def show_lead_form(
    visit: Visit,
    lead: Lead | None,
    prefill: Mapping[str, str] | None = None,
    carried: Mapping[str, str] | None = None,
) -> None:
    """Open the Lead form for `lead` (None: a create form starting from `prefill`); see `open_lead_form`.
    `carried`: values typed before (a form a refusal closed), shown and written as if typed in this one."""
    org = await visit.leads.fields()
    incoming = visit.incoming
    context = FormContext(
        lead_id=lead.id if lead else None,
        channel_id=incoming.channel_id or None,
        response_url=incoming.response_url or None,
        carried=dict(carried or {}),
    )
    try:
        await visit.services.slack.views_open(
            trigger_id=incoming.trigger_id, view=lead_form_view(context, lead, prefill=prefill, org=org)
        )
        return
    except SlackApiError as exc:
        problem = str(exc.response.get("error") or exc.response.status_code)
    except Exception as exc:  # network trouble: tell the person, never a traceback
        problem = type(exc).__name__
    log.warning("views.open failed: %s", problem)
    await visit.reply.send(**form_failed_message(problem, lead))


@dataclass(frozen=True)
class Subcommand:
    run: Callable[[Visit, LeadCall], Awaitable[None]]
    needs: Needs = Needs.CONNECTION
    summary: str = "That did not work"  # how a problem is headed
    nothing: str = "Nothing was saved"  # what did not happen, when the typed text was wrong
    # Reads the arguments as `run` will, before the ack (no Zoho, no org): a mistake in how they are written is told
    # in the ack, to someone not connected too, instead of a login link that offers to run it later.
    check: Callable[[str], object] | None = None


_CREATE = Subcommand(
    run_create, summary="The Lead was not created", check=lambda args: args.strip() and parse_lead_values(args)
)
_SEARCH = Subcommand(run_search, summary="No list this time", nothing="Nothing was searched", check=parse_search_words)
_SHOW = Subcommand(
    run_show, summary="No Lead to show", nothing="Nothing was read", check=lambda args: parse_lead_id(args, "show")
)

SUBCOMMANDS: dict[str, Subcommand] = {
    "login": Subcommand(
        run_login, needs=Needs.LOOKUP, nothing="Nothing was sent", check=lambda args: parse_nothing(args, "login")
    ),
    "whoami": Subcommand(
        run_whoami,
        needs=Needs.LOOKUP,
        nothing="Nothing was looked up",
        check=lambda args: parse_nothing(args, "whoami"),
    ),
    "logout": Subcommand(
        run_logout,
        nothing="Nothing was changed",
        needs=Needs.LOOKUP,
        check=lambda args: parse_nothing(args, "logout"),
    ),
    "create": _CREATE,
    "new": _CREATE,
    "add": _CREATE,
    "list": Subcommand(
        run_list, summary="No list this time", nothing="Nothing was searched", check=parse_list_arguments
    ),
    "search": _SEARCH,
    "find": _SEARCH,
    "show": _SHOW,
    "get": _SHOW,
    "edit": Subcommand(run_edit, summary="The Lead was not changed", check=parse_edit_arguments),
    "delete": Subcommand(
        run_delete,
        summary="The Lead was not deleted",
        nothing="Nothing was deleted",
        check=lambda args: parse_lead_id(args, "delete"),
    ),
}

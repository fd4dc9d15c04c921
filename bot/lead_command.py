"""The `/lead` slash command: acks at once, then runs the sub-command in the background.

Handlers here stay thin: parse the text, gate on the caller's Zoho connection, call one service, render.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.app.async_app import AsyncApp

from bot.command_text import split_subcommand
from bot.help import help_blocks, help_text
from bot.leads.slack_text import typed_text
from bot.messenger import connected_text
from bot.mrkdwn import escape
from bot.reply import WORKING_AFTER_S, Reply
from bot.services import BotServices
from store import ChatIdentity, Connection

log = logging.getLogger(__name__)

# The database stopped answering mid-command (server down, connections refused or cut, file gone).


@dataclass(frozen=True)
class LeadCall:
    """One `/lead` invocation, as plain values."""

    identity: ChatIdentity
    subcommand: str
    args: str  # the rest of the text as Slack sent it (escaped, with its markup): bot.leads.arguments reads it
    trigger_id: str
    channel_id: str
    typed: str  # the whole text as the person typed it (markup unwrapped, unescaped), for echoing
    response_url: str = ""  # where a form opened by this command reports its result


SubcommandRun = Callable[[BotServices, LeadCall, Reply, Connection], Awaitable[None]]

# Sub-commands that need a Zoho connection; each module adds its own (see register_subcommand).
_CONNECTED_SUBCOMMANDS: dict[str, SubcommandRun] = {}
_OPEN_SUBCOMMANDS = ("login", "whoami")


QUICK_ANSWER_S = 0.25
OVERLOADED = (
    "I'm handling a lot of commands right now and yours could not get its turn in time, so I did not run it "
    "(nothing was changed). Please try again in a minute."
)


def register_subcommand(name: str, run: SubcommandRun) -> None:
    _CONNECTED_SUBCOMMANDS[name] = run


def known_subcommands() -> list[str]:
    return sorted({"help", *_OPEN_SUBCOMMANDS, *_CONNECTED_SUBCOMMANDS})


async def send_login_link(
    services: BotServices, identity: ChatIdentity, reply: Reply, reason: str, then: str = ""
) -> None:
    """DM a fresh login link, and tell the caller where to find it (or show it, if the DM failed); `then`: what
    to do once connected."""
    link = await services.login.login_link(identity)
    after = f" {then}" if then else ""
    if await services.messenger.send_login_link(identity, link, reason):
        await reply.send(f"{reason} I've sent you a login link in a direct message.{after}")
    else:
        await reply.send(
            f"{reason} Here is your personal login link: <{link}|Login with Zoho> (expires in 10 minutes).{after}"
        )


async def _run(services: BotServices, call: LeadCall, respond: Any, waited: float) -> None:
    # The "Working on it…" notice counts from when the command was typed, its wait for a turn included (but a
    # quick answer after a wait comes alone, not a quarter of a second after a notice).
    working_after = max(WORKING_AFTER_S - waited, QUICK_ANSWER_S)
    async with Reply(respond, what=f"/lead {call.subcommand}", working_after=working_after) as reply:
        await _dispatch(services, call, reply)
        # A store outage is answered by Reply itself ("temporarily unavailable"), for every listener alike.


async def _turned_away(call: LeadCall, respond: Any) -> None:
    log.warning("/lead %s by %s: not started, too many commands ahead", call.subcommand, call.identity)
    async with Reply(respond, what=f"/lead {call.subcommand}") as reply:
        await reply.send(OVERLOADED)


async def _dispatch(services: BotServices, call: LeadCall, reply: Reply) -> None:
    """Gate on the caller's connection, then run the sub-command."""
    identity = call.identity
    if call.subcommand == "login":
        current = await asyncio.to_thread(services.store.connections.get, identity)
        reason = "Here's a fresh link to connect Zoho CRM."
        if current is not None:
            reason = (
                f"You're already connected as {escape(current.zoho_email or 'a Zoho user')}. Here's a fresh link "
                "in case you want to connect another Zoho account (it replaces this one)."
            )
        await send_login_link(services, identity, reply, reason)
        return
    connection = await asyncio.to_thread(services.store.connections.get, identity)
    if call.subcommand == "whoami":
        if connection is None:
            await reply.send("You're not connected to Zoho CRM. Type `/lead login` to connect.")
        else:
            since = connection.created_at.strftime("%Y-%m-%d %H:%M UTC")
            await reply.send(f"{connected_text(connection)} Connected since {since}.")
        return
    if connection is None and call.subcommand == "logout":
        await reply.send("You're not connected to Zoho CRM, so there is nothing to log out of.")
        return
    if connection is None:
        again = f"Once you are, type `{escape(f'/lead {call.typed.strip()}'[:200])}` again."
        await send_login_link(services, identity, reply, "You're not connected to Zoho CRM yet.", then=again)
        return
    await _CONNECTED_SUBCOMMANDS[call.subcommand](services, call, reply, connection)


def register_lead_command(app: AsyncApp, services: BotServices) -> None:
    """Attach `/lead` to the bolt app."""

    @app.command("/lead")
    async def lead(ack: Any, command: dict[str, Any]) -> None:
        raw = command.get("text") or ""
        typed = typed_text(raw)
        subcommand, _ = split_subcommand(typed)
        _, args = split_subcommand(raw)
        if subcommand in ("", "help"):
            await ack(response_type="ephemeral", text=help_text(), blocks=help_blocks())
            return
        if subcommand not in _CONNECTED_SUBCOMMANDS and subcommand not in _OPEN_SUBCOMMANDS:
            known = ", ".join(f"`{s}`" for s in known_subcommands())
            close = difflib.get_close_matches(subcommand, known_subcommands(), n=1, cutoff=0.6)
            guess = f" Did you mean `/lead {close[0]}`?" if close else ""
            await ack(
                response_type="ephemeral",
                text=f"I don't know `/lead {escape(typed.strip()[:200])}`.{guess} Try one of {known}, or `/lead help`.",
            )
            return
        if not command.get("team_id") or not command.get("user_id"):
            log.warning("/lead request without team_id or user_id refused")
            await ack(response_type="ephemeral", text="Slack did not say who sent this command, so I can't run it.")
            return
        identity = ChatIdentity(team_id=command["team_id"], user_id=command["user_id"])
        if not services.background.has_room(identity):  # it would only be told this after waiting its 3 s
            services.background.turn_away_at_door(f"/lead {subcommand}")
            await ack(response_type="ephemeral", text=OVERLOADED)
            return
        await ack()
        call = LeadCall(
            identity=identity,
            subcommand=subcommand,
            args=args,
            trigger_id=command.get("trigger_id", ""),
            channel_id=command.get("channel_id", ""),
            typed=typed,
            response_url=command.get("response_url", ""),
        )
        answer = services.response_urls.respond_for(call.response_url)  # one shared session, not one per post
        services.background.submit(
            call.identity,
            lambda waited: _run(services, call, answer, waited),
            lambda: _turned_away(call, answer),
            name=f"/lead {subcommand}",
        )

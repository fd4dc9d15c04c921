""" "Run it now": the command a person typed while not connected, run once they have logged in.

The login link that came instead of an answer kept the command (bot.slack.front_door, `Work.command`); the DM
that says "connected" offers a button whose value is only a one-off id (oauth.login, store.login_states). Its
click passes the front door like any other, and the id opens the command once, for the person it was kept for:
another person's click, a second click or a late one does nothing (logged). The command then runs as if typed
again, through `/lead`'s own sub-commands, and is answered in the DM.
"""

from __future__ import annotations

import logging

from bot.slack.commands.lead import SUBCOMMANDS, lead_call
from bot.slack.front_door import Delivery, FrontDoor, Incoming, Needs, Visit, Work
from bot.slack.messages import RUN_INTERRUPTED
from bot.slack.views.errors import Failure

log = logging.getLogger(__name__)


def read_run_interrupted(incoming: Incoming) -> Work[str] | None:
    resume_id = str(incoming.payload.get("value") or "")
    if not resume_id:
        return None
    # LOOKUP: a click by someone not connected is nobody's to answer (the button was sent just after a login).
    return Work(resume_id, name="run interrupted command", delivery=Delivery.DM, needs=Needs.LOOKUP)


async def run_interrupted(visit: Visit, resume_id: str) -> None:
    if visit.connection is None:
        log.info("run interrupted command by %s: not connected; nothing run", visit.person)
        return
    raw = await visit.services.login.interrupted_command(resume_id, visit.person)
    if raw is None:
        log.info("run interrupted command by %s: not theirs, used or expired; nothing run", visit.person)
        return
    call = lead_call(raw)
    spec = SUBCOMMANDS.get(call.subcommand)
    if spec is None:  # kept only for sub-commands that need a connection; a newer version may have dropped one
        log.info("run interrupted command by %s: /lead %s is no more", visit.person, call.subcommand)
        return
    visit.failure = Failure(spec.summary, spec.nothing, call.shown)
    await spec.run(visit, call)


def register(door: FrontDoor) -> None:
    door.action(RUN_INTERRUPTED, read_run_interrupted, run_interrupted)

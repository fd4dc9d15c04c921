"""The front door: every Slack listener is registered through it, and every request passes the same steps.

Slash commands, button clicks, form submissions, shortcuts and events alike:

1. **who** — the chat identity bolt puts on every request (`context.team_id`, `context.user_id`); a request that
   also names another workspace (its team, or its view's) is acked and goes no further;
2. **read** — the listener's `read(incoming)` turns the payload into plain values (a `Work`), or answers in the
   ack itself (`AckAnswer`: help, a usage error, a form's field errors), or asks for nothing more (None); a
   work may also ask for a quick look before the ack with what the store already knows of the person
   (`Work.check_first`: a form's values against the org's fields as last read), which may still answer it there;
3. **admission** — the work waits its turn in the one queue (bot.admission), round-robin across people; one
   that at the recent pace could not start in time is told so in the ack, with how long to wait;
4. after the ack, **a Reply** (the "Working on it…" notice, the last-resort apology) and the person's Zoho
   connection, or, when the work needs one and there is none, the login link instead;
5. **run** — the listener's `run(visit, request)` calls one service and renders the result. Whatever goes wrong
   in the domain's vocabulary (bad input, not connected, Zoho said no) is told here, in one place, through
   `bot.slack.views.errors`.

**Clicks on the Home tab** carry no response_url: their work says `Delivery.DM` and is answered in the app's
direct message with the person (the Messages tab, next to Home), while the runner republishes the Home tab
itself. A message's button reused on the Home tab (Edit, `IN_PLACE`/`BELOW`) arrives without a response_url
too and is answered by DM the same way. A login link, already a DM, is then not announced by a second one.

Nothing else in the bot calls bolt's `command`/`action`/`view`/`event`/`shortcut`, so no listener can skip a step.

Every request is counted here (bot.metrics) by kind and outcome, with the time to its ack and to its answer, and
carries a request id in its log lines (bot.logs): the id the Slack route gave it (Slack's event id, or a short
random one), set again where its work runs, in a task of its own.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from slack_bolt.app.async_app import AsyncApp

from bot.admission import Admission
from bot.leads.service import LeadService
from bot.leads.validation import InvalidLead
from bot.leads.values import depends_on_zone
from bot.logs import REQUEST_ID, start_request
from bot.metrics import SLACK_ACK_SECONDS, SLACK_ANSWER_SECONDS, SLACK_REJECTED, SLACK_REQUESTS
from bot.slack.commands.lead_syntax import ArgumentError
from bot.slack.reply import Reply, Respond
from bot.slack.services import SlackServices
from bot.slack.views.errors import Failure, problem_message
from bot.tasks import BackgroundTasks
from bot.zoho import CrmBusy, CrmError, ReconnectNeeded
from store import ChatIdentity, Connection, NotConnected

log = logging.getLogger(__name__)

T = TypeVar("T")

QUICK_ANSWER_S = 0.25
SLACK_ACK_LIMIT_S = 3.0  # how long Slack waits for the ack before it shows the person an error
CHECK_FIRST_S = 1.0  # at most this of Slack's 3 s for the ack goes to a work's look at the store (check_first)
NO_NOTICE = 3600.0  # a click's answer lands on its own message: no separate "Working on it…" line
OVERLOADED = (
    "I'm handling a lot of commands right now and yours could not get its turn in time, so I did not run it "
    "(nothing was changed). Please try again in a minute."
)


def too_busy(seconds: float) -> str:
    """The ack of a command refused at the door: it would have waited too long; when to try again."""
    return (
        "I'm handling a lot of commands right now and yours would wait too long for its turn, so I did not run it "
        f"(nothing was changed). Please try again in about {seconds:.0f} seconds."
    )


ZOHO_REFUSED_ACTOR = "zoho-refused"  # the audit trail's "who" when Zoho refused a connection's token for good
NO_IDENTITY = "Slack did not say who sent this command, so I can't run it."
# What the door tells in one place; anything else is a bug, apologised for by Reply with a reference id.
PROBLEMS = (CrmError, NotConnected, InvalidLead, ArgumentError)


class Needs(enum.Enum):
    """What a piece of work needs of the person's Zoho connection."""

    CONNECTION = "connection"  # looked up; without one, the login link is sent instead of running the work
    LOOKUP = "lookup"  # looked up and handed over, None or not (`/lead login`, `whoami`, `logout`)
    NOTHING = "nothing"  # not looked up at all (admin commands, events)


class Delivery(enum.Enum):
    """Where the answer to a piece of work goes."""

    COMMAND = "command"  # ephemeral, on the command's response_url, with the "Working on it…" notice
    IN_PLACE = "in place"  # replaces the message whose button was clicked
    BELOW = "below"  # a new ephemeral message under the one clicked
    FORM = "form"  # the response_url the form carries (`Work.response_url`), else a DM
    NOBODY = "nobody"  # events: nobody to answer; problems are logged
    DM = "dm"  # the Home tab's clicks (no response_url): by DM, the Home tab republished by the runner


@dataclass(frozen=True)
class Incoming:
    """One request from Slack, as plain values: who sent it and what bolt parsed."""

    identity: ChatIdentity | None
    team_id: str | None
    body: dict[str, Any]
    payload: dict[str, Any]  # the command, the clicked action, the submitted view or the event
    kind: str = "command"  # which listener registration it came through: command, action, view, event, shortcut
    arrived: float = 0.0  # time.monotonic() at the front door
    request_id: str | None = None  # its log lines' id (bot.logs)

    @property
    def trigger_id(self) -> str:
        return str(self.body.get("trigger_id") or "")

    @property
    def channel_id(self) -> str:
        channel = self.body.get("channel_id") or (self.body.get("channel") or {}).get("id")
        return str(channel or "")

    @property
    def response_url(self) -> str:
        return str(self.body.get("response_url") or "")


@dataclass(frozen=True)
class AckAnswer:
    """The whole answer, given in the ack itself (nothing runs afterwards)."""

    body: dict[str, Any]
    outcome: str = "answered"  # how the metrics count it: "invalid" for a mistake in what was typed


@dataclass(frozen=True)
class Work(Generic[T]):
    """What `read` asks the door to do after the ack: run `request` (plain values) through the listener's `run`."""

    request: T
    name: str  # for logs and the apology: "/lead list", "lead delete button"
    delivery: Delivery = Delivery.COMMAND
    needs: Needs = Needs.CONNECTION
    failure: Failure = field(default_factory=Failure)  # how a problem with it is told
    again: str = ""  # after a login link: what to type again once connected
    command: str = ""  # after a login link: the command as typed, kept by the bot and offered to run after the login
    response_url: str = ""  # where FORM answers go (the form's own); others use the request's
    busy_ack: dict[str, Any] | None = None  # the ack when it cannot get a turn (COMMAND: the too_busy text)
    patient: bool = False  # never turned away: runs even when its turn does not come in time (events)
    # Before the ack, with the person's Leads as far as the store knows them (no Zoho call): an answer that ends
    # the work in the ack (a form's field errors), or None to go on. Given None instead when the person has no
    # connection or the store is slow to answer (then it must answer without I/O); `run` checks again anyway.
    check_first: Callable[[LeadService | None], Awaitable[AckAnswer | None]] | None = None


class Visit:
    """One admitted piece of work at run time: who, their connection, how to answer, what the bot offers."""

    def __init__(
        self,
        incoming: Incoming,
        identity: ChatIdentity | None,
        reply: Reply,
        respond: Respond,
        connection: Connection | None,
        services: SlackServices,
        failure: Failure,
        *,
        answers_by_dm: bool = False,
    ) -> None:
        self.incoming = incoming
        self.identity = identity
        self.reply = reply
        self.respond = respond  # the raw response_url poster, for answers besides the reply
        self.connection = connection
        self.services = services
        self.failure = failure  # how a problem is headed; a runner may narrow it ("No Lead to edit")
        self.answers_by_dm = answers_by_dm  # the reply itself is a DM (a Home tab click)

    @property
    def person(self) -> ChatIdentity:
        if self.identity is None:
            raise ValueError("this request has no person")
        return self.identity

    @property
    def leads(self) -> LeadService:
        """The person's Leads, as their Zoho user; NotConnected when they have no connection."""
        if self.connection is None:
            raise NotConnected()
        return self.services.leads.of(self.connection)

    async def leads_for(self, typed: Iterable[str]) -> LeadService:
        """The person's Leads to write `typed` values to: in their time zone when one of the values depends on it
        (`tomorrow`, `15:00`), asked of Slack then only; NotConnected when they have no connection."""
        if self.connection is None:
            raise NotConnected()
        if not any(depends_on_zone(value) for value in typed):
            return self.services.leads.of(self.connection)
        return self.services.leads.of(self.connection, await self.services.zones.of(self.person))

    async def send_login_link(self, reason: str, then: str = "", command: str = "") -> None:
        """DM a fresh login link in place of the person's previous one (its message deleted, its link void) and
        tell them where to find it (or show it, if the DM failed); `then`: what to do once connected; `command`:
        what they typed, kept here (never sent to Slack) and offered to run once they are connected."""
        services, identity = self.services, self.person
        link = await services.login.login_link(identity, command)
        after = f" {then}" if then else ""
        posted = await services.messenger.send_login_link(identity, link.url, reason)
        if posted is not None:
            previous = await services.login.link_sent(link, *posted)
            if previous is not None:
                await services.messenger.take_down(previous)
            if self.answers_by_dm:
                return  # the link's own DM says it all
            await self.reply.send(f"{reason} I've sent you a login link in a direct message.{after}")
        else:
            await self.reply.send(
                f"{reason} Here is your personal login link: <{link.url}|Login with Zoho> (expires in 10 minutes)."
                f"{after}"
            )


Read = Callable[[Incoming], "Work[Any] | AckAnswer | None | Awaitable[Work[Any] | AckAnswer | None]"]
Run = Callable[[Visit, Any], Awaitable[None]]


class FrontDoor:
    """Registers listeners on the bolt app so that every request passes the steps of the module docstring."""

    def __init__(self, bolt: AsyncApp, services: SlackServices, admission: Admission, tasks: BackgroundTasks) -> None:
        self._bolt = bolt
        self._services = services
        self._admission = admission
        self._tasks = tasks
        self.admitted = 0  # requests that passed the door into the queue (tests and metrics)

    # ----- registration: the only calls to bolt's listener decorators ------------------------------------------

    def command(self, name: str, read: Read, run: Run) -> None:
        self._bolt.command(name)(self._listener("command", read, run))

    def action(self, action_id: str, read: Read, run: Run) -> None:
        self._bolt.action(action_id)(self._listener("action", read, run))

    def view(self, callback_id: str, read: Read, run: Run) -> None:
        self._bolt.view(callback_id)(self._listener("view", read, run))

    def event(self, event_type: str, read: Read, run: Run) -> None:
        self._bolt.event(event_type)(self._listener("event", read, run))

    def shortcut(self, callback_id: str, read: Read, run: Run) -> None:
        self._bolt.shortcut(callback_id)(self._listener("shortcut", read, run))

    def _listener(self, kind: str, read: Read, run: Run) -> Callable[..., Awaitable[None]]:
        # bolt passes arguments by parameter name: these four are all the door needs.
        async def front_door(ack: Any, body: dict[str, Any], payload: dict[str, Any], context: Any) -> None:
            # From the Slack route when there is one (its replay check counts against Slack's 3 s); Socket Mode: now.
            arrived = context.get("arrived") or time.monotonic()
            # The Slack route gave the request its id; a Socket Mode request arrives here first.
            request_id = start_request(context.get("request_id") or body.get("event_id"))
            others = _other_workspaces(body, context.get("team_id"))
            if others:
                log.warning("refused a Slack %s that names another workspace too (%s)", kind, ", ".join(others))
                SLACK_REJECTED.labels("other_installation").inc()
                await ack()
                return
            incoming = _incoming(kind, arrived, request_id, body, payload, context)
            await self._enter(incoming, read, run, _timed_ack(ack, kind, arrived))

        return front_door

    # ----- the steps --------------------------------------------------------------------------------------------

    async def _enter(self, incoming: Incoming, read: Read, run: Run, ack: Any) -> None:
        outcome = read(incoming)
        if asyncio.iscoroutine(outcome):
            outcome = await outcome
        if outcome is None:
            await ack()
            _answered(incoming, "answered")
            return
        if isinstance(outcome, AckAnswer):
            await ack(**outcome.body)
            _answered(incoming, outcome.outcome)
            return
        work: Work[Any] = outcome
        identity = incoming.identity
        if identity is None and work.delivery is not Delivery.NOBODY:
            log.warning("%s without a team or user id refused", work.name)
            await ack(response_type="ephemeral", text=NO_IDENTITY)
            _answered(incoming, "invalid")
            return
        if work.check_first is not None and identity is not None:
            answer = await self._check_first(identity, work)
            if answer is not None:
                await ack(**answer.body)
                _answered(incoming, answer.outcome)
                return
        key = identity or ("team", incoming.team_id)
        try_again_in = None if work.patient else self._admission.try_again_in(key)
        if try_again_in is not None:  # it would only be told this after waiting
            self._admission.turn_away_at_door(work.name)
            await self._turn_away_at_door(ack, incoming, work, try_again_in)
            _answered(incoming, "refused")
            return
        await ack()
        self.admitted += 1
        turned_away = (lambda: self._visit(incoming, work, run, 0.0)) if work.patient else None
        self._admission.submit(
            key,
            lambda waited: self._visit(incoming, work, run, waited),
            turned_away or (lambda: self._turned_away(incoming, work)),
            name=work.name,
        )

    async def _check_first(self, identity: ChatIdentity, work: Work[Any]) -> AckAnswer | None:
        """`work.check_first` with the person's Leads, within CHECK_FIRST_S: the ack must come within Slack's 3 s,
        and the check after the ack (in `run`) stands in for a look that could not be had in time."""
        assert work.check_first is not None
        try:
            async with asyncio.timeout(CHECK_FIRST_S):
                connection = await asyncio.to_thread(self._services.store.connections.get, identity)
                if connection is not None:
                    return await work.check_first(self._services.leads.of(connection))
        except Exception as problem:  # noqa: BLE001 - only a head start: the work is checked again when it runs
            log.info("%s: not checked with the org's fields before the ack (%s)", work.name, type(problem).__name__)
        return await work.check_first(None)

    async def _turn_away_at_door(self, ack: Any, incoming: Incoming, work: Work[Any], seconds: float) -> None:
        if work.busy_ack is not None:
            await ack(**work.busy_ack)
        elif work.delivery is Delivery.COMMAND:
            await ack(response_type="ephemeral", text=too_busy(seconds))
        else:
            await ack()
            # counted as refused at the door already
            self._tasks.spawn(self._turned_away(incoming, work, counted=True), name=f"{work.name} (turned away)")

    async def _turned_away(self, incoming: Incoming, work: Work[Any], *, counted: bool = False) -> None:
        REQUEST_ID.set(incoming.request_id)  # a task of its own, started from whichever context freed the queue
        log.warning("%s by %s: not started, too many ahead", work.name, incoming.identity)
        reply, _ = self._reply(incoming, work, 0.0, notice=False)
        async with reply:
            await reply.send(OVERLOADED)
        if not counted:
            _answered(incoming, "overloaded")

    async def _visit(self, incoming: Incoming, work: Work[Any], run: Run, waited: float) -> None:
        REQUEST_ID.set(incoming.request_id)  # a task of its own, started from whichever context freed the queue
        outcome = "failed"  # unless the work gets further: a store outage or a bug is answered by Reply itself
        reply, respond = self._reply(incoming, work, waited)
        try:
            async with reply:
                connection = None
                if incoming.identity is not None and work.needs is not Needs.NOTHING:
                    connection = await asyncio.to_thread(self._services.store.connections.get, incoming.identity)
                visit = Visit(
                    incoming,
                    incoming.identity,
                    reply,
                    respond,
                    connection,
                    self._services,
                    work.failure,
                    answers_by_dm=_by_dm(incoming, work),
                )
                if work.needs is Needs.CONNECTION and connection is None:
                    outcome = "not_connected"
                    await visit.send_login_link("You're not connected to Zoho CRM yet.", work.again, work.command)
                    return
                try:
                    await run(visit, work.request)
                    outcome = "answered"
                except PROBLEMS as problem:
                    outcome = _outcome_of(problem)
                    await self._tell(visit, work, problem)
        finally:
            if outcome == "failed" and reply.store_unavailable:
                outcome = "unavailable"
            if reply.undelivered and outcome not in ("failed", "unavailable"):  # a bug or an outage counts as such
                outcome = "undelivered"
            _answered(incoming, outcome)

    async def _tell(self, visit: Visit, work: Work[Any], problem: Exception) -> None:
        """The one place where what went wrong is told to the person."""
        if visit.identity is None:
            log.warning("%s: %s (%s)", work.name, type(problem).__name__, problem)
            return
        if isinstance(problem, ReconnectNeeded):
            # Through the revocation service like every connection that goes: audited, any token Zoho may still
            # honour revoked, open links closed, and the Home tab shown without it.
            await self._services.revocation.forget(
                visit.identity, ZOHO_REFUSED_ACTOR, "revoke", f"Zoho no longer accepts its token ({problem.code})"
            )
            log.info("connection of %s forgotten: Zoho no longer accepts its token", visit.identity)
            await visit.send_login_link(
                "Zoho no longer accepts your connection (it expired or was revoked), so I've disconnected it. "
                "Nothing was changed in Zoho CRM."
            )
        elif isinstance(problem, NotConnected):
            await visit.send_login_link("You're no longer connected to Zoho CRM.")
        else:
            await visit.reply.send(**problem_message(problem, visit.failure))

    def _reply(
        self, incoming: Incoming, work: Work[Any], waited: float, *, notice: bool = True
    ) -> tuple[Reply, Respond]:
        services = self._services
        respond = services.response_urls.respond_for(work.response_url or incoming.response_url)
        delivery = work.delivery
        if delivery is Delivery.COMMAND:
            # The notice counts from when the command was typed, its wait for a turn included (but a quick answer
            # after a wait comes alone, not a quarter of a second after a notice).
            after = max(services.working_notice_after_s - waited, QUICK_ANSWER_S) if notice else NO_NOTICE
            return Reply(respond, working_after=after, what=work.name), respond
        if delivery is Delivery.FORM:
            return Reply(
                _form_answer(services, incoming.identity, respond, work), working_after=NO_NOTICE, what=work.name
            ), respond
        if delivery is Delivery.NOBODY:
            return Reply(_to_the_log(work.name), working_after=NO_NOTICE, what=work.name), respond
        if _by_dm(incoming, work):
            return Reply(_direct_message(services, incoming.identity), working_after=NO_NOTICE, what=work.name), respond
        replace = delivery is Delivery.IN_PLACE
        return Reply(replacing(respond, replace), working_after=NO_NOTICE, what=work.name), respond


def _incoming(kind: str, arrived: float, request_id: str, body: dict[str, Any], payload: Any, context: Any) -> Incoming:
    team_id, user_id = context.get("team_id"), context.get("user_id")
    identity = ChatIdentity(team_id, user_id) if team_id and user_id else None
    return Incoming(identity, team_id, body, payload if isinstance(payload, dict) else {}, kind, arrived, request_id)


def _other_workspaces(body: dict[str, Any], team_id: str | None) -> list[str]:
    """The workspaces other than `team_id` (the one bolt authorized) that a request names where bolt may take its
    workspace from: the request's team, and the team and installing team of its view. bolt takes a view's
    `app_installed_team_id` first, so a click from another workspace naming ours only there would otherwise
    pass `authorize` (bot.slack.installation) as ours, and reach a listener as one of our people."""
    team, view = body.get("team"), body.get("view")
    named = [team.get("id") if isinstance(team, dict) else team, body.get("team_id")]
    if isinstance(view, dict):
        named += [view.get("team_id"), view.get("app_installed_team_id")]
    return list(dict.fromkeys(t for t in named if isinstance(t, str) and t and t != team_id))


def _timed_ack(ack: Any, kind: str, arrived: float) -> Callable[..., Awaitable[None]]:
    """`ack` that observes the time from the request's arrival (at the Slack route, or the front door) to the ack
    (bot.metrics), and logs an ack later than Slack waits."""

    async def timed(**answer: Any) -> None:
        await ack(**answer)
        took = time.monotonic() - arrived
        SLACK_ACK_SECONDS.labels(kind).observe(took)
        if took > SLACK_ACK_LIMIT_S:
            log.warning(
                "a %s was acked after %.1f s: Slack waits %g s and showed an error", kind, took, SLACK_ACK_LIMIT_S
            )

    return timed


def _answered(incoming: Incoming, outcome: str) -> None:
    """Count a request as done, with the time from its arrival to its answer (bot.metrics), and say so in one
    line: at INFO every request leaves one, with its id, so one command can be followed without DEBUG."""
    took = time.monotonic() - incoming.arrived
    SLACK_REQUESTS.labels(incoming.kind, outcome).inc()
    SLACK_ANSWER_SECONDS.labels(incoming.kind).observe(took)
    if log.isEnabledFor(logging.INFO):
        who = incoming.identity or incoming.team_id or "nobody"
        log.info("%s %s by %s: %s in %.2f s", incoming.kind, _what(incoming), who, outcome, took)


def _what(incoming: Incoming) -> str:
    """What a request was, in a few words of Slack's own (never what was typed after a command's first word)."""
    payload = incoming.payload
    if incoming.kind == "command":
        words = str(payload.get("text") or "").split(maxsplit=1)
        first = words[0][:20].lower() if words else ""
        if first and not (first.isascii() and first.isalpha()):
            first = "…"  # not a sub-command: an e-mail or a name, say, which the log keeps out
        return f"{payload.get('command', '')} {first}".strip()
    if incoming.kind == "action":
        return str(payload.get("action_id") or "")[:40]
    if incoming.kind == "event":
        return str(payload.get("type") or "")[:40]
    return str(payload.get("callback_id") or "")[:40]  # a view or a shortcut


def _outcome_of(problem: Exception) -> str:
    """The metrics' outcome of a problem the door tells: the person's input, their connection, or Zoho."""
    if isinstance(problem, (InvalidLead, ArgumentError)):
        return "invalid"
    if isinstance(problem, (NotConnected, ReconnectNeeded)):
        return "not_connected"
    if isinstance(problem, CrmBusy):  # it waited its whole time for a turn and was never sent to Zoho
        return "overloaded"
    return "zoho_error"


def _by_dm(incoming: Incoming, work: Work[Any]) -> bool:
    """Answered by DM: the Home tab's own clicks, and a message's button clicked on the Home tab (no response_url)."""
    if work.delivery is Delivery.DM:
        return True
    clicked = work.delivery in (Delivery.IN_PLACE, Delivery.BELOW)
    return clicked and not (work.response_url or incoming.response_url)


def replacing(respond: Respond, replace_original: bool) -> Respond:
    """`respond` that always posts with `replace_original` set as given."""

    async def post(**message: Any) -> Any:
        message["replace_original"] = replace_original
        return await respond(**message)

    return post


class _Delivered:
    status_code = 200


def _form_answer(services: SlackServices, identity: ChatIdentity | None, respond: Respond, work: Work[Any]) -> Respond:
    """A form's result: the response_url it carries (a new message), else a DM."""

    async def post(**message: Any) -> Any:
        message["replace_original"] = False
        if work.response_url:
            try:
                sent = await respond(**message)
                if sent.status_code == 200:
                    return sent
                log.warning("form result refused by the response_url: HTTP %s", sent.status_code)
            except Exception as exc:
                log.warning("form result to the response_url failed: %s", type(exc).__name__)
        user_id = identity.user_id if identity else ""
        if not await services.messenger.dm(user_id, message.get("text") or "", message.get("blocks")):
            raise RuntimeError("form result could not be delivered")
        return _Delivered()

    return post


def _direct_message(services: SlackServices, identity: ChatIdentity | None) -> Respond:
    """An answer posted in the app's DM with the person (where a Home tab click is answered)."""

    async def post(**message: Any) -> Any:
        user_id = identity.user_id if identity else ""
        if not await services.messenger.dm(user_id, message.get("text") or "", message.get("blocks")):
            raise RuntimeError("answer by DM could not be delivered")
        return _Delivered()

    return post


def _to_the_log(name: str) -> Respond:
    async def post(**message: Any) -> Any:
        log.info("%s: %s", name, message.get("text", ""))
        return _Delivered()

    return post

"""Answering a slash command after its ack: through `response_url`, ephemeral to the caller.

A command whose work takes longer than `working_after` seconds first shows "Working on it…", which the answer
then replaces. An unexpected failure is logged once with a reference id and the person gets a short apology with
that id, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from types import TracebackType
from typing import Any

from bot.limits import SlackLimits
from bot.slack.response_urls import Respond
from store.errors import STORE_OUTAGE, first_line

log = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = "The bot's database is temporarily unavailable; please try again in a minute."

WORKING_TEXT = ":hourglass_flowing_sand: Working on it…"
WORKING_AFTER_S = SlackLimits().working_notice_after_s


class Reply:
    """An ephemeral answer to one command, with the slow-call notice and the last-resort apology."""

    def __init__(self, respond: Respond, *, working_after: float = WORKING_AFTER_S, what: str = "command") -> None:
        self._respond = respond
        self._working_after = working_after
        self._what = what
        self._timer: asyncio.TimerHandle | None = None
        self._notice: asyncio.Task[None] | None = None
        self._notice_shown = False
        self.sent = False
        self.undelivered = False  # the answer was sent but never reached Slack (the log says why)
        self.store_unavailable = False  # the work ended on a database outage, told as such

    async def __aenter__(self) -> Reply:
        # A timer, not a sleeping task: under a burst thousands of commands wait, and most never need a notice.
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._working_after, self._start_notice, loop)
        return self

    def _start_notice(self, loop: asyncio.AbstractEventLoop) -> None:
        self._notice_shown = True
        self._notice = loop.create_task(self._notice_posted())

    async def _notice_posted(self) -> None:
        await self._post(text=WORKING_TEXT)

    async def _post(self, **message: Any) -> bool:
        """Post `message`; whether Slack took it (a failure is logged here, once)."""
        try:
            result = await self._respond(response_type="ephemeral", **message)
        except ValueError as exc:  # ours (bot.slack.response_urls): no response_url, or not one of Slack's
            log.error("reply to %s not posted: %s", self._what, exc)
            return False
        except Exception as exc:  # the network's: its text may hold the response_url, which is a credential
            log.error("reply to %s failed: %s", self._what, type(exc).__name__)
            return False
        status = getattr(result, "status_code", 200)
        if status != 200:
            log.error("reply to %s refused by Slack: HTTP %s", self._what, status)
            return False
        return True

    async def send(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """The answer; replaces the working notice if it was shown."""
        if self._timer is not None:
            self._timer.cancel()
        if self._notice is not None:
            await self._notice  # let a notice in flight land before it is replaced
        message: dict[str, Any] = {"text": text, "replace_original": self._notice_shown}
        if blocks is not None:
            message["blocks"] = blocks
        self.sent = True
        self.undelivered = not await self._post(**message)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        if self._timer is not None:
            self._timer.cancel()
        if exc is None or isinstance(exc, asyncio.CancelledError):
            return False
        if isinstance(exc, STORE_OUTAGE):
            self.store_unavailable = True
            log.warning("%s: the database is unavailable (%s: %s)", self._what, type(exc).__name__, first_line(exc))
            await self.send(DATABASE_UNAVAILABLE)
            return True
        ref = secrets.token_hex(4)
        log.error("%s failed ref=%s", self._what, ref, exc_info=exc)
        await self.send(f":warning: Sorry, something went wrong on our side (reference `{ref}`). Please try again.")
        return True

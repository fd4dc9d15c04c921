"""A terminal Slack client over the emulator: a person with no Slack plays one of the workspace's users.

    ann@Local Workspace> /lead list acme

After each thing the person does, everything the app shows that user (command replies, DMs, ephemeral
messages, modals) is printed as it arrives; buttons are numbered for `click N`; a modal is filled field by
field and submitted. Works on a terminal and with piped input (lines until EOF).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from playground.slack.console_form import ModalFiller
from playground.slack.console_input import LineReader, is_terminal
from playground.slack.emulator import SlackEmulator
from playground.slack.mrkdwn_text import Style, mrkdwn_to_text
from playground.slack.records import RecordedMessage
from playground.slack.render import Clickable, render_blocks, render_message

HELP = """console commands:
  /command text      run a slash command, e.g. /lead help, /lead list acme, /zoho-revoke @bob
  click N            press button [N] (or choose menu option [N]) of what was printed last
  say TEXT           write TEXT in #general, as the person you are (a Zoho CRM Lead link in it unfurls)
  shortcut           "Create Zoho Lead" on the latest message someone wrote (the message shortcut)
  follow N           for a link button [N]: follow the link here instead of in a browser (local mode)
  form               fill in the form (modal) that is open, if you left it
  home               open the app's Home tab (its buttons are numbered for click N)
  as NAME            become another person of the workspace (users lists them)
  users              list the workspace's people
  help               this text
  quit               leave (end of input does the same)
in a form: Enter keeps the value shown in [brackets], '-' empties a field, ':cancel' closes the form."""


def _header(m: RecordedMessage, channel_names: dict[str, str], names: dict[str, str] | None = None) -> str:
    names = names or {}
    if m.delete_original:
        return "◆ bot · deleted a message"
    if m.is_ephemeral:
        where = "only visible to you"
    elif m.kind == "dm":
        where = "DM"
    else:
        where = "#" + channel_names.get(m.channel, m.channel)
    if m.replace_original:
        where += " · replaced the message above"
    elif m.edited:
        where += " · edited"
    return f"◆ {names.get(m.author, m.author) if m.author else 'bot'} · {where}"


# Follows a link for a user with no browser at hand: (url, user id) -> lines to show.
LinkFollower = Callable[[str, str], Awaitable[str]]


class Console:
    """One terminal session: who the person is, what they last saw, and what `click N` means."""

    def __init__(
        self,
        emu: SlackEmulator,
        user_id: str,
        reader: LineReader,
        out: TextIO,
        *,
        quiet: float,
        max_wait: float,
        follow_link: LinkFollower | None = None,
    ) -> None:
        self.emu = emu
        self.follow_link = follow_link
        self.user_id = user_id
        self.reader = reader
        self.out = out
        self.quiet = quiet
        self.max_wait = max_wait
        self.style = Style(ansi=is_terminal(out))
        self.seen: dict[str, int] = {}
        self.noted: dict[str, int] = {}
        self.view_seq = 0
        self.acting = False
        # What `click N` presses: a button on a message, or (None) on the Home tab.
        self.clickables: dict[int, tuple[RecordedMessage | None, Clickable]] = {}
        self.filler = ModalFiller(self)

    # ---- output ------------------------------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    @property
    def prompt(self) -> str:
        user = self.emu.users.get(self.user_id)
        return f"{user.name if user else self.user_id}@{self.emu.team_name}> "

    def names(self) -> dict[str, str]:
        return {**{u.id: u.name for u in self.emu.users.values()}, **self.emu.channel_names}

    def _visible(self, m: RecordedMessage, user_id: str) -> bool:
        return (m.user == user_id or m.user is None) and (m.shown or m.delete_original)

    def flush(self) -> bool:
        """Print what changed for the current user since last time; note news for the others. True if any."""
        printed = False
        last = self.seen.get(self.user_id, 0)
        for m in self.emu.messages():
            if m.seq > last and self._visible(m, self.user_id):
                self._print_message(m)
                printed = True
        self.seen[self.user_id] = self.emu.seq
        for other in self.emu.users:
            if other == self.user_id:
                continue
            since = max(self.seen.get(other, 0), self.noted.get(other, 0))
            news = [m for m in self.emu.messages(user_id=other) if m.seq > since and m.shown]
            if news:
                name = self.emu.users[other].name
                self.say(self.style.dim(f"({name} has {len(news)} new message(s): type `as {name}` to see)"))
                self.noted[other] = self.emu.seq
        stack = self.emu.open_views(self.user_id)
        if stack and stack[-1].seq > self.view_seq and not (self.filler.active or self.acting):
            self.say(self.style.dim("(a form is open: type `form` to fill it in)"))
        return printed

    def _print_message(self, m: RecordedMessage) -> None:
        self.say()
        self.say(self.style.bold(_header(m, self.emu.channel_names, self.names())))
        if m.delete_original:
            return
        rendered = render_message(
            m.text, m.blocks, first_number=len(self.clickables) + 1, names=self.names(), style=self.style
        )
        if rendered.text:
            self.say(rendered.text)
        for c in rendered.clickables:
            self.clickables[c.number] = (m, c)
        for unfurl in m.unfurls.values():
            self._print_unfurl(m, unfurl)

    def _print_unfurl(self, m: RecordedMessage, unfurl: dict[str, Any]) -> None:
        """A link's preview, under its message, set off as Slack sets it off (a bar on the left)."""
        shown = render_blocks(unfurl.get("blocks") or [], first_number=len(self.clickables) + 1, names=self.names())
        self.say("\n".join(f"  ┃ {line}" for line in shown.text.splitlines()))
        for c in shown.clickables:
            self.clickables[c.number] = (m, c)

    # ---- waiting for the app -------------------------------------------------------------------------------
    async def settle(self, first_wait: float | None = None) -> None:
        """Print what arrives until the app has been quiet for a moment (at most `max_wait` seconds)."""
        deadline = time.monotonic() + self.max_wait
        quiet_until = time.monotonic() + (self.quiet if first_wait is None else first_wait)
        self.flush()
        while (now := time.monotonic()) < min(deadline, quiet_until):
            if await self.emu.wait_changed(min(deadline, quiet_until) - now):
                self.flush()
                quiet_until = time.monotonic() + self.quiet

    async def after_action(self) -> None:
        """Settle, then fill any form the app opened (and whatever it opens after that)."""
        self.acting = True
        try:
            await self.settle()
            while True:
                stack = self.emu.open_views(self.user_id)
                if not stack or stack[-1].seq <= self.view_seq:
                    return
                await self.filler.fill(stack[-1])
                await self.settle()
        finally:
            self.acting = False

    def new_batch(self) -> None:
        """A new action by the person: numbering of buttons starts again at 1."""
        self.clickables.clear()

    # ---- commands -------------------------------------------------------------------------------------------
    async def command(self, line: str) -> None:
        name, _, text = line.partition(" ")
        self.new_batch()
        result = await self.emu.send_command(self.user_id, name, text.strip())
        if result.error:
            self.say(f'⚠ {name} failed with the error "{result.error}"')
        await self.after_action()

    async def click(self, arg: str) -> None:
        if not arg.isdigit() or int(arg) not in self.clickables:
            await self.settle(first_wait=min(self.max_wait, 2.0))  # the app may still be answering
        if not arg.isdigit() or int(arg) not in self.clickables:
            shown = ", ".join(str(n) for n in sorted(self.clickables)) or "none"
            self.say(f"no button [{arg}] (buttons shown: {shown})")
            return
        message, clickable = self.clickables[int(arg)]
        if message is None:
            await self._click_home(clickable)
            return
        element = self._element(message.blocks, clickable)
        if element and isinstance(element.get("confirm"), dict) and not await self._confirmed(element["confirm"]):
            return
        if clickable.url:
            hint = f"  (no browser? type `follow {arg}`)" if self.follow_link else ""
            self.say(f"open in your browser: {clickable.url}{hint}")
        else:
            self.new_batch()  # a link button leaves what is shown (and its numbers) as it was
        try:
            result = await self.emu.click_button(self.user_id, message, clickable.action_id, clickable.value)
        except LookupError:
            if not clickable.url:  # a link in a link's preview opens, though Slack sends no click for it here
                self.say("that message has changed since; its buttons are gone")
            return
        if result.error and not clickable.url:
            self.say(f"⚠ the app did not answer that click ({result.error})")
        await self.after_action()

    async def follow(self, arg: str) -> None:
        """Follow link button [N] in the console (the local playground supplies how), then show what came."""
        links = {n: c.url for n, (_, c) in self.clickables.items() if c.url}
        if self.follow_link is None:
            self.say("`follow` is not available here; open the link in a browser")
            return
        if not arg.isdigit() or int(arg) not in links:
            shown = ", ".join(str(n) for n in sorted(links)) or "none"
            self.say(f"no link button [{arg}] (link buttons shown: {shown})")
            return
        self.new_batch()
        self.say(await self.follow_link(links[int(arg)], self.user_id))
        await self.after_action()

    async def message_shortcut(self) -> None:
        """The app's message shortcut on the latest message a person wrote in a channel."""
        written = [m for m in self.emu.messages() if m.author is not None and m.shown]
        if not written:
            self.say("nobody has written a message yet (type `say TEXT` first)")
            return
        message = written[-1]
        self.say(self.style.dim(f"(Create Zoho Lead on: “{mrkdwn_to_text(message.text, names=self.names())[:80]}”)"))
        self.new_batch()
        result = await self.emu.run_message_shortcut(self.user_id, message, "lead_from_message")
        if result.error:
            self.say(f"⚠ the app did not answer the shortcut ({result.error})")
        await self.after_action()

    async def open_home(self) -> None:
        """Open the Home tab as Slack does (the app publishes it in answer), then print it."""
        self.new_batch()
        try:
            home = await self.emu.open_home(self.user_id, timeout=self.max_wait)
        except TimeoutError:
            self.say("⚠ the app did not publish a Home tab")
            return
        self._print_home(home.view)
        await self.after_action()

    def _print_home(self, view: dict[str, Any]) -> None:
        self.say()
        self.say(self.style.bold("◆ Home tab"))
        rendered = render_blocks(
            view.get("blocks") or [], first_number=len(self.clickables) + 1, names=self.names(), style=self.style
        )
        if rendered.text:
            self.say(rendered.text)
        for c in rendered.clickables:
            self.clickables[c.number] = (None, c)

    async def _click_home(self, clickable: Clickable) -> None:
        """A button on the Home tab; the tab is printed again once the app has republished it."""
        view = self.emu.home_view(self.user_id) or {}
        element = self._element(view.get("blocks") or [], clickable)
        if element and isinstance(element.get("confirm"), dict) and not await self._confirmed(element["confirm"]):
            return
        self.new_batch()
        before = self.emu.seq
        try:
            result = await self.emu.click_home_button(self.user_id, clickable.action_id, clickable.value)
        except LookupError:
            self.say("the Home tab has changed since; type `home` to see it")
            return
        if result.error:
            self.say(f"⚠ the app did not answer that click ({result.error})")
        await self.after_action()
        home = self.emu.home_tabs.get(self.user_id)
        if home is not None and home.seq > before:
            self._print_home(home.view)

    def _element(self, blocks: list[dict[str, Any]], clickable: Clickable) -> dict[str, Any] | None:
        for block in blocks:
            elements = list(block.get("elements") or []) + [block.get("accessory") or {}]
            for el in elements:
                if (
                    isinstance(el, dict)
                    and el.get("action_id") == clickable.action_id
                    and (el.get("type") != "button" or el.get("value") == clickable.value)
                ):
                    return el
        return None

    async def _confirmed(self, confirm: dict[str, Any]) -> bool:
        title = (confirm.get("title") or {}).get("text", "Are you sure?")
        text = mrkdwn_to_text((confirm.get("text") or {}).get("text", ""), names=self.names(), style=self.style)
        yes = (confirm.get("confirm") or {}).get("text", "Yes")
        no = (confirm.get("deny") or {}).get("text", "Cancel")
        self.say(f"{self.style.bold(title)}\n{text}")
        answer = await self.reader.read(f"{yes}? [y = {yes}, anything else = {no}] ")
        ok = (answer or "").strip().lower() in ("y", "yes", yes.lower())
        if not ok:
            self.say(f"({no})")
        return ok

    def switch(self, who: str) -> None:
        user = self.emu.user_named(who.strip().lstrip("@"))
        if user is None or user.is_bot:
            self.say(f"no such person: {who} (type `users`)")
            return
        self.user_id = user.id
        self.new_batch()
        self.say(f"you are now {user.name} ({user.real_name})")
        self.flush()

    def list_users(self) -> None:
        for user in self.emu.users.values():
            if user.is_bot:
                continue
            flags = [f for f, on in (("admin", user.is_admin), ("owner", user.is_owner)) if on]
            me = " ← you" if user.id == self.user_id else ""
            extra = f" ({', '.join(flags)})" if flags else ""
            self.say(f"  {user.name:<10} {user.id:<14} {user.real_name}{extra}{me}")

    async def run(self) -> None:
        self.say(self.style.dim("Type /lead help to begin, `help` for console commands, `quit` to leave."))
        self.seen[self.user_id] = self.emu.seq
        while True:
            watcher = asyncio.ensure_future(self._watch())
            try:
                line = await self.reader.read(self.prompt)
            finally:
                watcher.cancel()
            if line is None:
                await self.settle()
                return
            line = line.strip()
            if line in ("quit", "exit", ":q"):
                return
            await self.dispatch(line)

    async def dispatch(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        if not line:
            return
        if line.startswith("/"):
            await self.command(line)
        elif word == "click":
            await self.click(rest.strip().lstrip("[").rstrip("]"))
        elif word == "follow":
            await self.follow(rest.strip().lstrip("[").rstrip("]"))
        elif word == "say":
            self.new_batch()
            await self.emu.post_link(self.user_id, self.emu.default_channel, rest)
            await self.after_action()
        elif word == "shortcut":
            await self.message_shortcut()
        elif word == "as":
            self.switch(rest)
        elif word == "users":
            self.list_users()
        elif word == "home":
            await self.open_home()
        elif word == "form":
            stack = self.emu.open_views(self.user_id)
            if stack:
                self.view_seq = 0
                await self.after_action()
            else:
                self.say("no form is open")
        elif word == "help":
            self.say(HELP)
        else:
            self.say(f"unknown: {line!r}. Slash commands start with '/'; type `help` for more.")

    async def _watch(self) -> None:
        """While the person is typing, show what arrives (on a terminal, then redraw the prompt)."""
        while True:
            if await self.emu.wait_changed(3600) and self.flush() and self.reader.interactive:
                self.out.write(self.prompt)
                self.out.flush()


async def run_console(
    emu: SlackEmulator,
    *,
    user_id: str,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    quiet: float = 0.4,
    max_wait: float = 15.0,
    follow_link: LinkFollower | None = None,
) -> None:
    """Let a person act as `user_id` in the emulated workspace until `quit` or end of input.

    `follow_link`, when given, enables the `follow N` command for link buttons.

    `stdin`/`stdout` default to the process's; with a non-terminal stdin lines are read until EOF (scripts,
    tests). After each action the console waits until the app has been quiet for `quiet` seconds (at most
    `max_wait`) before reading on, so piped commands see the answers to the previous ones.
    """
    out = stdout if stdout is not None else sys.stdout
    reader = LineReader(stdin, out)
    console = Console(emu, user_id, reader, out, quiet=quiet, max_wait=max_wait, follow_link=follow_link)
    await console.run()

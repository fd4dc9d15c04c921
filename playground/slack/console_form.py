"""Filling a modal in the terminal: each input asked for in turn (Enter keeps the value shown), then Submit;
errors the app (or Slack's client) returns are shown under their field and only those fields asked again."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from playground.slack.modal_state import MULTI_SELECTS
from playground.slack.records import RecordedView
from playground.slack.render import FormField, describe_entry, form_fields, render_view

if TYPE_CHECKING:
    from playground.slack.console import Console

CANCEL = ":cancel"
TROUBLE = "We had some trouble connecting. Try again?"


class _Cancelled(Exception):
    pass


def _parse_choice(form_field: FormField, typed: str) -> tuple[Any, str | None]:
    """(entry, problem) for a select: an option number, label or value (comma-separated for multi-selects)."""
    by_number = {str(i): value for i, (_, value) in enumerate(form_field.options, 1)}
    by_word = {label.lower(): value for label, value in form_field.options}
    by_word.update({value.lower(): value for _, value in form_field.options})
    parts = [p.strip() for p in typed.split(",")] if form_field.kind in MULTI_SELECTS else [typed.strip()]
    chosen = []
    for part in parts:
        value = by_number.get(part) or by_word.get(part.lower())
        if value is None:
            return None, f"choose one of 1-{len(form_field.options)}"
        chosen.append(value)
    return (chosen if form_field.kind in MULTI_SELECTS else chosen[0]), None


def _parse_date_time(typed: str) -> tuple[int | None, str | None]:
    """(Unix seconds, problem) for a date-time picker: `2026-12-24 15:00` (UTC) or ISO 8601 with an offset."""
    try:
        moment = datetime.fromisoformat(typed.strip())
    except ValueError:
        return None, "type a date and time like 2026-12-24 15:00 (UTC)"
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()), None


def _parse_date(typed: str) -> tuple[str | None, str | None]:
    """(`YYYY-MM-DD`, problem) for a date picker: a real one lets a person pick only a day of the calendar."""
    try:
        return date.fromisoformat(typed.strip()).isoformat(), None
    except ValueError:
        return None, "type a date like 2026-12-24"


class ModalFiller:
    """Asks for a modal's fields through the console's reader and submits it through the emulator."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.active = False

    async def _ask(self, form_field: FormField, current: Any, error: str | None) -> Any:
        c = self.console
        if error:
            c.say(f"    ⚠ {error}")
        shown = describe_entry(form_field, current)
        mark = "" if form_field.optional else "*"
        if form_field.options:
            c.say("    " + "  ".join(f"{i}) {label}" for i, (label, _) in enumerate(form_field.options, 1)))
        while True:
            keep = f" [{shown}]" if shown else ""
            typed = await c.reader.read(f"  ({form_field.number}) {form_field.label}{mark}{keep}: ")
            if typed is None or typed.strip() == CANCEL:
                raise _Cancelled
            if typed == "":
                return current
            if typed.strip() == "-":
                return [] if form_field.kind in MULTI_SELECTS else None
            if form_field.kind in ("datepicker", "datetimepicker"):
                parse = _parse_date if form_field.kind == "datepicker" else _parse_date_time
                picked, problem = parse(typed)
                if problem is None:
                    return picked
                c.say(f"    ⚠ {problem}")
                continue
            if not form_field.options:
                return typed
            entry, problem = _parse_choice(form_field, typed)
            if problem is None:
                return entry
            c.say(f"    ⚠ {problem}")

    async def fill(self, view: RecordedView) -> None:
        """Show `view`, ask its fields, submit; repeat for fields with errors. `:cancel` closes it."""
        c = self.console
        c.view_seq = view.seq
        fields = form_fields(view.view, names=c.names())
        entries: dict[str, Any] = {f.block_id: f.initial for f in fields}
        errors: dict[str, str] = {}
        self.active = True
        try:
            c.say()
            c.say(render_view(view.view, names=c.names(), style=c.style).text)
            to_ask = fields
            while True:
                if not fields:
                    await self._confirm_plain(view)
                for f in to_ask:
                    entries[f.block_id] = await self._ask(f, entries[f.block_id], errors.get(f.block_id))
                c.new_batch()
                result = await c.emu.submit_view(c.user_id, view.view_id, entries)
                if result.error:
                    c.say(f"⚠ {TROUBLE} ({result.error}); type `form` to try again")
                    return
                errors = result.errors
                if not errors:
                    c.say("(form submitted)")
                    return
                c.say("the form needs changes:")
                to_ask = [f for f in fields if f.block_id in errors]
        except _Cancelled:
            await c.emu.close_view(c.user_id, view.view_id)
            c.say("(form closed)")
        finally:
            self.active = False

    async def _confirm_plain(self, view: RecordedView) -> None:
        """A modal without inputs: Enter presses Submit (or closes it when it has none)."""
        submit = (view.view.get("submit") or {}).get("text")
        answer = await self.console.reader.read(f"[Enter] {submit or 'close'}, {CANCEL} to close: ")
        if answer is None or answer.strip() == CANCEL or not submit:
            raise _Cancelled

"""The one place where what went wrong becomes words for a person: bad input, refused values, Zoho's refusals.

Every message names what was wrong, says what did not happen, and echoes what the person typed. The
`Failure` of a piece of work says how to head the message ("The Lead was not created") and what was typed; the
error itself says what went wrong (bot.zoho.errors, bot.leads.validation.InvalidLead,
bot.slack.commands.lead_syntax.ArgumentError).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.leads import fields
from bot.leads.validation import InvalidLead, echo
from bot.slack.commands.lead_syntax import ArgumentError
from bot.slack.text import escape_truncated, one_line
from bot.slack.views.leads import (
    SECTION_TEXT_MAX,
    TEXT_FALLBACK_MAX,
    Block,
    Message,
    escaped_line,
    join_within,
    mrkdwn_text,
)
from bot.zoho.errors import (
    CrmBusy,
    CrmError,
    FieldRejected,
    LeadNotFound,
    NoPermission,
    RateLimited,
    ReconnectNeeded,
    RequestNotMade,
    RequestRefused,
    SearchRejected,
    ZohoTimeout,
    ZohoUnavailable,
)

_PROBLEMS_SHOWN = 20
# A list and a search both need Zoho's permission to see Leads ("search" read as an odd verb for a plain list).
_VERBS = {"create": "create", "read": "see", "update": "edit", "delete": "delete", "search": "see", "list": "see"}


@dataclass(frozen=True)
class Failure:
    """How a problem with one piece of work is headed: `summary` ("The Lead was not created"), `nothing` (what
    did not happen, for input errors: "Nothing was saved"), and `typed` (what the person typed, to echo)."""

    summary: str = "That did not work"
    nothing: str = "Nothing was saved"
    typed: str | None = None
    again: Mapping[str, Any] | None = None  # a block that offers to try again (the form, with what was typed)


def describe(error: CrmError) -> str:
    """What went wrong talking to Zoho, in a sentence a salesperson understands (plain text: escape for mrkdwn)."""
    if isinstance(error, FieldRejected):
        return _field_rejected(error)
    if isinstance(error, SearchRejected):
        return f"Search for at least 2 characters (you typed `{echo(error.words, 60)}`)."
    if isinstance(error, LeadNotFound):
        return f"There is no Lead with id `{echo(error.lead_id, 40)}` in your Zoho CRM (or it was deleted)."
    if isinstance(error, NoPermission):
        verb = _VERBS.get(error.operation, error.operation)
        return f"Your Zoho CRM profile does not allow you to {verb} Leads. Ask your Zoho administrator."
    if isinstance(error, ReconnectNeeded):
        return "Your Zoho connection has expired or was revoked. Please connect again with `/lead login`."
    if isinstance(error, RateLimited):
        when = f" in {error.retry_after:g} seconds" if error.retry_after else " in a minute"
        return f"Zoho CRM is limiting requests for your organisation right now. Try again{when}."
    if isinstance(error, ZohoTimeout):
        waited = (
            f", {error.waited:g} of them waiting for a turn (your organisation's Zoho calls were all busy)"
            if error.waited >= 0.5
            else ""
        )
        then = (
            "It may have been saved: check with `/lead list` before trying again."
            if error.may_have_written
            else "Please try again in a minute."
        )
        return f"No answer came within {error.seconds:g} seconds{waited}. {then}"
    if isinstance(error, CrmBusy):
        return (
            "Too many Zoho CRM requests are waiting right now, so yours was not sent (nothing was changed). "
            "Please try again in a minute."
        )
    if isinstance(error, ZohoUnavailable):
        return "Zoho CRM is not available right now. Please try again in a few minutes."
    if isinstance(error, RequestRefused):
        return f"Zoho CRM refused the request ({error.code}: {error.zoho_message or 'no details'})."
    if isinstance(error, RequestNotMade):
        return (
            f"The Zoho CRM request could not be made ({error.code}). Nothing was changed; "
            "please tell your Slack admin if it happens again."
        )
    return "Zoho CRM could not do that just now. Please try again."


def _field_rejected(error: FieldRejected) -> str:
    label = error.label or (fields.label_for(error.api_name) if error.api_name else "a field")
    shown = f" `{echo(error.value, 60)}`" if error.value else ""
    if error.code == "MANDATORY_NOT_FOUND":
        text = f"Zoho needs {label}, and it was empty"
    elif error.code == "DUPLICATE_DATA":
        text = f"Zoho already has a Lead with {label}{shown}, and it must be unique"
    else:
        said = f" (Zoho said: {echo(error.zoho_message, 100)})" if error.zoho_message else ""
        text = f"Zoho did not accept {label}{shown}{said}"
    return text + ". Nothing was saved."


def problem_message(problem: Exception, failure: Failure) -> Message:
    """The message for any problem the front door tells (bad input, refused values, a CrmError), with the
    failure's offer to try again below it, if it has one."""
    message = _problem_message(problem, failure)
    if failure.again is not None:
        message = {**message, "blocks": [*message["blocks"], dict(failure.again)]}
    return message


def _problem_message(problem: Exception, failure: Failure) -> Message:
    typed = failure.typed
    if isinstance(problem, ArgumentError):
        return argument_error_message(problem, typed or "", nothing=failure.nothing)
    if isinstance(problem, InvalidLead):
        return validation_error_message(problem.errors, typed)
    if isinstance(problem, CrmError):
        summary = "Zoho CRM did not answer in time" if isinstance(problem, ZohoTimeout) else failure.summary
        return problems_message(summary, [describe(problem)], typed)
    return problems_message(failure.summary, [str(problem)], typed)


def problems_message(summary: str, problems: Sequence[str], typed: str | None = None) -> Message:
    """What went wrong: a summary, a bullet per problem (plain text, escaped here), then what the user typed.

    `typed` is shown as given: pass the text as the user typed it (`bot.slack.text.typed_text` of Slack's text).
    """
    lines = [f":warning: *{escaped_line(summary, 300)}*"]
    lines += [f"• {escaped_line(problem, 400)}" for problem in problems[:_PROBLEMS_SHOWN]]
    text = join_within(lines, SECTION_TEXT_MAX, more=len(problems) - min(len(problems), _PROBLEMS_SHOWN))
    blocks: list[Block] = [{"type": "section", "block_id": "lead_problems", "text": mrkdwn_text(text)}]
    if typed is not None and typed.strip():
        blocks.append(
            {
                "type": "context",
                "block_id": "lead_typed",
                "elements": [mrkdwn_text(f"You typed: {escaped_line(typed, 1900)}")],
            }
        )
    fallback = summary + ": " + "; ".join(problems[:3]) if problems else summary
    return {"text": escape_truncated(one_line(fallback), TEXT_FALLBACK_MAX), "blocks": blocks}


def argument_error_message(error: ArgumentError, typed: str, *, nothing: str = "Nothing was saved") -> Message:
    """The problems found reading a command's text, with what the user typed; `nothing` says what did not happen
    ("Nothing was deleted" for a delete)."""
    count = len(error.problems)
    summary = f"{nothing}: " + ("one problem" if count == 1 else f"{count} problems") + " in what you typed"
    return problems_message(summary, [p.message for p in error.problems], typed)


def _in_form_order(api_names: Iterable[str]) -> list[str]:
    order = {f.api_name: i for i, f in enumerate(fields.FIELDS)}
    return sorted(api_names, key=lambda name: (order.get(name, len(order)), name))


def validation_error_message(errors: Mapping[str, str], typed: str | None = None) -> Message:
    """Per-field problems (API name → message), in form order, with what the user typed."""
    ordered = [errors[name] for name in _in_form_order(errors)]
    count = len(ordered)
    summary = "Nothing was saved: " + ("one field needs" if count == 1 else f"{count} fields need") + " fixing"
    return problems_message(summary, ordered, typed)

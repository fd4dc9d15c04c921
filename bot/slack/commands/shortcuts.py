"""The message shortcut "Create Zoho Lead" (callback_id `lead_from_message`): the create form, started from the
message.

Description gets the message's text and its permalink; the first e-mail address, phone number and "First Last"
name found in the text go to their fields. The person edits and saves the form as any create form
(bot.slack.commands.lead_buttons). Someone who is not connected gets the login link instead, by the front door.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.leads.validation import check_value, is_email
from bot.slack.commands.lead import open_lead_form
from bot.slack.front_door import Delivery, FrontDoor, Incoming, Visit, Work
from bot.slack.text import typed_text
from bot.slack.views.errors import Failure
from bot.slack.views.lead_form import INPUT_MAX_LENGTH

log = logging.getLogger(__name__)

LEAD_FROM_MESSAGE = "lead_from_message"
# An address starts where a run of its characters starts (the look-behind): else a long run without an `@` is tried
# from each of its characters, which takes seconds on a message of 40,000 and holds the event loop meanwhile.
_EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"[+(]?\d[\d ().-]{5,}\d")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")  # looks like a phone number to the pattern above
# A word of letters in any script, with its inner apostrophes and hyphens (O'Connor, Lopez-Garcia, José).
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Capitalised words that open or close a message rather than name someone.
_NOT_A_NAME = frozenset((
    "Mr", "Mrs", "Ms", "Miss", "Dr", "Prof", "Sir", "Hi", "Hello", "Hey", "Dear", "Thanks", "Thank", "Best", "Kind",
    "Warm", "Regards", "Cheers", "Good", "Morning", "Afternoon", "Evening", "Please", "Meet", "From", "To", "Re",
    "Fwd", "Team", "Sales", "New", "Lead", "Call", "Today", "Tomorrow", "Monday", "Tuesday", "Wednesday",
    "Thursday", "Friday", "Saturday", "Sunday",
))  # fmt: skip
MIN_PHONE_DIGITS = 7
_NAME_SCAN_CHARS = 4000  # a name is looked for near a message's start: a Lead form holds 3,000 characters of it


@dataclass(frozen=True)
class MessageShortcut:
    channel_id: str
    message_ts: str
    text: str  # as the person wrote it (Slack's markup undone)


def read_message_shortcut(incoming: Incoming) -> Work[MessageShortcut]:
    message = incoming.payload.get("message") or {}
    shortcut = MessageShortcut(
        channel_id=incoming.channel_id,
        message_ts=str(incoming.payload.get("message_ts") or message.get("ts") or ""),
        text=typed_text(str(message.get("text") or "")),
    )
    return Work(
        shortcut, name="create lead from message", delivery=Delivery.BELOW, failure=Failure("No form this time")
    )


async def run_message_shortcut(visit: Visit, shortcut: MessageShortcut) -> None:
    permalink = await _permalink(visit, shortcut)
    await open_lead_form(visit, prefill=lead_values_from(shortcut.text, permalink))


async def _permalink(visit: Visit, shortcut: MessageShortcut) -> str:
    """The message's permalink, or "" when Slack does not give it (the form opens all the same)."""
    if not shortcut.channel_id or not shortcut.message_ts:
        return ""
    try:
        answer = await visit.services.slack.chat_getPermalink(
            channel=shortcut.channel_id, message_ts=shortcut.message_ts
        )
    except SlackApiError as exc:
        log.info("chat.getPermalink failed: %s", exc.response.get("error"))
        return ""
    except Exception as exc:  # network trouble: the form matters more than the link
        log.info("chat.getPermalink failed: %s", type(exc).__name__)
        return ""
    return str(answer.get("permalink") or "")


def lead_values_from(text: str, permalink: str = "") -> dict[str, str]:
    """{API name: value} a Lead form can start from, found in a message's `text`."""
    values: dict[str, str] = {}
    email = next((found for found in _EMAIL.findall(text) if is_email(found)), None)
    if email:
        values["Email"] = email
    phone = next((found.strip() for found in _PHONE.findall(text) if _looks_like_phone(found)), None)
    if phone:
        values["Phone"] = phone
    name = _name_in(text)
    if name:
        values["First_Name"], values["Last_Name"] = name
    link = f"\n\n{permalink}" if permalink else ""
    body, room = text.strip(), INPUT_MAX_LENGTH - len(link)
    if len(body) > room:  # the form's field holds 3,000 characters: a longer message is cut, visibly
        body = body[: room - 1] + "…"
    if body or link:
        values["Description"] = (body + link).strip()
    return values


def _name_in(text: str) -> tuple[str, str] | None:
    """The first two capitalised words in a row that look like someone's first and last name. A sentence's first
    word is capitalised anyway ("Met Jose Garcia", "Open Day signup: Chen Wei"), so a pair that starts a sentence
    is taken only when there is no other."""
    pairs: list[tuple[bool, str, str]] = []
    previous: re.Match[str] | None = None
    for word in _WORD.finditer(text[:_NAME_SCAN_CHARS]):
        if (
            previous is not None
            and _capitalised(previous[0])
            and _capitalised(word[0])
            and text[previous.end() : word.start()] == " "
            and not {previous[0], word[0]} & _NOT_A_NAME
        ):
            pairs.append((_starts_sentence(text, previous.start()), previous[0], word[0]))
        previous = word
    best = min(pairs, key=lambda pair: pair[0], default=None)  # min is stable: the first of the best kind
    return (best[1], best[2]) if best is not None else None


def _starts_sentence(text: str, at: int) -> bool:
    """Whether the word at `at` opens the text, a line, or a sentence (after `.`, `!` or `?` and a space)."""
    end = at
    while end > 0 and text[end - 1].isspace():
        end -= 1
    return end == 0 or "\n" in text[end:at] or (end < at and text[end - 1] in ".!?")


def _capitalised(word: str) -> bool:
    """`Jane`, `O'Connor`, `McDonald`, `Zoë`: a capital first, and a small letter somewhere (not `NASA`)."""
    return word[0].isupper() and any(ch.islower() for ch in word)


def _looks_like_phone(found: str) -> bool:
    found = found.strip()
    enough = sum(ch.isdigit() for ch in found) >= MIN_PHONE_DIGITS
    return enough and not _DATE.match(found) and check_value("Phone", found) is None


def register(door: FrontDoor) -> None:
    door.shortcut(LEAD_FROM_MESSAGE, read_message_shortcut, run_message_shortcut)

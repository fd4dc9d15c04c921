"""Checking Lead values before anything is sent to Zoho.

`check_lead_values` returns every problem at once, keyed by API name, each message naming the field and
echoing (a shortened form of) the value. Lengths are counted in characters (code points), against the
limits of Zoho's Leads metadata (bot.leads.fields). Zoho stays the final judge: what passes here may still be
rejected by the org's own rules, and the CRM adapter reports that as FieldRejected.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from bot.leads import fields
from bot.leads.fields import FieldKind

_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_DOMAIN_LABEL = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
_DOMAIN = re.compile(rf"(?:{_DOMAIN_LABEL}\.)+[A-Za-z][A-Za-z0-9-]{{0,62}}\Z")
_PHONE = re.compile(r"\+?[0-9 ().\-/]*[0-9][0-9 ().\-/]*(?:\s*(?:x|ext\.?|#)\s*[0-9]{1,8})?\Z", re.IGNORECASE)
_WEBSITE = re.compile(
    rf"(?:https?://)?(?:{_DOMAIN_LABEL}\.)+[A-Za-z][A-Za-z0-9-]{{0,62}}(?::[0-9]{{1,5}})?(?:[/?#][^\s]*)?\Z",
    re.IGNORECASE,
)
_INTEGER = re.compile(r"-?[0-9]+\Z")
_CURRENCY = re.compile(r"-?[0-9]+(?:\.[0-9]{1,9})?\Z")
BOOLEAN_WORDS: dict[str, bool] = {"true": True, "yes": True, "false": False, "no": False}
_VALUE_ECHO = 60
_ECHO_MAX = 80


def echo(text: str, limit: int = _ECHO_MAX) -> str:
    """`text` shortened for quoting back to the user: one line, control characters shown as `�`,
    at most `limit` characters (cut ones end in `…`)."""
    one_line = " ".join(text.split()) if ("\n" in text or "\r" in text) else text
    visible = "".join("�" if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in one_line)
    return visible if len(visible) <= limit else visible[: limit - 1] + "…"


def _control_characters(value: str, multiline: bool) -> list[str]:
    allowed = {"\n", "\t", "\r"} if multiline else set()
    bad = []
    for ch in value:
        category = unicodedata.category(ch)
        if (category == "Cc" and ch not in allowed) or category == "Cs":
            bad.append(ch)
    return bad


def _describe(ch: str) -> str:
    return {"\n": "a line break", "\r": "a line break", "\t": "a tab"}.get(ch, f"the control character U+{ord(ch):04X}")


def is_email(value: str) -> bool:
    """True for an e-mail address as Zoho accepts one (`jane@acme.com`)."""
    local, at, domain = value.rpartition("@")
    return bool(at) and 0 < len(local) <= 64 and bool(_EMAIL_LOCAL.match(local)) and bool(_DOMAIN.match(domain))


def _is_phone(value: str) -> bool:
    return bool(_PHONE.match(value))


def _is_website(value: str) -> bool:
    lowered = value.lower()
    if "://" in value and not lowered.startswith(("http://", "https://")):
        return False
    return bool(_WEBSITE.match(value))


def _kind_problem(kind: FieldKind, label: str, value: str, shown: str) -> str | None:
    if kind is FieldKind.EMAIL and not is_email(value):
        return f"{label} `{shown}` is not an e-mail address (like jane@acme.com)"
    if kind is FieldKind.PHONE and not _is_phone(value):
        return f"{label} `{shown}` is not a phone number: use digits, spaces and + ( ) - . / (like +1 555 0100)"
    if kind is FieldKind.URL and not _is_website(value):
        return f"{label} `{shown}` is not a web address (like https://acme.com or acme.com)"
    if kind is FieldKind.INTEGER and not _INTEGER.match(value):
        return f"{label} `{shown}` is not a whole number"
    if kind is FieldKind.CURRENCY and not _CURRENCY.match(value):
        return f"{label} `{shown}` is not an amount (like 12500.50)"
    if kind is FieldKind.BOOLEAN and value.lower() not in BOOLEAN_WORDS:
        return f"{label} `{shown}` must be true or false"
    return None


def check_value(api_name: str, value: str) -> str | None:
    """The problem with `value` for the field `api_name`, as a message for the user, or None if it is fine.

    An empty value is fine here (it means "leave empty" / "clear"); `check_lead_values` decides otherwise.
    """
    field = fields.field_for(api_name)
    label = fields.label_for(api_name)
    shown = echo(value, _VALUE_ECHO)
    if value == "":
        return None
    bad = _control_characters(value, multiline=bool(field and field.multiline))
    if bad:
        return f"{label} `{shown}` contains {_describe(bad[0])}, which Zoho does not accept here"
    limit = fields.max_length_for(api_name)
    if len(value) > limit:
        return f"{label} is {len(value):,} characters long; Zoho accepts at most {limit:,} (`{shown}`)"
    return _kind_problem(fields.kind_for(api_name), label, value, shown)


class InvalidLead(ValueError):
    """Values that Zoho would refuse or misfile, found before anything was sent: `errors` is {API name: message}."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(self.errors.values()))


def check_lead_values(values: Mapping[str, str], *, creating: bool) -> dict[str, str]:
    """Every problem with `values` ({API name: value}), as {API name: message}; empty when all is fine.

    Creating needs a last name; editing only checks what is given, but a last name cannot be emptied.
    """
    errors: dict[str, str] = {}
    for api_name, value in values.items():
        problem = check_value(api_name, value)
        if problem:
            errors[api_name] = problem
    last_name = values.get("Last_Name")
    if "Last_Name" not in errors:
        if creating and not (last_name or "").strip():
            errors["Last_Name"] = "Last name is required: add `last=…` (e.g. `last=Doe`)"
        elif not creating and last_name is not None and not last_name.strip():
            errors["Last_Name"] = "Last name cannot be emptied: every Lead needs one"
    return errors

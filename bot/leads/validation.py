"""Checking Lead values before anything is sent to Zoho.

`prepare_values` resolves the keys a person typed against the org's fields (`OrgFields.find`: short key, alias,
label or API name, any case), puts every value in canonical form for its field's kind (bot.leads.values) and
returns every problem at once (InvalidLead), keyed by API name (by the typed key when the key is unknown), each
message naming the field and echoing (a shortened form of) the value. Lengths are counted in characters (code
points), against the limits of the org's Leads metadata. Zoho stays the final judge: what passes here may still be
rejected by the org's own rules, and the CRM adapter reports that as FieldRejected.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Mapping

from bot.leads import fields, values
from bot.leads.fields import FieldKind, LeadField, OrgFields
from bot.leads.values import ValueProblem

_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_DOMAIN_LABEL = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
_DOMAIN = re.compile(rf"(?:{_DOMAIN_LABEL}\.)+[A-Za-z][A-Za-z0-9-]{{0,62}}\Z")
_PHONE = re.compile(r"\+?[0-9 ().\-/]*[0-9][0-9 ().\-/]*(?:\s*(?:x|ext\.?|#)\s*[0-9]{1,8})?\Z", re.IGNORECASE)
_WEBSITE = re.compile(
    rf"(?:https?://)?(?:{_DOMAIN_LABEL}\.)+[A-Za-z][A-Za-z0-9-]{{0,62}}(?::[0-9]{{1,5}})?(?:[/?#][^\s]*)?\Z",
    re.IGNORECASE,
)
_NUMBERS = frozenset({FieldKind.INTEGER, FieldKind.DECIMAL, FieldKind.CURRENCY, FieldKind.PERCENT})
# Kinds whose canonical text is not what Zoho's `length` counts (digits, a list of values, a date).
_UNCOUNTED = frozenset(
    {FieldKind.INTEGER, FieldKind.DECIMAL, FieldKind.CURRENCY, FieldKind.PERCENT, FieldKind.MULTISELECT,
     FieldKind.DATE, FieldKind.DATETIME, FieldKind.BOOLEAN}
)  # fmt: skip
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
    return None


def _field_of(api_name: str, org: OrgFields | None) -> LeadField:
    found = (org.get(api_name) if org is not None else None) or fields.field_for(api_name)
    if found is not None:
        return found
    return LeadField(api_name, api_name, FieldKind.TEXT, fields.UNKNOWN_FIELD_MAX_LENGTH)


def checked_value(field: LeadField, value: str, today: datetime.date, zone: datetime.tzinfo = datetime.UTC) -> str:
    """`value` in canonical form for `field` (bot.leads.values); raises ValueProblem naming the field.

    An empty value stays empty (it means "leave empty" / "clear"); `prepare_values` decides whether it may be.
    """
    if value == "":
        return ""
    label, shown = field.label, echo(value, _VALUE_ECHO)
    bad = _control_characters(value, multiline=field.multiline)
    if bad:
        raise ValueProblem(f"{label} `{shown}` contains {_describe(bad[0])}, which Zoho does not accept here")
    text = values.canonical(field, value, today, shown, zone)
    digits = len(text.lstrip("+-").partition(".")[0]) if field.kind in _NUMBERS else 0
    if digits > field.max_length:
        raise ValueProblem(f"{label} has {digits} digits; Zoho accepts at most {field.max_length:,} (`{shown}`)")
    if field.kind not in _UNCOUNTED and len(text) > field.max_length:
        raise ValueProblem(
            f"{label} is {len(text):,} characters long; Zoho accepts at most {field.max_length:,} (`{shown}`)"
        )
    problem = _kind_problem(field.kind, label, text, shown)
    if problem:
        raise ValueProblem(problem)
    return text


def check_value(
    api_name: str, value: str, org: OrgFields | None = None, today: datetime.date | None = None
) -> str | None:
    """The problem with `value` for the field `api_name` (of `org`, else the standard fields), as a message for
    the user, or None if it is fine. An empty value is fine here."""
    try:
        checked_value(_field_of(api_name, org), value, today or values.utc_now().date())
    except ValueProblem as problem:
        return str(problem)
    return None


class InvalidLead(ValueError):
    """Values that Zoho would refuse or misfile, found before anything was sent: `errors` is {API name: message}."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(self.errors.values()))


def check_lead_values(
    values_: Mapping[str, str], *, creating: bool, org: OrgFields | None = None, today: datetime.date | None = None
) -> dict[str, str]:
    """Every problem with `values_` ({API name: value}), as {API name: message}; empty when all is fine.

    Creating needs every field the layout requires (with the standard fields: a last name); editing only checks
    what is given, but a required field cannot be emptied.
    """
    try:
        prepare_values(values_, org or OrgFields.standard(), creating=creating, today=today)
    except InvalidLead as invalid:
        return invalid.errors
    return {}


def _hint(field: LeadField) -> str:
    key = field.key or field.api_name
    return f"`{key}=…`" if " " not in key else f'`"{key}"=…`'


def _key_problem(typed: str, org: OrgFields) -> tuple[LeadField | None, str | None]:
    """The field a typed key names, or the problem with the key."""
    field = org.find(typed)
    shown = echo(typed, 40)
    if field is None:
        ambiguous = fields.AMBIGUOUS_KEYS.get(typed.strip().lower())
        if ambiguous:
            return None, f"{ambiguous} (you typed `{shown}`)"
        resolved = fields.resolve_key(typed)
        if resolved.status is fields.KeyStatus.READ_ONLY:
            return None, f"`{resolved.api_name}` is filled in by Zoho and cannot be set (you typed `{shown}`)"
        suggestion = org.suggest(typed)
        hint = f" — did you mean `{suggestion}`?" if suggestion else ". See `/lead help` for the keys"
        return None, f"Unknown key `{shown}`: your Zoho org has no such Lead field{hint}"
    if field.read_only or field.kind is FieldKind.OTHER:
        return None, f"{field.label} is filled in by Zoho and cannot be set here (you typed `{shown}`)"
    return field, None


def prepare_values(
    typed: Mapping[str, str],
    org: OrgFields,
    *,
    creating: bool,
    today: datetime.date | None = None,
    zone: datetime.tzinfo = datetime.UTC,
) -> dict[str, str]:
    """{API name: canonical value} for values typed by key ({key as typed — short key, alias, label or API name,
    any case: value}), checked against the org's fields; raises InvalidLead naming every problem at once.
    `today` and `zone`: the person's date and time zone (what `tomorrow` and a time without an offset mean)."""
    day = today or values.utc_now().date()
    errors: dict[str, str] = {}
    out: dict[str, str] = {}
    set_by: dict[str, str] = {}
    for key, value in typed.items():
        field, problem = _key_problem(key, org)
        if field is None:
            errors[key] = problem or key
            continue
        if field.api_name in set_by:
            errors[key] = (
                f"`{echo(key, 40)}` sets {field.label} again (already set by `{echo(set_by[field.api_name], 40)}`)"
            )
            continue
        set_by[field.api_name] = key
        try:
            out[field.api_name] = checked_value(field, value, day, zone)
        except ValueProblem as bad:
            errors[field.api_name] = str(bad)
    for field in org.required():
        if field.api_name in errors:
            continue
        given = out.get(field.api_name)
        if creating and not (given or "").strip():
            errors[field.api_name] = f"{field.label} is required: add {_hint(field)}"
        elif not creating and given is not None and not given.strip():
            errors[field.api_name] = f"{field.label} cannot be emptied: your Zoho org requires it on every Lead"
    if errors:
        raise InvalidLead(errors)
    return out

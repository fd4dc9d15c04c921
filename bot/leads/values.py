"""Typed values, checked and put in canonical form by the kind of the org's field, before anything reaches Zoho.

What a person may type, per kind (each problem names the field and echoes what was typed):
- picklist: one of the org's values, any case (`contacted` → `Contacted`); else refused, listing the values;
- multi-select: values separated by `,` or `;`, each one of the org's values → joined by "; ";
- integer: digits, optional sign, `,` or `_` as thousands separators → `12500`;
- decimal, currency, percent: a number with an optional `.` fraction (currency may carry `$ € £ ¥`, percent a
  trailing `%`) → plain decimal text (`12500.5`);
- date: `2026-12-24`, `today`, `tomorrow`, `yesterday`, `24 Dec 2026`, `Dec 24 2026`, `24 December`, `Dec 24`
  (the year left out: the nearest such day) → `YYYY-MM-DD`;
- date-time: a date as above, then `HH:MM` (optionally `:SS`), optionally an offset (`+01:00`, `Z`); without an
  offset the time is taken in the person's time zone (`zone`; UTC when not known) → ISO 8601 with offset;
- boolean: true/false/yes/no (any case) → `true`/`false`;
- e-mail, phone, URL, text: checked as before (bot.leads.validation), kept as typed.
"today" is the clock's date in the person's time zone (both given by the caller, so tests fix them);
`depends_on_zone` says whether a typed value needs that zone at all.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from bot.leads.fields import FieldKind, LeadField

Clock = Callable[[], datetime.datetime]
MULTISELECT_SEPARATOR = "; "
_CHOICES_SHOWN = 25
_SUGGESTED = 5  # values offered for one that is not in a picklist
_NOTHING_CHOSEN = frozenset({"-none-", "none"})  # Zoho's "nothing chosen" entry, typed as if it were a value
_INTEGER = re.compile(r"[+-]?[0-9]{1,3}(?:[,_][0-9]{3})+\Z|[+-]?[0-9]+\Z")
_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,3}(?:[,_][0-9]{3})+|[0-9]+)(?:\.[0-9]+)?\Z")
_RELATIVE_DAYS = {"today": 0, "tomorrow": 1, "yesterday": -1}
_DATE_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%d %b, %Y", "%b %d, %Y", "%B %d, %Y")
_DATE_FORMATS_NO_YEAR = ("%d %b", "%d %B", "%b %d", "%B %d")
_DAY_AND_TIME = re.compile(
    r"(?P<day>.+?)[ T]+(?P<h>[0-9]{1,2}):(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2}))?\s*(?P<tz>Z|[+-][0-9]{2}:?[0-9]{2})?\Z",
    re.IGNORECASE,
)
BOOLEAN_WORDS: dict[str, bool] = {"true": True, "yes": True, "false": False, "no": False}
_CURRENCY_SIGNS = "$€£¥"


class ValueProblem(ValueError):
    """A typed value that does not fit its field: the message names the field and echoes the value."""


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def canonical(
    field: LeadField, text: str, today: datetime.date, shown: str, zone: datetime.tzinfo = datetime.UTC
) -> str:
    """`text` (non-empty) in the canonical form for `field`'s kind; raises ValueProblem. `shown` is `text`
    shortened for quoting back; `today` and `zone`: the person's date and time zone (a time without an offset)."""
    kind, label = field.kind, field.label
    value = text.strip()
    if kind is FieldKind.PICKLIST:
        return _choice(field, value, shown) if field.choices else value
    if kind is FieldKind.MULTISELECT:
        return _choices(field, value, shown)
    if kind is FieldKind.INTEGER:
        if not _INTEGER.match(value):
            raise ValueProblem(f"{label} `{shown}` is not a whole number (like 250)")
        return str(int(value.replace(",", "").replace("_", "")))
    if kind in (FieldKind.DECIMAL, FieldKind.CURRENCY, FieldKind.PERCENT):
        return _number(kind, label, value, shown)
    if kind is FieldKind.DATE:
        return _date(value, today, label, shown).isoformat()
    if kind is FieldKind.DATETIME:
        return _datetime(value, today, label, shown, zone)
    if kind is FieldKind.BOOLEAN:
        if value.lower() not in BOOLEAN_WORDS:
            raise ValueProblem(f"{label} `{shown}` must be true or false (or yes or no)")
        return "true" if BOOLEAN_WORDS[value.lower()] else "false"
    return text


def allowed_values(field: LeadField) -> str:
    """The field's values as a message lists them (the first ones, when there are many)."""
    shown = ", ".join(field.choices[:_CHOICES_SHOWN])
    more = len(field.choices) - _CHOICES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _folded(text: str) -> str:
    """A picklist value as compared: any case, any run of spaces as one."""
    return " ".join(text.split()).casefold()


def _by_folded(field: LeadField) -> dict[str, str]:
    """{folded: value as the org spells it}; of two values that fold alike, the first."""
    by_folded: dict[str, str] = {}
    for choice in field.choices:
        by_folded.setdefault(_folded(choice), choice)
    return by_folded


def _choice(field: LeadField, value: str, shown: str) -> str:
    wanted = _folded(value)
    found = _by_folded(field).get(wanted)
    if found is not None:
        return found
    if wanted in _NOTHING_CHOSEN:
        raise ValueProblem(f'{field.label} `{shown}` is not one of its values: to leave it empty, give it "" instead')
    raise ValueProblem(
        f"{field.label} `{shown}` is not one of its values{_did_you_mean(field, wanted)}: {allowed_values(field)}"
    )


def _did_you_mean(field: LeadField, wanted: str) -> str:
    """` (did you mean `Junk Lead`?)` for the values that hold every word typed ("junk" → Junk Lead, "physics" →
    BSc Physics, MSc Physics), else those spelled nearly so ("Contacetd" → Contacted); "" when none is near. A
    long picklist's message lists only its first values: this is how a person finds the one they meant."""
    by_folded = _by_folded(field)
    words = wanted.split()
    near = [choice for folded, choice in by_folded.items() if words and all(word in folded for word in words)]
    if not near:
        near = [by_folded[folded] for folded in difflib.get_close_matches(wanted, list(by_folded), n=3, cutoff=0.75)]
    if not near:
        return ""
    named = [f"`{choice}`" for choice in near[:_SUGGESTED]]
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + f" or {named[-1]}"
    return f" (did you mean {listed}?)"


def _choices(field: LeadField, value: str, shown: str) -> str:
    parts = [part.strip() for part in re.split(r"[;,]", value) if part.strip()]
    if not field.choices:
        return MULTISELECT_SEPARATOR.join(parts)
    if not parts:
        raise ValueProblem(f"{field.label} `{shown}` names no value: use {allowed_values(field)}")
    by_folded = _by_folded(field)
    picked = [by_folded.get(_folded(part)) for part in parts]
    wrong = [f"`{_one_line(part, 40)}`" for part, choice in zip(parts, picked, strict=True) if choice is None]
    if len(wrong) == 1:
        raise ValueProblem(f"{field.label} {wrong[0]} is not one of its values: {allowed_values(field)}")
    if wrong:
        listed = ", ".join(wrong[:-1]) + f" and {wrong[-1]}"
        raise ValueProblem(f"{field.label} {listed} are not among its values: {allowed_values(field)}")
    return MULTISELECT_SEPARATOR.join(dict.fromkeys(choice for choice in picked if choice is not None))


def _one_line(text: str, limit: int) -> str:
    """One value of several, for quoting back: on one line, at most `limit` characters (cut ones end in `…`)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _number(kind: FieldKind, label: str, value: str, shown: str) -> str:
    plain = value
    if kind is FieldKind.CURRENCY:
        plain = plain.strip(_CURRENCY_SIGNS + " ")
    if kind is FieldKind.PERCENT:
        plain = plain.rstrip("% ")
    if not _NUMBER.match(plain):
        example = {FieldKind.CURRENCY: "12500.50", FieldKind.PERCENT: "12.5"}.get(kind, "3.75")
        raise ValueProblem(f"{label} `{shown}` is not a number (like {example})")
    try:
        number = Decimal(plain.replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise ValueProblem(f"{label} `{shown}` is not a number") from None
    return format(number.normalize() if number == number.to_integral() else number, "f")


def _date(value: str, today: datetime.date, label: str, shown: str) -> datetime.date:
    lowered = " ".join(value.lower().split())
    if lowered in _RELATIVE_DAYS:
        return today + datetime.timedelta(days=_RELATIVE_DAYS[lowered])
    try:
        return datetime.date.fromisoformat(lowered)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(lowered, fmt).date()
        except ValueError:
            continue
    for fmt in _DATE_FORMATS_NO_YEAR:
        # No year: the one that puts the day nearest today ("5 Jan" typed in December is next month, not last
        # January; "1 Dec" typed on 7 December is last week; "29 Feb", the nearest leap day).
        days = []
        for year in range(today.year - 4, today.year + 5):
            try:
                days.append(datetime.datetime.strptime(f"{lowered} {year}", f"{fmt} %Y").date())
            except ValueError:
                continue
        if days:
            return min(days, key=lambda day: abs((day - today).days))
    raise ValueProblem(f"{label} `{shown}` is not a date: use 2026-12-24, 24 Dec 2026, Dec 24, today or tomorrow")


def _datetime(value: str, today: datetime.date, label: str, shown: str, zone: datetime.tzinfo) -> str:
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        parsed = None
    if parsed is None:
        match = _DAY_AND_TIME.match(value.strip())
        if not match:
            where = "UTC" if zone is datetime.UTC else "your time"
            raise ValueProblem(
                f"{label} `{shown}` is not a date and time: use 2026-12-24 15:00 ({where}), or add an offset "
                "like 2026-12-24 15:00 +01:00"
            )
        day = _date(match["day"], today, label, shown)
        parsed = datetime.datetime(day.year, day.month, day.day, 0, 0)
        try:
            parsed = parsed.replace(hour=int(match["h"]), minute=int(match["m"]), second=int(match["s"] or 0))
        except ValueError:
            raise ValueProblem(f"{label} `{shown}` has no such time of day") from None
        if match["tz"]:
            parsed = datetime.datetime.fromisoformat(parsed.isoformat() + _offset(match["tz"]))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.isoformat()


_ZONE_WORDS = re.compile(r"\b(?:today|tomorrow|yesterday)\b|[0-9]:[0-9]{2}", re.IGNORECASE)


def depends_on_zone(text: str) -> bool:
    """Whether `text` may mean something else in another time zone: a relative day (`tomorrow`) or a time of day
    (`15:00`). A caller looks the person's zone up only then."""
    return bool(_ZONE_WORDS.search(text))


def _offset(tz: str) -> str:
    if tz.upper() == "Z":
        return "+00:00"
    return tz if ":" in tz else f"{tz[:3]}:{tz[3:]}"

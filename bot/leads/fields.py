"""Which Lead fields a person can name, and what Zoho accepts in each.

`OrgFields` is the truth for one org: its fields in the layout's order (bot.leads.org_fields reads them from
Zoho), found by a key as typed — our short key or alias (`last`, `surname`, `status`), the field's label
(`Lead Status`, `Customer tier`) or its API name (`Customer_Tier`), in any case — with "did you mean" across all
of them (`OrgFields.find`, `OrgFields.suggest`).

The static lists below are Zoho's standard Leads fields: they give the standard fields our short keys, serve
where no org's metadata is at hand (`OrgFields.standard()`), and let the command parser turn our short keys into
API names and refuse names Zoho fills in (`resolve_key`). `name` is deliberately not a key: it could mean the
first name, the last name or the whole name. Limits and kinds come from Zoho's Leads field metadata
(docs/reference/zoho.md §7).
"""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass


class FieldKind(enum.Enum):
    """What a field holds, as far as checking a typed value goes."""

    TEXT = "text"
    TEXTAREA = "textarea"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    PICKLIST = "picklist"
    MULTISELECT = "multiselectpicklist"
    INTEGER = "integer"
    DECIMAL = "double"
    CURRENCY = "currency"
    PERCENT = "percent"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    OTHER = "other"  # lookups, users, formulas, images…: shown when read, never set from typed text


@dataclass(frozen=True)
class LeadField:
    """One Zoho Leads field: its API name, what a user calls it, its kind and its maximum length."""

    api_name: str
    label: str
    kind: FieldKind
    max_length: int
    key: str | None = None  # our short key, for the fields in the contract's list
    aliases: tuple[str, ...] = ()
    required: bool = False  # the org's layout requires it (Last_Name always)
    read_only: bool = False  # Zoho fills it in, or the person's profile may not change it
    custom: bool = False  # made by the org, not one of Zoho's standard Leads fields
    choices: tuple[str, ...] = ()  # a picklist's or multi-select's allowed values, in the org's order
    zoho_type: str = ""  # Zoho's `data_type` as it named it ("picklist", "ownerlookup", …); "" = from `kind`

    @property
    def multiline(self) -> bool:
        return self.kind is FieldKind.TEXTAREA


# Zoho does not document a length for picklist values; 120 is what its layout editor allows for an option.
_PICKLIST_MAX = 120
# Custom fields of unknown kind: Zoho's longest (textarea) field; Zoho rejects what is too long for the field.
UNKNOWN_FIELD_MAX_LENGTH = 32000

_T, _E, _P, _U, _L = FieldKind.TEXT, FieldKind.EMAIL, FieldKind.PHONE, FieldKind.URL, FieldKind.PICKLIST

# The fields of the contract, in the order forms and help show them.
FIELDS: tuple[LeadField, ...] = (
    LeadField("First_Name", "First Name", _T, 40, "first", ("firstname", "first_name", "given_name")),
    LeadField(
        "Last_Name", "Last Name", _T, 80, "last", ("lastname", "last_name", "surname", "family_name"), required=True
    ),
    LeadField("Company", "Company", _T, 200, "company", ()),
    LeadField("Email", "Email", _E, 100, "email", ("e-mail", "mail")),
    LeadField("Phone", "Phone", _P, 30, "phone", ("telephone", "tel")),
    LeadField("Mobile", "Mobile", _P, 30, "mobile", ("cell", "cellphone")),
    LeadField("Designation", "Title", _T, 100, "title", ("designation", "job_title", "jobtitle")),
    LeadField("Website", "Website", _U, 255, "website", ("url", "web", "site")),
    LeadField("Lead_Source", "Lead Source", _L, _PICKLIST_MAX, "source", ("lead_source", "leadsource")),
    LeadField("Lead_Status", "Lead Status", _L, _PICKLIST_MAX, "status", ("lead_status", "leadstatus")),
    LeadField("City", "City", _T, 100, "city", ("town",)),
    LeadField("Country", "Country", _T, 100, "country", ()),
    LeadField("Description", "Description", FieldKind.TEXTAREA, 32000, "description", ("desc", "notes")),
)

# Other standard Leads fields a user may set by API name (Zoho's Leads metadata).
OTHER_FIELDS: tuple[LeadField, ...] = (
    LeadField("Salutation", "Salutation", _L, 25),
    LeadField("Secondary_Email", "Secondary Email", _E, 100),
    LeadField("Fax", "Fax", _T, 30),
    LeadField("Industry", "Industry", _L, _PICKLIST_MAX),
    LeadField("Rating", "Rating", _L, _PICKLIST_MAX),
    LeadField("No_of_Employees", "No. of Employees", FieldKind.INTEGER, 9),
    LeadField("Annual_Revenue", "Annual Revenue", FieldKind.CURRENCY, 16),
    LeadField("Email_Opt_Out", "Email Opt Out", FieldKind.BOOLEAN, 5),
    LeadField("Skype_ID", "Skype ID", _T, 50),
    LeadField("Twitter", "Twitter", _T, 50),
    LeadField("Street", "Street", _T, 250),
    LeadField("State", "State", _T, 100),
    LeadField("Zip_Code", "Zip Code", _T, 30),
)

# Standard fields that Zoho computes or that are not plain values: never settable from a command.
READ_ONLY_API_NAMES: frozenset[str] = frozenset(
    {
        "id",
        "Full_Name",
        "Owner",
        "Created_By",
        "Modified_By",
        "Created_Time",
        "Modified_Time",
        "Last_Activity_Time",
        "Converted__s",
        "Converted_Date_Time",
        "Converted_Account",
        "Converted_Contact",
        "Converted_Deal",
        "Record_Image",
        "Record_Status__s",
        "Tag",
        "Layout",
    }
)


def _names(field: LeadField) -> tuple[str, ...]:
    return tuple(name for name in (field.key or "", field.label, *field.aliases) if name)


def _typeable(field: LeadField) -> str:
    """How a person types the field's key: its short key, else its label (quoted when it has spaces)."""
    if field.key:
        return field.key
    return f'"{field.label}"' if " " in field.label else field.label


_BY_API_NAME: dict[str, LeadField] = {f.api_name: f for f in FIELDS + OTHER_FIELDS}
_BY_KEY: dict[str, LeadField] = {}
for _field in FIELDS:
    for _name in (_field.key or "", *_field.aliases, _field.api_name.lower()):
        _BY_KEY[_name] = _field
for _field in OTHER_FIELDS:
    _BY_KEY[_field.api_name.lower()] = _field
_READ_ONLY_BY_LOWER = {name.lower(): name for name in READ_ONLY_API_NAMES}

AMBIGUOUS_KEYS: dict[str, str] = {
    "name": "`name` could be the first or the last name: use `first=` and `last=`",
    "fullname": "Zoho builds the full name itself: use `first=` and `last=`",
    "full_name": "Zoho builds the full name itself: use `first=` and `last=`",
}


class KeyStatus(enum.Enum):
    KNOWN = "known"  # a field of ours or a standard Zoho field
    READ_ONLY = "read_only"
    UNKNOWN = "unknown"  # not a standard field: the person's org may still have it (OrgFields.find)


@dataclass(frozen=True)
class ResolvedKey:
    """What a typed key names: the API name to send (empty when unknown) and how sure we are."""

    status: KeyStatus
    api_name: str = ""


def resolve_key(typed: str) -> ResolvedKey:
    """A key as typed, resolved among the standard fields only: our short keys and aliases, then standard API
    names (any case); Zoho's read-only names are told apart."""
    lowered = typed.lower()
    if lowered in _READ_ONLY_BY_LOWER:
        return ResolvedKey(KeyStatus.READ_ONLY, _READ_ONLY_BY_LOWER[lowered])
    field = _BY_KEY.get(lowered)
    if field is not None:
        return ResolvedKey(KeyStatus.KNOWN, field.api_name)
    return ResolvedKey(KeyStatus.UNKNOWN)


def field_for(api_name: str) -> LeadField | None:
    """The field we know under this exact API name, or None for a custom field."""
    return _BY_API_NAME.get(api_name)


def label_for(api_name: str) -> str:
    """What to call a field in a message: its label, or the API name of a custom field."""
    field = _BY_API_NAME.get(api_name)
    return field.label if field else api_name


# Zoho's name for each kind in its field metadata (`data_type`): what the Zoho layer converts values by.
_ZOHO_DATA_TYPES = {FieldKind.URL: "website"}


def zoho_data_types(api_names: Iterable[str]) -> dict[str, str]:
    """{API name: Zoho data type} of the standard fields among `api_names`; custom ones are left out (the Zoho
    layer reads their type from the org's field list)."""
    known = (_BY_API_NAME.get(name) for name in api_names)
    return {f.api_name: _ZOHO_DATA_TYPES.get(f.kind, f.kind.value) for f in known if f is not None}


@dataclass(frozen=True)
class LayoutSection:
    """One section of the org's Leads layout: its name and its fields' API names, in the layout's order."""

    name: str
    api_names: tuple[str, ...]


_SEPARATORS = re.compile(r"[\W_]+")


def _words(name: str) -> str:
    """A key or label reduced to its words: `Follow-up date`, `follow_up_date` and `FOLLOW UP DATE` all give
    `follow up date`, so a person need not remember which separator the org's label uses."""
    return _SEPARATORS.sub(" ", name.casefold()).strip()


def _word_set(name: str) -> set[str]:
    """The words of a key or label of two letters or more: `Follow-up date` → follow, up, date."""
    return {word for word in _words(name).split() if len(word) >= 2}


class OrgFields:
    """The Leads fields of one Zoho org, as its metadata and layout define them.

    `fields` come in the layout's order; `sections` group them as the layout does (empty when unknown).
    A key typed by a person is resolved case-insensitively against, in this order: our short keys and their
    aliases (for the standard fields the org has), the fields' labels, and their API names; failing that, by
    their words alone, whatever separates them (`follow up date` finds `Follow-up date`). `from_org` is
    False for `OrgFields.standard()`, the built-in list used where the org's metadata is not at hand.
    """

    def __init__(
        self, fields: Iterable[LeadField], sections: Iterable[LayoutSection] = (), *, from_org: bool = True
    ) -> None:
        self.fields: tuple[LeadField, ...] = tuple(fields)
        self.sections: tuple[LayoutSection, ...] = tuple(sections)
        self.from_org = from_org
        self._by_api_name = {f.api_name: f for f in self.fields}
        self._by_key: dict[str, LeadField] = {}
        self._by_words: dict[str, LeadField] = {}
        # Later entries never override earlier ones: API names beat labels beat aliases when they collide.
        for f in self.fields:
            self._by_key.setdefault(f.api_name.lower(), f)
        for f in self.fields:
            self._by_key.setdefault(f.label.lower(), f)
        for f in self.fields:
            for name in (f.key or "", *f.aliases):
                if name:
                    self._by_key.setdefault(name, f)
        for name, f in self._by_key.items():
            if _words(name):
                self._by_words.setdefault(_words(name), f)

    @classmethod
    def standard(cls) -> OrgFields:
        """Zoho's standard Leads fields as we know them, without any org's custom fields or picklist values."""
        return cls(FIELDS + OTHER_FIELDS, from_org=False)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def get(self, api_name: str) -> LeadField | None:
        """The field with exactly this API name, or None."""
        return self._by_api_name.get(api_name)

    def label(self, api_name: str) -> str:
        """What to call a field in a message: its label, else the API name."""
        field = self.get(api_name) or _BY_API_NAME.get(api_name)
        return field.label if field else api_name

    def find(self, typed: str) -> LeadField | None:
        """The field a typed key names (short key, alias, label or API name, any case, then by its words
        whatever separates them), or None."""
        return self._by_key.get(typed.strip().lower()) or self._by_words.get(_words(typed))

    def suggest(self, typed: str) -> str | None:
        """The key a person most likely meant by an unknown `typed` key, written as it can be typed (the field's
        short key, else its label, in quotes when it has spaces), if any is near: one spelled nearly so
        (`emial`), else one a typed word names (`zip` → Zip Code, `tier` → Customer tier, `phone number` →
        phone, `job` → title)."""
        settable = self.settable()
        names: dict[str, LeadField] = {}
        for f in settable:
            for name in (f.key or "", f.label, f.api_name, *f.aliases):
                if name:
                    names.setdefault(name.lower(), f)
        matches = difflib.get_close_matches(typed.strip().lower(), list(names), n=1, cutoff=0.75)
        if matches:
            return _typeable(names[matches[0]])
        typed_words = _word_set(typed)
        whole = [f for f in settable if any(_word_set(n) and _word_set(n) <= typed_words for n in _names(f))]
        by_word = [f for f in settable if any(typed_words & _word_set(n) for n in _names(f))]
        found = whole or by_word
        return _typeable(found[0]) if found and len(typed_words) <= 3 else None

    def settable(self) -> tuple[LeadField, ...]:
        """The fields a person may set: not read-only, and of a kind typed text can hold."""
        return tuple(f for f in self.fields if not f.read_only and f.kind is not FieldKind.OTHER)

    def required(self) -> tuple[LeadField, ...]:
        """The fields the org's layout requires, in the layout's order."""
        return tuple(f for f in self.fields if f.required)

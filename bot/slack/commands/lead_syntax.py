"""Parsing the `key=value …` text of `/lead create …` and `/lead edit <id> …`.

Syntax (decided here, shown in the help):
- pairs separated by whitespace: `last=Doe first=Jane`;
- a value with spaces takes quotes: `company="Acme Inc"`, `company='Acme Inc'`, or the curly quotes
  Slack clients substitute (“Acme Inc”, ‘Acme Inc’); inside quotes `\\"` and `\\\\` stand for `"` and `\\`;
  a quote only closes when followed by a space or the end, so `last='O'Reilly'` works, as does unquoted
  `last=O'Reilly`; surrounding spaces inside quotes are dropped;
- spaces around `=` are allowed (`company = Acme`) unless what follows is itself a pair
  (`first= last=Doe` is an empty `first`, not `first="last=Doe"`);
- a key is one word, or a label with spaces in quotes: `"Lead Status"=New`; our short keys (`bot.leads.fields`)
  become their API names here, every other key is passed on as typed for the Lead service to resolve against
  the person's org (label or API name, any case, with "did you mean").
`/lead list` reads its own words: nothing (or `mine`) is the person's own Leads, `all` every Lead they may see;
anything else is searched for, quoted parts as one phrase without their quotes (`"all"` searches for the word).
Every problem is collected and reported at once, each echoing what was typed; nothing is sent half-parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.leads import fields
from bot.leads.links import lead_link
from bot.leads.model import LeadQuery, ListScope
from bot.leads.validation import echo
from bot.slack.text import typed_text

_CLOSERS: dict[str, str] = {
    '"': '"',
    "'": "'",
    "“": "”“",
    "”": "”“",
    "„": "“”",
    "‘": "’‘",
    "’": "’‘",
    "«": "»",
}
_ESCAPABLE = frozenset('\\"' + "'“”„‘’«»")
_LEAD_ID = re.compile(r"[0-9]{1,30}\Z")


@dataclass(frozen=True)
class ArgumentProblem:
    """One thing wrong in the typed text: what kind, what was typed there, and a message for the user."""

    kind: str  # ambiguous_key | read_only | duplicate | missing_equals | unterminated_quote
    #             | empty_value | empty_key | bad_id | missing_id | extra_text | missing_words
    typed: str
    message: str


class ArgumentError(ValueError):
    """The typed text could not be read; `problems` lists every problem found, in the order typed."""

    def __init__(self, problems: list[ArgumentProblem] | tuple[ArgumentProblem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(p.message for p in self.problems))


@dataclass(frozen=True)
class _Token:
    """A run of text as typed (`raw`, quotes included) and its value (quotes removed; None: unterminated)."""

    raw: str
    value: str | None
    quoted: bool
    end: int


def _read_token(text: str, start: int, stop_at_equals: bool) -> _Token:
    """Read a value-like token at `start`: quoted (per the module rules) or up to the next whitespace/`=`."""
    first = text[start]
    closers = _CLOSERS.get(first)
    if closers is not None:
        chars: list[str] = []
        i = start + 1
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPABLE:
                chars.append(text[i + 1])
                i += 2
                continue
            ends = i + 1 == len(text) or text[i + 1].isspace() or (stop_at_equals and text[i + 1] == "=")
            if ch in closers and ends:
                return _Token(text[start : i + 1], "".join(chars).strip(), True, i + 1)
            chars.append(ch)
            i += 1
        return _Token(text[start:], None, True, len(text))
    i = start
    while i < len(text) and not text[i].isspace() and not (stop_at_equals and text[i] == "="):
        i += 1
    return _Token(text[start:i], text[start:i], False, i)


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _next_is_pair(text: str, i: int) -> bool:
    """True if the unquoted word at `i` contains `=` (it is the next pair, not a value)."""
    if i >= len(text) or text[i] in _CLOSERS:
        return False
    word = _read_token(text, i, stop_at_equals=False).raw
    return "=" in word


def _key_problem(key: str, typed: str) -> ArgumentProblem | None:
    """Only what is wrong with a key whatever the org: a field Zoho fills in, or a word that names no one field.
    Whether any other key names a field of the person's org is the Lead service's to say."""
    resolved = fields.resolve_key(key)
    if resolved.status is fields.KeyStatus.READ_ONLY:
        return ArgumentProblem(
            "read_only",
            typed,
            f"`{resolved.api_name}` is filled in by Zoho and cannot be set (you typed `{echo(typed)}`)",
        )
    ambiguous = fields.AMBIGUOUS_KEYS.get(key.lower())
    if ambiguous:
        return ArgumentProblem("ambiguous_key", typed, f"{ambiguous} (you typed `{echo(typed)}`)")
    return None


def _named(key: str) -> str:
    """The name a key is passed on under: the API name of one of our standard keys, else the key as typed."""
    resolved = fields.resolve_key(key)
    return resolved.api_name if resolved.status is fields.KeyStatus.KNOWN else " ".join(key.split())


def _parse_pairs(text: str, problems: list[ArgumentProblem], *, clearing: bool = False) -> dict[str, str]:
    """`clearing` (edits): `key=""`, quotes and nothing in them, clears that field."""
    values: dict[str, str] = {}
    set_by: dict[str, str] = {}
    last_pair: tuple[str, str] | None = None
    i = _skip_space(text, 0)
    while i < len(text):
        start = i
        key_token = _read_token(text, i, stop_at_equals=True)
        i = key_token.end
        if key_token.value is None:
            problems.append(_unterminated(key_token.raw))
            break
        after_key = _skip_space(text, i)
        if after_key >= len(text) or text[after_key] != "=":
            # Consecutive words without `=` are one problem: usually a value that needed quotes.
            i = after_key
            while i < len(text) and not _next_is_pair(text, i):
                word = _read_token(text, i, stop_at_equals=False)
                if word.value is None:
                    break
                i = _skip_space(text, word.end)
            run = _Token(text[start:i].rstrip(), None, key_token.quoted, i)
            problems.append(_missing_equals(run, last_pair))
            last_pair = None
            continue
        key = key_token.value
        i = after_key + 1  # past "="
        value_start = i
        if i < len(text) and text[i].isspace():
            value_start = _skip_space(text, i)
            if _next_is_pair(text, value_start):
                value_start = i  # `first= last=Doe`: first is empty
        cleared = False
        if value_start >= len(text) or text[value_start].isspace():
            typed, value, i = text[start:i].rstrip(), "", value_start
        else:
            token = _read_token(text, value_start, stop_at_equals=False)
            typed, i = text[start : token.end], token.end
            if token.value is None:
                problems.append(_unterminated(typed))
                break
            value = token.value
            cleared = clearing and token.quoted and value == ""
        i = _skip_space(text, i)
        if not key:
            problems.append(ArgumentProblem("empty_key", typed, f"`{echo(typed)}` has no key before `=`"))
            continue
        key_problem = _key_problem(key, typed)
        if key_problem is not None:
            problems.append(key_problem)
            continue
        if not value.strip() and not cleared:
            hint = f'; to clear the field, type `{echo(key, 40)}=""`' if clearing else ""
            problems.append(ArgumentProblem("empty_value", typed, f"`{echo(typed)}` has no value after `=`{hint}"))
            continue
        api_name = _named(key)
        if api_name.lower() in {name.lower() for name in set_by}:
            problems.append(
                ArgumentProblem(
                    "duplicate",
                    typed,
                    f"`{echo(typed)}` sets {fields.label_for(api_name)} again "
                    f"(already set by `{echo(_set_by(set_by, api_name))}`)",
                )
            )
            continue
        values[api_name] = value
        set_by[api_name] = typed
        last_pair = (key, value)
    return values


def _set_by(set_by: dict[str, str], name: str) -> str:
    return next(typed for key, typed in set_by.items() if key.lower() == name.lower())


def _unterminated(typed: str) -> ArgumentProblem:
    return ArgumentProblem(
        "unterminated_quote", typed, f"The quote in `{echo(typed)}` is never closed: add the closing quote"
    )


def _missing_equals(token: _Token, last_pair: tuple[str, str] | None) -> ArgumentProblem:
    if last_pair is not None and not token.quoted:
        key, value = last_pair
        hint = f'; values with spaces need quotes: `{echo(key, 40)}="{echo(value + " " + token.raw, 60)}"`'
    else:
        hint = "; write it as key=value, e.g. `company=Acme`"
    return ArgumentProblem("missing_equals", token.raw, f"`{echo(token.raw)}` is not a key=value pair{hint}")


def parse_lead_values(text: str) -> dict[str, str]:
    """Read `key=value …` as typed after `/lead create` into {API name: value}, in the order typed.

    Empty text gives `{}`. Raises ArgumentError (listing every problem) and nothing else, for any input.
    """
    problems: list[ArgumentProblem] = []
    values = _parse_pairs(typed_text(text), problems)
    if problems:
        raise ArgumentError(problems)
    return values


def _id_problem(word: str) -> ArgumentProblem | None:
    if _LEAD_ID.match(word):
        return None
    return ArgumentProblem(
        "bad_id",
        word,
        f"`{echo(word, 40)}` is not a Lead id: ids are numbers like `5725767000000524157` (see /lead list)",
    )


def _as_lead_id(word: str) -> str:
    """The Lead id in what was typed for one: the id itself, as copied from a message (`5725…` with its backticks,
    or with a full stop after it), or a Zoho CRM link to the Lead (…/crm/org123/tab/Leads/5725…)."""
    link = lead_link(word.strip("<>"))
    if link is not None:
        return link.lead_id
    bare = word.strip("`*_").rstrip(".,;:!?)").lstrip("(")
    return bare if bare.isdigit() else word


def _split_id(text: str, usage: str) -> tuple[str, str, list[ArgumentProblem]]:
    plain = typed_text(text).strip()
    if not plain:
        return "", "", [ArgumentProblem("missing_id", "", f"Which Lead? Type its id: `{usage}`")]
    parts = plain.split(maxsplit=1)
    lead_id, rest = _as_lead_id(parts[0]), parts[1] if len(parts) > 1 else ""
    problem = _id_problem(lead_id)
    return lead_id, rest, [problem] if problem else []


def parse_edit_arguments(text: str) -> tuple[str, dict[str, str]]:
    """Read `<id> key=value …` as typed after `/lead edit` into (lead id, {API name: value}).

    No pairs gives an empty mapping (the caller opens the form); `key=""` gives "" (clear that field).
    Raises ArgumentError and nothing else.
    """
    lead_id, rest, problems = _split_id(text, "/lead edit 5725767000000524157 company=Acme")
    values = _parse_pairs(rest, problems, clearing=True)
    if problems:
        raise ArgumentError(problems)
    return lead_id, values


def parse_lead_id(text: str, subcommand: str = "delete") -> str:
    """Read the single Lead id typed after `/lead delete` (or `show`). Raises ArgumentError and nothing else."""
    lead_id, rest, problems = _split_id(text, f"/lead {subcommand} 5725767000000524157")
    if rest.strip() and not problems:
        problems.append(
            ArgumentProblem("extra_text", rest, f"Only one Lead at a time: remove `{echo(rest.strip())}` after the id")
        )
    if problems:
        raise ArgumentError(problems)
    return lead_id


# What to say to words after a sub-command that takes none (they would otherwise be ignored: `/lead logout @bob`
# must not log the person typing it out, believing it logs Bob out).
_NOTHING_AFTER_HINTS = {
    "logout": " To cut someone else's Zoho access, a workspace admin types `/zoho-revoke @someone`.",
}


def parse_nothing(text: str, subcommand: str) -> None:
    """Check that nothing was typed after `/lead <subcommand>` (login, whoami, logout). Raises ArgumentError."""
    rest = typed_text(text).strip()
    if rest:
        hint = _NOTHING_AFTER_HINTS.get(subcommand, "")
        message = f"`/lead {subcommand}` takes nothing after it: remove `{echo(rest)}`.{hint}"
        raise ArgumentError([ArgumentProblem("extra_text", rest, message)])


_LIST_SCOPES = {"": ListScope.MINE, "mine": ListScope.MINE, "all": ListScope.ALL}


def parse_list_arguments(text: str) -> LeadQuery:
    """Read what follows `/lead list`: whose Leads, or the words to search for (quotes removed, so a quoted
    phrase is searched as typed inside them). Raises ArgumentError for a quote never closed."""
    scope = _LIST_SCOPES.get(typed_text(text).strip().lower())
    if scope is not None:
        return LeadQuery(scope)
    return parse_search_words(text)


def parse_search_words(text: str) -> LeadQuery:
    """Read the words after `/lead search` (or `find`): always a search, quotes removed. Raises ArgumentError for
    no words or a quote never closed."""
    plain = typed_text(text).strip()
    if not plain:
        raise ArgumentError(
            [ArgumentProblem("missing_words", "", "Search for what? Type some words: `/lead search acme`")]
        )
    words: list[str] = []
    i = 0
    while i < len(plain):
        token = _read_token(plain, i, stop_at_equals=False)
        if token.value is None:
            raise ArgumentError([_unterminated(token.raw)])
        words.append(token.value)
        i = _skip_space(plain, token.end)
    query = LeadQuery.search(" ".join(words))
    if query.scope is not ListScope.WORDS:  # only quotes: nothing to search for
        raise ArgumentError([ArgumentProblem("missing_words", plain, f"`{echo(plain)}` has no words to search for")])
    return query

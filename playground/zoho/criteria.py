"""The `criteria` parameter of `GET /{module}/search`: parsing and matching (docs/reference/zoho.md §5 search rules).

Grammar: `(Field:operator:value)` groups joined by `and`/`or`, nested with parentheses, e.g.
`((Last_Name:equals:Doe)and(Company:starts_with:Ac))`. In values, `\\,`, `\\(` and `\\)` are literal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Record = dict[str, object]
Predicate = Callable[[Record], bool]

MAX_CONDITIONS = 10
OPERATORS = (
    "equals", "not_equal", "starts_with", "in", "not_in",
    "greater_than", "greater_equal", "less_than", "less_equal", "between",
)  # fmt: skip


class CriteriaError(Exception):
    """A criteria Zoho answers with 400 INVALID_QUERY."""

    def __init__(self, reason: str, **details: str) -> None:
        super().__init__(reason)
        self.details = {"reason": reason, **details}


@dataclass
class _Cursor:
    text: str
    pos: int = 0
    conditions: int = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise CriteriaError(f"expected '{char}' at position {self.pos}")
        self.pos += 1


def parse_criteria(text: str, known_fields: set[str]) -> Predicate:
    """A predicate over records for `text`; raises CriteriaError for malformed criteria or unknown fields."""
    cursor = _Cursor(text.strip())
    predicate = _expression(cursor, known_fields)
    if cursor.pos != len(cursor.text):
        raise CriteriaError(f"unexpected text at position {cursor.pos}")
    if cursor.conditions > MAX_CONDITIONS:
        raise CriteriaError(f"more than {MAX_CONDITIONS} conditions")
    return predicate


def _expression(cursor: _Cursor, known: set[str]) -> Predicate:
    result = _group(cursor, known)
    while True:
        rest = cursor.text[cursor.pos :].lower()
        if rest.startswith("and"):
            cursor.pos += 3
            left, right = result, _group(cursor, known)
            result = lambda r, a=left, b=right: a(r) and b(r)  # noqa: E731
        elif rest.startswith("or"):
            cursor.pos += 2
            left, right = result, _group(cursor, known)
            result = lambda r, a=left, b=right: a(r) or b(r)  # noqa: E731
        else:
            return result


def _group(cursor: _Cursor, known: set[str]) -> Predicate:
    cursor.expect("(")
    if cursor.peek() == "(":
        inner = _expression(cursor, known)
        cursor.expect(")")
        return inner
    raw = _read_condition(cursor)
    cursor.expect(")")
    cursor.conditions += 1
    return _condition(raw, known)


def _read_condition(cursor: _Cursor) -> str:
    start = cursor.pos
    while cursor.pos < len(cursor.text):
        char = cursor.text[cursor.pos]
        if char == "\\":
            cursor.pos += 2
            continue
        if char == ")":
            return cursor.text[start : cursor.pos]
        cursor.pos += 1
    raise CriteriaError("unbalanced parentheses")


def _split_unescaped(text: str, sep: str, limit: int = -1) -> list[str]:
    parts, current, i = [], "", 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current += text[i : i + 2]
            i += 2
            continue
        if text[i] == sep and (limit < 0 or len(parts) < limit):
            parts.append(current)
            current = ""
        else:
            current += text[i]
        i += 1
    parts.append(current)
    return parts


def unescape(value: str) -> str:
    """A search value as meant: `\\,`, `\\(`, `\\)` and `\\\\` stand for the characters (in `criteria` and `word`)."""
    out, i = "", 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out += value[i + 1]
            i += 2
        else:
            out += value[i]
            i += 1
    return out


def _condition(raw: str, known: set[str]) -> Predicate:
    parts = _split_unescaped(raw, ":", limit=2)
    if len(parts) != 3:
        raise CriteriaError("a condition must read Field:operator:value")
    field, operator, raw_value = parts[0].strip(), parts[1].strip().lower(), parts[2]
    if field not in known:
        raise CriteriaError("invalid field found", api_name=field)
    if operator not in OPERATORS:
        raise CriteriaError("invalid operator found", api_name=field, operator=operator)
    values = [unescape(v).strip() for v in _split_unescaped(raw_value, ",")]
    value = unescape(raw_value).strip()

    def predicate(record: Record) -> bool:
        actual = record.get(field)
        if isinstance(actual, dict):
            return _lookup_matches(actual, operator, value, values)
        return _matches(actual, operator, value, values)

    return predicate


def _lookup_matches(lookup: dict[str, object], operator: str, value: str, values: list[str]) -> bool:
    """A lookup or user field (`Owner`, …) is compared by the id it points to, exactly (docs/reference/zoho.md §5)."""
    found = str(lookup.get("id") or "")
    if operator == "equals":
        return found == value
    if operator == "not_equal":
        return found != value
    if operator == "in":
        return found in values
    if operator == "not_in":
        return found not in values
    return False


def _text(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or value.get("id") or "")
    return "" if value is None else str(value)


def _compare(a: object, b: str) -> int:
    try:
        x, y = float(_text(a)), float(b)
    except ValueError:
        x, y = _text(a).lower(), b.lower()  # type: ignore[assignment]
    return (x > y) - (x < y)


def _matches(actual: object, operator: str, value: str, values: list[str]) -> bool:
    text = _text(actual).lower()
    if operator == "not_equal":
        return text != value.lower()
    if operator == "not_in":
        return text not in [v.lower() for v in values]
    if actual is None or text == "":
        return False
    if operator == "equals":
        # Zoho's search treats `equals` on text as a contains match (docs/reference/zoho.md §5).
        return value.lower() in text
    if operator == "starts_with":
        return text.startswith(value.lower())
    if operator == "in":
        return text in [v.lower() for v in values]
    if operator == "between":
        return len(values) == 2 and _compare(actual, values[0]) >= 0 and _compare(actual, values[1]) <= 0
    order = _compare(actual, value)
    return {
        "greater_than": order > 0,
        "greater_equal": order >= 0,
        "less_than": order < 0,
        "less_equal": order <= 0,
    }[operator]

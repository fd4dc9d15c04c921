"""User text in Slack messages: it never links, mentions or notifies, and always fits."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.text import escape, escape_truncated, one_line, truncate


def test_escape_replaces_exactly_the_three_characters() -> None:
    assert escape("<!channel> & <@U123> 'x' \"y\" *b*") == "&lt;!channel&gt; &amp; &lt;@U123&gt; 'x' \"y\" *b*"


def test_typed_entities_stay_visible_as_typed() -> None:
    assert escape("&lt;") == "&amp;lt;"


def test_truncate_keeps_short_text_and_marks_cut_text() -> None:
    assert truncate("Acme", 10) == "Acme"
    assert truncate("Acme Holdings", 5) == "Acme…"
    with pytest.raises(ValueError):
        truncate("x", 0)


def test_escape_truncated_never_cuts_an_entity() -> None:
    assert escape_truncated("a<b", 4) == "a…"
    assert escape_truncated("a<b", 5) == "a…"
    assert escape_truncated("a<bc", 6) == "a&lt;…"
    assert escape_truncated("<<<", 9) == "&lt;&lt;…"


def test_one_line_joins_lines() -> None:
    assert one_line(" a\n b\tc ") == "a b c"


_ENTITY_OR_PLAIN = re.compile(r"(?:[^&<>]|&amp;|&lt;|&gt;)*(?:…)?\Z")


@given(st.text(), st.integers(min_value=1, max_value=200))
def test_escaped_and_cut_text_fits_and_is_safe(text: str, limit: int) -> None:
    out = escape_truncated(text, limit)
    assert len(out) <= limit
    assert "<" not in out and ">" not in out
    assert _ENTITY_OR_PLAIN.match(out)
    if len(escape(text)) <= limit:
        assert out == escape(text)
    else:
        assert out.endswith("…")
        assert escape(text).startswith(out[:-1])

"""The canonical text of each kind becomes the value type the SDK accepts, and comes back as the same text."""

from __future__ import annotations

import datetime

from zohocrmsdk.src.com.zoho.crm.api.util import Choice

from bot.zoho.records import text_of, zoho_value


def test_multi_select_date_and_date_time_are_sent_as_the_sdks_types() -> None:
    chosen = zoho_value("Widgets; Support plan", "multiselectpicklist")
    assert [c.get_value() for c in chosen] == ["Widgets", "Support plan"]
    assert zoho_value("2026-12-24", "date") == datetime.date(2026, 12, 24)
    sent = zoho_value("2026-12-24T15:00:00+01:00", "datetime")
    assert sent == datetime.datetime(2026, 12, 24, 14, 0, tzinfo=datetime.UTC)


def test_they_come_back_as_the_same_text() -> None:
    assert text_of([Choice("Widgets"), Choice("Support plan")]) == "Widgets; Support plan"
    assert text_of(datetime.date(2026, 12, 24)) == "2026-12-24"
    assert text_of([]) is None


def test_a_number_zoho_sent_as_a_float_reads_as_a_person_writes_it() -> None:
    assert [text_of(v) for v in (12500.0, 1250.5, -5.0, 1e16, 0.0, -0.0)] == [
        "12500",
        "1250.5",
        "-5",
        "10000000000000000",
        "0",
        "0",
    ]

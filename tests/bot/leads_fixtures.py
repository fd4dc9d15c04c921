"""Plain Lead values for the lead tests (not pytest fixtures: imported where needed)."""

from __future__ import annotations

from bot.leads.model import Lead, LeadPage


def make_lead(index: int, **values: str) -> Lead:
    base = {
        "First_Name": "Jane",
        "Last_Name": f"Doe{index}",
        "Company": f"Acme {index}",
        "Email": f"jane{index}@acme.test",
        "Phone": f"+1 555 01{index:02d}",
    }
    base.update(values)
    return Lead(str(5725767000000400000 + index), {k: v for k, v in base.items() if v})


def pages_of(leads: list[Lead], per_page: int = 10, query: str = "") -> list[LeadPage]:
    """How a list of Leads splits into pages, the way the CRM adapter answers them."""
    chunks = [leads[i : i + per_page] for i in range(0, len(leads), per_page)] or [[]]
    return [
        LeadPage(tuple(chunk), page=n + 1, has_more=n + 1 < len(chunks), query=query) for n, chunk in enumerate(chunks)
    ]

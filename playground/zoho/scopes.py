"""Whether a set of granted OAuth scopes covers the scope a CRM call needs.

Zoho scopes read `Service.group[.subgroup].OPERATION`; a granted scope covers a needed one when the
service matches, its groups are a prefix of the needed groups and its operation is ALL or the same one
(`ZohoCRM.modules.ALL` covers `ZohoCRM.modules.leads.READ`; `ZohoCRM.settings.ALL` covers
`ZohoCRM.settings.fields.READ`).
"""

from __future__ import annotations


def parse_scopes(raw: str) -> tuple[str, ...]:
    """Split the comma-separated `scope` parameter (spaces tolerated) into scope names."""
    return tuple(s.strip() for s in raw.replace(" ", ",").split(",") if s.strip())


def _split(scope: str) -> tuple[str, tuple[str, ...], str]:
    parts = scope.split(".")
    if len(parts) < 2:
        return scope.lower(), (), ""
    return parts[0].lower(), tuple(p.lower() for p in parts[1:-1]), parts[-1].upper()


def covers(granted: tuple[str, ...], needed: str) -> bool:
    """True iff one of `granted` gives the access `needed` asks for."""
    n_service, n_groups, n_op = _split(needed)
    for scope in granted:
        service, groups, op = _split(scope)
        if service != n_service or not groups:
            continue
        if n_groups[: len(groups)] == groups and op in ("ALL", n_op):
            return True
    return False

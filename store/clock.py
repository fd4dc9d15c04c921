"""How the store writes time: integer epoch milliseconds in the database, aware UTC datetimes outside."""

from __future__ import annotations

from datetime import UTC, datetime


def datetime_from_ms(ms: int) -> datetime:
    """The aware UTC datetime of an epoch-milliseconds value."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def ms_from_datetime(moment: datetime) -> int:
    """Epoch milliseconds of `moment`; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)

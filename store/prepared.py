"""Queries on the hot path (the SDK reads the store before every CRM call), built by Peewee once.

Building SQL from Peewee's expression tree costs more than running the query on an indexed SQLite table.
A `PreparedQuery` keeps the SQL and parameter list Peewee produced, with `slot("name")` placeholders where
the values go, and runs it with fresh values; the SQL is still Peewee's and every value a bound parameter.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from peewee import Query, Value

from store.database import StoreDatabase


class _Slot:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def slot(name: str) -> Value:
    """A placeholder for a value given at run time (passed to the driver as is: give it in DB form)."""
    return Value(_Slot(name), converter=False)


class PreparedQuery:
    """A Peewee query compiled once; `first(**values)` or `row(**values)` (a SELECT), `execute(**values)` (a write)
    or `insert(**values)` (an INSERT) runs it with the slots filled in."""

    def __init__(self, database: StoreDatabase, query: Query) -> None:
        self._database = database
        self._sql, self._params = query.sql()

    def _run(self, values: dict[str, Any]) -> Any:
        params = [values[p.name] if isinstance(p, _Slot) else p for p in self._params]
        return self._database.db.execute_sql(self._sql, params)  # Peewee's errors (IntegrityError, ...) as usual

    def execute(self, **values: Any) -> None:
        """Run a write (in the caller's transaction if there is one, else committed at once, as Peewee does)."""
        self._run(values)

    def insert(self, **values: Any) -> int:
        """Run an INSERT; the new row's id (PostgreSQL: Peewee's SQL returns it, elsewhere the cursor knows it)."""
        cursor = self._run(values)
        return int(cursor.fetchone()[0] if self._database.db.returning_clause else cursor.lastrowid)

    def row(self, **values: Any) -> tuple[Any, ...]:
        """Run a SELECT of one row (an aggregate); its values in column order."""
        return tuple(self._run(values).fetchone())

    def first(self, **values: Any) -> SimpleNamespace | None:
        """The first row as an object with one attribute per column, or None."""
        cursor = self._run(values)
        found = cursor.fetchone()
        if found is None:
            return None
        names = [column[0] for column in cursor.description]
        return SimpleNamespace(**dict(zip(names, found, strict=True)))

"""Hot single-table reads run on the DBAPI cursor, compiled once per dialect.

SQLAlchemy Core spends about 60 µs of CPU on each execution of even a cached statement
(execution context, parameter and result processing, the ``begin`` event that sends SQLite's
``BEGIN``), against about 7 µs for SQLite to answer an indexed lookup. The reads that every
token request makes (the identity behind a refresh token and its role assignments, a token's
or the admin user's passwords) go through :class:`DriverQuery` instead: the statement is still
built with SQLAlchemy (so it is the same SQL, quoted and parameterized for the dialect), but it
runs on the connection's DBAPI cursor and returns plain ``dict`` rows keyed like
``RowMapping`` ones, which the modules' record converters read unchanged.

Only columns whose driver value is what the converters expect are selected this way (strings,
floats and the integers SQLite stores for booleans, which the converters pass to ``bool``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Dialect, Select, Table, bindparam, insert


class DriverQuery:
    """One SELECT, compiled for each dialect on first use and run with the DBAPI cursor."""

    def __init__(self, statement: Select[Any]) -> None:
        self._statement = statement
        self._keys = tuple(str(column.key) for column in statement.selected_columns)
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None]] = {}

    def _compile(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            done = self._statement.compile(dialect=dialect)
            positions = done.positiontup  # parameter names in order, for positional paramstyles
            compiled = self._compiled[dialect.name] = (
                done.string,
                tuple(positions) if dialect.positional and positions is not None else None,
            )
        return compiled

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The matching rows as ``{column key: value}``.

        Outside a transaction (see :meth:`Database.read_plain`) the statement is its own
        snapshot; inside one it sees what the transaction sees.
        """
        sql, positions = self._compile(conn.dialect)
        args: Any = tuple(params[name] for name in positions) if positions is not None else dict(params)
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql, args)
            keys = self._keys
            return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]
        finally:
            cursor.close()


class DriverInsert:
    """One INSERT of ``columns`` into ``table``, compiled for each dialect on first use and run
    for many rows at once on the DBAPI cursor.

    For the event writer, which inserts every request's events from a thread of its own.
    SQLAlchemy Core's ``executemany`` built a parameter dictionary per row in Python (~15 µs an
    event). And a statement per row hands the interpreter's lock back and forth once per row:
    while the event loop is busy, each hand-back waits for its switch interval (5 ms), which
    held a writer to ~100 rows a second under load. On SQLite the rows therefore go as a few
    multi-row ``VALUES`` statements (up to 512 rows each, within the driver's parameter
    limit); PostgreSQL's driver takes them with ``executemany``.
    """

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self._statement = insert(table).values({name: bindparam(name) for name in columns})
        self._columns = tuple(columns)
        self._compiled: dict[str, _CompiledInsert] = {}

    def _compile(self, dialect: Dialect) -> _CompiledInsert:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            done = self._statement.compile(dialect=dialect)
            positions = done.positiontup
            if dialect.positional and positions is not None:
                head, group = done.string.split(" VALUES ", 1)
                if not (group.startswith("(") and group.endswith(")")):
                    raise ValueError(f"not a one-row INSERT: {done.string}")
                order = tuple(self._columns.index(name) for name in positions)
                compiled = _CompiledInsert(done.string, f"{head} VALUES ", group, order)
            else:
                compiled = _CompiledInsert(done.string, "", "", None)
            self._compiled[dialect.name] = compiled
        return compiled

    def run(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (each a tuple in ``columns`` order) in ``conn``'s transaction."""
        if not rows:
            return
        compiled = self._compile(conn.dialect)
        cursor = conn.connection.cursor()
        try:
            if compiled.order is None:
                columns = self._columns
                cursor.executemany(compiled.sql, [dict(zip(columns, row, strict=True)) for row in rows])
                return
            order = compiled.order
            in_order = order == tuple(range(len(order)))
            size = _ROWS_PER_STATEMENT
            while size * len(self._columns) > _parameter_limit(conn) and size > 1:
                size //= 2
            start = 0
            while start < len(rows):
                while size > len(rows) - start:
                    size //= 2
                chunk = rows[start : start + size]
                if in_order:
                    values = [value for row in chunk for value in row]
                else:
                    values = [row[index] for row in chunk for index in order]
                cursor.execute(compiled.statement_for(size), values)
                start += size
        finally:
            cursor.close()


# Rows per statement: powers of two up to this one, so a batch of any size is at most nine
# statements, and a connection prepares (and its driver caches) at most ten of them. A
# statement per batch size cost ~3 ms to prepare and ~0.8 MB of cache each, per connection.
_ROWS_PER_STATEMENT = 512


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str  # the one-row statement
    head: str  # positional dialects: "INSERT INTO t (a, b) VALUES "
    group: str  # positional dialects: one row's placeholders, "(?, ?)"
    order: tuple[int, ...] | None  # the row index of each placeholder; None: named parameters
    _by_rows: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    def statement_for(self, rows: int) -> str:
        """The statement inserting ``rows`` rows (positional dialects)."""
        sql = self._by_rows.get(rows)
        if sql is None:
            sql = self._by_rows[rows] = self.head + ", ".join([self.group] * rows)
        return sql


_SQLITE_DEFAULT_PARAMETERS = 999  # SQLite's limit before 3.32, where the driver cannot say


def _parameter_limit(conn: Connection) -> int:
    """How many parameters one statement may carry on ``conn``'s SQLite connection."""
    getlimit = getattr(conn.connection.dbapi_connection, "getlimit", None)
    if getlimit is None:
        return _SQLITE_DEFAULT_PARAMETERS
    return int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))

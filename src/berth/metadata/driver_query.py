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

from collections.abc import Mapping, Sequence
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
    for many rows at once with the DBAPI cursor's ``executemany``.

    For the event writer, which inserts every request's events: SQLAlchemy Core's
    ``executemany`` builds a parameter dictionary per row in Python (~15 µs an event), holding
    the interpreter's lock while the event loop waits for it. Rows here are plain tuples in
    ``columns`` order, bound by the driver.
    """

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self._statement = insert(table).values({name: bindparam(name) for name in columns})
        self._columns = tuple(columns)
        self._compiled: dict[str, tuple[str, tuple[int, ...] | None]] = {}

    def _compile(self, dialect: Dialect) -> tuple[str, tuple[int, ...] | None]:
        """The SQL, and for a positional paramstyle the row index of each placeholder (None:
        the driver takes named parameters)."""
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            done = self._statement.compile(dialect=dialect)
            positions = done.positiontup
            order = None
            if dialect.positional and positions is not None:
                order = tuple(self._columns.index(name) for name in positions)
            compiled = self._compiled[dialect.name] = (done.string, order)
        return compiled

    def run(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (each a tuple in ``columns`` order) in ``conn``'s transaction."""
        if not rows:
            return
        sql, order = self._compile(conn.dialect)
        args: Sequence[Any]
        if order is None:
            columns = self._columns
            args = [dict(zip(columns, row, strict=True)) for row in rows]
        elif order == tuple(range(len(self._columns))):
            args = rows
        else:
            args = [tuple(row[index] for index in order) for row in rows]
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(sql, args)
        finally:
            cursor.close()

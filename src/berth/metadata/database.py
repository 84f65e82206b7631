"""The metadata database: one engine, transactions run in worker threads.

Data-access functions are plain synchronous functions taking a SQLAlchemy ``Connection``; the
async service layer runs them with :meth:`Database.read` or :meth:`Database.write`, each a
single transaction. SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` for writes (so writers
queue instead of failing on lock upgrades); PostgreSQL runs through psycopg 3.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateColumn

from berth.metadata import access_schema as _access_schema  # noqa: F401  (registers its tables)
from berth.metadata import credentials_schema as _credentials_schema  # noqa: F401  (registers its tables)
from berth.metadata import device_codes as _device_codes  # noqa: F401  (registers its table)
from berth.metadata import events_schema as _events_schema  # noqa: F401  (registers its tables)
from berth.metadata import invalidations as _invalidations  # noqa: F401  (registers its table)
from berth.metadata import sign_in_codes as _sign_in_codes  # noqa: F401  (registers its table)
from berth.metadata.schema import SCHEMA_VERSION, metadata, settings_table

# The key of the PostgreSQL advisory lock held during start-up work (:meth:`Database.startup_lock`).
STARTUP_LOCK_KEY = 0x6265727468_0001  # "berth", 1

# Threads (and connections beyond ``pool_size``) of :meth:`Database.read_plain`.
HOT_READ_THREADS = 4
# Connections beyond ``pool_size`` for the background threads that read and write outside the
# request limiter (event writer, invalidation bus, janitor, collector), as before read_plain.
BACKGROUND_CONNECTIONS = 4

P = ParamSpec("P")
T = TypeVar("T")


class SchemaMismatch(RuntimeError):
    """The database was written by a newer berth than this one."""


def add_missing_columns(conn: Connection) -> None:
    """Add the columns a newer berth defined to the tables of an older database.

    Only additive changes happen this way (a nullable column, or one with a server default),
    so a database written by an earlier release of schema version 1 keeps working unchanged.
    """
    inspector = inspect(conn)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not (column.nullable or column.server_default is not None):
                raise SchemaMismatch(f"column {table.name}.{column.name} cannot be added to existing rows")
            spec = CreateColumn(column).compile(dialect=conn.dialect)
            # Replicas starting together on PostgreSQL may both find the column missing.
            guard = "IF NOT EXISTS " if conn.dialect.name == "postgresql" else ""
            conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {guard}{spec}"))


def normalize_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Database:
    def __init__(self, url: str, *, pool_size: int = 16) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self._limiter = CapacityLimiter(pool_size)
        self._hot_reads: ThreadPoolExecutor | None = None  # see read_plain
        self._hot_reads_pid = 0
        self._hot_reads_lock = threading.Lock()
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=HOT_READ_THREADS + BACKGROUND_CONNECTIONS,
                connect_args={"check_same_thread": False, "timeout": 30},
            )
            event.listen(self.engine, "connect", _configure_sqlite)
            event.listen(self.engine, "begin", _begin_sqlite)
        else:
            self.engine = create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=HOT_READ_THREADS + BACKGROUND_CONNECTIONS,
                pool_pre_ping=True,
            )

    @contextmanager
    def startup_lock(self) -> Iterator[None]:
        """Run start-up work (schema changes, the first signing key, the owner user) one
        process at a time across replicas sharing a PostgreSQL database: a session advisory
        lock, held on its own connection until the block ends. Replicas starting together on a
        new or upgraded database would otherwise race on the DDL and each create an owner.

        SQLite needs none: its file is served from one host, and ``berth serve --workers``
        prepares the database once before it starts the workers.
        """
        if self.is_sqlite:
            yield
            return
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK_KEY})
                conn.commit()

    def create_schema(self) -> None:
        """Create missing tables and indexes, record the schema version; refuse a newer database."""
        with self.engine.begin() as conn:
            metadata.create_all(conn)
            add_missing_columns(conn)
            # create_all adds missing tables only: an index added to an existing table (such as
            # ix_repository_events_correlation_time) is created here on a database made before it.
            for table in metadata.sorted_tables:
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
            row = conn.execute(
                select(settings_table.c.value).where(settings_table.c.key == "schema_version")
            ).first()
            if row is None:
                conn.execute(settings_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
            elif int(row[0]) > SCHEMA_VERSION:
                raise SchemaMismatch(
                    f"the metadata database has schema version {row[0]}, newer than this berth "
                    f"({SCHEMA_VERSION}); upgrade berth"
                )

    def read_sync(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        with self.engine.connect() as conn, conn.begin():
            return fn(conn, *args, **kwargs)

    def write_sync(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._write_lock is None:
            with self.engine.begin() as conn:
                return fn(conn, *args, **kwargs)
        with self._write_lock, self.engine.connect() as conn:
            conn.info["immediate"] = True
            try:
                with conn.begin():
                    return fn(conn, *args, **kwargs)
            finally:
                conn.info.pop("immediate", None)

    async def read(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await anyio.to_thread.run_sync(
            lambda: self.read_sync(fn, *args, **kwargs), limiter=self._limiter
        )

    def read_plain_sync(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Like :meth:`read_sync` without opening a transaction first.

        For reads whose statements are each consistent by themselves (a
        :class:`~berth.metadata.driver_query.DriverQuery` runs as its own snapshot): on SQLite it
        saves the ``BEGIN`` and ``COMMIT`` round trips of the hot token reads. A SQLAlchemy
        statement ``fn`` runs still begins a transaction, rolled back when ``fn`` returns.
        """
        with self.engine.connect() as conn:
            return fn(conn, *args, **kwargs)

    async def read_plain(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """:meth:`read_plain_sync` in one of :data:`HOT_READ_THREADS` threads of its own.

        ``loop.run_in_executor`` costs about half the CPU of ``anyio.to_thread.run_sync``
        (30 against 60 µs a call here), which matters for reads made on every token request.
        The threads add at most :data:`HOT_READ_THREADS` connections to the ``pool_size`` the
        other reads and writes share; the pool's overflow has room for them on top of the
        background threads' (:data:`BACKGROUND_CONNECTIONS`), so a token read never waits for
        a connection that the event writer or the bus holds.
        """
        executor = self._hot_reads
        if executor is None or self._hot_reads_pid != os.getpid():
            # Made on first use, and again in a forked child (a pool's threads do not survive
            # the fork; ``berth serve --workers`` forks after the supervisor's own setup).
            with self._hot_reads_lock:
                if self._hot_reads is None or self._hot_reads_pid != os.getpid():
                    self._hot_reads = ThreadPoolExecutor(HOT_READ_THREADS, "berth-hot-reads")
                    self._hot_reads_pid = os.getpid()
                executor = self._hot_reads
        call = functools.partial(self.read_plain_sync, fn, *args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, contextvars.copy_context().run, call)

    async def write(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return await anyio.to_thread.run_sync(
            lambda: self.write_sync(fn, *args, **kwargs), limiter=self._limiter
        )

    def dispose(self) -> None:
        if self._hot_reads is not None:
            self._hot_reads.shutdown(wait=False)
            self._hot_reads = None
        self.engine.dispose()


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_sqlite(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("immediate") else "BEGIN")


def upsert(
    conn: Connection,
    table: Table,
    values: Mapping[str, Any],
    keys: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert a row, or update ``update`` columns of the row with the same ``keys``."""
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(table).values(**values)
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={name: statement.excluded[name] for name in update}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    conn.execute(statement)

"""The table that carries invalidation messages between processes sharing one SQLite file.

PostgreSQL carries them with ``LISTEN``/``NOTIFY`` and never touches this table; on SQLite,
where there is no notification channel, a publisher appends rows and every process polls for
rows newer than the last it saw (an indexed range read on the primary key, a few times a
second). Rows older than a minute are pruned: a process that has not polled for that long
has far bigger problems, and clears its caches when it finds a gap (see
:mod:`berth.invalidation`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, Connection, Float, Integer, String, Table, Text, delete, func, select

from berth.metadata.schema import metadata

invalidations = Table(
    "invalidations",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("origin", String(64), nullable=False),
    Column("topic", String(40), nullable=False),
    Column("key", Text, nullable=False),
    Column("at", Float, nullable=False),
)

Message = tuple[str, str, str]  # (origin, topic, key)


def append(conn: Connection, messages: Sequence[Message], now: float, keep_seconds: float) -> None:
    conn.execute(
        invalidations.insert(),
        [{"origin": o, "topic": t, "key": k, "at": now} for o, t, k in messages],
    )
    conn.execute(delete(invalidations).where(invalidations.c.at < now - keep_seconds))


def last_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(invalidations.c.seq), 0))).scalar_one())


def since(conn: Connection, seq: int) -> tuple[int | None, list[tuple[int, str, str, str]]]:
    """The messages after ``seq``, and the oldest sequence number still kept (None if none)."""
    oldest = conn.execute(select(func.min(invalidations.c.seq))).scalar()
    rows = conn.execute(
        select(invalidations.c.seq, invalidations.c.origin, invalidations.c.topic, invalidations.c.key)
        .where(invalidations.c.seq > seq)
        .order_by(invalidations.c.seq)
    ).all()
    return (None if oldest is None else int(oldest)), [(int(r[0]), r[1], r[2], r[3]) for r in rows]

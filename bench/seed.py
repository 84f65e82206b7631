"""Fast seeding of a running berth's metadata for the growth cases (a documented generator).

Pushing 100,000 repositories or 10 million events through the API would take hours, so the
growth cases write rows straight into the server's SQLite database (``<data-dir>/metadata.db``)
with ``INSERT … SELECT`` over a recursive counter: SQLite generates the rows itself, about a
million a second here, in transactions of at most :data:`BATCH` rows so that the server's own
writers (events, uploads) wait seconds at most. The rows are what berth itself writes, minus
the blobs: seeded repositories hold one small manifest row each (so the catalog lists them),
seeded tags point at the measured repository's real manifest, and seeded events are spread
over the last :data:`EVENT_SPAN_DAYS` days (inside the default 30-day retention, so the purge
leaves them alone while the bench runs). The schema comes from :mod:`berth.metadata`, as
imported by the benchmark (this checkout's berth). SQLite only: the bench runs berth on its
default database.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

BATCH = 1_000_000
EVENT_SPAN_DAYS = 29
FILLER_PREFIX = "bench/fill-"
FILLER_MANIFEST = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}'
FILLER_DIGEST = "sha256:" + hashlib.sha256(FILLER_MANIFEST).hexdigest()
_COUNTER = "WITH RECURSIVE seq(n) AS (SELECT :start UNION ALL SELECT n + 1 FROM seq WHERE n < :stop) "


def correlation_id(n: int) -> str:
    """The correlation id the generator gives event number ``n`` (UUID-shaped, unique)."""
    return f"00000000-0000-4000-8000-{n:012d}"


def _ranges(total: int, first: int) -> Iterator[tuple[int, int]]:
    """``[start, stop]`` ranges of at most BATCH numbers covering ``first`` … ``first + total - 1``."""
    start = first
    while start < first + total:
        stop = min(start + BATCH, first + total) - 1
        yield start, stop
        start = stop + 1


class Seeder:
    def __init__(self, data_dir: Path) -> None:
        self.engine: Engine = create_engine(
            f"sqlite:///{data_dir / 'metadata.db'}", connect_args={"timeout": 60}
        )

    def close(self) -> None:
        self.engine.dispose()

    def registry_id(self, name: str = "default") -> str:
        with self.engine.connect() as conn:
            found = conn.execute(
                text("SELECT id FROM registries WHERE name_lower = :n"), {"n": name}
            ).scalar()
        if found is None:
            raise RuntimeError(f"no registry {name} in the database")
        return str(found)

    def repository(self, registry_id: str, name: str) -> tuple[int, str]:
        """The id and one manifest digest of a repository pushed through the API."""
        with self.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT r.id, m.digest FROM repositories r JOIN manifests m ON m.repository_id = r.id "
                    "WHERE r.registry_id = :rid AND r.name = :name"
                ),
                {"rid": registry_id, "name": name},
            ).first()
        if row is None:
            raise RuntimeError(f"repository {name} has no manifest")
        return int(row[0]), str(row[1])

    def add_repositories(self, registry_id: str, first: int, count: int) -> None:
        """Repositories ``bench/fill-<first>`` … each with one manifest row (listed by the catalog)."""
        now = time.time()
        for start, stop in _ranges(count, first):
            params = {"start": start, "stop": stop, "rid": registry_id, "t": now}
            with self.engine.begin() as conn:
                conn.execute(
                    text(
                        _COUNTER + "INSERT INTO repositories (registry_id, name, created_at, updated_at) "
                        f"SELECT :rid, '{FILLER_PREFIX}' || printf('%08d', n), :t, :t FROM seq"
                    ),
                    params,
                )
                conn.execute(
                    text(
                        "INSERT INTO manifests (repository_id, digest, media_type, size, content, "
                        "created_at, updated_at) "
                        "SELECT id, :digest, 'application/vnd.oci.image.manifest.v1+json', :size, :content, "
                        ":t, :t FROM repositories WHERE registry_id = :rid AND name >= :lo AND name <= :hi"
                    ),
                    {
                        "digest": FILLER_DIGEST,
                        "size": len(FILLER_MANIFEST),
                        "content": FILLER_MANIFEST,
                        "t": now,
                        "rid": registry_id,
                        "lo": f"{FILLER_PREFIX}{start:08d}",
                        "hi": f"{FILLER_PREFIX}{stop:08d}",
                    },
                )

    def add_tags(self, repository_id: int, digest: str, first: int, count: int) -> None:
        now = time.time()
        for start, stop in _ranges(count, first):
            with self.engine.begin() as conn:
                conn.execute(
                    text(
                        _COUNTER + "INSERT INTO tags (repository_id, name, digest, created_at, updated_at) "
                        "SELECT :repo, 'fill-' || printf('%08d', n), :digest, :t, :t FROM seq"
                    ),
                    {"start": start, "stop": stop, "repo": repository_id, "digest": digest, "t": now},
                )

    def add_events(self, registry_id: str, registry: str, count: int) -> None:
        """``count`` events, alternately login and repository events, newest first by number.

        Event ``n`` happened ``n`` steps before now (the whole set spans EVENT_SPAN_DAYS); one
        login in 50 failed; event ``n`` has :func:`correlation_id` ``(n)``.
        """
        now = time.time()
        step = EVENT_SPAN_DAYS * 86400.0 / max(count, 1)
        common = {"rid": registry_id, "reg": registry, "now": now, "step": step}
        for start, stop in _ranges(count, 1):
            params = {**common, "start": start, "stop": stop}
            with self.engine.begin() as conn:
                conn.execute(
                    text(
                        _COUNTER
                        + "INSERT INTO login_events (time, registry_id, registry, operation, identity, "
                        "identity_kind, caller_ip, correlation_id, result_type, result_description, reason) "
                        "SELECT :now - n * :step, :rid, :reg, 'token', 'user' || (n % 97), 'user', "
                        "'10.0.0.' || (n % 250), "
                        "'00000000-0000-4000-8000-' || printf('%012d', n), "
                        "CASE WHEN n % 50 = 0 THEN 'Failed' ELSE 'Succeeded' END, "
                        "CASE WHEN n % 50 = 0 THEN '401' ELSE '200' END, "
                        "CASE WHEN n % 50 = 0 THEN 'bad_secret' ELSE '' END "
                        "FROM seq WHERE n % 2 = 0"
                    ),
                    params,
                )
                conn.execute(
                    text(
                        _COUNTER + "INSERT INTO repository_events (time, registry_id, registry, operation, "
                        "identity, identity_kind, correlation_id, result_type, result_description, "
                        "repository, tag, digest) "
                        "SELECT :now - n * :step, :rid, :reg, 'Pull', 'user' || (n % 97), 'user', "
                        "'00000000-0000-4000-8000-' || printf('%012d', n), 'Succeeded', '200', "
                        "'app/' || (n % 1000), 'v1', :digest FROM seq WHERE n % 2 = 1"
                    ),
                    {**params, "digest": FILLER_DIGEST},
                )

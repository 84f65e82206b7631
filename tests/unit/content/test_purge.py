"""berth.content.purge: old matching tags and untagged manifests go; kept, young and locked ones stay."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, update

from berth.content.purge import PurgeFilter, purge
from berth.metadata import manifests as manifest_rows
from berth.metadata import registries as registry_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.database import Database
from berth.metadata.schema import manifests, tags

DAY = 86400.0


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.create_schema()
    yield database
    database.dispose()


def digest(n: int) -> str:
    return "sha256:" + f"{n:x}" * 64


def arrange(db: Database) -> str:
    """team/web: v1..v4 (v4 newest, v1 locked), and one untagged manifest; other/x: v1. All old."""
    registry = db.write_sync(registry_rows.create, "Purge")

    def work(conn: Connection) -> None:
        for name, count in (("team/web", 5), ("other/x", 1)):
            repo = repository_rows.ensure(conn, registry.id, name)
            for n in range(1, count + 1):
                value = manifest_rows.ManifestInput(digest=digest(n), media_type="x", content=str(n).encode())
                manifest_rows.put(conn, repo.id, value)
                if n <= 4:
                    repository_rows.put_tag(conn, repo.id, f"v{n}", digest(n))
                    conn.execute(
                        update(tags)
                        .where(tags.c.repository_id == repo.id, tags.c.name == f"v{n}")
                        .values(updated_at=time.time() - 40 * DAY + n)
                    )
            conn.execute(update(manifests).values(updated_at=time.time() - 40 * DAY))
            if name == "team/web":
                repository_rows.set_tag_attributes(conn, repo.id, "v1", {"delete_enabled": False})
                conn.execute(
                    update(tags).where(tags.c.name == "v1").values(updated_at=time.time() - 50 * DAY)
                )

    db.write_sync(work)
    return registry.id


def test_purge_keeps_the_newest_skips_locks_and_can_take_untagged(db: Database) -> None:
    registry_id = arrange(db)
    filters = [PurgeFilter.parse("team/.*:v.*")]
    cutoff = time.time() - 30 * DAY

    dry = db.write_sync(purge, registry_id, filters, cutoff, untagged=True, keep=1, dry_run=True)
    assert dry.tags == ["team/web:v3", "team/web:v2"]
    assert dry.locked == ["team/web:v1"]
    assert dry.manifests == [f"team/web@{d}" for d in sorted([digest(2), digest(3), digest(5)])]
    unchanged = db.read_sync(repository_rows.get, registry_id, "team/web")
    assert unchanged is not None
    assert len(db.read_sync(repository_rows.list_tags, unchanged.id)) == 4  # a dry run changes nothing

    done = db.write_sync(purge, registry_id, filters, cutoff, untagged=True, keep=1)

    assert (done.tags, done.locked, sorted(done.manifests)) == (dry.tags, dry.locked, sorted(dry.manifests))
    web = db.read_sync(repository_rows.get, registry_id, "team/web")
    other = db.read_sync(repository_rows.get, registry_id, "other/x")
    assert web is not None
    assert other is not None
    assert sorted(t.name for t in db.read_sync(repository_rows.list_tags, web.id)) == ["v1", "v4"]
    assert sorted(db.read_sync(manifest_rows.all_digests, web.id)) == sorted([digest(1), digest(4)])
    assert [t.name for t in db.read_sync(repository_rows.list_tags, other.id)] == ["v1"]


def test_young_tags_stay_and_filters_must_name_a_repository_and_a_tag(db: Database) -> None:
    registry_id = arrange(db)

    result = db.write_sync(purge, registry_id, [PurgeFilter.parse("other/x:.*")], time.time() - 60 * DAY)

    assert (result.tags, result.manifests) == ([], [])
    with pytest.raises(ValueError, match="repository regex"):
        PurgeFilter.parse("team/web")

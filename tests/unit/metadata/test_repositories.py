"""berth.metadata.repositories: repositories and tags of a registry."""

from __future__ import annotations

import hashlib

from berth.metadata import manifests as manifest_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.database import Database
from berth.metadata.registries import RegistryRecord

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def with_manifest(db: Database, registry: RegistryRecord, name: str, content: str = "m") -> int:
    repo = db.write_sync(repository_rows.ensure, registry.id, name)
    body = f"{name}:{content}".encode()
    db.write_sync(
        manifest_rows.put,
        repo.id,
        manifest_rows.ManifestInput(digest=digest(body.decode()), media_type=OCI_MANIFEST, content=body),
    )
    return repo.id


def test_ensure_is_idempotent_and_per_registry(
    db: Database, registry: RegistryRecord, second_registry: RegistryRecord
) -> None:
    first = db.write_sync(repository_rows.ensure, registry.id, "team/app")
    again = db.write_sync(repository_rows.ensure, registry.id, "team/app")
    elsewhere = db.write_sync(repository_rows.ensure, second_registry.id, "team/app")

    assert first == again
    assert elsewhere.id != first.id
    assert db.read_sync(repository_rows.get, registry.id, "team/app") == first
    assert db.read_sync(repository_rows.get, registry.id, "team/other") is None
    assert first.attributes == repository_rows.Attributes()


def test_list_names_holds_only_repositories_with_manifests(db: Database, registry: RegistryRecord) -> None:
    for name in ("c", "a/b", "b"):
        with_manifest(db, registry, name)
    db.write_sync(repository_rows.ensure, registry.id, "empty")

    assert db.read_sync(repository_rows.list_names, registry.id, None, None) == ["a/b", "b", "c"]
    assert db.read_sync(repository_rows.list_names, registry.id, "a/b", 1) == ["b"]
    assert db.read_sync(repository_rows.list_names, registry.id, "c", None) == []


def test_list_names_is_per_registry(
    db: Database, registry: RegistryRecord, second_registry: RegistryRecord
) -> None:
    with_manifest(db, registry, "mine")
    with_manifest(db, second_registry, "theirs")

    assert db.read_sync(repository_rows.list_names, registry.id, None, None) == ["mine"]
    assert db.read_sync(repository_rows.list_names, second_registry.id, None, None) == ["theirs"]


def test_list_names_uses_code_point_order(db: Database, registry: RegistryRecord) -> None:
    names = ["ab", "a-b", "a/b", "a", "a.b", "a_b", "0"]
    for name in names:
        with_manifest(db, registry, name)

    assert db.read_sync(repository_rows.list_names, registry.id, None, None) == sorted(names)


def test_tags_put_move_list_and_delete(db: Database, registry: RegistryRecord) -> None:
    repo = db.write_sync(repository_rows.ensure, registry.id, "app").id
    for name in ("v2", "latest", "v1"):
        db.write_sync(repository_rows.put_tag, repo, name, digest("one"))
    db.write_sync(repository_rows.put_tag, repo, "latest", digest("two"))

    tags = db.read_sync(repository_rows.list_tags, repo)
    assert [(t.name, t.digest) for t in tags] == [
        ("latest", digest("two")),
        ("v1", digest("one")),
        ("v2", digest("one")),
    ]
    assert [t.name for t in db.read_sync(repository_rows.list_tags, repo, "latest", 1)] == ["v1"]
    assert [t.name for t in db.read_sync(repository_rows.list_tags, repo, digest=digest("one"))] == [
        "v1",
        "v2",
    ]
    found = db.read_sync(repository_rows.get_tag, repo, "latest")
    assert found is not None
    assert found.digest == digest("two")
    assert db.write_sync(repository_rows.delete_tag, repo, "latest") is True
    assert db.write_sync(repository_rows.delete_tag, repo, "latest") is False
    assert db.read_sync(repository_rows.get_tag, repo, "latest") is None


def test_tags_use_code_point_order(db: Database, registry: RegistryRecord) -> None:
    repo = db.write_sync(repository_rows.ensure, registry.id, "app").id
    names = ["b", "B", "a", "_x", "A", "9", "a-b", "a.b", "a_b", "Z"]
    for name in names:
        db.write_sync(repository_rows.put_tag, repo, name, digest("x"))

    assert [t.name for t in db.read_sync(repository_rows.list_tags, repo)] == sorted(names)
    assert [t.name for t in db.read_sync(repository_rows.list_tags, repo, "Z")] == sorted(
        n for n in names if n > "Z"
    )


def test_removing_a_repository_removes_its_tags_and_manifests(db: Database, registry: RegistryRecord) -> None:
    repo = with_manifest(db, registry, "app")
    db.write_sync(repository_rows.put_tag, repo, "v1", digest("app:m"))

    db.write_sync(repository_rows.remove, repo)

    assert db.read_sync(repository_rows.get, registry.id, "app") is None
    assert db.read_sync(repository_rows.list_tags, repo) == []
    assert db.read_sync(manifest_rows.all_digests, repo) == []


def test_counts(db: Database, registry: RegistryRecord) -> None:
    repo = with_manifest(db, registry, "app")
    with_manifest(db, registry, "app", "second")
    db.write_sync(repository_rows.put_tag, repo, "v1", digest("app:m"))

    assert db.read_sync(repository_rows.counts, repo) == (2, 1)

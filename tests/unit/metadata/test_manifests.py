"""berth.metadata.manifests: manifests, their references and the referrers index."""

from __future__ import annotations

import hashlib

import pytest

from berth.metadata import manifests as manifest_rows
from berth.metadata import pulls
from berth.metadata import repositories as repository_rows
from berth.metadata.database import Database
from berth.metadata.manifests import ManifestInput, Reference
from berth.metadata.registries import RegistryRecord

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
SUBJECT = "sha256:" + "5" * 64


def manifest(text: str, **extra: object) -> ManifestInput:
    content = text.encode()
    values: dict[str, object] = {"media_type": OCI_MANIFEST, **extra}
    return ManifestInput(digest="sha256:" + hashlib.sha256(content).hexdigest(), content=content, **values)  # type: ignore[arg-type]


@pytest.fixture
def repo(db: Database, registry: RegistryRecord) -> int:
    return db.write_sync(repository_rows.ensure, registry.id, "team/app").id


def test_put_stores_once(db: Database, repo: int) -> None:
    item = manifest("one", artifact_type="application/x", annotations={"k": "v"}, image_size=42)

    assert db.write_sync(manifest_rows.put, repo, item) is True
    assert db.write_sync(manifest_rows.put, repo, item) is False

    record = db.read_sync(manifest_rows.get, repo, item.digest)
    assert record is not None
    assert (record.digest, record.media_type, record.size) == (item.digest, OCI_MANIFEST, len(item.content))
    assert (record.artifact_type, record.annotations, record.image_size) == ("application/x", {"k": "v"}, 42)
    assert db.read_sync(manifest_rows.exists, repo, item.digest)


def test_content_by_digest_and_by_tag(db: Database, registry: RegistryRecord, repo: int) -> None:
    """The pull lookup (repository, tag and manifest in one statement) finds a manifest either way."""
    item = manifest('{"binary":"\\u0000 and bytes"}')
    db.write_sync(manifest_rows.put, repo, item)
    db.write_sync(repository_rows.put_tag, repo, "v1", item.digest)

    by_digest = db.read_sync(pulls.lookup, registry.id, "team/app", item.digest, by_tag=False)
    by_tag = db.read_sync(pulls.lookup, registry.id, "team/app", "v1", by_tag=True)

    assert by_digest.manifest is not None
    assert by_tag.manifest is not None
    assert by_digest.content == by_tag.content == item.content
    assert by_digest.manifest == by_tag.manifest
    assert db.read_sync(pulls.lookup, registry.id, "team/app", "v2", by_tag=True).manifest is None
    assert db.read_sync(pulls.lookup, registry.id, "team/app", SUBJECT, by_tag=False).manifest is None


def test_references_are_deduplicated(db: Database, repo: int) -> None:
    child = "sha256:" + "c" * 64
    layer = "sha256:" + "d" * 64
    item = manifest(
        "index",
        media_type=OCI_INDEX,
        references=[
            Reference(child, "manifest", "linux", "amd64"),
            Reference(child, "manifest", "linux", "amd64"),
            Reference(layer, "blob"),
        ],
    )
    db.write_sync(manifest_rows.put, repo, item)
    record = db.read_sync(manifest_rows.get, repo, item.digest)
    assert record is not None

    references = db.read_sync(manifest_rows.references, record.id)

    assert sorted(references, key=lambda r: r.digest) == [
        Reference(child, "manifest", "linux", "amd64"),
        Reference(layer, "blob", None, None),
    ]
    assert db.read_sync(manifest_rows.child_references, [record.id]) == {
        record.id: [Reference(child, "manifest", "linux", "amd64")]
    }


def test_remove_deletes_the_manifest_and_its_tags(db: Database, repo: int) -> None:
    item, other = manifest("gone"), manifest("kept")
    db.write_sync(manifest_rows.put, repo, item)
    db.write_sync(manifest_rows.put, repo, other)
    for tag, target in (("a", item), ("b", item), ("c", other)):
        db.write_sync(repository_rows.put_tag, repo, tag, target.digest)

    removed = db.write_sync(manifest_rows.remove, repo, item.digest)

    assert sorted(removed) == ["a", "b"]
    assert db.read_sync(manifest_rows.get, repo, item.digest) is None
    assert [t.name for t in db.read_sync(repository_rows.list_tags, repo)] == ["c"]
    assert db.read_sync(manifest_rows.all_digests, repo) == [other.digest]


def test_referrers_filter_by_artifact_type(db: Database, repo: int) -> None:
    signature = manifest("sig", subject=SUBJECT, artifact_type="application/signature")
    sbom = manifest("sbom", subject=SUBJECT, artifact_type="application/sbom")
    unrelated = manifest("unrelated", artifact_type="application/signature")
    for item in (signature, sbom, unrelated):
        db.write_sync(manifest_rows.put, repo, item)

    every = db.read_sync(manifest_rows.referrers, repo, SUBJECT)
    signatures = db.read_sync(manifest_rows.referrers, repo, SUBJECT, "application/signature")

    assert sorted(r.digest for r in every) == sorted([signature.digest, sbom.digest])
    assert [r.digest for r in signatures] == [signature.digest]
    assert db.read_sync(manifest_rows.referrers, repo, "sha256:" + "6" * 64) == []


def test_referrers_are_per_repository(db: Database, registry: RegistryRecord, repo: int) -> None:
    other = db.write_sync(repository_rows.ensure, registry.id, "team/other").id
    db.write_sync(manifest_rows.put, other, manifest("elsewhere", subject=SUBJECT))

    assert db.read_sync(manifest_rows.referrers, repo, SUBJECT) == []


def test_list_all_pages_by_digest(db: Database, repo: int) -> None:
    items = [manifest(f"m{i}") for i in range(5)]
    for item in items:
        db.write_sync(manifest_rows.put, repo, item)
    digests = sorted(i.digest for i in items)

    assert [r.digest for r in db.read_sync(manifest_rows.list_all, repo)] == digests
    assert [r.digest for r in db.read_sync(manifest_rows.list_all, repo, digests[1], 2)] == digests[2:4]


def test_manifests_of_a_repository_stay_in_it(db: Database, registry: RegistryRecord, repo: int) -> None:
    other = db.write_sync(repository_rows.ensure, registry.id, "team/other").id
    item = manifest("here")
    db.write_sync(manifest_rows.put, repo, item)

    assert db.read_sync(manifest_rows.get, other, item.digest) is None
    assert not db.read_sync(manifest_rows.exists, other, item.digest)
    assert db.write_sync(manifest_rows.put, other, item) is True

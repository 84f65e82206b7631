"""Repositories found by a part of their name, paged, on both engines; referrers as a tree."""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection

from berth.metadata import manifests as manifest_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.database import Database
from berth.metadata.manifests import ManifestInput
from berth.metadata.registries import RegistryRecord
from berth.portal.queries import referrer_tree, search_repositories


def manifest(conn: Connection, repository_id: int, text: str, subject: str | None = None) -> str:
    content = text.encode()
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    manifest_rows.put(
        conn,
        repository_id,
        ManifestInput(
            digest=digest,
            media_type="application/vnd.oci.image.manifest.v1+json",
            content=content,
            subject=subject,
            artifact_type="application/vnd.dev.cosign.signature" if subject else None,
        ),
    )
    return digest


def test_search_finds_parts_of_names_and_pages(db: Database, registry: RegistryRecord) -> None:
    def arrange(conn: Connection) -> None:
        for name in ("team/app", "team/api", "other/app_1", "other/app%x", "empty"):
            repo = repository_rows.ensure(conn, registry.id, name)
            if name != "empty":
                manifest(conn, repo.id, name)

    db.write_sync(arrange)
    assert db.read_sync(search_repositories, registry.id, "", None, 10) == [
        "other/app%x",
        "other/app_1",
        "team/api",
        "team/app",
    ]
    assert db.read_sync(search_repositories, registry.id, "APP", None, 10) == [
        "other/app%x",
        "other/app_1",
        "team/app",
    ]
    assert db.read_sync(search_repositories, registry.id, "app", "other/app_1", 10) == ["team/app"]
    assert db.read_sync(search_repositories, registry.id, "app", None, 1) == ["other/app%x"]
    # LIKE's wildcards are plain characters in a search.
    assert db.read_sync(search_repositories, registry.id, "%", None, 10) == ["other/app%x"]
    assert db.read_sync(search_repositories, registry.id, "_", None, 10) == ["other/app_1"]


def test_referrers_form_a_tree(db: Database, registry: RegistryRecord) -> None:
    def arrange(conn: Connection) -> tuple[int, str, str]:
        repo = repository_rows.ensure(conn, registry.id, "signed")
        image = manifest(conn, repo.id, "image")
        signature = manifest(conn, repo.id, "signature", subject=image)
        manifest(conn, repo.id, "signature of the signature", subject=signature)
        return repo.id, image, signature

    repo_id, image, signature = db.write_sync(arrange)
    tree = db.read_sync(referrer_tree, repo_id, image)
    assert [node.manifest.digest for node in tree] == [signature]
    assert tree[0].kind == "signature"
    assert len(tree[0].children) == 1

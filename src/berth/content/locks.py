"""ACR's changeable attributes as locks: ``writeEnabled``, ``deleteEnabled``, ``readEnabled``.

A locked operation is refused with ``403 DENIED`` and a message that names the attribute and
the command that lifts it, so ``docker push`` prints the reason instead of a bare "denied".
"""

from __future__ import annotations

from sqlalchemy import Connection

from berth import errors
from berth.errors import WireError
from berth.metadata import manifests as manifest_rows
from berth.metadata import repositories as repository_rows
from berth.metadata.repositories import Attributes, RepositoryRecord, TagRecord


def _locked(what: str, attribute: str, repository: str, image: str | None = None) -> WireError:
    """``image`` (``repo:tag`` or ``repo@digest``) when a tag or manifest holds the lock."""
    target = f"--image {image}" if image else f"--repository {repository}"
    return WireError(
        errors.DENIED,
        f"{what} is locked: {attribute} is false. Lift it with "
        f"'berth acr repository update -n <registry> {target} --{_flag(attribute)} true'",
        detail={"attribute": attribute},
    )


def _flag(attribute: str) -> str:
    return {
        "writeEnabled": "write-enabled",
        "deleteEnabled": "delete-enabled",
        "readEnabled": "read-enabled",
    }[attribute]


def check_read(
    repo: RepositoryRecord, manifest: manifest_rows.ManifestRecord, tag: TagRecord | None = None
) -> None:
    """A pull of ``manifest`` (through ``tag`` when pulled by tag)."""
    check_repository_read(repo)
    if tag is not None and not tag.attributes.read_enabled:
        raise _locked(f"tag {tag.name}", "readEnabled", repo.name, f"{repo.name}:{tag.name}")
    if not manifest.attributes.read_enabled:
        raise _locked(
            f"manifest {manifest.digest}", "readEnabled", repo.name, f"{repo.name}@{manifest.digest}"
        )


def check_repository_read(repo: RepositoryRecord) -> None:
    """Any read of a repository's content (manifests and blobs)."""
    if not repo.attributes.read_enabled:
        raise _locked(f"repository {repo.name}", "readEnabled", repo.name)


def check_write(conn: Connection, repo: RepositoryRecord, tag: str | None, digest: str) -> None:
    if not repo.attributes.write_enabled:
        raise _locked(f"repository {repo.name}", "writeEnabled", repo.name)
    if tag is not None:
        existing = repository_rows.get_tag(conn, repo.id, tag)
        if existing is not None and existing.digest != digest:
            if not existing.attributes.write_enabled:
                raise _locked(f"tag {tag}", "writeEnabled", repo.name, f"{repo.name}:{tag}")
            current = manifest_rows.get(conn, repo.id, existing.digest)
            if current is not None and not current.attributes.write_enabled:
                raise _locked(
                    f"manifest {current.digest} (tagged {tag})",
                    "writeEnabled",
                    repo.name,
                    f"{repo.name}@{current.digest}",
                )


def check_delete(repo: RepositoryRecord, attributes: Attributes, what: str, image: str | None = None) -> None:
    """Deleting ``what`` (``image``: ``repo:tag`` or ``repo@digest`` for a tag or manifest)."""
    if not repo.attributes.delete_enabled:
        raise _locked(f"repository {repo.name}", "deleteEnabled", repo.name)
    if not attributes.delete_enabled:
        raise _locked(what, "deleteEnabled", repo.name, image)

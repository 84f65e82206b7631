"""``berth acr repository list|show|show-tags|show-manifests|update|delete|untag``.

These talk to the registry itself (``/v2/_catalog`` and ``/acr/v1/``) with an ACR access token
obtained as ``berth acr login`` obtains its refresh token (or from ``--username/--password``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Optional

import typer

from berth.cli.acr.access import get_credentials
from berth.cli.acr.common import Password, RegistryName, ResourceGroup, Username, Yes
from berth.cli.client.registry import RegistryEndpoint, repository_path
from berth.cli.context import current
from berth.cli.framework import CliError, command, confirm, group, three_state

app = group("repository", "Manage repositories (image names) of a registry.")

READ = "metadata_read"
WRITE_READ = "metadata_write,metadata_read"
DELETE = "delete"
DELETE_READ = "delete,metadata_read"


class OrderBy(StrEnum):
    time_asc = "time_asc"
    time_desc = "time_desc"


RepositoryName = Annotated[str, typer.Option("--repository", help="The name of the repository.")]
OptionalRepository = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--repository", help="The name of the repository."),
]
Image = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--image", "-t", help="The image: 'repository:tag' or 'repository@digest'."),
]
Top = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--top", min=1, help="Limit the number of items in the results."),
]
Orderby = Annotated[
    Optional[OrderBy],  # noqa: UP045
    typer.Option("--orderby", help="Order the items in the results."),
]
Detail = Annotated[bool, typer.Option("--detail", help="Show detailed information.")]


def _access(
    name: str, username: str | None, password: str | None, repository: str | None, permission: str | None
) -> tuple[RegistryEndpoint, str]:
    login = get_credentials(
        name, username, password, only_refresh_token=False, repository=repository, permission=permission
    )
    return RegistryEndpoint(current().http, login.login_server, login.scheme), login.password


def parse_image(image: str, allow_digest: bool = False) -> tuple[str, str | None, str | None]:
    """az's ``_parse_image_name``: (repository, tag, digest); no tag means ``latest``."""
    if allow_digest and "@" in image:
        repository, _, digest = image.partition("@")
        return repository, None, digest
    if ":" not in image:
        return image, "latest", None
    parts = image.split(":")
    if len(parts) == 2:
        return parts[0], parts[1], None
    if allow_digest:
        raise CliError(
            "The name of the image to delete may include a tag in the format 'name:tag' or digest in the "
            "format 'name@digest'."
        )
    raise CliError("The name of the image may include a tag in the format 'name:tag'.")


def _target(repository: str | None, image: str | None) -> tuple[str, str | None, str | None]:
    """(repository, tag, digest) from exactly one of ``--repository`` and ``--image``."""
    if bool(repository) == bool(image):
        raise CliError("Usage error: --image IMAGE | --repository REPOSITORY")
    if image:
        return parse_image(image, allow_digest=True)
    assert repository is not None
    return repository, None, None


def _listing(
    name: str,
    username: str | None,
    password: str | None,
    repository: str,
    kind: str,
    top: int | None,
    orderby: OrderBy | None,
) -> list[Any]:
    """Every item of ``/acr/v1/<repository>/_<kind>`` (``tags`` or ``manifests``)."""
    endpoint, token = _access(name, username, password, repository, READ)
    order = orderby.value if orderby else None
    return endpoint.paged(repository_path(repository, f"_{kind}"), token, kind, top, order)


def list_repositories(
    name: RegistryName,
    top: Top = None,
    username: Username = None,
    password: Password = None,
    resource_group: ResourceGroup = None,
) -> list[Any]:
    """List the repositories of a registry."""
    endpoint, token = _access(name, username, password, None, None)
    return endpoint.paged("/v2/_catalog", token, "repositories", top)


def show_tags(
    name: RegistryName,
    repository: RepositoryName,
    top: Top = None,
    orderby: Orderby = None,
    detail: Detail = False,
    username: Username = None,
    password: Password = None,
    resource_group: ResourceGroup = None,
) -> list[Any]:
    """Show the tags of a repository."""
    tags = _listing(name, username, password, repository, "tags", top, orderby)
    return tags if detail else [item["name"] for item in tags]


def show_manifests(
    name: RegistryName,
    repository: RepositoryName,
    top: Top = None,
    orderby: Orderby = None,
    detail: Detail = False,
    username: Username = None,
    password: Password = None,
    resource_group: ResourceGroup = None,
) -> list[Any]:
    """Show the manifests of a repository."""
    manifests = _listing(name, username, password, repository, "manifests", top, orderby)
    if detail:
        return manifests
    return [
        {"digest": m.get("digest", ""), "tags": m.get("tags", []), "timestamp": m.get("lastUpdateTime", "")}
        for m in manifests
    ]


def _attributes(
    name: str,
    repository: str | None,
    image: str | None,
    username: str | None,
    password: str | None,
    patch: dict[str, Any] | None,
) -> Any:
    repository, tag, digest = _target(repository, image)
    endpoint, token = _access(name, username, password, repository, WRITE_READ if patch else READ)
    if tag:
        path, index = repository_path(repository, "_tags", tag), "tag"
    elif digest:
        path, index = repository_path(repository, "_manifests", digest), "manifest"
    else:
        path, index = repository_path(repository), None
    response = endpoint.request("PATCH" if patch else "GET", path, token, json=patch)
    body = response.json() if response.content else None
    return body.get(index) if index and isinstance(body, dict) else body


def show(
    name: RegistryName,
    repository: OptionalRepository = None,
    image: Image = None,
    username: Username = None,
    password: Password = None,
    resource_group: ResourceGroup = None,
) -> Any:
    """Show the attributes of a repository, or of an image (repository:tag or repository@digest)."""
    return _attributes(name, repository, image, username, password, None)


def update(
    name: RegistryName,
    repository: OptionalRepository = None,
    image: Image = None,
    delete_enabled: Annotated[Optional[bool], three_state("Allow deleting.")] = None,  # noqa: UP045
    list_enabled: Annotated[Optional[bool], three_state("Allow listing.")] = None,  # noqa: UP045
    read_enabled: Annotated[Optional[bool], three_state("Allow reading (pull).")] = None,  # noqa: UP045
    write_enabled: Annotated[Optional[bool], three_state("Allow writing (push).")] = None,  # noqa: UP045
    username: Username = None,
    password: Password = None,
    resource_group: ResourceGroup = None,
) -> Any:
    """Update the changeable attributes (locks) of a repository or an image."""
    patch = {
        key: value
        for key, value in (
            ("deleteEnabled", delete_enabled),
            ("listEnabled", list_enabled),
            ("readEnabled", read_enabled),
            ("writeEnabled", write_enabled),
        )
        if value is not None
    }
    return _attributes(name, repository, image, username, password, patch or None)


def delete(
    name: RegistryName,
    repository: OptionalRepository = None,
    image: Image = None,
    yes: Yes = False,
    username: Username = None,
    password: Password = None,
    resource_group: ResourceGroup = None,
) -> None:
    """Delete a repository, or an image's manifest (and every tag pointing to it)."""
    repository, tag, digest = _target(repository, image)
    endpoint, token = _access(name, username, password, repository, DELETE_READ)
    if not (tag or digest):
        confirm(
            f"Are you sure you want to delete the repository '{repository}' and all images under it?", yes
        )
        endpoint.request("DELETE", repository_path(repository), token)
        return
    if digest is None:
        found = endpoint.get_json(repository_path(repository, "_tags", str(tag)), token, "tag") or {}
        digest = found.get("digest")
        if not digest:
            raise CliError(f"Could not get the manifest digest for image '{repository}:{tag}'.")
    manifest = endpoint.get_json(repository_path(repository, "_manifests", digest), token, "manifest") or {}
    images = ", ".join(f"'{repository}:{t}'" for t in manifest.get("tags") or []) or "none"
    confirm(
        f"This operation will delete the manifest '{digest}' and all the following images: {images}. "
        "Are you sure you want to continue?",
        yes,
    )
    endpoint.request("DELETE", f"/v2/{repository}/manifests/{digest}", token)


def untag(
    name: RegistryName,
    image: Annotated[str, typer.Option("--image", "-t", help="The image to untag: 'repository:tag'.")],
    username: Username = None,
    password: Password = None,
    resource_group: ResourceGroup = None,
) -> None:
    """Remove a tag; the manifest it pointed to stays."""
    repository, tag, _ = parse_image(image)
    endpoint, token = _access(name, username, password, repository, DELETE)
    endpoint.request("DELETE", repository_path(repository, "_tags", str(tag)), token)


def register(acr: typer.Typer) -> None:
    command(app, "list")(list_repositories)
    command(app, "show-tags")(show_tags)
    command(app, "show-manifests")(show_manifests)
    command(app, "show")(show)
    command(app, "update")(update)
    command(app, "delete")(delete)
    command(app, "untag")(untag)
    acr.add_typer(app, name="repository")

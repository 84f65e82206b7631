"""``POST R/{name}/importImage`` (``az acr import``): copy an image server-side from another
registry of this service (Reader or more on it), or from any OCI registry over HTTPS with the
credentials given. Needs Contributor (or Owner) on the target."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from berth.management.api.deps import COMMON, ERRORS, REGISTRY, RegistryDep, Scope
from berth.management.api.fields import Name
from berth.management.api.models import Wire
from berth.management.api.registries import REGISTRY_TYPE
from berth.management.authz import READ, WRITE
from berth.management.errors import invalid
from berth.management.import_sources import LocalSource, RemoteSource
from berth.management.imports import ImageImporter, ImageReference, ImportRequest
from berth.metadata.registries import RegistryRecord

router = APIRouter(dependencies=COMMON, responses=ERRORS, tags=["Registries"])


class ImportCredentials(Wire):
    username: Name | None = None
    password: Name | None = None


class ImportSource(Wire):
    resource_id: Name | None = None
    registry_uri: Name | None = None
    credentials: ImportCredentials | None = None
    source_image: Name


class ImportImageParameters(Wire):
    source: ImportSource
    target_tags: Annotated[list[Name], Field(max_length=100)] | None = None
    untagged_target_repositories: Annotated[list[Name], Field(max_length=100)] | None = None
    mode: Literal["NoForce", "Force", "noforce", "force"] = "NoForce"


@router.post(
    REGISTRY + "/importImage",
    status_code=200,
    response_class=Response,
    responses={200: {"description": "Imported"}},
    operation_id="Registries_ImportImage",
)
async def import_image(scope: RegistryDep, body: ImportImageParameters) -> Response:
    """Copy ``source.sourceImage`` from a registry of this service (by ``resourceId`` or by its
    login server in ``registryUri``) to ``targetTags`` and ``untaggedTargetRepositories``."""
    target = await scope.authorized_registry(WRITE, f"{REGISTRY_TYPE}/importImage/action")
    source_image = ImageReference.parse(body.source.source_image, "source.sourceImage")
    target_tags = tuple(ImageReference.parse(t, "targetTags") for t in body.target_tags or [])
    local = await _local_registry(scope, body.source)
    source: LocalSource | RemoteSource
    if local is not None:
        scope.api.require(READ, scope.api.tenancy.registry_id(local), f"{REGISTRY_TYPE}/read")
        source = LocalSource(scope.api.services, local)
    else:
        assert body.source.registry_uri is not None
        credentials = body.source.credentials or ImportCredentials()
        source = RemoteSource(_host(body.source.registry_uri), credentials.username, credentials.password)
    request = ImportRequest(
        source=source,
        source_image=source_image,
        target_tags=target_tags,
        untagged_repositories=tuple(body.untagged_target_repositories or []),
        force=body.mode.lower() == "force",
    )
    try:
        await ImageImporter(scope.api.services).run(target, request)
    finally:
        if isinstance(source, RemoteSource):
            await source.close()
    return Response(status_code=200)


def _host(registry_uri: str) -> str:
    return registry_uri.removeprefix("https://").removeprefix("http://").rstrip("/").lower()


async def _local_registry(scope: Scope, source: ImportSource) -> RegistryRecord | None:
    """The registry of this service the source names; None for another registry's address."""
    admin = scope.api.management.registries
    if source.resource_id:
        marker = f"/providers/{REGISTRY_TYPE}/"
        name = (
            source.resource_id.rpartition(marker)[2] if marker.lower() in source.resource_id.lower() else ""
        )
        if not name:
            raise invalid(f"'{source.resource_id}' is not a registry's resource id.", "source.resourceId")
        return await admin.get(name.split("/")[0])
    if source.registry_uri:
        host = _host(source.registry_uri)
        for record in await admin.list_registries(None):
            if admin.login_server(record).lower() == host:
                return record
        return None
    raise invalid("Name the source registry with source.resourceId or source.registryUri.", "source")

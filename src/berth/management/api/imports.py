"""``POST R/{name}/importImage`` (``az acr import``): copy an image from another registry of this
service, server-side. Needs Contributor on the target and Reader (or more) on the source."""

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
    source = await _source_registry(scope, body.source)
    scope.api.require(READ, scope.api.tenancy.registry_id(source), f"{REGISTRY_TYPE}/read")
    request = ImportRequest(
        source=source,
        source_image=ImageReference.parse(body.source.source_image, "source.sourceImage"),
        target_tags=tuple(ImageReference.parse(t, "targetTags") for t in body.target_tags or []),
        untagged_repositories=tuple(body.untagged_target_repositories or []),
        force=body.mode.lower() == "force",
    )
    await ImageImporter(scope.api.services).run(target, request)
    return Response(status_code=200)


async def _source_registry(scope: Scope, source: ImportSource) -> RegistryRecord:
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
        host = source.registry_uri.removeprefix("https://").removeprefix("http://").rstrip("/").lower()
        for record in await admin.list_registries(None):
            if admin.login_server(record).lower() == host:
                return record
        raise invalid(
            f"berth imports only from its own registries; '{source.registry_uri}' is not one of them.",
            "source.registryUri",
        )
    raise invalid("Name the source registry with source.resourceId or source.registryUri.", "source")

"""Registries: the list, one registry's overview, creating and deleting (Contributor or Owner)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from berth.management.api.usage import SKUS, limit
from berth.management.authz import WRITE
from berth.metadata.usage import usage
from berth.portal.pages import Portal, read_form
from berth.portal.session import PortalUser
from berth.tenancy import PROVIDER

WRITE_ACTION = f"{PROVIDER}/registries/write"
DELETE_ACTION = f"{PROVIDER}/registries/delete"
DEFAULT_GROUP = "default"


class RegistryPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.admin = portal.services.management.registries

    async def index(self, request: Request, user: PortalUser) -> Response:
        records = [r for r in await self.admin.list_registries() if user.can_see(r)]
        rows = [
            {
                "record": r,
                "login_server": self.admin.login_server(r),
                "manage": user.can_read(r),
            }
            for r in records
        ]
        return self.portal.render(
            request, "registries.html", user, rows=rows, can_create=user.can_create_anywhere(), skus=SKUS
        )

    async def new(self, request: Request, user: PortalUser) -> Response:
        return self.portal.render(
            request,
            "registry_new.html",
            user,
            skus=SKUS,
            group=DEFAULT_GROUP,
            can_create=user.can_create_anywhere(),
        )

    async def create(self, request: Request, user: PortalUser) -> Response:
        form = await read_form(request)
        name = form.one("name").strip()
        group = form.one("resource_group", DEFAULT_GROUP).strip() or DEFAULT_GROUP
        scope = f"{user.tenancy.resource_group_scope(group)}/providers/{PROVIDER}/registries/{name}"
        user.caller.require(WRITE, scope, WRITE_ACTION)
        sku = form.one("sku", "Premium")
        record = await self.admin.create(
            name,
            group,
            sku=sku if sku in SKUS else "Premium",
            anonymous_pull_enabled=form.one("anonymous_pull") == "on",
            admin_enabled=form.one("admin_enabled") == "on",
        )
        return RedirectResponse(f"/portal/r/{record.name}", status_code=303)

    async def overview(self, request: Request, user: PortalUser) -> Response:
        record = await self.portal.registry(user, request.path_params["name"])
        used = await self.portal.services.db.read(usage, record.id) if user.can_read(record) else None
        limits = {name: limit(record.sku, name) for name in ("Size", "ScopeMaps", "Tokens")}
        return self.portal.render(
            request,
            "overview.html",
            user,
            registry=record,
            login_server=self.admin.login_server(record),
            resource_id=user.registry_id(record),
            usage=used,
            limits=limits,
            manage=user.can_read(record),
            can_write=user.can_write(record),
            data_actions=sorted(user.data_actions(record)),
            tab="overview",
        )

    async def confirm_delete(self, request: Request, user: PortalUser) -> Response:
        record = await self.portal.registry(user, request.path_params["name"])
        return self.portal.render(
            request,
            "registry_delete.html",
            user,
            registry=record,
            can_write=user.can_write(record),
            tab="overview",
        )

    async def delete(self, request: Request, user: PortalUser) -> Response:
        record = await self.portal.registry(user, request.path_params["name"])
        user.caller.require(WRITE, user.registry_id(record), DELETE_ACTION)
        form = await read_form(request)
        if form.one("confirm") != record.name:
            return self.portal.error(
                request,
                user,
                400,
                "ConfirmationMismatch",
                f"Type the registry's name ({record.name}) to delete it.",
            )
        await self.admin.delete(record)
        return RedirectResponse("/portal/", status_code=303)

"""Access: the admin user, repository-scoped tokens and scope maps, and network rules.

Reading needs Reader or above; every change needs Contributor or Owner (``write``), with the
management API's action names, so a refusal reads the same here and there. Passwords appear
once, in the answer to the request that made them, and are never stored but hashed.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from berth.access.scopes import SCOPE_MAP_ACTIONS
from berth.management.authz import READ, WRITE
from berth.management.errors import invalid
from berth.management.scoped_access import GeneratedPassword
from berth.metadata.registries import IpRule, RegistryRecord
from berth.metadata.repositories import list_names
from berth.portal.pages import Form, Portal, read_form
from berth.portal.session import PortalUser

REGISTRY_ACTION = "Microsoft.ContainerRegistry/registries"
TOKENS = f"{REGISTRY_ACTION}/tokens"
SCOPE_MAPS = f"{REGISTRY_ACTION}/scopeMaps"
GRID_ROWS = 6
MAX_GRID_ROWS = 500  # a scope map holds at most 500 actions anyway
MAX_EXPIRY_DAYS = 3650


def _expiry(form: Form) -> float | None:
    text = form.one("expiry_days").strip()
    if not text:
        return None
    try:
        days = float(text)
    except ValueError:
        raise invalid(f"'{text[:20]}' is not a number of days.", "expiry_days") from None
    if not 0 < days <= MAX_EXPIRY_DAYS:
        raise invalid(f"The expiry must be between 0 and {MAX_EXPIRY_DAYS} days.", "expiry_days")
    return time.time() + days * 86400


def grid_actions(form: Form) -> list[str]:
    """The scope map actions a repository x action grid asks for (``repositories/<repo>/<action>``)."""
    actions = []
    rows = min(int(form.one("rows")), MAX_GRID_ROWS) if form.one("rows").isdigit() else 0
    for row in range(rows):
        repo = form.one(f"repo_{row}").strip()
        for action in form.all(f"action_{row}"):
            if repo and action in SCOPE_MAP_ACTIONS:
                actions.append(f"repositories/{repo}/{action}")
    return actions


class AccessPages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.services = portal.services
        self.registries = portal.services.management.registries
        self.scoped = portal.services.management.scoped

    async def _registry(
        self, request: Request, user: PortalUser, permission: str, action: str
    ) -> RegistryRecord:
        record = await self.portal.registry(user, request.path_params["name"])
        user.caller.require(permission, user.registry_id(record), action)
        return record

    async def _shown_once(
        self,
        request: Request,
        user: PortalUser,
        token_name: str,
        password: GeneratedPassword,
        expires_at: float | None,
    ) -> Response:
        """The access page with a token's new password, which is never shown again."""
        values = {password.name: password.value.reveal()}
        revealed = {"title": f"Token {token_name}", "values": values, "expires_at": expires_at}
        return await self.page(request, user, revealed)

    async def page(
        self, request: Request, user: PortalUser, revealed: dict[str, Any] | None = None
    ) -> Response:
        record = await self._registry(request, user, READ, f"{REGISTRY_ACTION}/read")
        repositories = await self.services.db.read(list_names, record.id, None, GRID_ROWS)
        grid = repositories + [""] * max(0, GRID_ROWS - len(repositories))
        return self.portal.render(
            request,
            "access.html",
            user,
            registry=record,
            scope_maps=await self.scoped.list_scope_maps(record),
            tokens=await self.scoped.list_tokens(record),
            grid=grid,
            grid_actions=SCOPE_MAP_ACTIONS,
            can_write=user.can_write(record),
            revealed=revealed,
            manage=True,
            tab="access",
            now=time.time(),
        )

    # --- the admin user -------------------------------------------------------------------

    async def admin_user(self, request: Request, user: PortalUser) -> Response:
        record = await self._registry(request, user, WRITE, f"{REGISTRY_ACTION}/write")
        form = await read_form(request)
        enabled = form.one("enabled") == "true"
        record = await self.registries.update(record, admin_enabled=enabled)
        if not enabled:
            return RedirectResponse(f"/portal/r/{record.name}/access", status_code=303)
        credentials = await self.registries.admin_credentials(record)
        shown = {p.name: p.value.reveal() for p in credentials.passwords if p.value is not None}
        return await self.page(
            request, user, {"title": f"Admin user {credentials.username}", "values": shown}
        )

    async def admin_regenerate(self, request: Request, user: PortalUser) -> Response:
        record = await self._registry(request, user, WRITE, f"{REGISTRY_ACTION}/regenerateCredential/action")
        form = await read_form(request)
        credentials = await self.registries.regenerate_admin_password(record, form.one("password_name"))
        shown = {p.name: p.value.reveal() for p in credentials.passwords if p.value is not None}
        return await self.page(
            request, user, {"title": f"Admin user {credentials.username}", "values": shown}
        )

    # --- scope maps and tokens --------------------------------------------------------------

    async def create_scope_map(self, request: Request, user: PortalUser) -> Response:
        record = await self._registry(request, user, WRITE, f"{SCOPE_MAPS}/write")
        form = await read_form(request)
        await self.scoped.put_scope_map(
            record, form.one("name").strip(), grid_actions(form), form.one("description")[:256]
        )
        return RedirectResponse(f"/portal/r/{record.name}/access#scope-maps", status_code=303)

    async def delete_scope_map(self, request: Request, user: PortalUser) -> Response:
        record = await self._registry(request, user, WRITE, f"{SCOPE_MAPS}/delete")
        form = await read_form(request)
        await self.scoped.delete_scope_map(record, form.one("scope_map"))
        return RedirectResponse(f"/portal/r/{record.name}/access#scope-maps", status_code=303)

    async def create_token(self, request: Request, user: PortalUser) -> Response:
        record = await self._registry(request, user, WRITE, f"{TOKENS}/write")
        form = await read_form(request)
        expires_at = _expiry(form)
        view = await self.scoped.put_token(record, form.one("name").strip(), form.one("scope_map"))
        password = await self.scoped.generate_password(view.token, "password1", expires_at)
        return await self._shown_once(request, user, view.token.name, password, expires_at)

    async def token_password(self, request: Request, user: PortalUser) -> Response:
        record = await self._registry(request, user, WRITE, f"{REGISTRY_ACTION}/generateCredentials/action")
        form = await read_form(request)
        view = await self.scoped.get_token(record, form.one("token"))
        expires_at = _expiry(form)
        password = await self.scoped.generate_password(view.token, form.one("password_name"), expires_at)
        return await self._shown_once(request, user, view.token.name, password, expires_at)

    async def token_status(self, request: Request, user: PortalUser) -> Response:
        record = await self._registry(request, user, WRITE, f"{TOKENS}/write")
        form = await read_form(request)
        view = await self.scoped.get_token(record, form.one("token"))
        await self.scoped.put_token(
            record, view.token.name, view.token.scope_map, form.one("enabled") == "true"
        )
        return RedirectResponse(f"/portal/r/{record.name}/access#tokens", status_code=303)

    async def delete_token(self, request: Request, user: PortalUser) -> Response:
        record = await self._registry(request, user, WRITE, f"{TOKENS}/delete")
        form = await read_form(request)
        await self.scoped.delete_token(record, form.one("token"))
        return RedirectResponse(f"/portal/r/{record.name}/access#tokens", status_code=303)

    # --- network rules and anonymous pull ------------------------------------------------

    async def network(self, request: Request, user: PortalUser) -> Response:
        record = await self._registry(request, user, WRITE, f"{REGISTRY_ACTION}/write")
        form = await read_form(request)
        rules = [IpRule(line.strip()) for line in form.one("ip_rules").splitlines() if line.strip()]
        await self.registries.update(
            record,
            public_network_enabled=form.one("public_network") == "on",
            anonymous_pull_enabled=form.one("anonymous_pull") == "on",
            network_default_action=form.one("default_action", "Allow"),
            ip_rules=rules,
        )
        return RedirectResponse(f"/portal/r/{record.name}/access#network", status_code=303)

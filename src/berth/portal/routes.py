"""The portal's URL map, mounted at ``/portal`` on the service plane (see :func:`build_portal`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router

from berth.directory.authorization import AuthorizationEndpoints
from berth.directory.tokens import DirectoryTokens
from berth.portal.access import AccessPages
from berth.portal.assets import Assets
from berth.portal.content import ContentPages
from berth.portal.diagnose import DiagnosePages
from berth.portal.health import HealthPages
from berth.portal.iam import IamPages
from berth.portal.monitoring import MonitoringPages
from berth.portal.pages import Portal
from berth.portal.registries import RegistryPages
from berth.portal.sessions import Sessions
from berth.portal.signin import SignIn
from berth.services import Services

PREFIX = "/portal"


def build_portal(
    services: Services, authorization: AuthorizationEndpoints, tokens: DirectoryTokens
) -> list[BaseRoute]:
    """The routes to add to the service plane: ``/portal`` and everything under it."""
    sessions = Sessions(services, tokens, authorization.directory)
    portal = Portal(services, Assets(prefix=f"{PREFIX}/static"), sessions)
    sign_in = SignIn(portal, authorization, tokens)
    registries = RegistryPages(portal)
    content = ContentPages(portal)
    monitoring = MonitoringPages(portal)
    diagnose = DiagnosePages(portal)
    health = HealthPages(portal, tokens)
    access = AccessPages(portal)
    iam = IamPages(portal)
    page, action = portal.page, portal.action

    async def not_found(request: Request) -> Response:
        user = await portal.user(request)
        return portal.error(request, user, 404, "NotFound", f"There is no page at {request.url.path}.")

    registry = "/r/{name}"
    routes: list[BaseRoute] = [
        Route("/", page(registries.index), methods=["GET"]),
        Route("/static/{version}/{name}", portal.assets.serve, methods=["GET"]),
        Route("/signin", sign_in.start, methods=["GET"]),
        Route("/auth/callback", sign_in.callback, methods=["GET"]),
        Route("/signout", action(sign_in.sign_out), methods=["POST"]),
        Route("/registries/new", page(registries.new), methods=["GET"]),
        Route("/registries", action(registries.create), methods=["POST"]),
        Route(registry, page(registries.overview), methods=["GET"]),
        Route(f"{registry}/delete", page(registries.confirm_delete), methods=["GET"]),
        Route(f"{registry}/delete", action(registries.delete), methods=["POST"]),
        Route(f"{registry}/repositories", page(content.repositories), methods=["GET"]),
        Route(f"{registry}/repository", page(content.repository), methods=["GET"]),
        Route(f"{registry}/manifest", page(content.manifest), methods=["GET"]),
        Route(f"{registry}/repository/delete", action(content.delete_repository), methods=["POST"]),
        Route(f"{registry}/locks", action(content.lock), methods=["POST"]),
        Route(f"{registry}/tag/delete", action(content.delete_tag), methods=["POST"]),
        Route(f"{registry}/manifest/delete", action(content.delete_manifest), methods=["POST"]),
        Route(f"{registry}/events", page(monitoring.events), methods=["GET"]),
        Route(f"{registry}/diagnose", page(diagnose.form), methods=["GET"]),
        Route(f"{registry}/diagnose", action(diagnose.diagnose), methods=["POST"]),
        Route(f"{registry}/health", action(health.run), methods=["POST"]),
        Route(f"{registry}/access", page(access.page), methods=["GET"]),
        Route(f"{registry}/admin", action(access.admin_user), methods=["POST"]),
        Route(f"{registry}/admin/regenerate", action(access.admin_regenerate), methods=["POST"]),
        Route(f"{registry}/scope-maps", action(access.create_scope_map), methods=["POST"]),
        Route(f"{registry}/scope-maps/delete", action(access.delete_scope_map), methods=["POST"]),
        Route(f"{registry}/tokens", action(access.create_token), methods=["POST"]),
        Route(f"{registry}/tokens/password", action(access.token_password), methods=["POST"]),
        Route(f"{registry}/tokens/delete", action(access.delete_token), methods=["POST"]),
        Route(f"{registry}/tokens/status", action(access.token_status), methods=["POST"]),
        Route(f"{registry}/network", action(access.network), methods=["POST"]),
        Route(f"{registry}/iam", page(iam.page), methods=["GET"]),
        Route(f"{registry}/iam", action(iam.add), methods=["POST"]),
        Route(f"{registry}/iam/remove", action(iam.remove), methods=["POST"]),
        Route("/{rest:path}", not_found, methods=["GET", "POST"]),
    ]

    async def bare(request: Request) -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    return [Route(PREFIX, bare), Mount(PREFIX, app=Router(routes))]

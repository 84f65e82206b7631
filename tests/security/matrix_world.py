"""The state the authorization matrix runs against, and how one cell is sent.

Three registries: ``default`` (``localhost:5000``, anonymous pull off) holds every identity of
the matrix; ``public`` (anonymous pull on) is the anonymous-pull row's own registry; ``otherreg``
(anonymous pull off) is everyone's *other* registry. Each holds an image tagged ``v1`` in
``team/app`` and ``team/other``, pushed by its admin user; a cell whose destructive call
succeeded pushes the same bytes again, so every cell sees the same state whatever ran before.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

import httpx

from tests.api.access.wire import (
    OCI_MANIFEST,
    TestClient,
    basic,
    bearer,
    digest_of,
    exchange,
    image_manifest,
    sp_directory_token,
    user_directory_token,
)
from tests.security.conftest import Secure
from tests.security.matrix_model import (
    CREDENTIALS,
    OTHER_REPOSITORY,
    OWN_REPOSITORY,
    Cell,
    Credential,
    Kind,
    Mode,
    Side,
)
from tests.support.access_setup import NULL_GUID, AccessSetup

OWN = "default"
PUBLIC = "public"
OTHER = "otherreg"
DOMAIN = "localhost:5000"
TAG = "v1"
UPLOADED = b"bytes a matrix cell uploads"


def host_of(registry: str) -> str:
    return DOMAIN if registry == OWN else f"{registry}.{DOMAIN}"


@dataclass(frozen=True)
class Image:
    config: bytes
    layer: bytes
    manifest: bytes

    @property
    def manifest_digest(self) -> str:
        return digest_of(self.manifest)

    @property
    def layer_digest(self) -> str:
        return digest_of(self.layer)


def image_for(registry: str, repository: str) -> Image:
    seed = f"{registry}/{repository}"
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    layer = f"layer of {seed}".encode()
    manifest = image_manifest(config, layer)
    return Image(config, layer, manifest)


@dataclass
class Answer:
    """What a cell got: the stage that answered and its response."""

    stage: str
    response: httpx.Response
    token: str = ""  # the access token the data call carried


@dataclass(repr=False)
class World:
    client: TestClient
    admins: dict[str, dict[str, str]] = field(default_factory=dict)  # registry -> Basic header
    logins: dict[str, dict[str, str]] = field(default_factory=dict)  # row -> Basic header ({} = none)
    _tokens: dict[tuple[str, str, str, bool], httpx.Response] = field(default_factory=dict)

    # --- content ----------------------------------------------------------------------------

    def push(self, registry: str, repository: str) -> None:
        """Push ``repository``'s image (the same bytes every time) with the registry's admin."""
        image = image_for(registry, repository)
        headers = {**self.admins[registry], "Host": host_of(registry)}
        for blob in (image.config, image.layer):
            started = self.client.post(f"/v2/{repository}/blobs/uploads/", headers=headers)
            assert started.status_code == 202, started.text
            done = self.client.put(
                started.headers["Location"],
                params={"digest": digest_of(blob)},
                content=blob,
                headers={**headers, "Content-Type": "application/octet-stream"},
            )
            assert done.status_code == 201, done.text
        put = self.client.put(
            f"/v2/{repository}/manifests/{TAG}",
            content=image.manifest,
            headers={**headers, "Content-Type": OCI_MANIFEST},
        )
        assert put.status_code == 201, put.text

    def upload_session(self, registry: str, repository: str) -> str:
        headers = {**self.admins[registry], "Host": host_of(registry)}
        started = self.client.post(f"/v2/{repository}/blobs/uploads/", headers=headers)
        assert started.status_code == 202, started.text
        location: str = started.headers["Location"]
        return location.rsplit("/", 1)[1].split("?", 1)[0]

    # --- credentials ------------------------------------------------------------------------

    def token(self, credential: Credential, registry: str, scope: str, form: bool = False) -> httpx.Response:
        """An access token at ``registry`` for the row's credentials (cached).

        docker's ``GET /oauth2/token`` with Basic credentials (none for anonymous), or with
        ``form`` the ``POST`` of az and the Azure SDK: the refresh grant for a null-GUID row,
        the password grant (without username and password for anonymous) otherwise.
        """
        key = (credential.name, registry, scope, form)
        if key not in self._tokens:
            host = host_of(registry)
            login = self.logins[credential.name]
            username, password = _credentials(login) if login else ("", "")
            if not form:
                params = {"service": host, "scope": scope, **({"account": username} if login else {})}
                response = self.client.get("/oauth2/token", params=params, headers={**login, "Host": host})
            else:
                fields = {"grant_type": "password", "service": host, "scope": scope}
                if username == NULL_GUID:
                    fields.update(grant_type="refresh_token", refresh_token=password)
                elif login:
                    fields.update(username=username, password=password)
                response = self.client.post("/oauth2/token", data=fields, headers={"Host": host})
            self._tokens[key] = response
        return self._tokens[key]

    # --- one cell ---------------------------------------------------------------------------

    def registry_of(self, cell: Cell) -> str:
        if cell.side is Side.OTHER:
            return OTHER
        return PUBLIC if cell.credential.anonymous_pull else OWN

    def send(self, cell: Cell) -> Answer:
        registry = self.registry_of(cell)
        endpoint, repository = cell.endpoint, cell.repository
        scope = endpoint.scope(repository)
        token = ""
        if cell.mode is Mode.BASIC:
            auth = self.logins[cell.credential.name]
        else:
            issuer = registry
            if cell.mode is Mode.REPLAY:
                issuer = self.registry_of(Cell(cell.credential, endpoint, repository, Side.OWN, cell.mode))
            issued = self.token(cell.credential, issuer, scope, form=cell.mode is Mode.FORM)
            if issued.status_code != 200:
                return Answer("token", issued)
            token = issued.json()["access_token"]
            auth = bearer(token)
        image = image_for(registry, repository) if repository else None
        session = self.upload_session(registry, repository) if endpoint.session else ""
        path = endpoint.path.format(
            repo=repository,
            tag=TAG,
            manifest=image.manifest_digest if image else "",
            layer=image.layer_digest if image else "",
            session=session,
        )
        headers = {**auth, "Host": host_of(registry)}
        params: dict[str, str] = {}
        content = b""
        if endpoint.name == "manifest-put" and image is not None:
            content, headers["Content-Type"] = image.manifest, OCI_MANIFEST
        elif endpoint.name == "upload-patch":
            content, headers["Content-Type"] = UPLOADED, "application/octet-stream"
        elif endpoint.name == "upload-put":
            content, headers["Content-Type"] = UPLOADED, "application/octet-stream"
            params["digest"] = digest_of(UPLOADED)
        elif endpoint.method == "PATCH":
            content, headers["Content-Type"] = b'{"writeEnabled":true}', "application/json"
        response = self.client.request(endpoint.method, path, params=params, content=content, headers=headers)
        if endpoint.destructive and response.is_success:
            self.push(registry, repository)
        return Answer("data", response, token)


def _credentials(login: dict[str, str]) -> tuple[str, str]:
    decoded = base64.b64decode(login["Authorization"].split(" ", 1)[1]).decode()
    username, _, password = decoded.partition(":")
    return username, password


# --- building the world ----------------------------------------------------------------------


def _refresh_token(client: TestClient, directory_token: str) -> str:
    response = exchange(client, directory_token)
    assert response.status_code == 200, response.text
    token: str = response.json()["refresh_token"]
    return token


def _login(
    setup: AccessSetup, client: TestClient, credential: Credential, admin: dict[str, str]
) -> dict[str, str]:
    """Create the identity behind a row; returns its Basic credentials ({} for anonymous)."""
    name = credential.name
    if credential.kind is Kind.ANONYMOUS:
        return {}
    if credential.kind is Kind.ADMIN:
        return admin
    if credential.kind is Kind.TOKEN:
        scope_map = "_repositories_admin"
        if credential.scope_action is not None:
            scope_map = f"map-{name}"
            setup.scope_map(scope_map, [f"repositories/{OWN_REPOSITORY}/{credential.scope_action}"])
        token = setup.token(
            name.replace("-", ""),
            scope_map,
            enabled=name != "token-disabled",
            expires_at=1.0 if name == "token-expired" else None,
        )
        return basic(token.name, token.password1)
    if credential.kind is Kind.SERVICE_PRINCIPAL:
        scope = setup.tenancy.subscription_scope if credential.subscription_wide else None
        sp = setup.service_principal(name, role=credential.role, scope=scope)
        if name == "sp-disabled":
            setup.set_enabled(sp.object_id, False)
        if name == "sp-expired":
            setup.expire_secret(sp)
        return basic(sp.app_id, sp.secret)
    if name == "null-guid":
        sp = setup.service_principal(name, role=credential.role)
        directory_token = sp_directory_token(client, setup.tenant_id, sp.app_id, sp.secret)
        return basic(NULL_GUID, _refresh_token(client, directory_token))
    user = setup.user(f"{name}@example.com", role=credential.role)
    if credential.kind is Kind.USER_PASSWORD:
        return basic(user.upn, user.password)
    refresh = _refresh_token(client, user_directory_token(client, setup.tenant_id, user.upn, user.password))
    if name == "user-disabled":
        setup.set_enabled(user.object_id, False)
    return basic(NULL_GUID, refresh)


def build_world(secure: Secure) -> World:
    setup, client = secure.setup, secure.client
    setup.create_registry(PUBLIC)
    setup.create_registry(OTHER)
    setup.set_anonymous_pull(True, PUBLIC)
    world = World(client)
    for registry in (OWN, PUBLIC, OTHER):
        password, _ = setup.enable_admin(registry)
        world.admins[registry] = basic(registry, password)
        for repository in (OWN_REPOSITORY, OTHER_REPOSITORY):
            world.push(registry, repository)
    for credential in CREDENTIALS:
        world.logins[credential.name] = _login(setup, client, credential, world.admins[OWN])
    return world

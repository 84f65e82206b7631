"""Token forgery and replay: every way an attacker may bend an ACR token, at every door that
takes one.

A genuine **access** token opens one door: ``Authorization: Bearer`` on a data call. A genuine
**refresh** token opens three: Basic ``<null GUID>:<token>`` on a data call, the same Basic
credentials at ``GET /oauth2/token``, and ``grant_type=refresh_token`` at ``POST /oauth2/token``.
Each forgery below is made from a genuine token of each kind and must be refused at each of
that kind's doors — ``401 UNAUTHORIZED``, with ``error="invalid_token"`` on a bearer challenge.
The controls show the genuine tokens open those same doors, so a refusal is the forgery's doing.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import RSAAlgorithm

from berth.access import service as access_service
from berth.access.keys import MAX_TOKEN_LIFETIME
from berth.metadata import role_assignments
from berth.metadata import signing_keys as key_rows
from tests.api.access.wire import (
    basic,
    exchange,
    header,
    payload,
    sp_directory_token,
    user_directory_token,
)
from tests.security.conftest import Secure
from tests.security.doors import (
    ACCESS_DOORS,
    DOORS,
    OTHER,
    OWN,
    REFRESH_DOORS,
    REPOSITORY,
    SCOPE,
    Door,
    Lab,
    access_token_of,
    assert_refused_everywhere,
    bearer_data,
    null_guid_token,
    refresh_grant,
    refresh_token_of,
    refused,
)
from tests.security.forgery import b64, forge, json_part
from tests.security.matrix_world import World, host_of


@pytest.fixture(scope="module")
def lab(secure: Secure) -> Lab:
    setup = secure.setup
    setup.create_registry(OTHER)
    world = World(secure.client)
    for registry in (OWN, OTHER):
        password, _ = setup.enable_admin(registry)
        world.admins[registry] = basic(registry, password)
        world.push(registry, REPOSITORY)
    return Lab(secure, setup.service_principal("forgery-sp", role="AcrPush"))


@pytest.fixture
def genuine(lab: Lab) -> dict[str, str]:
    """A fresh access token (pull on team/app) and refresh token of the lab's service principal."""
    return {
        "access": access_token_of(lab, lab.sp.app_id, lab.sp.secret),
        "refresh": refresh_token_of(lab, lab.sp),
    }


@pytest.mark.parametrize("kind", ["access", "refresh"])
def test_control_genuine_tokens_open_their_doors(lab: Lab, genuine: dict[str, str], kind: str) -> None:
    for name, door in DOORS[kind].items():
        response = door(lab, genuine[kind], OWN)
        assert response.status_code == 200, f"{name}: {response.status_code} {response.text}"


# --- forgeries ---------------------------------------------------------------------------------


def _foreign_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def widened(token: str) -> dict[str, Any]:
    """The claims an attacker wants: push and delete, or (refresh) the admin user's identity."""
    claims = payload(token)
    if claims["grant_type"] == "access_token":
        claims["access"] = [{"type": "repository", "name": REPOSITORY, "actions": ["pull", "push", "delete"]}]
    else:
        claims.update(berth_kind="admin", sub=OWN)
    return claims


def resigned(lab: Lab, token: str, **changes: Any) -> str:
    """The claims changed and signed with berth's own key: only claim validation can refuse it."""
    claims = payload(token)
    claims.update(changes)
    for name in [k for k, v in changes.items() if v is None]:
        del claims[name]
    return lab.secure.app.services.auth.keyring.sign(claims)


def _now() -> int:
    return int(time.time())


FORGERIES: dict[str, Callable[[Lab, str], str]] = {
    "signed-by-another-key": lambda lab, t: jwt.encode(
        widened(t), _foreign_key(), algorithm="RS256", headers={"kid": "AAAA:BBBB:CCCC"}
    ),
    "another-key-with-berths-kid": lambda lab, t: jwt.encode(
        widened(t), _foreign_key(), algorithm="RS256", headers={"kid": header(t)["kid"]}
    ),
    "another-key-embedded-as-jwk": lambda lab, t: with_own_key(t, "jwk"),
    "another-key-behind-a-jku-url": lambda lab, t: with_own_key(t, "jku"),
    "ps256-with-another-key": lambda lab, t: jwt.encode(
        widened(t), _foreign_key(), algorithm="PS256", headers={"kid": header(t)["kid"]}
    ),
    "kid-injection": lambda lab, t: jwt.encode(
        widened(t), _foreign_key(), algorithm="RS256", headers={"kid": "../../../../dev/null' OR '1'='1"}
    ),
    "alg-none": lambda lab, t: forge({"alg": "none", "typ": "JWT", "kid": header(t)["kid"]}, widened(t)),
    "alg-None": lambda lab, t: forge({"alg": "None", "typ": "JWT", "kid": header(t)["kid"]}, widened(t)),
    "alg-NONE-with-signature": lambda lab, t: forge(
        {"alg": "NONE", "typ": "JWT", "kid": header(t)["kid"]}, widened(t), b"x"
    ),
    "hs256-with-the-public-key": lambda lab, t: hs256_with_public_key(lab, t),
    "edited-claims-same-signature": lambda lab, t: (
        f"{t.split('.')[0]}.{json_part(widened(t))}.{t.split('.')[2]}"
    ),
    "flipped-signature": lambda lab, t: t[:-2] + ("AA" if not t.endswith("AA") else "BA"),
    "no-signature": lambda lab, t: t.rsplit(".", 1)[0] + ".",
    "audience-of-another-registry": lambda lab, t: resigned(lab, t, aud=host_of(OTHER)),
    "directory-audience": lambda lab, t: resigned(lab, t, aud="https://containerregistry.azure.net"),
    "registry-id-of-another-registry": lambda lab, t: resigned(lab, t, rid=lab.setup.registry(OTHER).id),
    "another-issuer": lambda lab, t: resigned(lab, t, iss="https://login.microsoftonline.com/x/v2.0"),
    "expired": lambda lab, t: resigned(
        lab, t, iat=_now() - 7200, nbf=_now() - 7200, exp=_now() - 3600, berth_iat=_now() - 7200
    ),
    "not-yet-valid": lambda lab, t: resigned(lab, t, nbf=_now() + 3600, exp=_now() + 7200),
    "unknown-identity-kind": lambda lab, t: resigned(lab, t, berth_kind="superuser"),
    "without-exp": lambda lab, t: resigned(lab, t, exp=None),
    "without-aud": lambda lab, t: resigned(lab, t, aud=None),
    "without-iss": lambda lab, t: resigned(lab, t, iss=None),
    "without-jti": lambda lab, t: resigned(lab, t, jti=None),
    "without-iat": lambda lab, t: resigned(lab, t, iat=None),
}


def with_own_key(token: str, how: str) -> str:
    """Signed with the attacker's key, which the header offers inline or by URL."""
    key = _foreign_key()
    offered: dict[str, Any] = {"kid": header(token)["kid"]}
    if how == "jwk":
        offered["jwk"] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        offered["jku"] = "https://attacker.example/jwks.json"
    return jwt.encode(widened(token), key, algorithm="RS256", headers=offered)


def hs256_with_public_key(lab: Lab, token: str) -> str:
    public_key = lab.secure.app.services.auth.keyring.public_key_for(token)
    secret = public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    head = {"alg": "HS256", "typ": "JWT", "kid": header(token)["kid"]}
    unsigned = f"{json_part(head)}.{json_part(widened(token))}"
    return f"{unsigned}.{b64(hmac.new(secret, unsigned.encode(), hashlib.sha256).digest())}"


@pytest.mark.parametrize("kind", ["access", "refresh"])
@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_forged_token_is_refused_at_every_door(
    lab: Lab, genuine: dict[str, str], forgery: str, kind: str
) -> None:
    assert_refused_everywhere(lab, FORGERIES[forgery](lab, genuine[kind]), DOORS[kind])


@pytest.mark.parametrize("value", ["garbage", "a.b.c", "e30.e30.", "Bearer"])
def test_malformed_tokens_are_refused_at_every_door(lab: Lab, value: str) -> None:
    assert_refused_everywhere(lab, value, {**ACCESS_DOORS, **REFRESH_DOORS})


# --- one kind of token where the other belongs -------------------------------------------------


def test_a_refresh_token_is_not_an_access_token(lab: Lab, genuine: dict[str, str]) -> None:
    assert_refused_everywhere(lab, genuine["refresh"], ACCESS_DOORS)


def test_an_access_token_is_not_a_refresh_token(lab: Lab, genuine: dict[str, str]) -> None:
    """Issue 8, finding 3: an access token is never traded for a new token, nor a password."""
    assert_refused_everywhere(lab, genuine["access"], REFRESH_DOORS)


def test_directory_tokens_are_not_registry_tokens(lab: Lab) -> None:
    """A directory token is for ``/oauth2/exchange``; no data call nor refresh grant takes one."""
    tenant, sp = lab.setup.tenant_id, lab.sp
    registry_audience = sp_directory_token(lab.client, tenant, sp.app_id, sp.secret)
    management = lab.client.post(
        f"/{tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sp.app_id,
            "client_secret": sp.secret,
            "scope": "https://management.azure.com/.default",
        },
    ).json()["access_token"]
    user = lab.setup.user("forgery-user@example.com", role="AcrPush")
    signed_in = lab.client.post(
        f"/{tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "password",
            "username": user.upn,
            "password": user.password,
            "scope": "https://containerregistry.azure.net/.default",
        },
    ).json()
    user_access = user_directory_token(lab.client, tenant, user.upn, user.password)
    doors: dict[str, Door] = {"bearer-data-call": bearer_data, "refresh-grant": refresh_grant}
    for token in (registry_audience, management, user_access, signed_in["refresh_token"]):
        assert_refused_everywhere(lab, token, doors)


# --- replay at another registry ---------------------------------------------------------------


def test_tokens_of_registry_a_are_refused_by_registry_b(lab: Lab, genuine: dict[str, str]) -> None:
    setup = lab.setup
    setup.assign(lab.sp.object_id, "AcrPush", setup.registry_id(OTHER))  # B would let it in itself
    try:
        assert (
            bearer_data(lab, access_token_of(lab, lab.sp.app_id, lab.sp.secret, OTHER), OTHER).status_code
            == 200
        )
        assert_refused_everywhere(lab, genuine["access"], ACCESS_DOORS, OTHER)
        assert_refused_everywhere(lab, genuine["refresh"], REFRESH_DOORS, OTHER)
    finally:
        for assignment in setup.db.read_sync(_assignments_of, lab.sp.object_id):
            if assignment.scope == setup.registry_id(OTHER):
                setup.unassign(assignment.id)


def _assignments_of(conn: Any, principal_id: str) -> list[Any]:
    return role_assignments.for_principal(conn, principal_id)


# --- revoked identities, after the revocation window ------------------------------------------


class _Later:
    """``time`` for berth's access service, the monotonic clock moved past the status cache."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def monotonic(self) -> float:
        return time.monotonic() + self.seconds

    def time(self) -> float:
        return time.time()


@pytest.fixture
def after_the_window(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it to move the access service's clock past the revocation window (no sleeping)."""

    def move() -> None:
        monkeypatch.setattr(access_service, "time", _Later(access_service.STATUS_SECONDS + 1))

    return move


def _revocable(lab: Lab, how: str) -> tuple[str, str | None, Callable[[], None]]:
    """An access token (and refresh token, if the kind has one) and the act that revokes them."""
    setup = lab.setup
    if how.startswith("service-principal"):
        sp = setup.service_principal(f"revoked-{how}", role="AcrPush")
        tokens = access_token_of(lab, sp.app_id, sp.secret), refresh_token_of(lab, sp)
        if how.endswith("disabled"):
            return (*tokens, lambda: setup.set_enabled(sp.object_id, False))
        if how.endswith("deleted"):
            return (*tokens, lambda: setup.delete_identity(sp.object_id))
        assignment = setup.db.read_sync(_assignments_of, sp.object_id)[0]
        return (*tokens, lambda: setup.unassign(assignment.id))
    if how.startswith("user"):
        user = setup.user(f"revoked-{how}@example.com", role="AcrPush")
        refresh = exchange(
            lab.client, user_directory_token(lab.client, setup.tenant_id, user.upn, user.password)
        ).json()["refresh_token"]
        access = null_guid_token(lab, refresh).json()["access_token"]
        if how.endswith("disabled"):
            return access, refresh, lambda: setup.set_enabled(user.object_id, False)
        return access, refresh, lambda: setup.delete_identity(user.object_id)
    if how.startswith("token"):
        scoped = setup.token(f"revoked{how.replace('-', '')}", "_repositories_pull")
        access = access_token_of(lab, scoped.name, scoped.password1)
        if how.endswith("disabled"):
            return access, None, lambda: setup.set_token_enabled(scoped, False)
        return access, None, lambda: setup.delete_token(scoped)
    password, _ = setup.enable_admin(OWN)
    return access_token_of(lab, OWN, password), None, lambda: setup.disable_admin(OWN)


@pytest.mark.parametrize(
    "how",
    [
        "service-principal-disabled",
        "service-principal-deleted",
        "service-principal-role-removed",
        "user-disabled",
        "user-deleted",
        "token-disabled",
        "token-deleted",
        "admin-disabled",
    ],
)
def test_tokens_of_a_revoked_identity_are_refused_after_the_window(
    lab: Lab, after_the_window: Callable[[], None], how: str
) -> None:
    access, refresh, revoke = _revocable(lab, how)
    assert bearer_data(lab, access).status_code == 200  # control, and fills the status cache
    revoke()
    after_the_window()
    response = bearer_data(lab, access)
    if how == "service-principal-role-removed":  # a valid identity without a role: ACR's 403
        assert response.status_code == 403, response.text
        assert response.json()["errors"][0]["code"] == "DENIED"
    else:
        assert not refused(response, "bearer-data-call"), response.text
    if refresh is not None:
        for name, door in REFRESH_DOORS.items():
            answer = door(lab, refresh, OWN)
            expected = 403 if how == "service-principal-role-removed" else 401
            assert answer.status_code == expected, f"{name}: {answer.status_code} {answer.text}"


# --- key rotation -------------------------------------------------------------------------------


def test_tokens_signed_by_a_pruned_key_are_refused(lab: Lab) -> None:
    """After ``rotate-keys`` old tokens verify until they expire; once the old key is gone (it is
    pruned when nothing it signed can still be valid), a token it signed is refused."""
    keyring = lab.secure.app.services.auth.keyring
    checked = access_token_of(lab, lab.sp.app_id, lab.sp.secret)
    unchecked = {
        # another grant: an identical request within seconds gets the token `checked` is
        # (access/issued_cache.py), and this one must never have been verified
        "access": access_token_of(
            lab, lab.sp.app_id, lab.sp.secret, scopes=(SCOPE, "repository:other/app:pull")
        ),
        "refresh": refresh_token_of(lab, lab.sp),
    }
    assert unchecked["access"] != checked
    old_kid = header(checked)["kid"]

    new_kid = keyring.rotate()

    assert new_kid != old_kid
    assert bearer_data(lab, checked).status_code == 200  # retired, still verifying
    assert header(access_token_of(lab, lab.sp.app_id, lab.sp.secret))["kid"] == new_kid
    # The prune that runs at a rotation MAX_TOKEN_LIFETIME later.
    lab.setup.db.write_sync(key_rows.prune, time.time() + MAX_TOKEN_LIFETIME)
    keyring.load()
    assert_refused_everywhere(lab, unchecked["access"], ACCESS_DOORS)
    assert_refused_everywhere(lab, unchecked["refresh"], REFRESH_DOORS)

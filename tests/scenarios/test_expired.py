"""Seed cause "the credentials have expired": a service principal's secret, a token password,
and the directory-based login's refresh token (docker's identity token, 3 hours) past its
life. Secrets and passwords get a short expiry through the CLI and are used after it; the
expired identity token is the real one re-signed 4 hours older with the server's own keyring."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest

from berth.access.keys import Keyring
from berth.metadata.database import Database
from tests.scenarios.checks import AUTH_REQUIRED, check_health, diagnose, one_event
from tests.scenarios.conftest import Stage

pytestmark = pytest.mark.e2e

REGISTRIES = ("expiry",)
REGISTRY = "expiry"
LIFETIME = 3.0


@pytest.fixture(scope="module")
def registry(stage: Stage) -> str:
    return stage.create_registry(REGISTRY)


def _soon() -> str:
    return datetime.fromtimestamp(time.time() + LIFETIME, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _wait_past(expiry_iso: str) -> None:
    expiry = datetime.fromisoformat(expiry_iso.replace("Z", "+00:00")).timestamp()
    time.sleep(max(0.0, expiry - time.time()) + 1.5)


def test_expired_service_principal_secret(stage: Stage, registry: str) -> None:
    registry_id = stage.berth("acr", "show", "-n", REGISTRY, "--query", "id", "-o", "tsv").stdout.strip()
    sp = stage.berth_json(
        "ad", "sp", "create-for-rbac", "-n", "short-sp", "--role", "AcrPull", "--scopes", registry_id
    )
    stage.remember(sp["password"])
    app_id = sp["appId"]
    end = _soon()
    reset = stage.berth_json("ad", "sp", "credential", "reset", "--id", app_id, "--end-date", end)
    secret = reset["password"]
    stage.remember(secret)
    _wait_past(end)

    config = stage.docker_config("short-sp")
    login = stage.docker(
        "login", registry, "-u", app_id, "--password-stdin", docker_config=config, stdin=secret
    )
    assert login.returncode != 0
    assert AUTH_REQUIRED in login.stderr, login.stderr

    # The CI job that holds the secret, without a berth sign-in, is told the same cause and fix.
    user = check_health(stage, "-n", f"http://{registry}", "-u", app_id, "-p", secret, identity="ci-sp")
    assert user.explained == ["CREDENTIAL_EXPIRED"]
    assert user.finding("CREDENTIAL_EXPIRED")["fix"] == f"berth ad sp credential reset --id {app_id}"

    health = check_health(stage, "-n", REGISTRY, "-u", app_id, "-p", secret)
    assert health.code == 1
    expired = health.finding("CREDENTIAL_EXPIRED")
    assert f"of service principal {app_id} expired on {end}" in expired["cause"]
    assert expired["fix"] == f"berth ad sp credential reset --id {app_id}"

    found = diagnose(stage, REGISTRY, "--identity", app_id, "--error", login.stderr)
    assert found.verdict_codes == ["CREDENTIAL_EXPIRED"]
    assert f"expired on {end}" in found.text
    event = one_event(stage.wait_events(REGISTRY, identity=app_id))
    assert (event["Reason"], event["IdentityKind"]) == ("secret_expired", "service_principal")
    stage.assert_no_secrets(REGISTRY)


def test_expired_token_password(stage: Stage, registry: str) -> None:
    end = _soon()
    created = stage.berth_json(
        "acr", "token", "create", "-n", "ci-token", "-r", REGISTRY, "--repository", "app", "content/read",
        "--expiration", end,
    )  # fmt: skip
    password = created["credentials"]["passwords"][0]["value"]
    stage.remember(*(p["value"] for p in created["credentials"]["passwords"]))
    _wait_past(end)

    config = stage.docker_config("ci-token")
    login = stage.docker(
        "login", registry, "-u", "ci-token", "--password-stdin", docker_config=config, stdin=password
    )
    assert login.returncode != 0

    found = diagnose(stage, REGISTRY, "--identity", "ci-token")
    verdict = found.verdict("CREDENTIAL_EXPIRED")
    assert verdict["cause"] == f"The password1 of token 'ci-token' expired on {end}."
    assert verdict["fix"] == f"berth acr token credential generate -r {REGISTRY} -n ci-token --password1"

    health = check_health(stage, "-n", REGISTRY, "-u", "ci-token", "-p", password)
    assert health.explained == ["CREDENTIAL_EXPIRED"]
    event = one_event(stage.wait_events(REGISTRY, identity="ci-token"))
    assert (event["Reason"], event["IdentityKind"]) == ("secret_expired", "token")
    stage.assert_no_secrets(REGISTRY)


def _age(stage: Stage, token: str, seconds: float) -> str:
    """The same ACR refresh token, signed by the server's keyring as if issued ``seconds`` ago."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    lifetime = int(claims["exp"]) - int(claims["iat"])
    issued = int(time.time() - seconds)
    claims.update(iat=issued, nbf=issued - 60, exp=issued + lifetime, berth_iat=float(issued))
    db = Database(f"sqlite:///{stage.server.data_dir / 'metadata.db'}", pool_size=1)
    try:
        keyring = Keyring(db)
        keyring.load()
        return keyring.sign(claims)
    finally:
        db.dispose()


def test_expired_identity_token(stage: Stage, registry: str) -> None:
    config = stage.docker_config("owner-expired")
    stage.berth("acr", "login", "-n", REGISTRY, docker_config=config)
    stage.push_image(registry, "app", config)
    document = json.loads((config / "config.json").read_text())
    entry = document["auths"][registry]
    stage.remember(entry["identitytoken"])
    entry["identitytoken"] = _age(stage, entry["identitytoken"], 4 * 3600)
    (config / "config.json").write_text(json.dumps(document))
    stage.docker_ok("rmi", f"{registry}/app:v1", docker_config=config)

    pulled = stage.docker("pull", f"{registry}/app:v1", docker_config=config)
    assert pulled.returncode != 0
    assert AUTH_REQUIRED in pulled.stderr, pulled.stderr

    health = check_health(stage, "-n", REGISTRY, docker_config=config)
    assert health.code == 1
    stale = health.finding("DOCKER_IDENTITY_TOKEN_EXPIRED")
    assert stale["fix"] == f"berth acr login -n {REGISTRY}"

    found = diagnose(stage, REGISTRY, "--since", "10m", "--error", pulled.stderr)
    verdict = found.verdict("TOKEN_EXPIRED")
    assert verdict["cause"] == "The registry token presented has expired (refresh tokens last 3 hours)."
    assert verdict["fix"] == f"berth acr login -n {REGISTRY}"
    event = one_event(stage.wait_events(REGISTRY, reason="token_expired"))
    assert event["ResultDescription"] == "401"
    stage.assert_no_secrets(REGISTRY)

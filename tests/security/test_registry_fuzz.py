"""A fuzzer over every route of the registry plane (issue 8, "Make it hard to regress").

Hypothesis draws requests (tests/security/fuzz_requests.py) for each route of
:data:`berth.registry.routes.ROUTES` and each method it takes — the route table is the list of
endpoints, so a new route is fuzzed without touching this file. Callers are anonymous (no
credentials), an anonymous pull token (anonymous pull is on), the admin user with Basic
credentials and with a bearer token, and garbage or forged credentials, each from its own
address so failed sign-ins never rate-limit the others.

Every answer must be:

- below 500, and not an exception the app let escape;
- given within :data:`REQUEST_BOUND_SECONDS` (no hang);
- free of stack traces and Python exception or database driver text (unless the request itself
  carried that text, which error messages may quote);
- for a 4xx with a body, the OCI error envelope with registered codes.

The app runs in-process on SQLite and PostgreSQL with a bounded, derandomized number of
examples per route and method, so a run takes a minute or two on two cores and a failure
reproduces. The inputs that once answered 500 are pinned by tests/api/test_client_integers.py
and tests/api/test_manifest_input.py.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, Phase, given, settings

from berth.access import secrets
from berth.app import REGISTRY_PREFIXES, BerthApp, build_app
from berth.config import load_settings
from berth.errors import registered_codes
from berth.registry.routes import ROUTES, Route
from tests.api.oci import (
    OCI_INDEX,
    OCI_MANIFEST,
    TestClient,
    canonical,
    descriptor,
    digest_of,
    image_manifest,
    push_blob,
    push_manifest,
)
from tests.security.fuzz_requests import Attempt, Targets, attempts
from tests.support.access_setup import AccessSetup

BASE_URL = "http://localhost:5000"
SERVICE = "localhost:5000"
EXAMPLES_PER_ROUTE = 40
REQUEST_BOUND_SECONDS = 30.0
CODES = {error.code for error in registered_codes()}
# What only a leaked exception, stack trace or driver message would put in an answer.
LEAKS = re.compile(
    r"Traceback|File \"|\b[A-Z][A-Za-z]+(?:Error|Exception)\b|sqlalchemy|psycopg|sqlite3|"
    r"\bline \d+, in\b|<module>"
)
Caller = tuple[TestClient, dict[str, str]]


@dataclass
class World:
    targets: Targets
    callers: dict[str, Caller]
    seen_routes: set[str] = field(default_factory=set)


# --- the registry under attack ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Light argon2 parameters for the few secrets hashed here (the code paths are the same)."""
    monkeypatch.setattr(secrets, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> BerthApp:
    overrides = {"data_dir": tmp_path, "database_url": database_url, "bootstrap_password": "fuzz-Passw0rd"}
    return build_app(load_settings(overrides=overrides, environ={}))


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _token(client: TestClient, headers: dict[str, str], *scopes: str) -> dict[str, str]:
    params = [("service", SERVICE), *(("scope", scope) for scope in scopes)]
    issued = client.get("/oauth2/token", params=params, headers=headers)
    assert issued.status_code == 200, issued.text
    return {"Authorization": f"Bearer {issued.json()['access_token']}"}


@dataclass(frozen=True)
class Arranged:
    digests: list[str]
    uploads: list[str]
    documents: list[dict[str, Any]]


def _arrange(client: TestClient, admin: dict[str, str]) -> Arranged:
    """An image in ``hello`` and ``other``, an index in ``hello``, three open upload sessions."""
    digests: list[str] = []
    images: list[dict[str, Any]] = []
    client.headers.update(admin)
    for repository in ("hello", "other"):
        config = json.dumps({"architecture": "amd64", "os": "linux", "repository": repository}).encode()
        layer = f"layer of {repository}".encode()
        digests += [push_blob(client, repository, config), push_blob(client, repository, layer)]
        images.append(image_manifest(config, [layer]))
        body = canonical(images[-1])
        assert push_manifest(client, repository, "v1", body, OCI_MANIFEST).status_code == 201
        digests.append(digest_of(body))
    child = descriptor(OCI_MANIFEST, canonical(images[0]), platform={"os": "linux", "architecture": "amd64"})
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [child]}
    assert push_manifest(client, "hello", "multi", canonical(index), OCI_INDEX).status_code == 201
    digests.append(digest_of(canonical(index)))
    uploads = []
    for _ in range(3):
        started = client.post("/v2/hello/blobs/uploads/")
        assert started.status_code == 202, started.text
        uploads.append(started.headers["Location"].rsplit("/", 1)[1])
    client.headers.clear()
    return Arranged(digests, uploads, [images[0], index])


@pytest.fixture
def world(app: BerthApp) -> Iterator[World]:
    with ExitStack() as stack:
        trusted = stack.enter_context(TestClient(app, base_url=BASE_URL, client=("198.51.100.1", 50000)))
        stranger = stack.enter_context(TestClient(app, base_url=BASE_URL, client=("203.0.113.9", 50000)))
        setup = AccessSetup.for_app(app)
        setup.set_anonymous_pull(True)
        password, _ = setup.enable_admin()
        admin = {"Authorization": _basic("default", password)}
        arranged = _arrange(trusted, admin)
        everything = "pull,push,delete,metadata_read,metadata_write"
        callers: dict[str, Caller] = {
            "anonymous": (stranger, {}),
            "anonymous-bearer": (
                stranger,
                _token(stranger, {}, "repository:hello:pull", "repository:other:pull"),
            ),
            "admin-basic": (trusted, admin),
            "admin-bearer": (
                trusted,
                _token(
                    trusted,
                    admin,
                    f"repository:hello:{everything}",
                    f"repository:other:{everything}",
                    "registry:catalog:*",
                ),
            ),
            "garbage": (stranger, {"Authorization": "Basic !!!not base64"}),
            "forged-bearer": (stranger, {"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}),
            "long-basic": (stranger, {"Authorization": _basic("u" * 2000, "p")}),
        }
        targets = Targets(
            callers=sorted(callers),
            repositories=["hello", "other", "nosuch"],
            digests=arranged.digests,
            tags=["v1", "multi"],
            uploads=arranged.uploads,
            documents=arranged.documents,
        )
        yield World(targets, callers)


# --- the checks ---------------------------------------------------------------------------------


def _problem(attempt: Attempt, response: httpx.Response) -> str | None:
    """What is wrong with an answer, or None."""
    status = response.status_code
    if status >= 500:
        return f"answered {status}: {response.text[:300]}"
    text = response.content.decode("utf-8", errors="replace")
    for leaked in LEAKS.finditer(text):
        if not attempt.carries(leaked.group(0)):
            return f"the answer leaks {leaked.group(0)!r}: {text[:300]}"
    if status < 400 or attempt.method == "HEAD":
        return None
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith("application/json"):
        return f"{status} without the OCI error envelope (content-type {content_type!r})"
    try:
        document = response.json()
    except ValueError:
        return f"{status} whose body is not JSON: {text[:200]}"
    if not response.request.url.path.startswith(REGISTRY_PREFIXES):
        # A path whose dot segments the client resolved (/v2/../x is /x) leaves the registry
        # plane: the service plane answers in ARM's envelope.
        error = document.get("error") if isinstance(document, dict) else None
        if (
            isinstance(error, dict)
            and isinstance(error.get("code"), str)
            and isinstance(error.get("message"), str)
        ):
            return None
        return f"{status} outside the registry plane without ARM's error envelope: {text[:200]}"
    entries = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        return f"{status} without an errors list: {text[:200]}"
    for entry in entries:
        if (
            not isinstance(entry, dict)
            or entry.get("code") not in CODES
            or not isinstance(entry.get("message"), str)
        ):
            return f"{status} with an entry outside the envelope: {entry!r:.200}"
    return None


def _send(world: World, attempt: Attempt, pool: ThreadPoolExecutor) -> httpx.Response:
    """The request, through the caller's client, answered within the bound or TimeoutError."""
    client, auth = world.callers[attempt.caller]
    # Header values as bytes (latin-1, as HTTP/1.1 carries them; httpx would insist on ASCII).
    headers = {
        name: value.encode("latin-1", errors="replace") for name, value in {**auth, **attempt.headers}.items()
    }
    future = pool.submit(
        client.request,
        attempt.method,
        attempt.path,
        params=attempt.query,
        headers=headers,
        content=attempt.body,
    )
    response: httpx.Response = future.result(timeout=REQUEST_BOUND_SECONDS)
    return response


def _fuzz(world: World, route: Route, method: str, pool: ThreadPoolExecutor, found: list[str]) -> None:
    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(attempt=attempts(route, method, world.targets))
    def exercise(attempt: Attempt) -> None:
        try:
            response = _send(world, attempt, pool)
        except FutureTimeout:
            found.append(f"no answer within {REQUEST_BOUND_SECONDS} s\n  {attempt.describe()}")
            raise
        except Exception as exc:  # the test client re-raises what the app let escape: a 500
            found.append(f"raised {type(exc).__name__}: {exc!s:.300}\n  {attempt.describe()}")
            return
        if route.pattern.match(response.request.url.path) is not None:
            world.seen_routes.add(route.name)
        problem = _problem(attempt, response)
        if problem is not None:
            found.append(f"{problem}\n  {attempt.describe()}")

    exercise()


def test_no_generated_request_gets_a_server_error_or_a_bare_answer(world: World) -> None:
    failures: dict[str, list[str]] = {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        for route in ROUTES:
            for method in sorted(route.methods):
                _fuzz(world, route, method, pool, failures.setdefault(f"{method} {route.template}", []))

    bad = {endpoint: found for endpoint, found in failures.items() if found}
    assert not bad, "\n\n".join(
        f"{endpoint}: {len(found)} bad answers, first:\n{found[0]}" for endpoint, found in bad.items()
    )
    assert world.seen_routes == {route.name for route in ROUTES}, "some routes were never reached"

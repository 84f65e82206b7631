"""A fuzzer over every route of the registry plane (issue 8, "Make it hard to regress").

Hypothesis draws requests for each route of :data:`berth.registry.routes.ROUTES` (the route
table is the list of endpoints, so a new route is fuzzed without touching this file): every
method the route takes, its path parameters filled from names, tags, digests and upload ids
both real and hostile (odd percent-encodings, NULs, over-long values), query parameters and
headers carrying huge or malformed integers (``n``, ``last``, ``Range``, ``Content-Range``,
``Content-Length``), and bodies from junk bytes to manifests with out-of-range sizes and
foreign encodings. Callers are anonymous (anonymous pull is on), the admin user with Basic
credentials, the admin user's bearer token, an anonymous pull token, and garbage credentials.

Every answer must be:

- below 500;
- given within :data:`REQUEST_BOUND_SECONDS` (no hang);
- free of stack traces and Python exception or database driver text (unless the request itself
  carried that text, which error messages may echo);
- for a 4xx (with a body), the OCI error envelope with registered codes.

The app runs in-process on SQLite and PostgreSQL, with a bounded, derandomized number of
examples per route and method so the whole run takes a minute or two on two cores.
The inputs that once answered 500 are pinned by tests/api/test_client_integers.py and
tests/api/test_manifest_input.py.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from berth.access import secrets
from berth.app import BerthApp, build_app
from berth.config import Settings, load_settings
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
from tests.support.access_setup import AccessSetup

BASE_URL = "http://localhost:5000"
EXAMPLES_PER_ROUTE = 40
REQUEST_BOUND_SECONDS = 30.0
CODES = {error.code for error in registered_codes()}
# What only a leaked exception, stack trace or driver message would put in an answer.
LEAKS = re.compile(
    r"Traceback|File \"|\b[A-Z][A-Za-z]+(?:Error|Exception)\b|sqlalchemy|psycopg|sqlite3|"
    r"\bline \d+, in\b|<module>"
)
UNKNOWN_DIGEST = "sha256:" + "0" * 64

# --- values ------------------------------------------------------------------------------------

HUGE_NUMBERS = [
    "0",
    "1",
    "2147483647",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "-1",
    "-9223372036854775809",
    "9" * 5000,
    "0" * 5000 + "7",
    "1e400",
    "1.5",
    "0x10",
    " 12",
    "NaN",
    "\u0663",  # ARABIC-INDIC DIGIT THREE: a digit to str.isdigit, not to HTTP
    "\u00b2",  # SUPERSCRIPT TWO: isdigit() but not int()
    "",
]
ODD_TEXT = [
    "",
    "%00",
    "%2F",
    "%2E%2E",
    "..",
    "../../etc/passwd",
    "%FF%FE",
    "%C0%AF",
    "%ED%A0%80",
    "%25",
    "a" * 300,
    "a\u0000b",
    "\u202e\u00e9\u4e16\U0001f600",
    "Traceback",
]
BAD_DIGESTS = [
    "sha256:xyz",
    "sha256:" + "A" * 64,
    "sha256:" + "0" * 63,
    "sha256:" + "0" * 65,
    "sha512:" + "0" * 64,
    "md5:" + "0" * 32,
    "sha256",
    ":",
    "sha256:",
    "sha256:%2E%2E",
]
MEDIA_TYPES = [
    OCI_MANIFEST,
    OCI_INDEX,
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/json",
    "application/octet-stream",
    "text/plain; charset=utf-16",
    "*/*",
]


def _printable(max_size: int = 40) -> st.SearchStrategy[str]:
    """Text that can travel in a URL or header: no surrogates (no client can encode them)."""
    return st.text(st.characters(exclude_categories=("Cs",)), max_size=max_size)


def _header_text(max_size: int = 60) -> st.SearchStrategy[str]:
    return st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=max_size
    )


def _numbers() -> st.SearchStrategy[str]:
    huge = st.sampled_from([number for number in HUGE_NUMBERS if len(number) > 10])
    return st.one_of(
        huge,
        st.sampled_from(HUGE_NUMBERS),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    )


def _size() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from([0, 1, 2**31, 2**62, 2**63 - 1, 2**63, 2**64, -1, 10**30, 1.5, "12", None, True]),
        st.integers(min_value=-(2**70), max_value=2**70),
    )


@dataclass
class World:
    """What exists in the registry the fuzzer attacks, and who calls."""

    app: BerthApp
    callers: dict[str, tuple[TestClient, dict[str, str]]]
    repositories: list[str]
    digests: list[str]
    tags: list[str]
    uploads: list[str]
    documents: list[dict[str, Any]]  # an image and an index that ``hello`` would accept
    seen_routes: dict[str, int] = field(default_factory=dict)


# Hypothesis picks the branches of ``one_of`` evenly: a branch listed several times is drawn
# that much more often. Requests are mostly valid with one or two hostile parts, which is what
# reaches the handlers' deeper code.


def _names(world: World) -> st.SearchStrategy[str]:
    grammar = st.from_regex(r"[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8})?(?:/[a-z0-9]{1,8}){0,2}", fullmatch=True)
    known = st.sampled_from(world.repositories[:1])
    return st.one_of(
        known,
        known,
        known,
        st.sampled_from(world.repositories),
        grammar,
        st.sampled_from(["A", "a//b", "-a", "a/", "a/../b", "_catalog", "x/_tags", "a" * 256, *ODD_TEXT]),
        _printable(),
    )


def _digests(world: World) -> st.SearchStrategy[str]:
    known = st.sampled_from(world.digests)
    return st.one_of(known, known, st.just(UNKNOWN_DIGEST), st.sampled_from(BAD_DIGESTS), _printable())


def _references(world: World) -> st.SearchStrategy[str]:
    known = st.sampled_from(world.tags)
    hostile = st.sampled_from([".INVALID_MANIFEST_NAME", "-x", "t" * 129, "latest", *ODD_TEXT])
    return st.one_of(known, known, _digests(world), hostile, _printable())


def _path_values(world: World) -> dict[str, st.SearchStrategy[str]]:
    return {
        "name": _names(world),
        "reference": _references(world),
        "digest": _digests(world),
        "tag": st.one_of(st.sampled_from(world.tags), _references(world)),
        "upload": st.one_of(
            st.sampled_from(world.uploads),
            st.just(str(uuid.UUID(int=7))),
            st.sampled_from(ODD_TEXT),
            _printable(),
        ),
    }


def _encode_segment(value: str, keep_slashes: bool) -> str:
    """Percent-encode a drawn value, keeping the %XX sequences the value spells out literally."""
    safe = "/%:@" if keep_slashes else "%:@"
    return quote(value, safe=safe)


def _path(route: Route, world: World) -> st.SearchStrategy[str]:
    strategies = _path_values(world)
    names = re.findall(r"<(\w+)>", route.template)

    def build(values: tuple[str, ...]) -> str:
        filled = iter(values)
        return re.sub(
            r"<(\w+)>",
            lambda m: _encode_segment(next(filled), keep_slashes=m.group(1) == "name"),
            route.template,
        )

    return st.tuples(*(strategies[name] for name in names)).map(build)


QUERY_NAMES = [
    "n",
    "last",
    "orderby",
    "digest",
    "mount",
    "from",
    "artifactType",
    "service",
    "scope",
    "account",
    "client_id",
    "offline_token",
    "api-version",
]


def _query(world: World) -> st.SearchStrategy[list[tuple[str, str]]]:
    text = st.one_of(_names(world), _printable(), st.sampled_from(ODD_TEXT))
    known = st.fixed_dictionaries(
        {},
        optional={
            "n": _numbers(),
            "last": text,
            "orderby": st.one_of(st.sampled_from(["timedesc", "timeasc", "TIMEDESC", "none", ""]), text),
            "digest": _digests(world),
            "mount": _digests(world),
            "from": _names(world),
            "artifactType": st.one_of(st.sampled_from(MEDIA_TYPES), text),
            "service": st.one_of(st.sampled_from(["localhost:5000", "nosuch.localhost:5000"]), text),
            "scope": st.one_of(
                st.sampled_from(["repository:hello:pull", "registry:catalog:*", "repository:hello:*"]), text
            ),
        },
    )
    extra = st.lists(st.tuples(st.one_of(st.sampled_from(QUERY_NAMES), _printable(10)), text), max_size=2)
    return st.builds(lambda fixed, more: [*fixed.items(), *more], known, extra)


def _range_header() -> st.SearchStrategy[str]:
    number = _numbers()
    return st.one_of(
        st.builds(lambda a, b: f"bytes={a}-{b}", number, number),
        st.builds(lambda a: f"bytes=-{a}", number),
        st.builds(lambda a: f"bytes={a}-", number),
        st.builds(lambda a, b: f"{a}-{b}", number, number),
        st.builds(lambda a, b: f"bytes {a}-{b}/*", number, number),
        _header_text(),
    )


def _headers() -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "Range": _range_header(),
            "Content-Range": _range_header(),
            "Content-Type": st.one_of(st.sampled_from(MEDIA_TYPES), _header_text()),
            "Accept": st.one_of(st.sampled_from(MEDIA_TYPES), _header_text()),
            "Content-Length": _numbers().filter(lambda text: text.isascii()),
            "Transfer-Encoding": st.sampled_from(["chunked", "gzip", "identity"]),
            "X-Forwarded-For": st.one_of(
                st.sampled_from(["203.0.113.7", "::1", "not an address"]), _header_text()
            ),
        },
    )


Mutation = Callable[[dict[str, Any]], None]


def _mutations(world: World) -> st.SearchStrategy[Mutation]:
    """One change to a valid manifest: a hostile size, count, media type, digest or field."""

    def set_size(where: str, size: Any) -> Mutation:
        def apply(document: dict[str, Any]) -> None:
            for key in (where,) if where in ("config", "subject") else ():
                if isinstance(document.get(key), dict):
                    document[key]["size"] = size
            for key in ("layers", "manifests") if where == "entries" else ():
                for entry in document.get(key, []):
                    entry["size"] = size

        return apply

    def repeat(count: int) -> Mutation:
        def apply(document: dict[str, Any]) -> None:
            for key in ("layers", "manifests"):
                if document.get(key):
                    document[key] = document[key][:1] * count

        return apply

    def assign(key: str, value: Any) -> Mutation:
        def apply(document: dict[str, Any]) -> None:
            document[key] = value

        return apply

    def subject(digest: str, size: Any) -> Mutation:
        return assign("subject", {"mediaType": OCI_MANIFEST, "digest": digest, "size": size})

    def entry_digest(digest: str) -> Mutation:
        def apply(document: dict[str, Any]) -> None:
            for key in ("layers", "manifests"):
                for entry in document.get(key, []):
                    entry["digest"] = digest

        return apply

    odd_value = st.one_of(_printable(), st.integers(), st.none(), st.booleans(), st.just([]), st.just({}))
    return st.one_of(
        st.builds(set_size, st.sampled_from(["config", "entries", "subject"]), _size()),
        st.builds(repeat, st.sampled_from([0, 2, 1024, 1025, 3000])),
        st.builds(assign, st.just("mediaType"), st.one_of(st.sampled_from(MEDIA_TYPES), odd_value)),
        st.builds(assign, st.just("schemaVersion"), st.one_of(st.just(2.0), st.just(1), odd_value)),
        st.builds(assign, st.just("artifactType"), odd_value),
        st.builds(
            assign,
            st.just("annotations"),
            st.one_of(st.dictionaries(_printable(8), odd_value, max_size=2), odd_value),
        ),
        st.builds(subject, _digests(world), _size()),
        st.builds(entry_digest, _digests(world)),
        st.builds(assign, st.sampled_from(["config", "layers", "manifests"]), odd_value),
    )


def _manifest_body(world: World) -> st.SearchStrategy[bytes]:
    """A manifest that would be accepted (in ``hello``), changed in one or two places."""

    def build(base: dict[str, Any], changes: list[Mutation], encoding: str) -> bytes:
        document = json.loads(json.dumps(base))
        for change in changes:
            change(document)
        return json.dumps(document, ensure_ascii=False).encode(encoding)

    return st.builds(
        build,
        st.sampled_from(world.documents),
        st.lists(_mutations(world), max_size=2),
        st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-32-be"]),
    )


def _body(world: World) -> st.SearchStrategy[bytes]:
    attributes = st.dictionaries(
        st.sampled_from(["writeEnabled", "deleteEnabled", "readEnabled", "listEnabled", "x"]),
        st.one_of(st.booleans(), st.none(), st.integers(), _printable(5)),
        max_size=3,
    ).map(lambda d: json.dumps(d).encode())
    form = st.lists(
        st.tuples(
            st.sampled_from(["grant_type", "service", "scope", "refresh_token", "access_token", "password"]),
            _printable(20),
        ),
        max_size=4,
    ).map(lambda pairs: "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs).encode())
    return st.one_of(
        st.just(b""),
        st.binary(max_size=200),
        _manifest_body(world),
        attributes,
        form,
        st.sampled_from(
            [b"{", b"[]", b"null", b"1" * 5000, b'{"schemaVersion": 2.0}', b"\xff\xfe{\x00}\x00"]
        ),
    )


# --- the app under attack -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Light argon2 parameters for the few secrets hashed here (the code paths are the same)."""
    monkeypatch.setattr(secrets, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> BerthApp:
    settings: Settings = load_settings(
        overrides={"data_dir": tmp_path, "database_url": database_url, "bootstrap_password": "fuzz-Passw0rd"},
        environ={},
    )
    return build_app(settings)


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture
def world(app: BerthApp) -> Iterator[World]:
    with ExitStack() as stack:
        # Each kind of caller has its own address, so garbage credentials never rate-limit the admin.
        admin_client = stack.enter_context(TestClient(app, base_url=BASE_URL, client=("198.51.100.1", 50000)))
        other_client = stack.enter_context(TestClient(app, base_url=BASE_URL, client=("203.0.113.9", 50000)))
        setup = AccessSetup.for_app(app)
        setup.set_anonymous_pull(True)
        password, _ = setup.enable_admin()
        admin = {"Authorization": _basic("default", password)}
        admin_client.headers.update(admin)
        arranged = _arrange(admin_client)
        admin_client.headers.clear()
        scopes = [
            ("scope", "repository:hello:pull,push,delete,metadata_read,metadata_write"),
            ("scope", "repository:other:pull,push,delete,metadata_read,metadata_write"),
            ("scope", "registry:catalog:*"),
        ]
        issued = admin_client.get(
            "/oauth2/token", params=[("service", "localhost:5000"), *scopes], headers=admin
        )
        assert issued.status_code == 200, issued.text
        pulls = [("scope", "repository:hello:pull"), ("scope", "repository:other:pull")]
        anonymous = other_client.get("/oauth2/token", params=[("service", "localhost:5000"), *pulls])
        assert anonymous.status_code == 200, anonymous.text
        callers = {
            "anonymous": (other_client, {}),
            "anonymous-bearer": (
                other_client,
                {"Authorization": f"Bearer {anonymous.json()['access_token']}"},
            ),
            "admin-basic": (admin_client, admin),
            "admin-bearer": (admin_client, {"Authorization": f"Bearer {issued.json()['access_token']}"}),
            "garbage": (other_client, {"Authorization": "Basic !!!not base64"}),
            "forged-bearer": (other_client, {"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}),
            "long-basic": (other_client, {"Authorization": _basic("u" * 2000, "p")}),
        }
        yield World(
            app,
            callers,
            ["hello", "other", "nosuch"],
            arranged.digests,
            arranged.tags,
            arranged.uploads,
            arranged.documents,
        )


@dataclass(frozen=True)
class Arranged:
    digests: list[str]
    tags: list[str]
    uploads: list[str]
    documents: list[dict[str, Any]]


def _arrange(client: TestClient) -> Arranged:
    """Two images, an index and three open upload sessions to aim at."""
    digests: list[str] = []
    images: list[dict[str, Any]] = []
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
    return Arranged(digests, ["v1", "multi"], uploads, [images[0], index])


# --- the checks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    caller: str
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def describe(self) -> str:
        return (
            f"{self.caller}: {self.method} {self.path} query={self.query!r:.300} "
            f"headers={self.headers!r:.300} body={self.body[:200]!r}"
        )

    def carries(self, text: str) -> bool:
        """Whether the request itself held ``text`` (an error message may quote what was sent)."""
        sent = f"{self.path} {self.query} {self.headers} {self.body.decode('utf-8', errors='replace')}"
        return text in sent


def _problem(attempt: Attempt, response: httpx.Response) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"answered {status}: {response.text[:300]}"
    text = response.content.decode("utf-8", errors="replace")
    for leaked in LEAKS.finditer(text):
        if not attempt.carries(leaked.group(0)):
            return f"the answer leaks {leaked.group(0)!r}: {text[:300]}"
    if status < 400 or attempt.method == "HEAD":
        return None
    if not response.headers.get("content-type", "").startswith("application/json"):
        return (
            f"{status} without the OCI error envelope (content-type {response.headers.get('content-type')!r})"
        )
    try:
        document = response.json()
    except ValueError:
        return f"{status} whose body is not JSON: {text[:200]}"
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


def _wire_headers(auth: dict[str, str], headers: dict[str, str]) -> dict[str, bytes]:
    """Header values as bytes (latin-1, as HTTP/1.1 carries them; httpx would insist on ASCII)."""
    return {name: value.encode("latin-1", errors="replace") for name, value in {**auth, **headers}.items()}


def _send(world: World, attempt: Attempt, pool: ThreadPoolExecutor) -> httpx.Response:
    client, auth = world.callers[attempt.caller]
    future = pool.submit(
        client.request,
        attempt.method,
        attempt.path,
        params=attempt.query,
        headers=_wire_headers(auth, attempt.headers),
        content=attempt.body,
    )
    return future.result(timeout=REQUEST_BOUND_SECONDS)


def _attempts(route: Route, method: str, world: World) -> st.SearchStrategy[Attempt]:
    return st.builds(
        Attempt,
        caller=st.sampled_from(["admin-basic", "admin-basic", "admin-bearer", *sorted(world.callers)]),
        method=st.just(method),
        path=_path(route, world),
        query=_query(world),
        headers=_headers(),
        body=st.just(b"") if method in ("GET", "HEAD") else _body(world),
    )


def _run(
    world: World, route: Route, method: str, pool: ThreadPoolExecutor, failures: dict[str, list[str]]
) -> None:
    """Up to :data:`EXAMPLES_PER_ROUTE` requests at one route and method; bad answers by route."""
    found = failures.setdefault(f"{method} {route.template}", [])

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(attempt=_attempts(route, method, world))
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
            world.seen_routes[route.name] = world.seen_routes.get(route.name, 0) + 1
        problem = _problem(attempt, response)
        if problem is not None:
            found.append(f"{problem}\n  {attempt.describe()}")

    exercise()


def test_no_generated_request_gets_a_server_error_or_a_bare_answer(world: World) -> None:
    failures: dict[str, list[str]] = {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        for route in ROUTES:
            for method in sorted(route.methods):
                _run(world, route, method, pool, failures)

    bad = {endpoint: found for endpoint, found in failures.items() if found}
    report = "\n\n".join(
        f"{endpoint}: {len(found)} bad answers, first:\n{found[0]}" for endpoint, found in bad.items()
    )
    assert not bad, report
    assert set(world.seen_routes) == {route.name for route in ROUTES}

"""Hypothesis strategies for requests to the registry plane, built from its route table.

A request is drawn for one route and method: path parameters (repository names, references,
digests, tags, upload ids) filled from what exists and from hostile values (odd
percent-encodings, NULs, over-long text), query parameters and headers carrying huge or
malformed integers, and a body from junk bytes to valid manifests changed in one or two places.
Valid values are drawn more often than hostile ones, so most requests reach a handler's deeper
code with one or two bad parts.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from berth.registry.routes import Route
from tests.api.oci import OCI_INDEX, OCI_MANIFEST

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
    return st.text(st.characters(exclude_categories=["Cs"]), max_size=max_size)


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


@dataclass(frozen=True)
class Targets:
    """What exists in the registry under attack, and the names of the callers."""

    callers: list[str]
    repositories: list[str]  # the first one holds ``documents``' blobs
    digests: list[str]
    tags: list[str]
    uploads: list[str]
    documents: list[dict[str, Any]]  # an image and an index the first repository would accept


def _names(targets: Targets) -> st.SearchStrategy[str]:
    grammar = st.from_regex(r"[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8})?(?:/[a-z0-9]{1,8}){0,2}", fullmatch=True)
    known = st.sampled_from(targets.repositories[:1])
    return st.one_of(
        known,
        known,
        known,
        st.sampled_from(targets.repositories),
        grammar,
        st.sampled_from(["A", "a//b", "-a", "a/", "a/../b", "_catalog", "x/_tags", "a" * 256, *ODD_TEXT]),
        _printable(),
    )


def _digests(targets: Targets) -> st.SearchStrategy[str]:
    known = st.sampled_from(targets.digests)
    return st.one_of(known, known, st.just(UNKNOWN_DIGEST), st.sampled_from(BAD_DIGESTS), _printable())


def _references(targets: Targets) -> st.SearchStrategy[str]:
    known = st.sampled_from(targets.tags)
    hostile = st.sampled_from([".INVALID_MANIFEST_NAME", "-x", "t" * 129, "latest", *ODD_TEXT])
    return st.one_of(known, known, _digests(targets), hostile, _printable())


def _path_values(targets: Targets) -> dict[str, st.SearchStrategy[str]]:
    return {
        "name": _names(targets),
        "reference": _references(targets),
        "digest": _digests(targets),
        "tag": st.one_of(st.sampled_from(targets.tags), _references(targets)),
        "upload": st.one_of(
            st.sampled_from(targets.uploads),
            st.just(str(uuid.UUID(int=7))),
            st.sampled_from(ODD_TEXT),
            _printable(),
        ),
    }


def _encode_segment(value: str, keep_slashes: bool) -> str:
    """Percent-encode a drawn value, keeping the %XX sequences the value spells out literally."""
    safe = "/%:@" if keep_slashes else "%:@"
    return quote(value, safe=safe)


def _path(route: Route, targets: Targets) -> st.SearchStrategy[str]:
    strategies = _path_values(targets)
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


def _query(targets: Targets) -> st.SearchStrategy[list[tuple[str, str]]]:
    text = st.one_of(_names(targets), _printable(), st.sampled_from(ODD_TEXT))
    known = st.fixed_dictionaries(
        {},
        optional={
            "n": _numbers(),
            "last": text,
            "orderby": st.one_of(st.sampled_from(["timedesc", "timeasc", "TIMEDESC", "none", ""]), text),
            "digest": _digests(targets),
            "mount": _digests(targets),
            "from": _names(targets),
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
            "Host": st.one_of(
                st.sampled_from(
                    [
                        "nosuch.localhost:5000",
                        "LOCALHOST:5000",
                        "localhost:" + "9" * 40,
                        "[::1]:5000",
                        "127.0.0.1",
                        "a" * 300 + ".localhost:5000",
                        "%00.localhost:5000",
                        "\x00.localhost:5000",
                    ]
                ),
                _header_text(),
            ),
            "X-Forwarded-For": st.one_of(
                st.sampled_from(["203.0.113.7", "::1", "not an address"]), _header_text()
            ),
        },
    )


Mutation = Callable[[dict[str, Any]], None]


def _mutations(targets: Targets) -> st.SearchStrategy[Mutation]:
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
        st.builds(subject, _digests(targets), _size()),
        st.builds(entry_digest, _digests(targets)),
        st.builds(assign, st.sampled_from(["config", "layers", "manifests"]), odd_value),
    )


def _manifest_body(targets: Targets) -> st.SearchStrategy[bytes]:
    """A manifest that would be accepted (in ``hello``), changed in one or two places."""

    def build(base: dict[str, Any], changes: list[Mutation], encoding: str) -> bytes:
        document = json.loads(json.dumps(base))
        for change in changes:
            change(document)
        return json.dumps(document, ensure_ascii=False).encode(encoding)

    return st.builds(
        build,
        st.sampled_from(targets.documents),
        st.lists(_mutations(targets), max_size=2),
        st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-32-be"]),
    )


def _body(targets: Targets) -> st.SearchStrategy[bytes]:
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
        _manifest_body(targets),
        attributes,
        form,
        st.sampled_from(
            [b"{", b"[]", b"null", b"1" * 5000, b'{"schemaVersion": 2.0}', b"\xff\xfe{\x00}\x00"]
        ),
    )


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


def attempts(route: Route, method: str, targets: Targets) -> st.SearchStrategy[Attempt]:
    return st.builds(
        Attempt,
        caller=st.sampled_from(["admin-basic", "admin-basic", "admin-bearer", *targets.callers]),
        method=st.just(method),
        path=_path(route, targets),
        query=_query(targets),
        headers=_headers(),
        body=st.just(b"") if method in ("GET", "HEAD") else _body(targets),
    )

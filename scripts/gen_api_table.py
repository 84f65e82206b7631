#!/usr/bin/env python3
"""Write the endpoint tables of docs/api.md from ``berth.registry.routes.ROUTES``.

    python scripts/gen_api_table.py          # rewrite the tables between the markers
    python scripts/gen_api_table.py --check  # exit 1 if the committed file is not current

The first table lists every registry-plane route with the access it needs, read off the
route itself. The second describes each OCI route's answers (status, headers, error codes)
from :data:`RESPONSES` below; a ``/v2/`` route without an entry there is an error, so a new
endpoint cannot land undocumented. The third lists every registered error code
(``berth.errors``). tests/unit/registry/test_api_docs.py runs the check.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NamedTuple

from berth.errors import registered_codes
from berth.registry.routes import ROUTES, Route

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"
BEGIN = "<!-- BEGIN GENERATED TABLES: scripts/gen_api_table.py -->"
END = "<!-- END GENERATED TABLES -->"


class Answers(NamedTuple):
    success: str  # status and what it means
    headers: str  # headers of the success response
    errors: tuple[str, ...]  # codes particular to the route; ``CODE@413`` overrides the status


SESSION = "`Location`, `Range: 0-<last byte>`, `Docker-Upload-UUID`"
BLOB_CREATED = "`Location: /v2/<name>/blobs/<digest>`, `Docker-Content-Digest`"

RESPONSES: dict[str, Answers] = {
    "ping": Answers("200 `{}`", "", ()),
    "catalog": Answers(
        '200 `{"repositories": [...]}`', "`Link` when there is a next page", ("PAGINATION_NUMBER_INVALID",)
    ),
    "tags": Answers(
        '200 `{"name": ..., "tags": [...]}`',
        "`Link` when there is a next page",
        ("NAME_UNKNOWN", "PAGINATION_NUMBER_INVALID"),
    ),
    "manifest": Answers(
        "200, the manifest as pushed",
        "`Content-Type` (its media type), `Content-Length`, `Docker-Content-Digest`, `ETag`",
        ("NAME_UNKNOWN", "MANIFEST_UNKNOWN", "DIGEST_INVALID", "DENIED"),
    ),
    "manifest-put": Answers(
        "201",
        "`Location: /v2/<name>/manifests/<digest>`, `Docker-Content-Digest`, "
        "`OCI-Subject` (with a `subject`)",
        (
            "MANIFEST_INVALID",
            "MANIFEST_BLOB_UNKNOWN",
            "DIGEST_INVALID",
            "TAG_INVALID",
            "SIZE_INVALID@413",
            "DENIED",
        ),
    ),
    "manifest-delete": Answers(
        "202 (a digest removes the manifest and its tags; a tag removes the tag)",
        "",
        ("NAME_UNKNOWN", "MANIFEST_UNKNOWN", "TAG_INVALID", "DIGEST_INVALID", "DENIED"),
    ),
    "upload-start": Answers(
        "202 session started; 201 with `?digest=` (monolithic) or a successful `?mount=`",
        f"202: {SESSION}; 201: {BLOB_CREATED}",
        ("DIGEST_INVALID", "NAME_INVALID", "SIZE_INVALID", "RANGE_INVALID"),
    ),
    "upload-status": Answers("204", SESSION, ("BLOB_UPLOAD_UNKNOWN",)),
    "upload-chunk": Answers(
        "202", SESSION, ("BLOB_UPLOAD_UNKNOWN", "RANGE_INVALID", "SIZE_INVALID", "BLOB_UPLOAD_INVALID")
    ),
    "upload-complete": Answers(
        "201",
        BLOB_CREATED,
        ("DIGEST_INVALID", "BLOB_UPLOAD_UNKNOWN", "RANGE_INVALID", "SIZE_INVALID", "BLOB_UPLOAD_INVALID"),
    ),
    "upload-cancel": Answers("204", "", ("BLOB_UPLOAD_UNKNOWN",)),
    "blob": Answers(
        "200, or 206 for a `Range`",
        "`Docker-Content-Digest`, `ETag`, `Accept-Ranges: bytes`, `Content-Length`, `Content-Range` (206)",
        ("BLOB_UNKNOWN", "DIGEST_INVALID", "RANGE_INVALID", "DENIED"),
    ),
    "blob-delete": Answers("202", "`Docker-Content-Digest`", ("BLOB_UNKNOWN", "DIGEST_INVALID")),
    "referrers": Answers(
        "200, an OCI image index of the referrers (empty for an unknown digest)",
        "`Content-Type: application/vnd.oci.image.index.v1+json`, "
        "`OCI-Filters-Applied: artifactType` when filtered",
        ("DIGEST_INVALID",),
    ),
}


def _methods(route: Route) -> str:
    order = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
    return " ".join(f"`{m}`" for m in sorted(route.methods, key=order.index))


def _access(route: Route) -> str:
    if not route.authenticate:
        if route.name.startswith("diagnostics-"):
            return "none: whoever holds the correlation id (past the network rules; docs/troubleshooting.md)"
        return "none (it is the authentication)"
    if route.action is None:
        return "any authenticated caller"
    needed = "`registry:catalog:*`" if route.on_registry else f"`repository:<name>:{route.action}`"
    if route.optional is not None:
        needed += " (a mount links the blob only where the caller may also pull `<from>`, or a holder)"
    return needed


def _codes_with_status(codes: tuple[str, ...]) -> str:
    """``CODE`` with its registered status; ``CODE@413`` where the route overrides the status."""
    registered = {entry.code: entry.status for entry in registered_codes()}
    shown = []
    for item in codes:
        code, _, status = item.partition("@")
        shown.append(f"`{code}` ({status or registered[code]})")
    return ", ".join(shown)


def tables() -> str:
    missing = [r.name for r in ROUTES if r.template.startswith("/v2/") and r.name not in RESPONSES]
    stale = sorted(set(RESPONSES) - {r.name for r in ROUTES})
    if missing or stale:
        raise SystemExit(
            f"scripts/gen_api_table.py: describe the answers of {missing or 'no route'} in RESPONSES; "
            f"drop {stale or 'nothing'}"
        )
    lines = [
        "### Every registry-plane route",
        "",
        "| Method | Path | Route | Access needed |",
        "| --- | --- | --- | --- |",
    ]
    for route in ROUTES:
        lines.append(f"| {_methods(route)} | `{route.template}` | `{route.name}` | {_access(route)} |")
    lines += [
        "",
        "### Answers of the OCI routes",
        "",
        "Besides the codes listed here, any route may answer with the common errors below.",
        "",
        "| Route | Success | Headers on success | Errors of this route (status) |",
        "| --- | --- | --- | --- |",
    ]
    for route in ROUTES:
        answers = RESPONSES.get(route.name)
        if answers is None:
            continue
        lines.append(
            f"| `{route.name}` | {answers.success} | {answers.headers or '—'} | "
            f"{_codes_with_status(answers.errors) or '—'} |"
        )
    lines += [
        "",
        "### Every error code",
        "",
        "| Code | Status | Default message |",
        "| --- | --- | --- |",
    ]
    for entry in registered_codes():
        lines.append(f"| `{entry.code}` | {entry.status} | {entry.message} |")
    return "\n".join(lines) + "\n"


def render(document: str) -> str:
    head, found_begin, rest = document.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not found_begin or not found_end:
        raise SystemExit(f"{DOC}: the markers {BEGIN!r} and {END!r} are missing")
    return f"{head}{BEGIN}\n{tables()}{END}{tail}"


def main(argv: list[str]) -> int:
    current = DOC.read_text()
    wanted = render(current)
    if "--check" in argv:
        if current != wanted:
            print(f"{DOC} is out of date: run python scripts/gen_api_table.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

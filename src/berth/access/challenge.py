"""The ``401`` a registry answers when it needs (other) credentials, in ACR's exact format.

Parameters are separated by a bare comma and every value is quoted, because the az CLI and
the Azure SDK parse the header naively (see acr-reference.md §2.1). ``GET /v2/`` carries no
``scope``; every other endpoint does.
"""

from __future__ import annotations

from dataclasses import replace

from berth import errors
from berth.access.model import Access, AccessRequest, Denial, scope_string
from berth.errors import WireError


def challenge_header(realm: str, service: str, accesses: tuple[Access, ...], error: str | None = None) -> str:
    header = f'Bearer realm="{realm}",service="{service}"'
    if accesses:
        header += f',scope="{scope_string(accesses)}"'
    if error:
        header += f',error="{error}"'
    return header


def access_detail(accesses: tuple[Access, ...]) -> list[dict[str, str]] | None:
    if not accesses:
        return None
    return [{"Type": a.type, "Name": a.name, "Action": a.action} for a in accesses]


def challenge(request: AccessRequest, error: str | None = None, message: str | None = None) -> WireError:
    """The 401 for ``request``: its scope names what is needed, then what would be used if held."""
    offered = request.accesses + tuple(a for a in request.optional if a not in request.accesses)
    return WireError(
        errors.UNAUTHORIZED,
        message,
        detail=access_detail(offered),
        headers={"WWW-Authenticate": challenge_header(request.realm, request.service, offered, error)},
    )


def with_challenge(request: AccessRequest, denial: Denial, error: str | None = None) -> Denial:
    """The denial, answered as a challenge (401 + WWW-Authenticate) keeping its public message."""
    if denial.error.error is not errors.UNAUTHORIZED:
        return replace(denial, requested=request.accesses)
    return replace(denial, error=challenge(request, error, denial.error.message), requested=request.accesses)

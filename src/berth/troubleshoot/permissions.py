"""What the checked identity may do on the registry, as the registry itself tells its holder
(``GET /acr/v1/_diagnostics/identity``), stated so that a missing action shows at once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from berth.troubleshoot.findings import Finding, info, problem


class ChainFacts(Protocol):
    """What the findings need of the check's input (``registry_chain.ChainInput`` has it)."""

    @property
    def registry(self) -> str: ...

    @property
    def login_server(self) -> str: ...

    def grant(
        self, identity: str, kind: str, missing: list[tuple[str, str]], scope_map: str | None = None
    ) -> str: ...


NULL_GUID = "00000000-0000-0000-0000-000000000000"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_MAIN_ACTIONS = ("pull", "push", "delete")
_LABEL = {
    "token": "Token",
    "service_principal": "Service principal",
    "user": "User",
    "admin": "Admin user",
    "anonymous": "Anonymous caller",
}


def identity_kind(registry: str, username: str | None, directory_claims: Mapping[str, Any]) -> str:
    """The kind of identity a user name names (as the registry resolves it); without one, the
    directory identity whose token ``directory_claims`` are."""
    if username is None:
        return "user" if "upn" in directory_claims else "service_principal"
    if username == NULL_GUID:
        return "unknown"
    if username.lower() == registry.lower():
        return "admin"
    return "service_principal" if _GUID.match(username) else "token"


def describe(document: Mapping[str, Any]) -> tuple[str, bool]:
    """One sentence of what the identity may do, and whether it may do anything at all."""
    wide = [str(a) for a in document.get("registryActions") or []]
    parts: list[str] = []
    if wide:
        refused = [a for a in _MAIN_ACTIONS if a not in wide]
        parts.append(
            f"{', '.join(wide)} on every repository" + (f" (not {', '.join(refused)})" if refused else "")
        )
    for entry in document.get("repositories") or []:
        parts.append(f"{', '.join(entry.get('actions') or [])} on {entry.get('repository')}")
    if document.get("repositories") and not wide:
        parts.append("nothing on other repositories")
    if document.get("catalog"):
        parts.append("list the catalog")
    return "; ".join(parts), bool(wide or document.get("repositories"))


def permission_findings(inp: ChainFacts, document: Mapping[str, Any]) -> list[Finding]:
    name = str(document.get("identity") or "")
    kind = str(document.get("identityKind") or "")
    label = _LABEL.get(kind, "Identity")
    sentence, anything = describe(document)
    facts = {"identity": name, "identity_kind": kind, "permissions": sentence}
    if document.get("scopeMap"):
        facts["scope_map"] = str(document["scopeMap"])
    if not anything:
        facts.update(
            registry=inp.registry,
            detail="no role, no repository in its scope map",
            grant_command=inp.grant(name, kind, [("<repository>", "pull")], facts.get("scope_map")),
        )
        return [problem("NO_PERMISSIONS", facts, warning=True)]
    where = f" (scope map {facts['scope_map']})" if "scope_map" in facts else ""
    return [info(f"{label} '{name}'{where} may on registry '{inp.login_server}': {sentence}", **facts)]

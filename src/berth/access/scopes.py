"""Docker token scopes (``repository:<name>:pull,push``) and ACR scope-map actions.

Scope-map actions are ``repositories/<repository>/<content|metadata>/<read|write|delete>``;
the repository may be exact, end in ``/*`` (everything below it) or be ``*`` (every
repository). Permissions from all matching entries add up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from berth.access.model import Access

REPOSITORY_ACTIONS = {
    "content/read": "pull",
    "content/write": "push",
    "content/delete": "delete",
    "metadata/read": "metadata_read",
    "metadata/write": "metadata_write",
}
SCOPE_MAP_ACTIONS = tuple(REPOSITORY_ACTIONS)


@dataclass(frozen=True)
class Scope:
    """One requested scope: resource type, name and the actions asked for."""

    type: str
    name: str
    actions: tuple[str, ...]

    def accesses(self) -> list[Access]:
        return [Access(self.type, self.name, action) for action in self.actions]


def parse_scope(text: str) -> Scope | None:
    """``type:name:actions``; the name may contain ``:`` (a registry host with a port)."""
    first, sep, rest = text.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not first or not name:
        return None
    kind = first.split("(", 1)[0]  # "repository(plugin)" is a repository
    parsed = tuple(dict.fromkeys(a.strip() for a in actions.split(",") if a.strip()))
    if not parsed:
        return None
    return Scope(kind, name, parsed)


def parse_scopes(values: Iterable[str]) -> list[Scope]:
    """Scopes from query values or a form field; each value may hold several, space-separated."""
    scopes: list[Scope] = []
    for value in values:
        for part in value.split():
            scope = parse_scope(part)
            if scope is not None:
                scopes.append(scope)
    return scopes


class InvalidScopeMapAction(ValueError):
    pass


@dataclass(frozen=True)
class ScopeMapEntry:
    repository: str  # exact name, "prefix/*" or "*"
    action: str  # docker action: pull, push, delete, metadata_read, metadata_write

    def matches(self, repository: str) -> bool:
        if self.repository == "*":
            return True
        if self.repository.endswith("/*"):
            return repository.startswith(self.repository[:-1])
        return repository == self.repository


def check_repository_pattern(pattern: str) -> None:
    if pattern == "*":
        return
    body = pattern[:-2] if pattern.endswith("/*") else pattern
    if not body or "*" in body:
        raise InvalidScopeMapAction(
            f"repository {pattern!r}: a wildcard may only appear once, as '*' or at the end as '/*'"
        )


def parse_scope_map_action(text: str) -> ScopeMapEntry:
    if not text.startswith("repositories/"):
        raise InvalidScopeMapAction(f"action {text!r} must start with 'repositories/'")
    rest = text[len("repositories/") :]
    repository, _, kind = rest.rpartition("/")
    repository, _, area = repository.rpartition("/")
    action = f"{area}/{kind}"
    if action not in REPOSITORY_ACTIONS:
        raise InvalidScopeMapAction(
            f"action {text!r}: the action must be one of {', '.join(SCOPE_MAP_ACTIONS)}"
        )
    if not repository:
        raise InvalidScopeMapAction(f"action {text!r} names no repository")
    check_repository_pattern(repository)
    return ScopeMapEntry(repository.lower(), REPOSITORY_ACTIONS[action])


def scope_map_action(repository: str, action: str) -> str:
    """The scope-map action string for a repository and ``content/read``-style action."""
    if action not in REPOSITORY_ACTIONS:
        raise InvalidScopeMapAction(f"{action!r} is not one of {', '.join(SCOPE_MAP_ACTIONS)}")
    check_repository_pattern(repository)
    return f"repositories/{repository.lower()}/{action}"


def actions_for_repository(entries: Iterable[ScopeMapEntry], repository: str) -> frozenset[str]:
    return frozenset(entry.action for entry in entries if entry.matches(repository))


@dataclass(frozen=True)
class SystemScopeMap:
    name: str
    description: str
    actions: tuple[str, ...]


SYSTEM_SCOPE_MAPS: dict[str, SystemScopeMap] = {
    m.name: m
    for m in (
        SystemScopeMap(
            "_repositories_admin",
            "Can perform all read, write and delete operations on the registry",
            tuple(f"repositories/*/{action}" for action in SCOPE_MAP_ACTIONS),
        ),
        SystemScopeMap(
            "_repositories_pull", "Can pull any repository of the registry", ("repositories/*/content/read",)
        ),
        SystemScopeMap(
            "_repositories_push",
            "Can push to any repository of the registry",
            ("repositories/*/content/read", "repositories/*/content/write"),
        ),
    )
}

"""The types of the cause catalogue: the seed article's causes and one precise fault with its fix.

Kept apart from the catalogues (:mod:`berth.troubleshoot.causes`,
:mod:`berth.troubleshoot.identity_causes`) so that each catalogue builds on them without
importing the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SeedCause(StrEnum):
    """The causes listed by the troubleshooting article the project starts from."""

    DOCKER = "Docker is not configured correctly in the environment"
    REGISTRY_NAME = "The registry does not exist or the name is wrong"
    INVALID_CREDENTIALS = "The registry credentials are not valid"
    NOT_AUTHORIZED = "The credentials are not authorized for push, pull or management operations"
    EXPIRED = "The credentials have expired"
    NETWORK = "A firewall or network rule blocks access to the registry"
    # Not in the article (it is about logins); berth's storage quota refuses pushes.
    STORAGE = "The registry is at its storage quota"


@dataclass(frozen=True)
class Cause:
    code: str
    seed: SeedCause
    cause: str  # one sentence; may use {placeholders} filled from the evidence
    fix: str  # the command or action that fixes it; may use {placeholders}

    def render(self, **facts: str) -> tuple[str, str]:
        return _fill(self.cause, facts), _fill(self.fix, facts)


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def _fill(text: str, facts: dict[str, str]) -> str:
    return text.format_map(_Missing(facts))

"""The types of the symptom catalogue: an error text's patterns and the causes that produce it.

Kept apart from the catalogues (:mod:`berth.troubleshoot.symptoms`,
:mod:`berth.troubleshoot.identity_symptoms`) so that each builds on them without importing the
other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from berth.troubleshoot.cause_model import SeedCause


@dataclass(frozen=True)
class PossibleCause:
    cause: str
    seed: SeedCause
    check: str  # how to confirm or rule it out
    fix: str
    codes: tuple[str, ...] = ()  # the verdict codes (from login events) that confirm this cause


@dataclass(frozen=True)
class Symptom:
    name: str
    patterns: tuple[re.Pattern[str], ...]
    causes: tuple[PossibleCause, ...]

    def matches(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)


def patterns(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)

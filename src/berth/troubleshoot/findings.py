"""What a check found: a passed step, a warning or an error with its cause and fix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from berth.troubleshoot.causes import CAUSES, REASONS


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    status: Status
    message: str  # the progress line: "DNS lookup to x at IP y : OK", or the error title
    code: str = ""
    cause: str = ""
    fix: str = ""
    seed: str = ""
    facts: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"status": self.status.value, "message": self.message}
        if self.code:
            document.update({"code": self.code, "cause": self.cause, "fix": self.fix, "seedCause": self.seed})
            # check-health saw it happen; an explanation carries the certainty of its verdict
            document["certainty"] = self.facts.get("certainty", "certain")
            document["evidence"] = {k: v for k, v in self.facts.items() if k not in ("certainty", "source")}
        if self.facts:
            document["facts"] = self.facts
        return document


def passed(message: str, **facts: str) -> Finding:
    return Finding(Status.OK, message, facts=dict(facts))


def info(message: str, **facts: str) -> Finding:
    return Finding(Status.INFO, message, facts=dict(facts))


def problem(code: str, facts: Mapping[str, str] | None = None, *, warning: bool = False) -> Finding:
    """A finding for a catalogued cause (or a login-event reason), filled with the evidence."""
    cause = CAUSES.get(code) or REASONS[code]
    facts = dict(facts or {})
    text, fix = cause.render(**facts)
    status, title = (Status.WARNING, "Warning") if warning else (Status.ERROR, "An error occurred")
    return Finding(status, f"{title}: {cause.code}", cause.code, text, fix, cause.seed.value, facts)

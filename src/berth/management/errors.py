"""Errors of the management API, rendered the way Azure Resource Manager renders them::

{"error": {"code": "ResourceNotFound", "message": "..."}}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ManagementError(Exception):
    code: str
    message: str
    status: int = 400
    target: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        return {"error": error}


def not_found(kind: str, name: str, parent: str | None = None) -> ManagementError:
    where = f" under {parent}" if parent else ""
    return ManagementError("ResourceNotFound", f"The {kind} '{name}' could not be found{where}.", 404)


def invalid(message: str, target: str | None = None) -> ManagementError:
    return ManagementError("InvalidParameter", message, 400, target)


def conflict(code: str, message: str) -> ManagementError:
    return ManagementError(code, message, 409)

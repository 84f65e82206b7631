"""The management domain, assembled: what the ARM-shaped API calls."""

from __future__ import annotations

from dataclasses import dataclass

from berth.management.authz import ManagementAuth
from berth.management.logs import LogsAdmin
from berth.management.principals import PrincipalAdmin
from berth.management.registries import RegistryAdmin
from berth.management.scoped_access import ScopedAccessAdmin


@dataclass(frozen=True)
class Management:
    auth: ManagementAuth
    registries: RegistryAdmin
    scoped: ScopedAccessAdmin
    principals: PrincipalAdmin
    logs: LogsAdmin

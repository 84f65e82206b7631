"""``berth acr``: registries and access to them, as ``az acr`` manages them.

Each sub-group lives in its own module and registers itself on :data:`app`. The diagnostics
commands (``check-health``, ``diagnose``, ``logs``) plug in the same way: a module with a
``register(app)`` function, added to :data:`MODULES`.
"""

from __future__ import annotations

from berth.cli.acr import (
    check_acr,
    check_health,
    credential,
    diagnose,
    gc,
    login,
    logs,
    network_rules,
    registry,
    repository,
    retention,
    scope_maps,
    tokens,
)
from berth.cli.framework import group

app = group("acr", "Manage private registries with berth, as `az acr` does.")

MODULES = (
    registry,
    login,
    credential,
    tokens,
    scope_maps,
    network_rules,
    repository,
    check_health,
    diagnose,
    logs,
    check_acr,
    gc,
    retention,
)

for module in MODULES:
    module.register(app)

"""Network rules: public network access, default action and IP/CIDR allow rules.

Checked before any credential, on every registry endpoint (``/v2/``, ``/oauth2/*``,
``/acr/v1/``), exactly as ACR's firewall does.
"""

from __future__ import annotations

import ipaddress

from berth import errors
from berth.access.model import Denial
from berth.errors import WireError
from berth.metadata.registries import RegistryRecord

FIREWALL_MESSAGE = (
    "client with IP '{ip}' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."
)


def _matches(ip: str, rule: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(rule, strict=False)
    except ValueError:
        return False


def check(registry: RegistryRecord, client_ip: str) -> Denial | None:
    """None when the client may reach the registry, else a ``403 DENIED`` denial."""
    if not registry.public_network_enabled:
        reason, detail = "public_network_disabled", "public network access to the registry is disabled"
    elif registry.network_default_action.lower() == "deny" and not any(
        _matches(client_ip, rule.value) for rule in registry.ip_rules if rule.action.lower() == "allow"
    ):
        reason = "ip_denied"
        detail = f"client IP {client_ip} is outside the registry's network rules"
    else:
        return None
    return Denial(
        reason=reason,
        error=WireError(errors.DENIED, FIREWALL_MESSAGE.format(ip=client_ip)),
        detail=detail,
    )

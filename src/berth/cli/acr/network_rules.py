"""``berth acr network-rule add|remove|list``: the registry firewall's IP rules (az's shapes).

Rules take effect with ``berth acr update --default-action Deny``: then only the listed
addresses reach the registry (every other client gets ``403``, before authentication).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

import typer

from berth.cli import context
from berth.cli.acr.common import RegistryName, ResourceGroup, find_registry
from berth.cli.framework import CliError, command, group

app = group("network-rule", "Manage network rules (IP allow-lists) of a registry.")

IpAddress = Annotated[
    str,
    typer.Option("--ip-address", help="IPv4 address or CIDR range, e.g. 203.0.113.7 or 198.51.100.0/24."),
]


def _ip_rules(rules: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"action": r.get("action", "Allow"), "ipAddressOrRange": r.get("value") or r.get("ipAddressOrRange")}
        for r in rules.get("ipRules") or []
    ]


def _network_view(resource: dict[str, Any]) -> dict[str, Any]:
    properties = resource.get("properties") or {}
    rules = properties.get("networkRuleSet") or {}
    return {
        "name": resource.get("name"),
        "networkRuleSet": {
            "defaultAction": rules.get("defaultAction"),
            "ipRules": _ip_rules(rules),
            "virtualNetworkRules": [],
        },
        "provisioningState": properties.get("provisioningState"),
    }


def ip_rules_table(result: Any) -> list[dict[str, Any]]:
    rules = (
        result.get("ipRules") if "ipRules" in result else (result.get("networkRuleSet") or {}).get("ipRules")
    )
    return [
        {"IP ADDRESS OR RANGE": r.get("ipAddressOrRange"), "ACTION": r.get("action")} for r in rules or []
    ]


def _same_range(a: str, b: str) -> bool:
    """Whether two rules name the same range (``1.2.3.4`` is ``1.2.3.4/32``)."""
    try:
        return ipaddress.ip_network(a, strict=False) == ipaddress.ip_network(b, strict=False)
    except ValueError:
        return a == b


def _set_ip_rules(name: str, resource_group: str | None, change: Any) -> dict[str, Any]:
    registry = find_registry(name, resource_group)
    rules = dict((registry.resource.get("properties") or {}).get("networkRuleSet") or {})
    current = [
        {"action": r.get("action", "Allow"), "value": r.get("value")} for r in rules.get("ipRules") or []
    ]
    updated = change(current)
    body = {"properties": {"networkRuleSet": {"ipRules": updated}}}
    resource = context.current().management.update_registry(registry.resource_group, registry.name, body)
    return _network_view(resource)


def add(name: RegistryName, ip_address: IpAddress, resource_group: ResourceGroup = None) -> dict[str, Any]:
    """Allow an IPv4 address or range (in force when the default action is Deny)."""
    return _set_ip_rules(
        name, resource_group, lambda rules: [*rules, {"action": "Allow", "value": ip_address}]
    )


def remove(name: RegistryName, ip_address: IpAddress, resource_group: ResourceGroup = None) -> dict[str, Any]:
    """Remove an IP rule."""

    def without(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = [r for r in rules if not _same_range(str(r.get("value")), ip_address)]
        if len(kept) == len(rules):
            raise CliError(f"The registry '{name}' has no IP rule for '{ip_address}'.")
        return kept

    return _set_ip_rules(name, resource_group, without)


def list_rules(name: RegistryName, resource_group: ResourceGroup = None) -> dict[str, Any]:
    """List the network rules of a registry."""
    view = _network_view(find_registry(name, resource_group).resource)["networkRuleSet"]
    return {"ipRules": view["ipRules"], "virtualNetworkRules": view["virtualNetworkRules"]}


def register(acr: typer.Typer) -> None:
    command(app, "add", table=ip_rules_table)(add)
    command(app, "remove", table=ip_rules_table)(remove)
    command(app, "list", table=ip_rules_table)(list_rules)
    acr.add_typer(app, name="network-rule")

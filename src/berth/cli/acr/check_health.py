"""``berth acr check-health``: the environment and the whole login chain of a registry, in
``az acr check-health``'s order and with its codes, plus what az does not look at (docker's
stored credentials, identity-token expiry, clock skew).

Progress goes to stderr as az prints it (``<message> : OK``); each problem is
``<UTC time> An error occurred: <CODE>``, one sentence of cause and ``Fix: <fix>`` (from
:mod:`berth.troubleshoot.causes`). Without ``--ignore-errors`` the first error ends the run
with exit status 1; with it every step runs and the status is 0, as in az. ``-o json`` prints
the whole report on stdout.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Optional

import httpx
import typer

from berth.cli import context
from berth.cli.acr import self_service
from berth.cli.acr.common import (
    Addressed,
    RegistryRef,
    ResourceGroup,
    addressed,
    find_registry,
    registry_name_for,
)
from berth.cli.acr.diagnose import explain_request
from berth.cli.client.directory import CONTAINER_REGISTRY, discover
from berth.cli.client.http import ApiError, new_client
from berth.cli.framework import CliError, interactive
from berth.troubleshoot.explain import RegistryFacts, Verdict, explain, rank
from berth.troubleshoot.findings import Finding, Status
from berth.troubleshoot.health import HEALTH_LINK, HealthCheck, HealthRequest

ERRORS_LINK = "Please refer to https://aka.ms/acr/errors#{code} for more information."


class HealthFormat(StrEnum):
    text = "text"
    json = "json"


@dataclass
class Resolved:
    client: httpx.Client
    scheme: str
    domain_suffix: str
    registry: RegistryRef | None = None
    login_server: str | None = None
    registry_id: str = "<registry id>"
    lookup_error: str | None = None
    signed_in: bool = False


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def render_finding(finding: Finding) -> str:
    """A finding as check-health prints it (no trailing newline)."""
    if finding.status in (Status.OK, Status.INFO):
        return finding.message
    source = finding.facts.get("source")  # set on explanations from the login events
    if source:
        head = (
            f"Cause found in the registry's {source} ({finding.facts.get('correlation_id')}): {finding.code}"
        )
    elif finding.status is Status.WARNING:
        head = f"Warning: {finding.code}"
    else:
        head = f"{_stamp()} An error occurred: {finding.code}"
    return f"{head}\n{finding.cause}\nFix: {finding.fix}"


def _resolve(name: str | None, resource_group: str | None) -> Resolved:
    """Where the registry is: through the management API when signed in, else derived."""
    ctx = context.current()
    if ctx.has_session():
        resolved = Resolved(ctx.http, ctx.scheme, "." + ctx.service_host, signed_in=True)
        if not name:
            return resolved
        try:
            registry = find_registry(name, resource_group)
        except ApiError as exc:
            if exc.status not in (403, 404):
                raise
            resolved.lookup_error = exc.message
        except CliError as exc:
            resolved.lookup_error = exc.message
        else:
            resolved.registry = registry
            resolved.login_server = registry.login_server or None
            resolved.registry_id = registry.id
        return resolved
    server = os.environ.get("BERTH_SERVER", "").rstrip("/")
    client = new_client()
    if not server:
        return Resolved(
            client, "https", "", lookup_error="not signed in (berth login) and BERTH_SERVER is not set"
        )
    try:
        found = discover(client, server)
    except CliError as exc:
        return Resolved(client, server.split("://", 1)[0], "", lookup_error=exc.message)
    return Resolved(
        client,
        server.split("://", 1)[0],
        "." + found.service_host,
        lookup_error="not signed in (berth login)",
    )


def _directory_token(resolved: Resolved) -> tuple[str | None, str | None]:
    if not resolved.signed_in:
        return None, "not signed in: run berth login (or pass --username and --password)"
    try:
        return context.current().credential.token(CONTAINER_REGISTRY), None
    except CliError as exc:
        return None, exc.message


def _wants_pull(repository: str | None, tag: str | None, yes: bool, login_server: str | None) -> bool:
    if not repository:
        return False
    if yes:
        return True
    image = f"{login_server or '<login server>'}/{repository}:{tag or '<its first tag>'}"
    if not interactive():
        print("Skipping pull check (use --yes to pull without a prompt).", file=sys.stderr, flush=True)
        return False
    answer = input(f"This will pull the image {image}. Proceed? (y/n): ").strip().lower()
    if answer not in ("y", "yes"):
        print("Skipping pull check.", file=sys.stderr, flush=True)
        return False
    return True


def _token_scope_map(registry: RegistryRef | None, username: str | None) -> str | None:
    """The scope map of --username when it is a token the caller may read (owner, Reader)."""
    if registry is None or not username:
        return None
    try:
        token = context.current().management.get_child(registry.id, "tokens", username)
    except CliError:
        return None
    scope_map_id = str((token.get("properties") or {}).get("scopeMapId") or "")
    return scope_map_id.rsplit("/", 1)[-1] or None


def _told(resolved: Resolved, finding: Finding, target: Addressed | None) -> list[Verdict]:
    """What the registry tells the holder of a rejected request's correlation id (no logs needed)."""
    login_server = finding.facts.get("login_server") or ""
    correlation_id = finding.facts.get("correlation_id") or ""
    if not login_server or target is None:
        return []
    plane = self_service.Plane(resolved.client, resolved.scheme, login_server)
    event = self_service.rejected(plane, correlation_id)
    if event is None:
        return []
    facts = RegistryFacts(target.name, resolved.registry_id, login_server)
    return rank([v for v in [explain(event, facts)] if v is not None], exact=True)


def _explanations(resolved: Resolved, finding: Finding, target: Addressed | None) -> list[Finding]:
    """What the registry's login events say about a rejected request check-health made: the
    owner reads them; anyone else gets what the request's correlation id may learn."""
    correlation_id = finding.facts.get("correlation_id")
    registry = resolved.registry
    if finding.status is Status.OK or not correlation_id:
        return []
    source = "login events"
    try:
        verdicts = explain_request(registry, correlation_id) if registry is not None else []
    except ApiError as exc:
        if exc.status != 403:
            raise
        verdicts = []
    if not verdicts:
        verdicts, source = _told(resolved, finding, target), "answer to the request's correlation id"
    return [
        Finding(
            Status.ERROR if finding.status is Status.ERROR else Status.WARNING,
            f"Login event {correlation_id}: {v.code}",
            v.code,
            v.cause,
            v.fix,
            v.seed.value,
            {"correlation_id": correlation_id, "source": source, "certainty": v.certainty.value},
        )
        for v in verdicts
    ]


def _storage_usage(registry: RegistryRef | None) -> tuple[int, int] | None:
    """(bytes stored, quota) of a registry with a storage quota, from listUsages (Reader or above)."""
    quota = ((registry.resource.get("properties") or {}).get("storageQuota")) if registry else None
    if registry is None or not isinstance(quota, int):
        return None
    try:
        usages = context.current().management.list_usages(registry.resource_group, registry.name)
    except (ApiError, CliError):
        return None
    size = next((u for u in usages.get("value") or [] if u.get("name") == "Size"), None)
    return (int(size.get("currentValue") or 0), quota) if size else None


def check_health(
    name: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--name", "-n", help="The name of the container registry."),
    ] = None,
    ignore_errors: Annotated[
        bool, typer.Option("--ignore-errors", help="Keep going after an error and exit 0, as az does.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not prompt before the sample pull.")] = False,
    repository: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--repository",
            help="Check pull, push, delete and metadata permissions on this repository, and pull "
            "one of its tags (--tag, else the first it lists) with docker.",
        ),
    ] = None,
    tag: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--tag", help="The tag of --repository to pull (default: the first tag it lists)."),
    ] = None,
    username: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--username", "-u", help="Check these credentials (admin, token or SP) instead."),
    ] = None,
    password: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--password", "-p", help="The password of --username."),
    ] = None,
    output: Annotated[
        HealthFormat, typer.Option("--output", "-o", help="text (az's progress lines) or json.")
    ] = HealthFormat.text,
    resource_group: ResourceGroup = None,
) -> None:
    """Check the docker environment and the login chain to a registry, naming cause and fix."""
    if password and not username:
        raise CliError("Please also specify username if password is specified.", exit_code=2)
    target = addressed(name) if name else None  # -n may be the login server the user addressed
    name = registry_name_for(target) if target else None
    resolved = _resolve(name, resource_group)
    if resolved.registry is None and name:  # what the owner runs to fill in a role assignment's scope
        resolved.registry_id = f"$(berth acr show -n {name} --query id -o tsv)"
    if target and target.login_server:
        resolved.login_server = target.login_server
        resolved.scheme = target.scheme or resolved.scheme
        resolved.lookup_error = None
    properties = (resolved.registry.resource.get("properties") or {}) if resolved.registry else {}
    token, directory_error = (None, None) if username else _directory_token(resolved)
    if name and not resolved.domain_suffix and not resolved.login_server:
        resolved.lookup_error = resolved.lookup_error or "the service is unknown"
    request = HealthRequest(
        registry=name,
        login_server=resolved.login_server,
        scheme=resolved.scheme,
        domain_suffix=resolved.domain_suffix,
        repository=repository,
        registry_id=resolved.registry_id,
        directory_token=token,
        directory_error=directory_error,
        username=username,
        password=password if username else None,
        ignore_errors=ignore_errors,
        pull=_wants_pull(repository, tag, yes, resolved.login_server),
        lookup_error=resolved.lookup_error,
        tag=tag,
        public_access_disabled=str(properties.get("publicNetworkAccess", "")).lower() == "disabled",
        token_scope_map=_token_scope_map(resolved.registry, username),
        storage_usage=_storage_usage(resolved.registry),
    )
    text = output is HealthFormat.text
    explained: list[Finding] = []

    def show(finding: Finding) -> None:
        more = _explanations(resolved, finding, target)
        explained.extend(more)
        if text:
            for item in (finding, *more):
                print(render_finding(item), file=sys.stderr, flush=True)

    report = HealthCheck(request, resolved.client, os.environ, on_finding=show).execute()
    code = report.exit_code(ignore_errors)
    if text:
        if report.stopped_early and report.errors:
            print(ERRORS_LINK.format(code=report.errors[-1].code.lower()), file=sys.stderr)
        print(f"\n{HEALTH_LINK}", file=sys.stderr, flush=True)
    else:
        document: dict[str, Any] = {
            "registry": name,
            "loginServer": report.login_server,
            **report.as_json(),
            "explanations": [f.as_json() for f in explained],
            "exitCode": code,
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    if code:
        raise typer.Exit(code)


def register(acr: typer.Typer) -> None:
    acr.command("check-health")(check_health)

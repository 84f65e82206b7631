"""``berth acr diagnose``: from what a user saw to why it happened and what fixes it.

- ``--error TEXT``: the error message (docker's, podman's or az's wording) → the symptoms it
  shows and, for each, the possible causes with the check that tells them apart
  (:mod:`berth.troubleshoot.symptoms`).
- ``--correlation-id ID``, or ``--identity X`` and ``--since`` (default 1h), or nothing but the
  registry: the failed login events, and the refused pushes (repository events with a reason,
  such as the storage quota), that match (when the caller may read the registry's logs)
  → the exact cause and the command that fixes it (:mod:`berth.troubleshoot.explain`).
"""

from __future__ import annotations

import json
import re
import sys
import time
from enum import StrEnum
from typing import Annotated, Any, Optional

import typer

from berth.cli import context
from berth.cli.acr import self_service
from berth.cli.acr.common import Password as PasswordOption
from berth.cli.acr.common import (
    RegistryName,
    RegistryRef,
    ResourceGroup,
    addressed,
    find_registry,
    registry_name_for,
)
from berth.cli.acr.common import Username as UsernameOption
from berth.cli.acr.diagnosis import Diagnosis, render_text
from berth.cli.acr.logs import parse_since, query_events
from berth.cli.client.http import ApiError
from berth.cli.framework import CliError
from berth.events.columns import from_columns
from berth.troubleshoot.explain import RegistryFacts, Verdict, explain_all, is_probe, rank
from berth.troubleshoot.symptoms import match

NO_LOGS = (
    "You may not read the login events of registry '{registry}' ({error}); they need Reader or above on "
    "the registry. Ask its owner to run: berth acr diagnose -n {registry}{filters}"
)


class DiagnoseFormat(StrEnum):
    text = "text"
    json = "json"


SIGN_IN_REFUSED = (
    "Your own berth sign-in ({user}) is refused: {error} If {user} is the identity whose login failed, this "
    "is the cause: the account was disabled, deleted or its password reset, which also ends the refresh "
    "token berth acr login gave docker. Ask an owner to check and re-enable it: berth ad user show --id "
    "{user} --query accountEnabled; berth ad user update --id {user} --account-enabled true (a service "
    "principal: berth ad sp update --id {user} --set accountEnabled=true)."
)


def _facts(
    name: str, login_server: str, registry: RegistryRef | None, identity: str | None
) -> dict[str, str]:
    """What fills the placeholders of checks and fixes, so that each printed command runs as shown."""
    ctx = context.current()
    signed_in = ctx.has_session()
    if identity is None and signed_in and registry is None:
        identity = ctx.session.user_name  # who cannot see the registry is asking about themselves
    return {
        "registry": name,
        "login_server": login_server,
        "scheme": ctx.scheme if signed_in else "https",
        "identity": identity or "<id>",
        "registry_id": registry.id if registry else f"$(berth acr show -n {name} --query id -o tsv)",
    }


def _registry(name: str, resource_group: str | None, notes: list[str], lead: list[str]) -> RegistryRef | None:
    ctx = context.current()
    if not ctx.has_session():
        notes.append("Not signed in (berth login): the login events cannot be read; text-based causes only.")
        return None
    try:
        return find_registry(name, resource_group)
    except ApiError as exc:
        if exc.status == 401:
            lead.append(SIGN_IN_REFUSED.format(user=ctx.session.user_name, error=exc.message))
            return None
        if exc.status not in (403, 404):
            raise
        notes.append(f"Registry '{name}' could not be looked up: {exc.message}")
    except CliError as exc:
        if "sign in again" in exc.message.lower():  # the directory refuses the session's refresh token
            lead.append(SIGN_IN_REFUSED.format(user=ctx.session.user_name, error=exc.message))
        else:
            notes.append(f"Registry '{name}' could not be looked up: {exc.message}")
    return None


def _scope_maps(registry: RegistryRef, events: list[dict[str, Any]]) -> dict[str, str]:
    """The scope map of each token that appears in the events (for the exact fix command)."""
    maps: dict[str, str] = {}
    asked: set[str] = set()  # each token once, also when it cannot be read
    management = context.current().management
    for event in events:
        name = str(event.get("identity") or "")
        if event.get("identity_kind") != "token" or not name or name in asked:
            continue
        asked.add(name)
        try:
            token = management.get_child(registry.id, "tokens", name)
        except CliError:
            continue
        scope_map_id = str((token.get("properties") or {}).get("scopeMapId") or "")
        if scope_map_id:
            maps[name] = scope_map_id.rsplit("/", 1)[-1]
    return maps


def registry_facts(registry: RegistryRef, events: list[dict[str, Any]]) -> RegistryFacts:
    properties = registry.resource.get("properties") or {}
    return RegistryFacts(
        registry.name,
        registry.id,
        registry.login_server,
        _scope_maps(registry, events),
        bool(properties.get("anonymousPullEnabled")),
    )


def explain_request(registry: RegistryRef, correlation_id: str, wait: float = 3.0) -> list[Verdict]:
    """Verdicts for the failed login of one request (events land within a second; wait for it)."""
    deadline = time.monotonic() + wait
    while True:
        rows = query_events(registry, "login", {"correlationId": correlation_id, "status": "failed"})
        if rows or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    events = [from_columns(row) for row in rows]
    return rank(explain_all(events, registry_facts(registry, events)), exact=True)


def _filters(correlation_id: str | None, identity: str | None, since: str | None) -> str:
    parts = []
    if correlation_id:
        parts.append(f" --correlation-id {correlation_id}")
    if identity:
        parts.append(f" --identity {identity}")
    if since:
        parts.append(f" --since {since}")
    return "".join(parts)


def _events(
    diagnosis: Diagnosis,
    registry: RegistryRef,
    correlation_id: str | None,
    identity: str | None,
    since: str | None,
) -> None:
    params = {"status": "failed", "top": "200"}
    if correlation_id:
        params["correlationId"] = correlation_id
    else:
        params["since"] = str(parse_since(since or "1h"))
    if identity:
        params["identity"] = identity
    try:
        rows = query_events(registry, "login", params)
        # A refused push (e.g. the storage quota) is a failed repository event with a reason.
        refused = [row for row in query_events(registry, "repository", params) if row.get("Reason")]
        if refused:  # one list, newest first (ISO 8601 times sort as text)
            rows = sorted(
                [*rows, *refused], key=lambda row: str(row.get("TimeGenerated") or ""), reverse=True
            )
    except ApiError as exc:
        if exc.status != 403:
            raise
        filters = _filters(correlation_id, identity, since)
        diagnosis.notes.append(
            NO_LOGS.format(registry=registry.name, error=exc.code or exc.status, filters=filters)
        )
        return
    diagnosis.searched = True
    events = [from_columns(row) for row in rows]
    if not correlation_id:  # check-health's own probes are not what the user saw
        events = [event for event in events if not is_probe(event)]
    diagnosis.events = events
    expected = [[code for cause in symptom.causes for code in cause.codes] for symptom in diagnosis.symptoms]
    verdicts = explain_all(events, registry_facts(registry, events))
    diagnosis.verdicts = rank(verdicts, expected, exact=bool(correlation_id))
    if not diagnosis.events:
        what = f"correlation id {correlation_id}" if correlation_id else f"the last {since or '1h'}"
        who = f" for identity {identity}" if identity else ""
        diagnosis.notes.append(
            f"No failed login or refused push to registry '{registry.name}' in {what}{who}."
        )


def _self_service(
    diagnosis: Diagnosis,
    plane: self_service.Plane,
    username: str | None,
    password: str,
    correlation_id: str | None,
    since: str | None,
) -> None:
    """Explanations from the registry plane: own events with the credentials, or what a rejected
    request's correlation id may learn (for those who may not read the registry's logs)."""
    facts = diagnosis.facts
    maps: dict[str, str] = {}
    events: list[dict[str, Any]] = []
    if username:
        who = self_service.identity(plane, username, password)
        if who is None:
            diagnosis.notes.append(
                f"The registry rejects the credentials of '{username}' now; explain the rejection by its "
                f"correlation id: berth acr diagnose -n {plane.login_server} --correlation-id <id>"
            )
        else:
            if who.get("scopeMap"):
                maps[str(who["identity"])] = str(who["scopeMap"])
            window = time.time() - (parse_since(since or "1h") or time.time() - 3600)
            events, problem = self_service.own_events(plane, username, password, correlation_id, window)
            if problem:
                diagnosis.notes.append(problem)
                return
            diagnosis.searched = True
    if correlation_id and not events:
        told = self_service.rejected(plane, correlation_id)
        if told is None:
            diagnosis.notes.append(
                f"The registry knows no rejected request with correlation id {correlation_id}."
            )
            return
        events = [told]
        diagnosis.searched = True
    diagnosis.notes[:] = [n for n in diagnosis.notes if not n.startswith("You may not read the login events")]
    registry = RegistryFacts(diagnosis.registry, facts["registry_id"], plane.login_server, maps)
    if not correlation_id:
        events = [event for event in events if not is_probe(event)]
    verdicts = explain_all(events, registry)
    diagnosis.events = events
    expected = [[code for cause in symptom.causes for code in cause.codes] for symptom in diagnosis.symptoms]
    diagnosis.verdicts = rank(verdicts, expected, exact=bool(correlation_id))
    if diagnosis.searched and not events:
        diagnosis.notes.append(f"No failed login of '{username}' in the last {since or '1h'}.")


def diagnose(
    name: RegistryName,
    error: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--error", "-e", help="The error message you saw (docker, podman or az)."),
    ] = None,
    correlation_id: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--correlation-id", help="The correlation id of the failed request."),
    ] = None,
    identity: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--identity", help="Who failed to log in: UPN, app id, token or registry name."),
    ] = None,
    since: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--since", help="How far back to look for failed logins (default 1h)."),
    ] = None,
    output: Annotated[
        DiagnoseFormat, typer.Option("--output", "-o", help="text or json.")
    ] = DiagnoseFormat.text,
    username: UsernameOption = None,
    password: PasswordOption = None,
    resource_group: ResourceGroup = None,
) -> None:
    """Name the cause of a failed login and the command that fixes it.

    The registry's owner (Reader or above) reads the login events. Anyone else explains their own
    requests with the same credentials (--username/--password), or a rejected request by its
    --correlation-id alone; -n may be the login server you addressed (myreg.<domain>:port or a URL).
    """
    if password and not username:
        raise CliError("Please also specify username if password is specified.", exit_code=2)
    target = addressed(name)
    name = registry_name_for(target)
    notes: list[str] = []
    lead: list[str] = []
    registry = None if username else _registry(name, resource_group, notes, lead)
    plane = self_service.plane_for(target, registry.login_server if registry else None)
    login_server = target.login_server or (registry.login_server if registry else None)
    login_server = login_server or (plane.login_server if plane else name.lower())
    diagnosis = Diagnosis(
        name, login_server, _facts(name, login_server, registry, identity), notes=notes, lead=lead
    )
    if error and not correlation_id:
        correlation_id = _correlation_id_in(error)
        if correlation_id:
            notes.append(f"Looked up the correlation id in the error text: {correlation_id}.")
    if error:
        diagnosis.symptoms = match(error)
        if not diagnosis.symptoms:
            notes.append(
                "The error text matches no known login symptom; run berth acr check-health -n "
                f"{name} --ignore-errors --yes to check the whole chain."
            )
    if registry is not None and (correlation_id or identity or since or not error):
        _events(diagnosis, registry, correlation_id, identity, since)
    if not diagnosis.searched and plane is not None and (username or correlation_id):
        _self_service(diagnosis, plane, username, password or "", correlation_id, since)
    if not diagnosis.searched and (correlation_id or identity or username):
        notes.append("The login events could not be searched; the causes above come from the text alone.")
    if output is DiagnoseFormat.json:
        sys.stdout.write(json.dumps(diagnosis.as_json(), indent=2) + "\n")
    else:
        sys.stdout.write(render_text(diagnosis))


_CORRELATION_ID = re.compile(
    r"correlation id ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", re.I
)


def _correlation_id_in(error: str) -> str | None:
    """The correlation id berth put in an error message (a refused push, a failed write), if any."""
    found = _CORRELATION_ID.search(error)
    return found.group(1).lower() if found else None


def register(acr: typer.Typer) -> None:
    acr.command("diagnose")(diagnose)

"""From a failed login event to the exact cause and the command that fixes it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from berth.access.scopes import REPOSITORY_ACTIONS, Scope, parse_scopes
from berth.troubleshoot.cause_model import SeedCause
from berth.troubleshoot.causes import REASONS, STALE_CREDENTIALS, STALE_REASONS

# check-health's own requests carry this user agent; diagnose leaves them out of the verdicts.
PROBE_USER_AGENT = "berth-check-health"


class Certainty(StrEnum):
    """How sure a verdict is: ``certain`` for the event of the very request asked about (its
    correlation id); ``likely`` for the verdict that best explains the error text, identity and
    time given; ``possible`` for the others that fit; ``unlikely`` for failures that do not
    produce the error text given."""

    CERTAIN = "certain"
    LIKELY = "likely"
    POSSIBLE = "possible"
    UNLIKELY = "unlikely"


@dataclass(frozen=True)
class Verdict:
    code: str
    seed: SeedCause
    cause: str
    fix: str
    event: Mapping[str, Any]
    certainty: Certainty = Certainty.POSSIBLE

    @property
    def evidence(self) -> dict[str, str]:
        """The event fields the verdict rests on (no secret is ever in an event)."""
        keys = (
            "time",
            "identity",
            "identity_kind",
            "caller_ip",
            "operation",
            "result_description",
            "reason",
            "detail",
            "requested_scopes",
            "granted_scopes",
            "correlation_id",
            "user_agent",
        )
        return {k: str(self.event[k]) for k in keys if self.event.get(k) not in (None, "")}


@dataclass(frozen=True)
class RegistryFacts:
    name: str
    resource_id: str
    login_server: str
    token_scope_maps: Mapping[str, str] = field(default_factory=dict)  # token name → its scope map
    anonymous_pull: bool = False


_KIND_LABEL = {
    "token": "token",
    "service_principal": "service principal",
    "user": "user",
    "admin": "admin user",
    "anonymous": "anonymous caller",
    "unknown": "identity",
}


def _reset_command(kind: str, identity: str, registry: str) -> str:
    if kind == "token":
        return f"berth acr token credential generate -r {registry} -n {identity} --password1"
    if kind == "service_principal":
        return f"berth ad sp credential reset --id {identity}"
    if kind == "admin":
        return f"berth acr credential renew -n {registry} --password-name password"
    if kind == "user":
        return "Ask an owner to reset the user's password, then berth login again."
    return "Check the user name and password."


def _enable_command(kind: str, identity: str, registry: str) -> str:
    if kind == "token":
        return f"berth acr token update -r {registry} -n {identity} --status enabled"
    if kind == "service_principal":
        return f"berth ad sp update --id {identity} --set accountEnabled=true"
    if kind == "user":
        return f"berth ad user update --id {identity} --account-enabled true"
    return "Ask an owner to re-enable the identity."


# A token action → the scope-map action that grants it (pull → content/read).
_SCOPE_MAP_ACTION = {token: scope_map for scope_map, token in REPOSITORY_ACTIONS.items()}


def _scopes(event: Mapping[str, Any], field: str) -> list[Scope]:
    """The ``type:name:actions`` scopes an event's ``requested_scopes`` or ``granted_scopes`` holds."""
    return parse_scopes([str(event.get(field, ""))])


def _missing(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(repository, action) pairs requested but not granted."""
    granted: dict[tuple[str, str], set[str]] = {}
    for scope in _scopes(event, "granted_scopes"):
        granted.setdefault((scope.type, scope.name), set()).update(scope.actions)
    missing: list[tuple[str, str]] = []
    for scope in _scopes(event, "requested_scopes"):
        have = granted.get((scope.type, scope.name), set())
        missing += [(scope.name, a) for a in scope.actions if a not in have]
    return missing


def grant_command(kind: str, identity: str, facts: RegistryFacts, missing: Sequence[tuple[str, str]]) -> str:
    """The command that grants ``missing`` (repository, token action) pairs to an identity:
    a token's scope map (a system map cannot change: the token gets a new one), else roles."""
    missing = list(missing) or [("<repository>", "pull")]
    if kind == "token":
        repository = missing[0][0]
        actions = " ".join(dict.fromkeys(_SCOPE_MAP_ACTION.get(a, a) for _, a in missing))
        scope_map = facts.token_scope_maps.get(identity, "<the token's scope map>")
        if scope_map.startswith("_"):  # a system scope map cannot change: give the token a new one
            return (
                f"berth acr token update -r {facts.name} -n {identity} --scope-map <a map with "
                f"{repository} {actions}>  (create it: berth acr scope-map create -r {facts.name} -n <map> "
                f"--repository {repository} {actions})"
            )
        add = f"--add-repository {repository} {actions}"
        return f"berth acr scope-map update -r {facts.name} -n {scope_map} {add}"
    if kind in ("service_principal", "user"):
        needs = {action for _, action in missing}
        roles = ["AcrPush"] if needs & {"push", "metadata_write"} else []  # AcrPush includes pull
        if not roles and needs & {"pull", "metadata_read"}:
            roles = ["AcrPull"]
        roles = [*roles, "AcrDelete"] if "delete" in needs else roles or ["AcrPull"]
        return "; ".join(
            f"berth role assignment create --assignee {identity} --role {role} --scope {facts.resource_id}"
            for role in roles
        )
    if kind == "anonymous":
        return f"docker login {facts.login_server}  (anonymous callers may only pull)"
    return "Use credentials that hold the needed permission."


def _grant_command(kind: str, identity: str, facts: RegistryFacts, event: Mapping[str, Any]) -> str:
    return grant_command(kind, identity, facts, _missing(event))


def _pull_only(event: Mapping[str, Any]) -> bool:
    """Whether the failed request asked for nothing but pull (what anonymous callers may do)."""
    actions = {action for scope in _scopes(event, "requested_scopes") for action in scope.actions}
    return bool(actions) and actions <= {"pull"}


def explain(event: Mapping[str, Any], facts: RegistryFacts) -> Verdict | None:
    """The verdict for one failed login event, or None if it did not fail for a known reason."""
    reason = str(event.get("reason") or "")
    cause = REASONS.get(reason)
    if cause is None:
        return None
    if facts.anonymous_pull and reason in STALE_REASONS and _pull_only(event):
        cause = STALE_CREDENTIALS
    kind = str(event.get("identity_kind") or "unknown")
    identity = str(event.get("identity") or "")
    rendered_cause, rendered_fix = cause.render(
        identity=identity or "(anonymous)",
        identity_kind=_KIND_LABEL.get(kind, kind),
        registry=facts.name,
        registry_id=facts.resource_id,
        login_server=facts.login_server,
        client_ip=str(event.get("caller_ip", "")),
        correlation_id=str(event.get("correlation_id", "")),
        detail=str(event.get("detail", "")).rstrip("."),
        reset_command=_reset_command(kind, identity, facts.name),
        enable_command=_enable_command(kind, identity, facts.name),
        grant_command=_grant_command(kind, identity, facts, event),
    )
    rendered_cause = rendered_cause[:1].upper() + rendered_cause[1:]
    return Verdict(cause.code, cause.seed, rendered_cause, rendered_fix, event)


def explain_all(events: Sequence[Mapping[str, Any]], facts: RegistryFacts) -> list[Verdict]:
    """Verdicts for failed events, one per distinct (reason, identity), newest first."""
    seen: set[tuple[str, str]] = set()
    verdicts: list[Verdict] = []
    for event in events:
        if event.get("result_type") != "Failed":
            continue
        key = (str(event.get("reason")), str(event.get("identity")))
        if key in seen:
            continue
        verdict = explain(event, facts)
        if verdict is not None:
            seen.add(key)
            verdicts.append(verdict)
    return verdicts


def is_probe(event: Mapping[str, Any]) -> bool:
    """Whether berth's check-health made the request (its user agent), not the user's client."""
    return str(event.get("user_agent") or "").startswith(PROBE_USER_AGENT)


def rank(
    verdicts: Sequence[Verdict],
    expected: Sequence[Sequence[str]] = (),
    *,
    exact: bool = False,
) -> list[Verdict]:
    """Verdicts best first, each with its certainty.

    ``expected`` holds, for each symptom the error text shows (most specific first), the verdict
    codes of its possible causes; a verdict of an earlier symptom explains the text better, and
    one of no symptom does not explain it. Then a failure that carried an identity beats an
    anonymous one (docker falls back to anonymous after a rejected login, so the anonymous
    failure is the echo, not the cause); then the newest. ``exact``: the events are those of one
    request (its correlation id).
    """

    def text_rank(verdict: Verdict) -> int:
        if not expected:
            return 0
        places = [index for index, codes in enumerate(expected) if verdict.code in codes]
        return min(places, default=10_000)

    def key(item: tuple[int, Verdict]) -> tuple[int, int, int]:
        position, verdict = item
        anonymous = (
            1 if verdict.event.get("identity_kind") == "anonymous" or not verdict.event.get("identity") else 0
        )
        return (text_rank(verdict), anonymous, position)  # events arrive newest first

    ordered = [v for _, v in sorted(enumerate(verdicts), key=key)]
    ranked: list[Verdict] = []
    for index, verdict in enumerate(ordered):
        if exact:
            certainty = Certainty.CERTAIN
        elif expected and text_rank(verdict) >= 10_000:
            certainty = Certainty.UNLIKELY
        elif index == 0:
            certainty = Certainty.LIKELY
        else:
            certainty = Certainty.POSSIBLE
        ranked.append(replace(verdict, certainty=certainty))
    return ranked

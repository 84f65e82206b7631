"""Diagnose and solve problems: an error text and/or a correlation id (or an identity) → the same
symptoms, causes and verdicts as ``berth acr diagnose`` (:mod:`berth.troubleshoot`).

The text alone needs no permission beyond seeing the registry; the login events behind the
verdicts need Reader or above, as ``berth acr diagnose`` does through the management API.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from berth.events.store import EventFilter
from berth.metadata.registries import RegistryRecord
from berth.portal.pages import Portal, read_form
from berth.portal.session import PortalUser
from berth.troubleshoot.explain import RegistryFacts, Verdict, explain_all, is_probe, rank
from berth.troubleshoot.symptom_model import Symptom
from berth.troubleshoot.symptoms import match

WINDOW_SECONDS = 3600


def fill(text: str, facts: dict[str, str]) -> str:
    """A check or fix with the registry's facts in its ``{placeholders}`` (``<name>`` if unknown)."""

    class Missing(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return f"<{key}>"

    return text.format_map(Missing(facts))


class DiagnosePages:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.services = portal.services

    async def form(self, request: Request, user: PortalUser) -> Response:
        record = await self.portal.registry(user, request.path_params["name"])
        return self._render(request, user, record, {}, [], [], [], searched=False)

    async def diagnose(self, request: Request, user: PortalUser) -> Response:
        record = await self.portal.registry(user, request.path_params["name"])
        form = await read_form(request)
        asked = {
            "error": form.one("error")[:8000],
            "correlation_id": form.one("correlation_id").strip()[:64],
            "identity": form.one("identity").strip()[:256],
        }
        notes: list[str] = []
        symptoms = match(asked["error"]) if asked["error"] else []
        if asked["error"] and not symptoms:
            notes.append(
                "The error text matches no known login symptom; run berth acr check-health -n "
                f"{record.name} --ignore-errors --yes to check the whole chain."
            )
        verdicts: list[Verdict] = []
        searched = False
        wants_events = bool(asked["correlation_id"] or asked["identity"] or not asked["error"])
        if wants_events and user.can_read(record):
            verdicts, searched = await self._verdicts(record, symptoms, asked, notes)
        elif wants_events:
            notes.append(
                f"You may not read the login events of registry '{record.name}'; they need Reader or above. "
                "The causes below come from the error text alone."
            )
        return self._render(request, user, record, asked, symptoms, verdicts, notes, searched=searched)

    async def _verdicts(
        self, record: RegistryRecord, symptoms: list[Symptom], asked: dict[str, str], notes: list[str]
    ) -> tuple[list[Verdict], bool]:
        correlation = asked["correlation_id"] or None
        where = EventFilter(
            failed_only=True,
            correlation_id=correlation,
            identity=asked["identity"] or None,
            since=None if correlation else time.time() - WINDOW_SECONDS,
            limit=200,
        )
        events = await self.services.management.logs.query(record, "login", where)
        if not correlation:
            events = [event for event in events if not is_probe(event)]
        facts = RegistryFacts(
            record.name,
            self.services.tenancy.registry_id(record),
            self.services.management.registries.login_server(record),
            await self._token_scope_maps(record, events),
            record.anonymous_pull_enabled,
        )
        expected = [[code for cause in symptom.causes for code in cause.codes] for symptom in symptoms]
        verdicts = rank(explain_all(events, facts), expected, exact=bool(correlation))
        if not events:
            what = f"correlation id {correlation}" if correlation else "the last hour"
            who = f" for identity {asked['identity']}" if asked["identity"] else ""
            notes.append(f"No failed login to registry '{record.name}' in {what}{who}.")
        return verdicts, True

    async def _token_scope_maps(self, record: RegistryRecord, events: list[dict[str, Any]]) -> dict[str, str]:
        names = {
            str(e.get("identity")) for e in events if e.get("identity_kind") == "token" and e.get("identity")
        }
        if not names:
            return {}
        tokens = await self.services.management.scoped.list_tokens(record)
        return {view.token.name: view.token.scope_map for view in tokens if view.token.name in names}

    def _render(
        self,
        request: Request,
        user: PortalUser,
        record: RegistryRecord,
        asked: dict[str, str],
        symptoms: list[Symptom],
        verdicts: list[Verdict],
        notes: list[str],
        *,
        searched: bool,
    ) -> Response:
        login_server = self.services.management.registries.login_server(record)
        facts = {
            "registry": record.name,
            "login_server": login_server,
            "scheme": self.services.settings.scheme,
            "identity": asked.get("identity") or "<id>",
            "registry_id": self.services.tenancy.registry_id(record),
        }
        return self.portal.render(
            request,
            "diagnose.html",
            user,
            registry=record,
            asked=asked,
            symptoms=symptoms,
            verdicts=verdicts,
            notes=notes,
            searched=searched,
            facts=facts,
            fill=fill,
            manage=user.can_read(record),
            tab="diagnose",
        )

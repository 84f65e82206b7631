"""What ``berth acr diagnose`` found, as JSON for CI and as text for people."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from berth.troubleshoot.explain import Verdict
from berth.troubleshoot.symptom_model import Symptom


@dataclass
class Diagnosis:
    registry: str
    login_server: str
    facts: dict[str, str] = field(
        default_factory=dict
    )  # fills {registry}, {identity}, ... in checks and fixes
    symptoms: list[Symptom] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    searched: bool = False
    lead: list[str] = field(default_factory=list)  # said before anything else (the caller's own refusal)

    def as_json(self) -> dict[str, Any]:
        facts = self.facts
        return {
            "registry": self.registry,
            "loginServer": self.login_server,
            "symptoms": [
                {
                    "symptom": s.name,
                    "possibleCauses": [
                        {
                            "cause": c.cause,
                            "seedCause": c.seed.value,
                            "check": _fill(c.check, facts),
                            "fix": _fill(c.fix, facts),
                            "codes": list(c.codes),
                        }
                        for c in s.causes
                    ],
                }
                for s in self.symptoms
            ],
            "verdicts": [
                {
                    "code": v.code,
                    "seedCause": v.seed.value,
                    "cause": v.cause,
                    "fix": v.fix,
                    "time": v.event.get("time"),
                    "identity": v.event.get("identity"),
                    "reason": v.event.get("reason"),
                    "correlationId": v.event.get("correlation_id"),
                    "certainty": v.certainty.value,
                    "evidence": v.evidence,
                }
                for v in self.verdicts
            ],
            "findings": self.findings(),
            "eventsSearched": self.searched,
            "failedEvents": len(self.events),
            "notes": [*self.lead, *self.notes],
        }

    def findings(self) -> list[dict[str, Any]]:
        """One list for CI, best first: the verdicts from the events, then the causes the text points to."""
        found: list[dict[str, Any]] = [
            {
                "code": v.code,
                "cause": v.cause,
                "fix": v.fix,
                "certainty": v.certainty.value,
                "evidence": v.evidence,
            }
            for v in self.verdicts
        ]
        for symptom in self.symptoms:
            for cause in symptom.causes:
                found.append(
                    {
                        "code": cause.codes[0] if cause.codes else "",
                        "cause": cause.cause,
                        "fix": _fill(cause.fix, self.facts),
                        "certainty": "possible",
                        "evidence": {"error": symptom.name, "check": _fill(cause.check, self.facts)},
                    }
                )
        return found


def _fill(text: str, facts: dict[str, str]) -> str:
    for key, value in facts.items():
        text = text.replace("{" + key + "}", value)
    return text


def render_text(diagnosis: Diagnosis) -> str:
    facts = diagnosis.facts
    lines: list[str] = [*diagnosis.lead, *([""] if diagnosis.lead else [])]
    for symptom in diagnosis.symptoms:
        lines.append(f"Symptom: {symptom.name}")
        lines.append("Possible causes:")
        for number, cause in enumerate(symptom.causes, 1):
            lines.append(f"  {number}. {cause.cause}")
            lines.append(f"     Check: {_fill(cause.check, facts)}")
            lines.append(f"     Fix: {_fill(cause.fix, facts)}")
        lines.append("")
    for verdict in diagnosis.verdicts:
        event = verdict.event
        who = event.get("identity") or "(anonymous)"
        what = (event.get("operation"), event.get("result_description"), event.get("reason"))
        ids = f"correlation id {event.get('correlation_id')}"
        if event.get("repository"):  # a refused repository operation, not a login
            lines.append(
                f"Refused {what[0]} to {event.get('repository')} at {event.get('time')}: {who} from "
                f"{event.get('caller_ip')} ({what[1]}, reason {what[2]}, {ids})"
            )
        else:
            lines.append(
                f"Failed login at {event.get('time')}: {who} from {event.get('caller_ip')} "
                f"({what[0]}, {what[1]}, reason {what[2]}, {ids})"
            )
        lines.append(f"Cause ({verdict.certainty.value}): {verdict.code}: {verdict.cause}")
        lines.append(f"Fix: {verdict.fix}")
        lines.append("")
    lines.extend(diagnosis.notes)
    return "\n".join(lines).strip() + "\n"

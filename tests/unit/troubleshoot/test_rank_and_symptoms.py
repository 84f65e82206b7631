"""Verdicts ranked by the error text, identity and time, with their certainty; the symptoms
added for issue 10 (ResourceNotFound's two meanings, connection refused, public access off,
disabled identities and the null-GUID rule)."""

from __future__ import annotations

from typing import Any

from berth.troubleshoot.explain import Certainty, RegistryFacts, explain_all, is_probe, rank
from berth.troubleshoot.symptoms import match

FACTS = RegistryFacts("reg", "/subscriptions/s/registries/reg", "reg.localhost:5000")
AUTH_REQUIRED = "unauthorized: authentication required"


def _event(
    reason: str, identity: str = "app-1", kind: str = "service_principal", **more: Any
) -> dict[str, Any]:
    return {"result_type": "Failed", "reason": reason, "identity": identity, "identity_kind": kind,
            "detail": "d", **more}  # fmt: skip


def _expected(text: str) -> list[list[str]]:
    return [[code for cause in symptom.causes for code in cause.codes] for symptom in match(text)]


def test_the_anonymous_echo_after_a_rejected_login_comes_second() -> None:
    events = [  # newest first, as the logs answer
        _event("anonymous_disabled", "", "anonymous"),
        _event("secret_expired"),
    ]
    ranked = rank(explain_all(events, FACTS), _expected(AUTH_REQUIRED))
    assert [(v.code, v.certainty) for v in ranked] == [
        ("CREDENTIAL_EXPIRED", Certainty.LIKELY),
        ("ANONYMOUS_PULL_DISABLED", Certainty.POSSIBLE),
    ]


def test_a_verdict_that_does_not_produce_the_text_is_unlikely() -> None:
    events = [_event("anonymous_disabled", "", "anonymous"), _event("no_role")]
    ranked = rank(explain_all(events, FACTS), _expected("denied: retrieving permissions failed"))
    assert [(v.code, v.certainty) for v in ranked] == [
        ("NO_ROLE", Certainty.LIKELY),
        ("ANONYMOUS_PULL_DISABLED", Certainty.UNLIKELY),
    ]
    exact = rank(explain_all([_event("no_role")], FACTS), exact=True)
    assert exact[0].certainty is Certainty.CERTAIN
    assert exact[0].evidence["reason"] == "no_role"


def test_berth_probes_are_recognised_by_their_user_agent() -> None:
    assert is_probe({"user_agent": "berth-check-health"})
    assert not is_probe({"user_agent": "docker/27.0 go/go1.22"})


def test_new_symptoms_say_the_honest_cause_first() -> None:
    not_found = match(
        "(ResourceNotFound) The resource with name 'reg' ... could not be found in subscription"
    )
    assert not_found[0].name == "The registry was not found by the management API"
    assert "or it exists and you have no Reader, Contributor or Owner role" in not_found[0].causes[0].cause

    refused = match("dial tcp 127.0.0.1:5000: connect: connection refused")
    assert refused[0].name == "Connection refused: nothing listens at the login server"
    assert "berth service is not running" in refused[0].causes[0].cause

    forbidden = match("failed with status: 403 Forbidden")[0]
    assert forbidden.causes[0].codes == ("PUBLIC_ACCESS_DISABLED",)

    unauthorized = [c.codes for c in match(AUTH_REQUIRED)[0].causes]
    assert ("IDENTITY_DISABLED",) in unauthorized
    null_guid = next(c for c in match(AUTH_REQUIRED)[0].causes if "null-GUID" in c.cause)
    assert "00000000-0000-0000-0000-000000000000" in null_guid.fix
    for symptom in match(AUTH_REQUIRED):
        for cause in symptom.causes:
            assert "properties." not in cause.check  # az's output is flattened: --query adminUserEnabled

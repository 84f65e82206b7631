"""Schemathesis against ``/openapi.json``: no generated request makes the API answer 5xx.

Every operation of the document gets valid (positive) and invalid (negative) requests from
schemathesis' generators, signed in as the owner, with a bounded number of examples so the run
takes a minute or two on two cores. Path parameters are generated freely, or pinned to a
registry, token, scope map, user and service principal that exist, so that handlers past the
lookups are exercised too. Requests go to the in-process app through the suite's test client.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from tests.api.management.arm import SERVICE_URL, ArmCaller

EXAMPLES_PER_OPERATION = 25
_PATH_PARAMETER = re.compile(r"{(\w+)}")


def _arrange(owner: ArmCaller) -> dict[str, str]:
    """Resources the pinned path parameters name."""
    owner.create_registry("fuzzreg", resource_group="fuzz", adminUserEnabled=True)
    registry = owner.registry("fuzzreg", "fuzz")
    owner.ok(
        owner.put(
            f"{registry}/scopeMaps/fuzz-map", {"properties": {"actions": ["repositories/a/content/read"]}}
        ),
        201,
    )
    owner.ok(owner.put(f"{registry}/tokens/fuzz-token", {"properties": {"scopeMapId": "fuzz-map"}}), 201)
    sp, _ = owner.create_service_principal("fuzz-sp")
    assignment = owner.assign(sp["id"], "AcrPull", registry)
    user = owner.ok(
        owner.post(
            "/v1.0/users",
            {"userPrincipalName": "fuzz@localhost", "passwordProfile": {"password": "fuzz-password-1"}},
        ),
        201,
    )
    owner.ok(
        owner.post(
            f"/v1.0/applications/{sp['id']}/federatedIdentityCredentials",
            {"name": "fuzz-fic", "issuer": "https://issuer.example", "subject": "fuzz"},
        ),
        201,
    )
    identity = f"{owner.group('fuzz')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/fuzz-id"
    owner.ok(owner.put(identity, {}), 201)
    owner.ok(owner.post(f"{identity}/hostCredentials", {"host": "fuzz-host"}), 201)
    owner.ok(
        owner.put(
            f"{identity}/federatedIdentityCredentials/fuzz-mi-fic",
            {"properties": {"issuer": "https://issuer.example", "subject": "fuzz"}},
        ),
        201,
    )
    return {
        "applicationId": sp["id"],
        "federatedIdentityCredentialId": "fuzz-fic",
        "resourceName": "fuzz-id",
        "hostName": "fuzz-host",
        "federatedIdentityCredentialResourceName": "fuzz-mi-fic",
        "subscriptionId": owner.subscription_id,
        "resourceGroupName": "fuzz",
        "registryName": "fuzzreg",
        "scopeMapName": "fuzz-map",
        "tokenName": "fuzz-token",
        "servicePrincipalId": sp["id"],
        "userId": user["id"],
        "roleAssignmentName": assignment["name"],
        "roleDefinitionId": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    }


def _send(owner: ArmCaller, case: Any) -> httpx.Response:
    """Send a schemathesis case through the suite's client (requests-style kwargs → httpx)."""
    kwargs = case.as_transport_kwargs(base_url=SERVICE_URL)
    headers = {**kwargs.get("headers", {}), "Authorization": f"Bearer {owner.token}"}
    content = kwargs.get("data")
    if isinstance(content, str):
        content = content.encode()
    response: httpx.Response = owner.client.request(
        kwargs["method"],
        kwargs["url"],
        headers=headers,
        params=kwargs.get("params"),
        json=kwargs.get("json"),
        content=content,
    )
    return response


def test_no_generated_request_gets_a_server_error(owner: ArmCaller) -> None:
    known = _arrange(owner)
    document = owner.client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), [result for result in results if not isinstance(result, Ok)]
    assert len(operations) >= 30
    failures: list[str] = []

    for operation in operations:
        names = _PATH_PARAMETER.findall(operation.path)
        in_subscription = {n: known[n] for n in names if n == "subscriptionId"}
        in_registry = {
            n: known[n] for n in names if n in ("subscriptionId", "resourceGroupName", "registryName")
        }
        pinned = {n: known[n] for n in names if n in known}
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=in_subscription),
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=in_registry),
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=pinned),
            operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=pinned),
        )

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def exercise(case: Any) -> None:
            try:
                response = _send(owner, case)
            except Exception as exc:  # the test client re-raises what the app raised: a 500
                failures.append(f"{type(exc).__name__}: {exc}\n{case.as_curl_command()}")
                return
            if response.status_code >= 500:
                failures.append(f"{response.status_code} {case.as_curl_command()}\n{response.text[:500]}")

        exercise()

    assert not failures, "\n\n".join(failures[:10])

"""Secrets appear only where docs/management-api.md says: in the answer that generated them.

Admin passwords (first listCredentials, regenerateCredential), token passwords
(generateCredentials) and client secrets (addPassword) are each shown once; no other answer —
reads, lists, later calls — carries a secret or a stored hash.
"""

from __future__ import annotations

from tests.api.management.arm import ArmCaller


def test_no_answer_but_the_generating_one_carries_a_secret(owner: ArmCaller) -> None:
    owner.create_registry("secretreg", adminUserEnabled=True)
    registry = owner.registry("secretreg")
    owner.ok(
        owner.put(f"{registry}/tokens/ci-token", {"properties": {"scopeMapId": "_repositories_pull"}}), 201
    )

    admin = owner.ok(owner.post(registry + "/listCredentials"))
    renewed = owner.ok(owner.post(registry + "/regenerateCredential", {"name": "password"}))
    token = owner.ok(
        owner.post(registry + "/generateCredentials", {"tokenId": f"{registry}/tokens/ci-token"})
    )
    sp, client_secret = owner.create_service_principal("secret-holder")
    user = {"userPrincipalName": "dave@localhost", "passwordProfile": {"password": "dave-password-1"}}
    created_user = owner.post("/v1.0/users", user)

    secrets = {
        *(p["value"] for p in admin["passwords"]),
        renewed["passwords"][0]["value"],
        *(p["value"] for p in token["passwords"]),
        client_secret,
        "dave-password-1",
        "owner-password-for-tests",
    }
    assert None not in secrets
    assert len(secrets) == 8
    later = [
        created_user,
        owner.get(registry),
        owner.get(f"{owner.subscription}/providers/Microsoft.ContainerRegistry/registries"),
        owner.post(registry + "/listCredentials"),
        owner.get(f"{registry}/tokens"),
        owner.get(f"{registry}/tokens/ci-token"),
        owner.get(f"{registry}/scopeMaps"),
        owner.get("/v1.0/servicePrincipals"),
        owner.get(f"/v1.0/servicePrincipals/{sp['id']}"),
        owner.get("/v1.0/users"),
        owner.get("/v1.0/users/dave@localhost"),
        owner.get(f"{owner.subscription}/providers/Microsoft.Authorization/roleAssignments"),
        owner.client.get("/openapi.json"),
    ]
    for response in later:
        assert response.status_code in (200, 201), response.text
        for secret in secrets:
            assert secret not in response.text, response.request.url
        assert "$argon2" not in response.text
    assert owner.ok(later[3])["passwords"] == [
        {"name": "password", "value": None},
        {"name": "password2", "value": None},
    ]

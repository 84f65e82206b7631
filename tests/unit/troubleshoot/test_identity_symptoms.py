"""Error texts of secretless sign-ins → the fourth seed symptom's causes, before the generic ones."""

from __future__ import annotations

from berth.troubleshoot.symptoms import match

TEXTS = {
    "ClientAssertionCredential.get_token failed: AADSTS70021: No matching federated identity record found "
    "for presented assertion subject.": "Federated sign-in refused (cluster or pipeline)",
    "AADSTS700212: No matching federated identity record found for presented assertion audience.": (
        "Federated token for another audience"
    ),
    "AADSTS700024: Client assertion is not within its valid time range.": (
        "Client assertion outside its valid time"
    ),
    "AADSTS50166: Request to External OIDC endpoint failed.": "The directory cannot reach the token's issuer",
    "AADSTS700027: Client assertion failed signature validation.": "Client assertion signature rejected",
    "ManagedIdentityCredential: The X-IDENTITY-HEADER is missing or not valid for any managed identity.": (
        "Managed identity endpoint refused the host"
    ),
}


def test_each_text_shows_its_symptom_first() -> None:
    for text, symptom in TEXTS.items():
        found = match(text)
        assert found, text
        assert found[0].name == symptom, (text, [s.name for s in found])
        assert all(c.fix and c.check for c in found[0].causes)

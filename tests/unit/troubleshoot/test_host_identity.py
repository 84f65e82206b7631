"""Which identity ``check-acr`` finds on a host, and how a token endpoint's refusal maps to a cause."""

from __future__ import annotations

import json
from pathlib import Path

from berth.troubleshoot.causes import REASONS
from berth.troubleshoot.host_identity import _reason_of, detect, dockerconfigjson


def test_the_managed_identity_comes_first_then_the_token_file_then_docker(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(dockerconfigjson("reg.example:5000", "puller", "pw"))
    managed = {"IDENTITY_ENDPOINT": "https://berth/msi/token", "IDENTITY_HEADER": "h"}
    federated = {"AZURE_FEDERATED_TOKEN_FILE": "/t", "AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t"}

    both = detect({**managed, **federated}, [config], "reg.example:5000")
    token_file = detect(federated, [config], "reg.example:5000")
    docker = detect({}, [config], "reg.example:5000")

    assert both is not None and both.kind == "managed identity"  # noqa: PT018
    assert token_file is not None and token_file.kind == "federated token"  # noqa: PT018
    assert docker is not None and docker.kind == "docker credentials"  # noqa: PT018
    assert detect({}, [config], "other.example") is None
    assert detect({"AZURE_FEDERATED_TOKEN_FILE": "/t"}, [tmp_path / "missing.json"], "x") is None


def test_a_pull_secret_holds_docker_auth() -> None:
    entry = json.loads(dockerconfigjson("reg.example", "u", "p"))["auths"]["reg.example"]
    assert entry == {"username": "u", "password": "p", "auth": "dTpw"}


def test_directory_error_codes_map_to_the_reasons_of_the_events() -> None:
    cases = {
        (70021, "No matching federated identity record found for presented assertion subject."): (
            "federation_subject_mismatch"
        ),
        (70021, "No matching federated identity record found for presented assertion."): (
            "federation_unknown_issuer"
        ),
        (700212, ""): "federation_audience_mismatch",
        (50166, ""): "federation_issuer_unreachable",
        (700027, ""): "federation_bad_signature",
        (700016, ""): "unknown_identity",
        (99999, ""): "assertion_invalid",
    }
    for (code, description), reason in cases.items():
        assert _reason_of({"error_codes": [code]}, description) == reason
        assert reason in REASONS

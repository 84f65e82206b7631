"""A push refused by the registry's storage quota, as its owner meets it: docker prints the
refusal, ``diagnose`` names the quota from the pasted text and from the correlation id, the
printed checks run, ``check-health`` warns near the quota, and the printed fix lets the push through."""

from __future__ import annotations

import re

import pytest

from tests.scenarios.checks import check_health, diagnose, run_printed
from tests.scenarios.conftest import Stage
from tests.support.images import rootfs_tarball

pytestmark = pytest.mark.e2e

REGISTRIES = ("quotareg",)
REGISTRY = "quotareg"


def _size_usage(stage: Stage) -> dict[str, int]:
    usages = stage.berth_json("acr", "show-usage", "-n", REGISTRY)
    size = next(u for u in usages["value"] if u["name"] == "Size")
    return {"limit": int(size["limit"]), "current": int(size["currentValue"])}


def test_a_push_past_the_quota_is_refused_explained_and_fixed(stage: Stage) -> None:
    login_server = stage.create_registry(REGISTRY)
    config = stage.docker_config("quota-owner")
    stage.berth("acr", "login", "-n", REGISTRY, docker_config=config)
    stage.push_image(login_server, "app", config)  # the first image fits (no quota yet)
    used = _size_usage(stage)["current"]

    # A quota just above what is stored: the next image's new layer cannot fit.
    updated = stage.berth_json("acr", "update", "-n", REGISTRY, "--storage-quota", str(used + 100))
    assert (updated["storageQuota"], updated["storageQuotaSource"]) == (used + 100, "Registry")
    assert stage.berth_json("acr", "show", "-n", REGISTRY)["storageQuota"] == used + 100
    table = stage.berth("acr", "show-usage", "-n", REGISTRY, "-o", "table").stdout
    assert re.search(rf"Size\s+{used + 100}\s+{used}\s+Bytes", table), table

    health = check_health(stage, "-n", REGISTRY, "--ignore-errors", "--yes")
    warning = health.finding("STORAGE_QUOTA_WARNING")
    assert f"Registry {REGISTRY} stores " in warning["cause"]
    assert f"berth acr update -n {REGISTRY} --storage-quota <size>" in warning["fix"]

    other = "local/scenario:other"
    tarball = rootfs_tarball(stage.root / "other.tar", size=4096)
    stage.docker_ok("import", str(tarball), other, docker_config=config)
    reference = f"{login_server}/app:v2"
    stage.docker_ok("tag", other, reference, docker_config=config)
    pushed = stage.docker("push", reference, docker_config=config)
    assert pushed.returncode != 0
    printed = re.search(r"denied: storage quota exceeded: [^\n]*", pushed.stderr)
    assert printed, pushed.stdout + pushed.stderr
    error_text = printed.group(0)
    assert f"registry '{REGISTRY}' stores " in error_text
    assert f"berth acr update -n {REGISTRY} --storage-quota 1MiB" in error_text
    correlation = re.search(r"correlation id ([0-9a-f-]{36})", error_text)
    assert correlation, error_text

    # The pasted text alone names the cause, with checks that run as printed.
    by_text = diagnose(stage, REGISTRY, "--error", error_text)
    assert by_text.symptoms[0] == "Push refused: storage quota exceeded"
    cause = by_text.document["symptoms"][0]["possibleCauses"][0]
    assert cause["codes"] == ["STORAGE_QUOTA_EXCEEDED"]
    assert f"berth acr update -n {REGISTRY} --storage-quota <size>" in cause["fix"]
    assert "Push refused: storage quota exceeded" in by_text.text
    assert "{" not in by_text.text  # every placeholder filled
    # The correlation id in the pasted text finds the refusal itself.
    assert by_text.verdict("STORAGE_QUOTA_EXCEEDED")["certainty"] == "certain"
    assert f"berth acr gc -n {REGISTRY}" in by_text.text
    checked = run_printed(stage, cause["check"])
    assert "storage_quota_exceeded" in checked  # the logs command shows the refused push

    # The correlation id names the very refusal, from its repository event.
    by_id = diagnose(stage, REGISTRY, "--correlation-id", correlation.group(1))
    verdict = by_id.verdict("STORAGE_QUOTA_EXCEEDED")
    assert verdict["certainty"] == "certain"
    assert verdict["reason"] == "storage_quota_exceeded"
    assert verdict["cause"].startswith(f"Registry '{REGISTRY}' stores ")
    assert verdict["cause"].endswith("was refused because it would exceed it.")
    assert "Refused Push to app at " in by_id.text
    assert f"Cause (certain): STORAGE_QUOTA_EXCEEDED: Registry '{REGISTRY}' stores" in by_id.text

    # The fix docker printed lets the same push through; what was stored before is intact.
    stage.berth("acr", "update", "-n", REGISTRY, "--storage-quota", "1MiB")
    stage.docker_ok("push", reference, docker_config=config)
    tags = stage.berth_json("acr", "repository", "show-tags", "-n", REGISTRY, "--repository", "app")
    assert sorted(tags) == ["v1", "v2"]
    stage.assert_no_secrets(REGISTRY)

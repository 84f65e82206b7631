"""The storage quota over the management API: a registry's ``properties.storageQuota`` and its
``listUsages`` Size limit (the service's settings: test_service_settings.py)."""

from __future__ import annotations

from tests.api.management.arm import ArmCaller, TestClient, assert_arm_error
from tests.api.oci import push_image


def _size(owner: ArmCaller, name: str) -> dict[str, object]:
    usages = owner.ok(owner.get(owner.registry(name) + "/listUsages"))
    found: dict[str, object] = next(u for u in usages["value"] if u["name"] == "Size")
    return found


def test_a_registry_quota_is_set_shown_and_is_the_size_limit(owner: ArmCaller) -> None:
    created = owner.create_registry("quotareg")
    assert created["properties"]["storageQuota"] is None  # the service's default: unlimited
    assert created["properties"]["storageQuotaSource"] == "Default"
    assert _size(owner, "quotareg")["limit"] == 500 * 1024**3  # no quota: the SKU's included storage

    changed = owner.ok(owner.patch(owner.registry("quotareg"), {"properties": {"storageQuota": "2KiB"}}))
    assert (changed["properties"]["storageQuota"], changed["properties"]["storageQuotaSource"]) == (
        2048,
        "Registry",
    )
    assert owner.ok(owner.get(owner.registry("quotareg")))["properties"]["storageQuota"] == 2048
    assert _size(owner, "quotareg") == {"name": "Size", "limit": 2048, "currentValue": 0, "unit": "Bytes"}

    unlimited = owner.ok(
        owner.patch(owner.registry("quotareg"), {"properties": {"storageQuota": "unlimited"}})
    )
    assert (unlimited["properties"]["storageQuota"], unlimited["properties"]["storageQuotaSource"]) == (
        None,
        "Registry",
    )
    other = owner.ok(owner.patch(owner.registry("quotareg"), {"properties": {"adminUserEnabled": True}}))
    assert other["properties"]["storageQuotaSource"] == "Registry"  # a PATCH without it keeps it
    back = owner.ok(owner.patch(owner.registry("quotareg"), {"properties": {"storageQuota": "default"}}))
    assert back["properties"]["storageQuotaSource"] == "Default"


def test_a_quota_that_is_not_a_size_is_refused_naming_the_field(owner: ArmCaller) -> None:
    owner.create_registry("quotareg")

    response = owner.patch(owner.registry("quotareg"), {"properties": {"storageQuota": "plenty"}})

    message = assert_arm_error(response, 400, "InvalidParameter")
    assert response.json()["error"].get("target") == "storageQuota"
    assert "'plenty' is not a size such as 20GiB" in message


def test_an_import_past_the_quota_is_refused_and_stores_nothing(owner: ArmCaller, client: TestClient) -> None:
    """``az acr import`` is a push into the target: the quota applies to it too."""
    owner.create_registry("importsrc", adminUserEnabled=True)
    owner.create_registry("importdst")
    password = owner.ok(owner.post(owner.registry("importsrc") + "/listCredentials", {}))["passwords"][0][
        "value"
    ]
    source_host = "importsrc.localhost:5000"
    client.auth = ("importsrc", password)
    try:
        push_image(client, "app", "v1", host=source_host)
    finally:
        client.auth = None
    owner.ok(owner.patch(owner.registry("importdst"), {"properties": {"storageQuota": "10"}}))

    response = owner.post(
        owner.registry("importdst") + "/importImage",
        {
            "source": {"resourceId": owner.registry("importsrc"), "sourceImage": "app:v1"},
            "targetTags": ["app:v1"],
        },
    )

    message = assert_arm_error(response, 409, "QuotaExceeded")
    assert message.startswith(
        "Import failed: storage quota exceeded: registry 'importdst' stores 0 B of its 10 B"
    )
    assert _size(owner, "importdst")["currentValue"] == 0

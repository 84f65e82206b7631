"""``importImage``: who may, which sources, and what a missing image answers (the copy itself is
driven by ``az acr import`` in tests/e2e/az)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.api.management.arm import ArmCaller, assert_arm_error


def _body(source: dict[str, Any], *tags: str, mode: str = "NoForce") -> dict[str, Any]:
    return {"source": source, "targetTags": list(tags), "mode": mode}


def test_import_needs_write_on_the_target_and_read_on_the_source(
    owner: ArmCaller, principal: Callable[..., ArmCaller]
) -> None:
    owner.create_registry("source1")
    owner.create_registry("target1")
    source = {"resourceId": owner.registry("source1"), "sourceImage": "app:v1"}
    reader = principal("Reader", owner.registry("target1"))
    writer = principal("Contributor", owner.registry("target1"), name="writer")

    assert_arm_error(
        reader.post(owner.registry("target1") + "/importImage", _body(source, "app:v1")),
        403,
        "AuthorizationFailed",
    )
    denied = writer.post(owner.registry("target1") + "/importImage", _body(source, "app:v1"))
    assert "source1" in assert_arm_error(denied, 403, "AuthorizationFailed")


def test_import_of_a_missing_image_or_registry(owner: ArmCaller) -> None:
    owner.create_registry("source2")
    owner.create_registry("target2")
    path = owner.registry("target2") + "/importImage"

    missing_image = owner.post(
        path, _body({"resourceId": owner.registry("source2"), "sourceImage": "app:v1"}, "a:1")
    )
    missing_registry = owner.post(
        path, _body({"resourceId": owner.registry("nothere9"), "sourceImage": "a:1"}, "a:1")
    )
    unreachable = owner.post(
        path, _body({"registryUri": "127.0.0.1:1", "sourceImage": "library/alpine:3"}, "a:1")
    )
    by_login_server = owner.post(
        path, _body({"registryUri": "source2.localhost:5000", "sourceImage": "app:v1"}, "a:1")
    )
    no_source = owner.post(path, _body({"sourceImage": "app:v1"}, "a:1"))
    no_target = owner.post(
        path, {"source": {"resourceId": owner.registry("source2"), "sourceImage": "app:v1"}}
    )

    assert "Import failed" in assert_arm_error(missing_image, 404, "ResourceNotFound")
    assert_arm_error(missing_registry, 404, "ResourceNotFound")
    assert "127.0.0.1:1 did not answer" in assert_arm_error(unreachable, 400, "InvalidParameter")
    assert_arm_error(by_login_server, 404, "ResourceNotFound")
    assert_arm_error(no_source, 400, "InvalidParameter")
    assert_arm_error(no_target, 400, "InvalidParameter")

"""berth.troubleshoot.storage: check-health's storage step reads /healthz."""

from __future__ import annotations

import httpx
import pytest

from berth.troubleshoot.findings import Status
from berth.troubleshoot.storage import check_storage

FACTS = {"registry": "myregistry", "login_server": "reg.localhost:5000", "registry_id": "<id>"}


def _client(response: httpx.Response | Exception) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url == "http://reg.localhost:5000/healthz"
        if isinstance(response, Exception):
            raise response
        return response

    return httpx.Client(transport=httpx.MockTransport(handle))


def test_ok_is_a_passed_step() -> None:
    client = _client(httpx.Response(200, json={"status": "ok", "storage": "ok"}))

    [finding] = check_storage(client, "http", "reg.localhost:5000", FACTS)

    assert (finding.status, finding.message) == (
        Status.OK,
        "Storage of the service behind reg.localhost:5000 : OK",
    )


def test_low_is_a_warning_and_full_an_error_with_cause_and_fix() -> None:
    [low] = check_storage(
        _client(httpx.Response(200, json={"status": "ok", "storage": "low"})),
        "http",
        "reg.localhost:5000",
        FACTS,
    )
    [full] = check_storage(
        _client(httpx.Response(200, json={"status": "ok", "storage": "full"})),
        "http",
        "reg.localhost:5000",
        FACTS,
    )

    assert (low.status, low.code) == (Status.WARNING, "STORAGE_LOW_SPACE_WARNING")
    assert (full.status, full.code) == (Status.ERROR, "STORAGE_FULL_ERROR")
    assert full.cause.startswith("The berth service behind reg.localhost:5000 is out of disk space")
    assert "507 Insufficient Storage" in full.cause
    assert full.fix.startswith("The service's owner frees space")
    assert full.facts["storage"] == "full"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"status": "ok"}),  # an older service without the field
        httpx.Response(404, json={"errors": []}),
        httpx.Response(200, text="not json"),
        httpx.ConnectError("refused"),
    ],
)
def test_nothing_is_said_when_the_service_does_not_tell(answer: httpx.Response | Exception) -> None:
    assert check_storage(_client(answer), "http", "reg.localhost:5000", FACTS) == []

"""Integers and times the management API takes from a client are range-checked into ARM's 400.

A row id, a page size or an expiry far outside what the databases and Python's ``datetime``
hold (2**63, 10**5000, the year 10000) is a 400 in ARM's envelope whose ``target`` names the
field, never a 500 (issue 8, finding 5).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.management.arm import ArmCaller, assert_arm_error

# Event ids are INTEGER columns (32 bits on PostgreSQL): 2**31 and up cannot name a row.
HUGE = ["2147483648", "9223372036854775808", "18446744073709551616", "9" * 5000, "-1"]
# Times whose UTC reading is past 9999-12-31 (or as a number, past any datetime).
FAR_FUTURE = ["9999-12-31T23:59:59-14:00", "9999-12-31T23:00:00-01:00", 10**20, "1" + "0" * 400]


def assert_refused(response: httpx.Response, code: str, target: str) -> None:
    assert_arm_error(response, 400, code)
    assert response.json()["error"]["target"] == target, response.text


@pytest.fixture
def registry(owner: ArmCaller) -> str:
    owner.create_registry("numbersreg")
    path = owner.registry("numbersreg")
    body = {"properties": {"scopeMapId": f"{path}/scopeMaps/_repositories_pull"}}
    owner.ok(owner.put(f"{path}/tokens/numbers-token", body), 201)
    return path


@pytest.mark.parametrize("value", HUGE)
def test_logs_after_id_out_of_range_is_400(owner: ArmCaller, registry: str, value: str) -> None:
    response = owner.get(f"{registry}/logs/login", params={"afterId": value})

    assert_refused(response, "InvalidRequestContent", "afterId")


def test_logs_largest_after_id_is_an_empty_page(owner: ArmCaller, registry: str) -> None:
    response = owner.get(f"{registry}/logs/repository", params={"afterId": str(2**31 - 1)})

    assert owner.ok(response) == {"value": []}


@pytest.mark.parametrize("value", ["9" * 400, "9" * 5000, "10000-01-01T00:00:00Z"])
def test_logs_times_beyond_any_date_are_400(owner: ArmCaller, registry: str, value: str) -> None:
    response = owner.get(f"{registry}/logs/login", params={"since": value})

    assert_refused(response, "InvalidParameter", "since")


@pytest.mark.parametrize("expiry", FAR_FUTURE)
def test_token_password_expiry_past_year_9999_is_400(owner: ArmCaller, registry: str, expiry: Any) -> None:
    response = owner.post(
        f"{registry}/generateCredentials",
        {"tokenId": f"{registry}/tokens/numbers-token", "name": "password1", "expiry": expiry},
    )

    assert_refused(response, "InvalidRequestContent", "expiry")


@pytest.mark.parametrize("end", FAR_FUTURE)
def test_client_secret_end_past_year_9999_is_400(owner: ArmCaller, end: Any) -> None:
    sp, _ = owner.create_service_principal("numbers-sp")

    response = owner.post(
        f"/v1.0/servicePrincipals/{sp['id']}/addPassword", {"passwordCredential": {"endDateTime": end}}
    )

    assert_refused(response, "InvalidRequestContent", "passwordCredential.endDateTime")

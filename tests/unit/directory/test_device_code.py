"""The device-code store: single use, expiry, user codes typed loosely."""

from __future__ import annotations

import pytest

from berth.directory.device_code import DeviceCodes, DevicePending


def test_a_code_is_pending_until_approved_then_redeemed_once() -> None:
    codes = DeviceCodes()
    entry = codes.start("client", "scope")

    with pytest.raises(DevicePending) as pending:
        codes.redeem(entry.device_code, "client")
    assert pending.value.error == "authorization_pending"
    spaced = f"{entry.user_code[:4].lower()}-{entry.user_code[4:]}"
    assert codes.pending(spaced) is entry
    assert codes.approve(spaced, "object-id")
    assert not codes.approve(entry.user_code, "someone-else")
    assert codes.redeem(entry.device_code, "client").approved_by == "object-id"
    with pytest.raises(DevicePending) as reused:
        codes.redeem(entry.device_code, "client")
    assert reused.value.error == "invalid_grant"


def test_another_client_cannot_redeem_a_code() -> None:
    codes = DeviceCodes()
    entry = codes.start("client", "scope")
    codes.approve(entry.user_code, "object-id")

    with pytest.raises(DevicePending) as other:
        codes.redeem(entry.device_code, "another-client")
    assert other.value.error == "invalid_grant"


def test_expired_codes_cannot_be_approved_or_redeemed() -> None:
    codes = DeviceCodes(lifetime=-1)
    entry = codes.start("client", "scope")

    assert codes.pending(entry.user_code) is None
    assert not codes.approve(entry.user_code, "object-id")
    with pytest.raises(DevicePending) as expired:
        codes.redeem(entry.device_code, "client")
    assert expired.value.error in ("expired_token", "invalid_grant")

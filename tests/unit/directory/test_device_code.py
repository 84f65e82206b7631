"""The device-code store: single use, expiry, user codes typed loosely; in the database, so
two processes (two stores on one database) see the same codes."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from berth.directory.device_code import DeviceCodes, DevicePending
from berth.metadata import device_codes as rows
from berth.metadata.database import Database


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.create_schema()
    yield database
    database.dispose()


def test_a_code_is_pending_until_approved_then_redeemed_once(db: Database) -> None:
    async def scenario() -> None:
        codes, elsewhere = DeviceCodes(db), DeviceCodes(db)  # two workers
        entry = await codes.start("client", "scope")

        with pytest.raises(DevicePending) as pending:
            await elsewhere.redeem(entry.device_code, "client")
        assert pending.value.error == "authorization_pending"
        spaced = f"{entry.user_code[:4].lower()}-{entry.user_code[4:]}"
        waiting = await elsewhere.pending(spaced)
        assert waiting is not None
        assert waiting.user_code == entry.user_code
        assert await elsewhere.approve(spaced, "object-id")
        assert not await codes.approve(entry.user_code, "someone-else")
        redeemed = await codes.redeem(entry.device_code, "client")
        assert redeemed.approved_by == "object-id"
        assert redeemed.scope == "scope"
        with pytest.raises(DevicePending) as reused:
            await elsewhere.redeem(entry.device_code, "client")
        assert reused.value.error == "invalid_grant"

    anyio.run(scenario)


def test_another_client_cannot_redeem_a_code(db: Database) -> None:
    async def scenario() -> None:
        codes = DeviceCodes(db)
        entry = await codes.start("client", "scope")
        await codes.approve(entry.user_code, "object-id")

        with pytest.raises(DevicePending) as other:
            await codes.redeem(entry.device_code, "another-client")
        assert other.value.error == "invalid_grant"

    anyio.run(scenario)


def test_expired_codes_cannot_be_approved_or_redeemed(db: Database) -> None:
    async def scenario() -> None:
        codes = DeviceCodes(db, lifetime=-1)
        entry = await codes.start("client", "scope")

        assert await codes.pending(entry.user_code) is None
        assert not await codes.approve(entry.user_code, "object-id")
        with pytest.raises(DevicePending) as expired:
            await codes.redeem(entry.device_code, "client")
        assert expired.value.error in ("expired_token", "invalid_grant")

    anyio.run(scenario)


def test_the_device_code_is_stored_hashed(db: Database) -> None:
    entry = anyio.run(DeviceCodes(db).start, "client", "scope")
    stored = db.read_sync(lambda conn: conn.execute(rows.device_authorizations.select()).all())
    assert len(stored) == 1
    assert entry.device_code not in str(tuple(stored[0]))
    assert stored[0].device_code_hash == rows.hash_device_code(entry.device_code)

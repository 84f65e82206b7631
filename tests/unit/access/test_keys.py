"""berth.access.keys: a reload reuses the keys it already parsed and parses new ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from berth.access.keys import Keyring
from berth.metadata.database import Database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'metadata.db'}")
    database.create_schema()
    yield database
    database.dispose()


def test_a_reload_reuses_the_parsed_key_and_signs_the_same(db: Database) -> None:
    keyring = Keyring(db)
    keyring.load()
    kid = keyring.active_kid
    before = keyring._keys[kid].private_key

    keyring.load()

    assert keyring._keys[kid].private_key is before
    token = keyring.sign({"sub": "x"})
    assert jwt.get_unverified_header(token)["kid"] == kid
    assert jwt.decode(token, keyring.public_key_for(token), algorithms=["RS256"]) == {"sub": "x"}


def test_a_key_rotated_by_another_process_is_parsed_on_reload(db: Database) -> None:
    mine, other = Keyring(db), Keyring(db)
    mine.load()
    old_kid = mine.active_kid

    new_kid = other.rotate()
    mine.load()

    assert mine.active_kid == new_kid != old_kid
    assert mine._keys[old_kid].retired_at is not None  # retired, kept for verification
    token = other.sign({"sub": "y"})
    assert jwt.decode(token, mine.public_key_for(token), algorithms=["RS256"]) == {"sub": "y"}

"""berth.registry.hosts: which registry a Host header selects."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

from berth.metadata import registries as registry_rows
from berth.metadata.database import Database
from berth.registry import hosts
from berth.registry.hosts import HostTarget, RegistryDirectory, split_host, target_for


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("localhost", ("localhost", "")),
        ("localhost:5000", ("localhost", "5000")),
        ("MyReg.Example.COM:443", ("myreg.example.com", "443")),
        ("myreg.example.com.", ("myreg.example.com", "")),
        ("myreg.example.com.:80", ("myreg.example.com", "80")),
        ("  spaced:1  ", ("spaced", "1")),
        ("127.0.0.1:5000", ("127.0.0.1", "5000")),
        ("[::1]:5000", ("::1", "5000")),
        ("[::1]", ("::1", "")),
        ("host:notaport", ("host:notaport", "")),
        ("", ("", "")),
    ],
)
def test_split_host(header: str, expected: tuple[str, str]) -> None:
    assert split_host(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        "",
        "localhost",
        "LOCALHOST:5000",
        "127.0.0.1",
        "127.0.0.1:5000",
        "[::1]:5000",
        "10.1.2.3",
        "example.test",
    ],
)
def test_bare_addresses_select_the_default_registry(header: str) -> None:
    assert target_for(header, "example.test", "Default") == HostTarget("default", True)


@pytest.mark.parametrize(
    "header",
    ["myreg.example.test", "MyReg.Example.Test:5000", "MYREG.EXAMPLE.TEST.", "myreg.example.test:443"],
)
def test_registry_subdomain_selects_the_registry_case_insensitively(header: str) -> None:
    assert target_for(header, "Example.Test", "default") == HostTarget("myreg", False)


def test_a_host_outside_the_domain_is_taken_whole() -> None:
    """It names no registry (registry names have no dots), so it resolves to none."""
    assert target_for("myreg.elsewhere.test", "example.test", "default") == HostTarget(
        "myreg.elsewhere.test", False
    )


def test_a_deeper_subdomain_keeps_its_dots() -> None:
    assert target_for("a.b.example.test", "example.test", "default") == HostTarget("a.b", False)


# --- the directory (cached lookups) ---------------------------------------------------------


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    database.create_schema()
    return database


async def _find(directory: RegistryDirectory, name: str) -> registry_rows.RegistryRecord | None:
    return await directory.find(name)


def test_directory_finds_registries_case_insensitively(db: Database) -> None:
    created = db.write_sync(registry_rows.create, "MyReg")
    directory = RegistryDirectory(db)

    assert anyio.run(_find, directory, "myreg") == created
    assert anyio.run(_find, directory, "MYREG") == created
    assert anyio.run(_find, directory, "other") is None
    assert anyio.run(_find, directory, "a.b") is None
    db.dispose()


def test_directory_caches_briefly_and_can_be_invalidated(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr("berth.registry.hosts.time.monotonic", lambda: now[0])
    directory = RegistryDirectory(db)
    assert anyio.run(_find, directory, "later") is None

    created = db.write_sync(registry_rows.create, "Later")
    assert anyio.run(_find, directory, "later") is None  # the cached miss
    now[0] += hosts.CACHE_SECONDS + 0.1
    assert anyio.run(_find, directory, "later") == created

    db.write_sync(registry_rows.remove, created.id)
    assert anyio.run(_find, directory, "LATER") == created  # the cached hit
    directory.invalidate("Later")
    assert anyio.run(_find, directory, "later") is None

    assert anyio.run(_find, directory, "again") is None
    db.write_sync(registry_rows.create, "Again")
    directory.invalidate()  # forgets every entry, the cached miss included
    assert anyio.run(_find, directory, "again") is not None
    db.dispose()


@pytest.mark.parametrize(
    "name", ["\x00reg", "myreg\x00", "a.b", "abc", "a" * 51, "my-reg", "%00myreg", "ü" * 6]
)
def test_names_no_registry_can_have_find_nothing_and_are_not_cached(db: Database, name: str) -> None:
    """A Host header is the client's to make up: PostgreSQL refuses a NUL, and a cache entry
    per made-up name would grow without bound."""
    directory = RegistryDirectory(db)

    assert anyio.run(_find, directory, name) is None
    assert directory._cache == {}
    db.dispose()


def test_requests_that_miss_together_share_one_read(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    created = db.write_sync(registry_rows.create, "Shared")
    directory = RegistryDirectory(db)
    reads = []
    read = db.read

    async def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return await read(*args, **kwargs)

    monkeypatch.setattr(db, "read", counted)

    async def scenario() -> list[registry_rows.RegistryRecord | None]:
        return list(await asyncio.gather(*(directory.find("shared") for _ in range(50))))

    assert asyncio.run(scenario()) == [created] * 50
    assert len(reads) == 1
    db.dispose()


def test_a_read_begun_before_an_invalidation_is_not_cached(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = RegistryDirectory(db)
    read = db.read

    async def invalidated_meanwhile(*args: Any, **kwargs: Any) -> Any:
        found = await read(*args, **kwargs)
        directory.invalidate("late")  # the registry was created while this read ran
        return found

    monkeypatch.setattr(db, "read", invalidated_meanwhile)
    assert asyncio.run(directory.find("late")) is None
    assert directory._cache == {}
    db.dispose()

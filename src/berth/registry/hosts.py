"""Which registry a request is for: the Host header, case-insensitively.

``<name>.<domain>[:port]`` selects the registry called ``name``; the bare address (an IP
literal, ``localhost``, or the domain itself) selects the default registry, so a
single-registry install needs no DNS.
"""

from __future__ import annotations

import functools
import ipaddress
import time
from dataclasses import dataclass

from berth.invalidation import REGISTRIES, InvalidationBus
from berth.metadata import registries as registry_rows
from berth.metadata.database import Database
from berth.metadata.registries import RegistryRecord
from berth.names import REGISTRY_NAME
from berth.single_flight import SingleFlight

CACHE_SECONDS = 1.0


@dataclass(frozen=True)
class HostTarget:
    name: str  # registry name (lower case)
    is_default: bool


def split_host(host_header: str) -> tuple[str, str]:
    """(hostname lower-cased without trailing dot, port text or '')."""
    host = host_header.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        name, rest = host[1:end], host[end + 1 :]
        return name, rest[1:] if rest.startswith(":") else ""
    name, sep, port = host.rpartition(":")
    if not sep or not port.isdigit():
        name, port = host, ""
    return name.rstrip("."), port


def _is_ip(hostname: str) -> bool:
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def target_for(host_header: str, domain: str, default_registry: str) -> HostTarget:
    hostname, _ = split_host(host_header)
    domain = domain.lower()
    if not hostname or _is_ip(hostname) or hostname in ("localhost", domain):
        return HostTarget(default_registry.lower(), True)
    suffix = "." + domain
    if hostname.endswith(suffix):
        return HostTarget(hostname[: -len(suffix)], False)
    return HostTarget(hostname, False)


class RegistryDirectory:
    """Registry records by name, cached for a second so a hot path costs no query.

    A change made here is published on the invalidation bus, so other processes drop their
    copy at once instead of after :data:`CACHE_SECONDS`. Requests that miss together share one
    read (:mod:`berth.single_flight`); a drop raises the generation, so a read begun before it
    is neither shared with later requests nor cached.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: dict[str, tuple[float, RegistryRecord | None]] = {}
        self._generation = 0
        self._reads: SingleFlight[tuple[str, int], RegistryRecord | None] = SingleFlight()
        self._bus: InvalidationBus | None = None

    def attach(self, bus: InvalidationBus) -> None:
        self._bus = bus
        bus.subscribe(REGISTRIES, self._drop)

    async def find(self, name: str) -> RegistryRecord | None:
        if REGISTRY_NAME.fullmatch(name) is None:
            # No registry has such a name: no query (PostgreSQL refuses text holding a NUL), and
            # no cache entry, so Host headers made up by a client cannot grow the cache.
            return None
        key = name.lower()
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        generation = self._generation
        record = await self._reads.run(
            (key, generation), lambda: self._db.read(registry_rows.get_by_name, key)
        )
        if generation == self._generation:
            self._cache[key] = (now + CACHE_SECONDS, record)
        return record

    def invalidate(self, name: str | None = None) -> None:
        self._drop(name)
        if self._bus is not None:
            self._bus.publish(REGISTRIES, name or "")

    def _drop(self, name: str | None) -> None:
        self._generation += 1
        if not name:
            self._cache.clear()
        else:
            self._cache.pop(name.lower(), None)

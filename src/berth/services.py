"""The long-lived parts of a running berth, built once at start and passed to handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from berth.access.model import AccessController
from berth.access.service import AccessService
from berth.config import Settings
from berth.content.pull_cache import PullCache
from berth.content.uploads import SessionHashes
from berth.diskspace import DiskSpace
from berth.events.observer import NoObserver, PlaneObserver
from berth.events.requestlog import RequestLog
from berth.management.service import Management
from berth.metadata.database import Database
from berth.registry.clients import Network, parse_networks
from berth.registry.hosts import RegistryDirectory
from berth.storage import BlobStore, StorageDriver
from berth.tenancy import Tenancy


@dataclass(eq=False)
class Services:
    settings: Settings
    db: Database
    storage: StorageDriver
    access: AccessController
    auth: AccessService
    registries: RegistryDirectory
    tenancy: Tenancy
    management: Management
    observer: PlaneObserver = field(default_factory=NoObserver)
    request_log: RequestLog = field(default_factory=lambda: RequestLog(enabled=False))
    hashes: SessionHashes = field(default_factory=SessionHashes)
    pull_cache: PullCache = field(default_factory=PullCache)
    disk: DiskSpace = field(default_factory=lambda: DiskSpace((), 0))
    _stores: dict[str, BlobStore] = field(default_factory=dict)

    @cached_property
    def trusted_proxies(self) -> tuple[Network, ...]:
        return parse_networks(self.settings.trusted_proxies)

    def store_for(self, registry_id: str) -> BlobStore:
        store = self._stores.get(registry_id)
        if store is None:
            store = self._stores[registry_id] = self.storage.registry(registry_id)
        return store

"""Storage quotas: how many bytes a registry may store, and the check a push meets.

The model (docs/configuration.md#storage-quotas):

- a registry's quota is its own setting (``berth acr update --storage-quota 20GiB``, or
  ``unlimited``), else the service's ``default_storage_quota``: ``unlimited`` (the default, as
  ACR, which bills storage beyond the SKU's included amount rather than refusing it), ``sku``
  (ACR's included storage as a hard limit: Basic 10 GiB, Standard 100 GiB, Premium 500 GiB) or
  a size;
- usage is what ``show-usage`` reports: each distinct blob of the registry once, plus its
  manifests' bytes (:func:`berth.metadata.usage.stored_bytes`);
- only a blob new to the registry can take it past its quota: an upload is refused when its
  completion would; a mount (within the registry) and a blob already stored add nothing.
  Manifests are not refused (a few KiB, and refusing one after its layers were accepted would
  leave a push half done); their bytes count, so the next blob is refused.

The check runs before the blob is put in place and again in the transaction that records it,
under the registry's collection lock, so of two uploads racing for the last bytes one is
refused (:class:`berth.content.sessions.UploadSessions`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from berth import errors
from berth.errors import WireError
from berth.metadata import blobs as blob_rows
from berth.metadata.registries import RegistryRecord
from berth.metadata.usage import stored_bytes
from berth.sizes import DEFAULT, GIB, SKU, UNLIMITED, format_size, parse_size

# ACR's storage included in each SKU (learn.microsoft.com, "Azure Container Registry service tiers").
SKU_INCLUDED_STORAGE = {"Basic": 10 * GIB, "Standard": 100 * GIB, "Premium": 500 * GIB}
# registries.storage_quota for "unlimited" set on the registry itself (NULL follows the default).
UNLIMITED_SETTING = -1


def registry_setting(text: str) -> int | None:
    """The stored value of a registry's quota setting: ``default`` → None, ``unlimited`` → -1, a size."""
    word = text.strip().lower()
    if word == DEFAULT:
        return None
    if word == UNLIMITED:
        return UNLIMITED_SETTING
    return parse_size(text)


def default_limit(default: str, sku: str) -> int | None:
    """The limit the service's ``default_storage_quota`` gives a registry of ``sku``; None: unlimited."""
    word = default.strip().lower()
    if word == UNLIMITED:
        return None
    if word == SKU:
        return SKU_INCLUDED_STORAGE.get(sku, SKU_INCLUDED_STORAGE["Premium"])
    return parse_size(default)


@dataclass(frozen=True)
class StorageQuota:
    """The quota of one registry, as it applies to the request at hand."""

    registry: str  # the registry's name, for the message
    limit: int | None  # bytes; None: unlimited
    from_default: bool = True  # the service's default_storage_quota, not the registry's own setting

    @classmethod
    def of(cls, record: RegistryRecord, default: str) -> StorageQuota:
        setting = record.storage_quota
        if setting is None:
            return cls(record.name, default_limit(default, record.sku), True)
        return cls(record.name, None if setting < 0 else setting, False)

    def check(
        self, conn: Connection, registry_id: str, digest: str, size: int, drain_body: bool = False
    ) -> None:
        """Refuse (raise) when storing blob ``digest`` of ``size`` bytes would exceed the quota.

        A blob the registry stores already adds nothing. Without a limit nothing is read.
        """
        if self.limit is None or blob_rows.registry_blob_size(conn, registry_id, digest) is not None:
            return
        used = stored_bytes(conn, registry_id)
        if used + size > self.limit:
            raise self.refusal(used, size, drain_body)

    def refusal(self, used: int, size: int, drain_body: bool = False) -> WireError:
        assert self.limit is not None
        name, limit = self.registry, self.limit
        message = (
            f"storage quota exceeded: registry '{name}' stores {format_size(used)} of its "
            f"{format_size(limit)} quota and this blob needs {format_size(size)} more; nothing was "
            f"stored. Free space (delete images with berth acr repository delete or berth acr purge, "
            f"then berth acr gc -n {name}) or raise the quota: berth acr update -n {name} "
            f"--storage-quota {_suggested(used + size)}"
        )
        detail = {"registry": name, "used": used, "quota": limit, "size": size}
        return errors.storage_quota_exceeded(message, detail, drain_body=drain_body)


def _suggested(needed: int) -> str:
    """A round quota that fits ``needed`` bytes: the next whole GiB (or MiB below 1 GiB)."""
    unit, scale = ("GiB", GIB) if needed >= GIB else ("MiB", 1024**2)
    return f"{-(-needed // scale)}{unit}"

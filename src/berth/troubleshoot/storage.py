"""check-health's storage step: is the service behind the login server running out of disk, and
is the registry near its storage quota?

The service reports its storage as ``ok``, ``low`` or ``full`` in ``GET /healthz`` (see
:mod:`berth.diskspace`); ``full`` means a write failed for lack of space recently and free
space is still low, so pushes are answered ``507 Insufficient Storage``. Pulls keep working
either way. An older service without the field, or one that cannot be reached, adds nothing
here (the connectivity steps report that).
"""

from __future__ import annotations

import httpx

from berth.sizes import format_size
from berth.troubleshoot.causes import QUOTA_FIX
from berth.troubleshoot.findings import Finding, Status, passed

FULL = (
    "STORAGE_FULL_ERROR",
    "The berth service behind {login_server} is out of disk space: a write failed for lack of "
    "space and free space is still low, so pushes fail with 507 Insufficient Storage (docker "
    "prints 'received unexpected HTTP status: 507 Insufficient Storage'); pulls still work.",
    "The service's owner frees space on the volume of berth's storage_path and data_dir (the "
    "server log's 'out of space' line names the request that failed), or moves storage_path to "
    "a larger volume; then push again.",
)
LOW = (
    "STORAGE_LOW_SPACE_WARNING",
    "The berth service behind {login_server} is low on disk space (below its "
    "storage_low_free_mb setting); pushes will fail with 507 Insufficient Storage once it is full.",
    "The service's owner frees space on the volume of berth's storage_path and data_dir, or "
    "moves storage_path to a larger volume.",
)

QUOTA_WARNING = (
    "STORAGE_QUOTA_WARNING",
    "Registry {registry} stores {used} of its {quota} storage quota ({percent}%); a push whose new "
    "blobs would take it past the quota is refused (docker prints 'denied: storage quota exceeded: ...').",
)
# Warn from this share of the quota on.
QUOTA_WARNING_SHARE = 0.9


def check_quota(used: int, quota: int | None, facts: dict[str, str]) -> list[Finding]:
    """A passed step, or a warning from 90 % of the registry's storage quota on (none without one)."""
    if quota is None:
        return []
    percent = 100 if quota <= 0 else int(used * 100 / quota)
    registry = facts.get("registry", "")
    if used < quota * QUOTA_WARNING_SHARE:
        return [passed(f"Storage quota of registry '{registry}' ({percent}% used) : OK")]
    code, cause = QUOTA_WARNING
    facts = {**facts, "used": str(used), "quota": str(quota)}
    text = cause.format(registry=registry, used=format_size(used), quota=format_size(quota), percent=percent)
    fix = QUOTA_FIX.format(registry=registry)
    return [Finding(Status.WARNING, f"Warning: {code}", code, text, fix, "", facts)]


def check_storage(
    client: httpx.Client, scheme: str, login_server: str, facts: dict[str, str]
) -> list[Finding]:
    """A passed step, a low-space warning or a full-storage error, from ``/healthz``."""
    try:
        response = client.get(f"{scheme}://{login_server}/healthz")
        storage = response.json().get("storage") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return []
    if storage == "ok":
        return [passed(f"Storage of the service behind {login_server} : OK")]
    if storage not in ("full", "low"):
        return []
    code, cause, fix = FULL if storage == "full" else LOW
    status, title = (Status.ERROR, "An error occurred") if storage == "full" else (Status.WARNING, "Warning")
    facts = {**facts, "storage": storage}
    text = cause.format(login_server=login_server)
    return [Finding(status, f"{title}: {code}", code, text, fix, "", facts)]

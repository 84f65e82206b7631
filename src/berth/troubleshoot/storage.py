"""check-health's storage step: is the service behind the login server running out of disk?

The service reports its storage as ``ok``, ``low`` or ``full`` in ``GET /healthz`` (see
:mod:`berth.diskspace`); ``full`` means a write failed for lack of space recently and free
space is still low, so pushes are answered ``507 Insufficient Storage``. Pulls keep working
either way. An older service without the field, or one that cannot be reached, adds nothing
here (the connectivity steps report that).
"""

from __future__ import annotations

import httpx

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

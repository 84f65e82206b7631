"""Readiness: whether this process can serve requests now, for a balancer's health checks.

``/healthz`` says the process answers (liveness); ``/readyz`` also asks the two things every
registry request needs: the metadata database answers a query, and the blob store answers a
lookup (a ``stat`` of a digest that does not exist: a ``stat`` on a folder, a HEAD on an object
store). Each check has a time limit, so a hung dependency makes the replica unready instead of
hanging the balancer's probe. docs/deployment.md shows the HAProxy check that uses it.
"""

from __future__ import annotations

import anyio
from sqlalchemy import Connection, text

from berth.services import Services

CHECK_SECONDS = 3.0
_ABSENT = "sha256:" + "0" * 64
_PROBE_REGISTRY = "0" * 32  # no registry has this id: the lookup finds nothing, and writes nothing


def _select_one(conn: Connection) -> None:
    conn.execute(text("SELECT 1"))


async def check_ready(services: Services) -> dict[str, str]:
    """The failed checks by name (``database``, ``storage``) with a one-line reason; empty when ready."""
    problems: dict[str, str] = {}
    try:
        with anyio.fail_after(CHECK_SECONDS):
            await services.db.read(_select_one)
    except Exception as exc:
        problems["database"] = _reason(exc)
    try:
        store = services.store_for(_PROBE_REGISTRY)
        with anyio.fail_after(CHECK_SECONDS):
            await anyio.to_thread.run_sync(store.stat, _ABSENT)
    except Exception as exc:
        problems["storage"] = _reason(exc)
    return problems


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {CHECK_SECONDS:g} s"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:200]

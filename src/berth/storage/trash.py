"""Freeing large files after the request that dropped them has been answered.

Unlinking a 1 GiB file takes ~0.3 s here (ext4 frees its extents under the journal), and a
completed upload drops its session's part files right before the ``201`` (and a push of a
blob stored already replaces the old copy). The filesystem driver instead renames the
session's folder into the registry's ``trash`` folder (one ``rename``, instant), or keeps a
descriptor on the replaced copy, and this module's one background thread per process removes
the folder or closes the descriptor (which frees the blocks). Folders a crash left in a trash
folder are queued again when the driver next starts.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import threading
import uuid
from pathlib import Path

log = logging.getLogger("berth.storage")

_pending: queue.SimpleQueue[Path | int | threading.Event] = queue.SimpleQueue()
_remover: threading.Thread | None = None
_remover_lock = threading.Lock()


def discard(folder: Path, trash: Path) -> None:
    """Move ``folder`` into ``trash`` and remove it in the background (nothing when absent)."""
    trash.mkdir(parents=True, exist_ok=True)
    moved = trash / uuid.uuid4().hex
    try:
        os.rename(folder, moved)
    except FileNotFoundError:
        return
    _remove_later(moved)


def close_later(descriptor: int) -> None:
    """Close ``descriptor`` in the background (the last one on a replaced file frees it)."""
    _remove_later(descriptor)


def sweep(trash: Path) -> None:
    """Queue what an earlier process left in ``trash`` (a crash before it was removed)."""
    try:
        entries = [Path(entry.path) for entry in os.scandir(trash)]
    except FileNotFoundError:
        return
    for entry in entries:
        _remove_later(entry)


def wait_until_empty() -> None:
    """Block until everything queued so far is removed (for tests: a stopping process leaves
    the rest to the next start's sweep)."""
    done = threading.Event()
    _remove_later(done)
    done.wait()


def _remove_later(item: Path | int | threading.Event) -> None:
    _pending.put(item)
    _ensure_remover()


def _ensure_remover() -> None:
    global _remover
    with _remover_lock:
        if _remover is None or not _remover.is_alive():
            _remover = threading.Thread(target=_remove_forever, name="berth-trash", daemon=True)
            _remover.start()


def _remove_forever() -> None:
    while True:
        path = _pending.get()
        if isinstance(path, threading.Event):  # wait_until_empty's marker
            path.set()
            continue
        if isinstance(path, int):
            os.close(path)
            continue
        try:
            shutil.rmtree(path)
        except FileNotFoundError:
            pass
        except OSError as exc:  # left for the next start's sweep
            log.warning("could not remove %s: %s", path, exc)

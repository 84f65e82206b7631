"""Headless Chromium for the portal's browser suite, and axe-core for its accessibility checks.

- :func:`chromium_path`: Debian's ``chromium`` (installed by scripts/install-system-packages.sh).
  Playwright drives it through ``executable_path``; its own browser download is never used (CI
  has no network for it).
- :func:`ensure_axe`: ``axe.min.js`` from the npm package ``axe-core``, fetched once per machine
  with ``npm pack`` into ``/var/cache/berth-tests/axe-core-<version>/`` (as Azurite is cached).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

AXE_VERSION = "4.14.1"
MACHINE_CACHE = Path("/var/cache/berth-tests")
REPO = Path(__file__).resolve().parents[2]


def chromium_path() -> str:
    for candidate in ("chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    raise RuntimeError("chromium is not installed: install Debian's 'chromium' package (make test does this)")


def axe_cache() -> Path:
    configured = os.environ.get("BERTH_AXE_CACHE")
    if configured:
        return Path(configured)
    machine_wide = MACHINE_CACHE.exists() or os.access(MACHINE_CACHE.parent, os.W_OK)
    return (MACHINE_CACHE if machine_wide else REPO / ".cache") / f"axe-core-{AXE_VERSION}"


def ensure_axe() -> Path:
    """The path of ``axe.min.js``, downloading the npm tarball first if it is not cached."""
    folder = axe_cache()
    script = folder / "axe.min.js"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f".{folder.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if script.exists():
            return script
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not installed: install Debian's 'npm' package (make test does this)")
        folder.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(folder)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"npm pack axe-core@{AXE_VERSION} failed:\n{result.stderr[-4000:]}")
        tarball = folder / f"axe-core-{AXE_VERSION}.tgz"
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/axe.min.js")
            if member is None:
                raise RuntimeError(f"{tarball} holds no package/axe.min.js")
            partial = script.with_suffix(".partial")
            partial.write_bytes(member.read())
            partial.replace(script)
    return script

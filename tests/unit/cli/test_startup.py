"""The CLI starts without the server's stack: it imports only light parts of berth (such as
``berth.access.scopes``), never sqlalchemy, jwt or starlette."""

from __future__ import annotations

import subprocess
import sys

SERVER_PACKAGES = ("sqlalchemy", "jwt", "starlette")


def test_importing_the_cli_leaves_the_server_packages_out() -> None:
    code = f"import sys, berth.cli.root; print(' '.join(p for p in {SERVER_PACKAGES!r} if p in sys.modules))"
    # A fresh interpreter: this test process has imported the server packages already.
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == ""

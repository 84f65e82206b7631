"""The registry plane's process does not load the service plane's code until it is asked for.

The management API (FastAPI routers, pydantic models) is about a third of berth's idle memory
(docs/performance.md); :class:`berth.app.LazyServicePlane` imports it on the first request.
"""

from __future__ import annotations

import subprocess
import sys


def test_starting_the_server_does_not_import_the_management_api() -> None:
    code = (
        "import sys, berth.app, berth.server\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('berth.management.api'))\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", done.stdout

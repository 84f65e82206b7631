"""A real uvicorn server in a thread of the test process, on a loopback socket of its own.

For unit tests of berth's connection protocol: the clients are raw sockets, so every case is
the bytes on the wire. The server stops when the generator is closed.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn


def serve_in_thread(app: Any, http: type, **options: Any) -> Iterator[tuple[str, int]]:
    """Serve ``app`` with the protocol class ``http``; yields the (host, port) it listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, http=http, loop="uvloop", lifespan="on", log_config=None, access_log=False, **options
    )
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not runner.started:
        if not thread.is_alive():  # pragma: no cover
            raise RuntimeError("the test server did not start")
        threading.Event().wait(0.01)
    try:
        yield sock.getsockname()
    finally:
        runner.should_exit = True
        thread.join(30)
        sock.close()


async def answer_lifespan(receive: Any, send: Any) -> None:
    """The lifespan protocol for a test app: start-up and shut-down, nothing to do in either."""
    while (message := await receive())["type"] != "lifespan.shutdown":
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})

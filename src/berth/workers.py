"""``berth serve --workers N``: a pre-forking supervisor around N uvicorn worker processes.

The supervisor binds a listening socket per worker on the one port (``SO_REUSEPORT``: the kernel
hands each new connection to one of them), does the one-time start-up work (schema, first
signing key, default registry, owner user) so the workers never race on it, then forks the
workers, each of which accepts from its own socket.
Each worker builds its own application (database pool, caches, background threads) after the
fork. What the workers must agree on goes through the database and the invalidation bus
(:mod:`berth.invalidation`); the background jobs run on one process at a time through a lease
in the database (:func:`berth.metadata.collection.take_lease`).

- SIGTERM/SIGINT to the supervisor are passed on to the workers, which drain their requests
  (``GRACEFUL_SHUTDOWN_SECONDS``), then the supervisor exits 0.
- A worker that dies is replaced; one that *exits with an error* within
  :data:`FAILED_START_SECONDS` of its start (its application could not start: the
  configuration cannot work) stops everything with status 1.
- The workers die with the supervisor (``PR_SET_PDEATHSIG``): a ``kill -9`` of the supervisor
  is a crash of the whole server, as it is with one process.
- With ``metrics_listen``, the workers record Prometheus metrics in a shared folder
  (prometheus_client's multiprocess mode) and the supervisor serves their sum.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable

from berth import faults

log = logging.getLogger("berth")

FAILED_START_SECONDS = 5.0
RESPAWN_PAUSE_SECONDS = 0.5
BACKLOG = 2048
_PR_SET_PDEATHSIG = 1


class Listener(socket.socket):
    """A listening socket; the first of a ``SO_REUSEPORT`` group also holds the address's claim
    (:func:`bind`), given up when the socket is closed."""

    claim: socket.socket | None = None

    def close(self) -> None:
        if self.claim is not None:
            self.claim.close()
            self.claim = None
        super().close()


def bind(host: str, port: int, count: int = 1) -> list[socket.socket]:
    """One listening socket per worker, all on one address (IPv6 when the host is an IPv6 literal).

    With ``SO_REUSEPORT`` (Linux), the kernel spreads new connections evenly over the sockets and
    each worker accepts from a queue of its own (:mod:`berth.accepting` reads it); with one shared
    socket the split followed whichever event loop was free (397/609 of 1,000 connections). A
    worker's socket outlives the worker (the supervisor holds it), so what the kernel queued there
    waits for the respawn. Where ``SO_REUSEPORT`` is missing, the workers share one socket.

    ``SO_REUSEPORT`` would also let a second berth of the same user join the group, and the two
    would split the connections. The CLI refuses an address in use before it starts, but two
    servers started at the same instant could both pass that check; so the group's first socket
    also claims the address (:func:`_claim`) before it listens, and the second server's bind
    fails with ``EADDRINUSE`` before it accepts anything.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    per_worker = count > 1 and hasattr(socket, "SO_REUSEPORT")
    sockets: list[socket.socket] = []
    try:
        for _ in range(count if per_worker else 1):
            sock = Listener(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if per_worker:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:  # as asyncio's create_server: "::" is IPv6 only
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]  # port 0: the others take the port the first was given
            if per_worker and len(sockets) == 1:
                sock.claim = _claim(host, port)
            sock.listen(BACKLOG)
            sock.set_inheritable(True)
    except OSError:
        for bound in sockets:
            bound.close()
        raise
    return sockets


def _claim(host: str, port: int) -> socket.socket | None:
    """A UNIX socket in the abstract namespace named after the address: the kernel lets one
    process at a time bind a name there (per network namespace, as with TCP ports), and frees it
    when the process ends, however it ends. None where the platform has no abstract names."""
    if not sys.platform.startswith("linux"):
        return None
    claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        claim.bind(f"\0berth-listen {host} {port}")
    except OSError as exc:
        claim.close()
        if exc.errno == errno.EADDRINUSE:
            raise OSError(errno.EADDRINUSE, "Address already in use by another berth") from None
        raise
    return claim


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: workers outlive a killed supervisor, as they would under uvicorn
    if os.getppid() != parent:
        os._exit(1)  # the supervisor died before prctl took effect


class Supervisor:
    def __init__(self, count: int, run_worker: Callable[[int], None]) -> None:
        self._count = count
        self._run_worker = run_worker
        self._children: dict[int, tuple[int, float]] = {}  # pid -> (slot, started at)
        self._stopping = False
        self._failed = False

    def run(self) -> int:
        """Fork the workers and supervise them until they all exit; the exit status."""
        os.environ[faults.SUPERVISOR_VARIABLE] = str(os.getpid())
        for slot in range(self._count):
            self._spawn(slot)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        while self._children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            entry = self._children.pop(pid, None)
            if entry is None:
                continue
            slot, started = entry
            _forget_metrics(pid)
            if self._stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            young = time.monotonic() - started < FAILED_START_SECONDS
            if young and code > 0:
                log.error("worker %d failed at start (status %d); stopping", pid, code)
                self._failed = True
                self._stop_all(signal.SIGTERM)
                continue
            log.error("worker %d exited (status %d); starting another", pid, code)
            if young:
                time.sleep(RESPAWN_PAUSE_SECONDS)  # no hot loop if workers keep dying
            self._spawn(slot)
        return 1 if self._failed else 0

    def _spawn(self, slot: int) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                _die_with_parent(parent)
                for signum in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(signum, signal.SIG_DFL)
                self._run_worker(slot)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0
            except BaseException:
                log.exception("worker %d failed", os.getpid())
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self._children[pid] = (slot, time.monotonic())

    def _on_signal(self, signum: int, frame: object) -> None:
        if not self._stopping:
            log.info(
                "berth stopping (%s): draining %d workers", signal.Signals(signum).name, len(self._children)
            )
        self._stop_all(signum)

    def _stop_all(self, signum: int) -> None:
        self._stopping = True
        for pid in list(self._children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)


def _forget_metrics(pid: int) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def serve_metrics(address: tuple[str, int]) -> None:
    """The workers' metrics, summed (prometheus_client's multiprocess collector)."""
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    start_http_server(address[1], addr=address[0], registry=registry)
    log.info("Prometheus metrics of all workers on http://%s:%d/metrics", *address)

"""Running berth: uvicorn with graceful shutdown, TLS when configured."""

from __future__ import annotations

import ipaddress
import logging
import signal
import socket
import sys
from dataclasses import replace
from typing import Any

import uvicorn

from berth import logformat
from berth.accepting import BerthServer
from berth.app import BerthApp, build_app, prepare
from berth.config import Settings
from berth.connections import ConnectionLimits, protocol_for
from berth.server_errors import ServerErrorLog
from berth.workers import Supervisor, bind, serve_metrics

log = logging.getLogger("berth")

GRACEFUL_SHUTDOWN_SECONDS = 30
STARTUP_FAILED = 3  # uvicorn's own status for a failed lifespan startup


def configure_logging(settings: Settings) -> None:
    """The human format or JSON lines on stderr (see :mod:`berth.logformat`)."""
    logformat.configure_logging(settings.log_level, settings.log_format)


def describe(settings: Settings) -> str:
    base = f"{settings.scheme}://{settings.listen}"
    text = (
        f"berth serving on {base}; default registry '{settings.default_registry}' at the bare address, "
        f"others at {settings.login_server('<name>')}; data in {settings.data_dir}"
    )
    if settings.tls_cert:
        text += f"; TLS certificate {settings.tls_cert}, key {settings.tls_key}"
    return text


def serve(settings: Settings, app: BerthApp | None = None) -> None:
    configure_logging(settings)
    workers = settings.resolved_workers
    if app is None and workers > 1:
        serve_workers(settings, workers)
        return
    log.info(describe(settings))
    # uvicorn finishes in-flight requests on SIGTERM/SIGINT, then re-raises the signal with the
    # handler that was installed before it started: make that an orderly exit with status 0.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_cleanly)
    sockets = _listen(settings, 1) if _is_ip_literal(settings.host) else None
    run_uvicorn(settings, app or build_app(settings), sockets=sockets)


def _is_ip_literal(host: str) -> bool:
    """One process reads its own listening socket with berth's batch acceptor when the address is an
    IP literal (the default, 127.0.0.1): uvloop's server accepts one connection per turn of the
    loop, so under load the first requests of new connections waited seconds (1,000 connections
    on one process: 664 first requests answered after 1-9.9 s, docs/performance.md). A host name
    is left to uvicorn, which listens on every address the name resolves to."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _listen(settings: Settings, count: int) -> list[socket.socket]:
    """The listening sockets (:func:`berth.workers.bind`); exits as uvicorn does when the address
    cannot be bound (the CLI's check found it free, so another server took it meanwhile)."""
    try:
        return bind(settings.host, settings.port, count)
    except OSError as exc:
        log.error("could not listen on %s:%d: %s", settings.host, settings.port, exc.strerror or exc)
        sys.exit(1)


def serve_workers(settings: Settings, workers: int) -> None:
    """N worker processes on one port, each accepting from a socket of its own (:mod:`berth.workers`);
    the metrics, if any, summed here."""
    sockets = _listen(settings, workers)
    prepare(settings)
    worker_settings = replace(settings, metrics_listen="")  # the supervisor serves them

    def run_worker(slot: int) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, _exit_cleanly)
        own = [sockets[slot % len(sockets)]]  # its own socket, or the one they share
        for other in sockets:
            if other not in own:
                other.close()  # the other workers' (the supervisor keeps them open for their respawns)
        if not run_uvicorn(worker_settings, build_app(worker_settings), sockets=own):
            sys.exit(STARTUP_FAILED)  # the supervisor stops: this configuration cannot serve

    log.info("%s; %d worker processes", describe(settings), workers)
    supervisor = Supervisor(workers, run_worker)
    if settings.metrics_listen:
        host, port = settings.metrics_listen.rsplit(":", 1)
        serve_metrics((host.strip("[]"), int(port)))
    status = supervisor.run()
    log.info("berth stopped")
    sys.exit(status)


def run_uvicorn(settings: Settings, app: BerthApp, sockets: list[socket.socket] | None = None) -> bool:
    """Serve until stopped; False when the application failed to start."""
    config = uvicorn.Config(
        ServerErrorLog(app),
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        lifespan="on",
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        loop="uvloop",
        # uvicorn's own proxy-headers middleware would believe X-Forwarded-For/-Proto from
        # 127.0.0.1 (its default forwarded_allow_ips) and rewrite the peer address before berth
        # sees it. berth decides that itself, from settings.trusted_proxies (registry/clients.py).
        proxy_headers=False,
        **connection_options(settings),
    )
    server = BerthServer(config)
    server.run(sockets=sockets)
    return server.started


def connection_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's settings for connections: berth's guarded httptools protocol and its limits."""
    return {
        "http": protocol_for(ConnectionLimits.from_settings(settings)),
        "timeout_keep_alive": settings.keep_alive_seconds,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }


def _exit_cleanly(signum: int, frame: object) -> None:
    log.info("berth stopped (%s)", signal.Signals(signum).name)
    sys.exit(0)

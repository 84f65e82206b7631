"""``berth serve``: run the registry service."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from berth.config import ConfigError, load_settings


def serve_command(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="TOML settings file (or BERTH_CONFIG).")
    ] = None,
    listen: Annotated[
        str | None, typer.Option(help="HOST:PORT to listen on (default 127.0.0.1:5000).")
    ] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder for metadata and blobs.")] = None,  # noqa: UP045
    domain: Annotated[Optional[str], typer.Option(help="Login servers are <registry>.<domain>.")] = None,  # noqa: UP045
    default_registry: Annotated[str | None, typer.Option(help="Registry served at the bare address.")] = None,
    database_url: Annotated[Optional[str], typer.Option(help="sqlite:///path or postgresql://...")] = None,  # noqa: UP045
    storage_path: Annotated[
        Path | None, typer.Option(help="Folder for blobs (default <data-dir>/storage).")
    ] = None,
    storage_driver: Annotated[
        str | None, typer.Option(help="filesystem (the default), s3 or azure: see docs/configuration.md.")
    ] = None,
    tls_cert: Annotated[Optional[Path], typer.Option(help="PEM certificate; serve HTTPS.")] = None,  # noqa: UP045
    tls_key: Annotated[Optional[Path], typer.Option(help="PEM private key for --tls-cert.")] = None,  # noqa: UP045
    public_port: Annotated[int | None, typer.Option(help="Port clients use, if not the listen port.")] = None,
    insecure_no_auth: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option("--insecure-no-auth", help="UNSAFE: allow every request without credentials."),
    ] = None,
    log_level: Annotated[Optional[str], typer.Option(help="error, warning, info or debug.")] = None,  # noqa: UP045
    max_header_bytes: Annotated[
        int | None, typer.Option(help="Largest request line plus headers, in bytes (default 65536).")
    ] = None,
    header_timeout_seconds: Annotated[
        int | None, typer.Option(help="Seconds a client has to send a request's headers (default 10).")
    ] = None,
    keep_alive_seconds: Annotated[
        int | None, typer.Option(help="Seconds an idle kept-alive connection stays open (default 30).")
    ] = None,
    max_connections: Annotated[
        int | None, typer.Option(help="Most connections open at once (default 1000).")
    ] = None,
    storage_low_free_mb: Annotated[
        int | None, typer.Option(help="Free space (MiB) below which storage is reported low (default 1024).")
    ] = None,
    log_format: Annotated[
        str | None, typer.Option(help="text (the default) or json: one JSON object a line.")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Worker processes sharing the port (default: 1 on SQLite, one per core on PostgreSQL)."
        ),
    ] = None,
) -> None:
    """Run the registry service (HTTP, or HTTPS with --tls-cert/--tls-key)."""
    overrides = {
        "listen": listen,
        "data_dir": data_dir,
        "domain": domain,
        "default_registry": default_registry,
        "database_url": database_url,
        "storage_path": storage_path,
        "storage_driver": storage_driver,
        "tls_cert": tls_cert,
        "tls_key": tls_key,
        "public_port": public_port,
        "insecure_no_auth": insecure_no_auth,
        "log_level": log_level,
        "max_header_bytes": max_header_bytes,
        "header_timeout_seconds": header_timeout_seconds,
        "keep_alive_seconds": keep_alive_seconds,
        "max_connections": max_connections,
        "storage_low_free_mb": storage_low_free_mb,
        "log_format": log_format,
        "workers": workers,
    }
    try:
        settings = load_settings(config, overrides)
    except ConfigError as exc:
        typer.echo(f"berth: {exc}", err=True)
        sys.exit(2)
    check_listen_address(settings.host, settings.port)
    if settings.resolved_workers > 1 and settings.metrics_listen:
        # Before prometheus_client is first imported: it picks its value storage then.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="berth-metrics-")
    from berth.server import serve

    serve(settings)


def check_listen_address(host: str, port: int) -> None:
    """Exit with a message naming the holder when the address is taken, before the first start
    creates the owner (and prints its password) only to fail binding."""
    from berth.cli.listen_check import address_in_use, in_use_message

    if address_in_use(host, port):
        typer.echo(in_use_message(host, port), err=True)
        sys.exit(2)

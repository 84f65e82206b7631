"""``berth admin``: maintenance commands that act on a service's database directly."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from berth.config import ConfigError, Settings, load_settings

app = typer.Typer(
    help="Maintenance of a berth service's own data (run where the service runs).", no_args_is_help=True
)


def _settings(config: Path | None, data_dir: Path | None, database_url: str | None) -> Settings:
    try:
        return load_settings(config, {"data_dir": data_dir, "database_url": database_url})
    except ConfigError as exc:
        typer.echo(f"ERROR: {exc}", err=True)
        sys.exit(2)


@app.command("rotate-keys")
def rotate_keys(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML settings file.")] = None,  # noqa: UP045
    data_dir: Annotated[Optional[Path], typer.Option(help="The service's data folder.")] = None,  # noqa: UP045
    database_url: Annotated[Optional[str], typer.Option(help="The service's metadata database.")] = None,  # noqa: UP045
) -> None:
    """Start signing tokens with a new key. Tokens signed before stay valid until they expire;
    running servers are told at once (PostgreSQL, or several workers on SQLite) and switch to the
    new key within 30 seconds otherwise."""
    from berth.access.keys import Keyring
    from berth.invalidation import SIGNING_KEYS, publish_once
    from berth.metadata.database import Database

    settings = _settings(config, data_dir, database_url)
    db = Database(settings.resolved_database_url)
    db.create_schema()
    kid = Keyring(db).rotate()
    publish_once(db, SIGNING_KEYS, kid)
    db.dispose()
    typer.echo(f"new signing key {kid}; older keys keep verifying the tokens they signed until those expire")


@app.command("purge-uploads")
def purge_uploads(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML settings file.")] = None,  # noqa: UP045
    data_dir: Annotated[Optional[Path], typer.Option(help="The service's data folder.")] = None,  # noqa: UP045
    database_url: Annotated[Optional[str], typer.Option(help="The service's metadata database.")] = None,  # noqa: UP045
    older_than_hours: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(help="Remove sessions unchanged for this long (default: upload_max_age_hours)."),
    ] = None,
) -> None:
    """Remove abandoned upload sessions and their bytes now (a running service does it hourly)."""
    from berth.content.janitor import UploadJanitor
    from berth.metadata.database import Database
    from berth.storage.configured import build_storage

    settings = _settings(config, data_dir, database_url)
    hours = settings.upload_max_age_hours if older_than_hours is None else older_than_hours
    if hours < 0:
        typer.echo("ERROR: --older-than-hours must not be negative", err=True)
        sys.exit(2)
    db = Database(settings.resolved_database_url)
    db.create_schema()
    report = UploadJanitor(db, build_storage(settings), hours * 3600.0).purge()
    db.dispose()
    typer.echo(str(report))

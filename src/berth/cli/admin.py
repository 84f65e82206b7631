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
    running servers switch to the new key within 30 seconds."""
    from berth.access.keys import Keyring
    from berth.metadata.database import Database

    settings = _settings(config, data_dir, database_url)
    db = Database(settings.resolved_database_url)
    db.create_schema()
    kid = Keyring(db).rotate()
    db.dispose()
    typer.echo(f"new signing key {kid}; older keys keep verifying the tokens they signed until those expire")

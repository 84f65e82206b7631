"""``berth tls init``: a local CA and a server certificate, so berth can serve HTTPS at once."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from berth.config import TLS_DIR, ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from berth.tls import TlsFiles

app = typer.Typer(
    name="tls",
    help="Certificates for serving HTTPS locally.",
    no_args_is_help=True,
)


@app.command("init")
def init_command(
    domain: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Login servers are <registry>.<domain> (default: the domain setting)."),
    ] = None,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Folder for the files (default <data-dir>/tls, where berth serve finds them)."),
    ] = None,
    days: Annotated[int, typer.Option(help="How long the server certificate is valid.")] = 365,
    registry: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--registry",
            "-r",
            help="Also name <registry>.<domain> explicitly (repeatable); the registries berth "
            "already has are always included.",
        ),
    ] = None,
    new_ca: Annotated[
        bool, typer.Option("--new-ca", help="Create a new CA even if the folder has one.")
    ] = False,
    data_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="berth's data folder (default: the data_dir setting)."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="TOML settings file (or BERTH_CONFIG).")
    ] = None,
) -> None:
    """Create a local CA and a certificate for <domain>, *.<domain>, each registry's login server,
    localhost and 127.0.0.1."""
    from berth.tls import TlsError, init_folder, wildcard_refused

    try:
        settings = load_settings(config, {"domain": domain, "data_dir": data_dir}, detect_tls=False)
    except ConfigError as exc:
        typer.echo(f"berth: {exc}", err=True)
        sys.exit(2)
    folder = (out or settings.data_dir / TLS_DIR).expanduser().resolve()
    names = [*known_registries(settings), *(registry or [])]
    try:
        files = init_folder(folder, settings.domain, days, new_ca=new_ca, registries=names)
    except (TlsError, OSError) as exc:
        typer.echo(f"berth: {exc}", err=True)
        sys.exit(1)
    if wildcard_refused(settings.domain):
        typer.echo(
            "berth: warning: TLS clients (OpenSSL: curl, Python, az) refuse the wildcard "
            f"*.{settings.domain} over a single-label domain; only the registries named in the "
            "certificate work over HTTPS. "
            "Run `berth tls init` again after creating a registry (and restart berth), or use a "
            "multi-label domain such as registry.internal.",
            err=True,
        )
    typer.echo(next_steps(settings, files, default_folder=out is None))


def known_registries(settings: Settings) -> list[str]:
    """The names of the registries in berth's database other than the default (which is the
    bare domain); none when there is no database yet."""
    from berth.metadata import registries as registry_rows
    from berth.metadata.database import Database

    url = settings.resolved_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return []
    db = Database(url)
    try:
        db.create_schema()
        records = db.read_sync(registry_rows.list_all)
    finally:
        db.dispose()
    default = settings.default_registry.lower()
    return sorted(r.name.lower() for r in records if r.name.lower() != default)


def next_steps(settings: Settings, files: TlsFiles, *, default_folder: bool) -> str:
    port = settings.advertised_port
    host = f"localhost:{port}"
    named = f"<registry>.{settings.domain}:{port}"
    ca_note = (
        "signed by a new local CA"
        if files.ca_created
        else "signed by the existing local CA (clients that trust it need no change)"
    )
    if settings.tls_cert is not None:
        serve = (
            f"berth serve   # note: your settings name tls_cert={settings.tls_cert}, which wins;\n"
            f"     unset it, or pass --tls-cert {files.server_cert} --tls-key {files.server_key}"
        )
    elif default_folder:
        serve = f"berth serve --data-dir {settings.data_dir}   # finds tls/server.crt and server.key itself"
    else:
        serve = f"berth serve --tls-cert {files.server_cert} --tls-key {files.server_key}"
    lines = [
        f"Wrote a server certificate for {', '.join(files.names)} "
        f"(valid until {files.not_after:%Y-%m-%d}), {ca_note}:",
        f"  CA certificate      {files.ca_cert}   (give this to clients)",
        f"  CA private key      {files.ca_key}   (keep it private; it signs new server certificates)",
        f"  server certificate  {files.server_cert}",
        f"  server private key  {files.server_key}",
        "",
        "Next steps:",
        f"  1. Start (or restart) berth over HTTPS:\n     {serve}",
        "  2. Trust the CA in docker (no daemon restart needed):",
        f"     sudo mkdir -p /etc/docker/certs.d/{host}",
        f"     sudo cp {files.ca_cert} /etc/docker/certs.d/{host}/ca.crt",
        f"     (and the same for {named} for other registries)",
        "  3. Trust it in podman, skopeo and buildah:",
        f"     sudo mkdir -p /etc/containers/certs.d/{host}",
        f"     sudo cp {files.ca_cert} /etc/containers/certs.d/{host}/ca.crt",
        "  4. Trust it in Python clients (requests, azure-identity, the Azure SDK):",
        f"     export REQUESTS_CA_BUNDLE={files.ca_cert} SSL_CERT_FILE={files.ca_cert}",
        f"  5. Check: curl --cacert {files.ca_cert} https://{host}/v2/   (401 with a challenge is right)",
        "",
        "More in docs/tls.md.",
    ]
    return "\n".join(lines)

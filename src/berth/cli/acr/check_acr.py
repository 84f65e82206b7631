"""``berth acr check-acr``: ``az aks check-acr`` for any host — can the identity this host would
use pull from the registry? Lines go to stderr in az's form
(``[<time>] Validating image pull permission: SUCCEEDED``); a failed step adds its cause and fix
(:mod:`berth.troubleshoot.host_identity`) and the command exits 1.

The identity is, in this order: ``--username``/``--password`` (a token or service principal),
``--pull-secret FILE`` (a Kubernetes imagePullSecret or a ``.dockerconfigjson``), the host's
managed identity (``IDENTITY_ENDPOINT``/``IDENTITY_HEADER``), its federated token
(``AZURE_FEDERATED_TOKEN_FILE``, ``AZURE_CLIENT_ID``, ``AZURE_TENANT_ID``), docker's config.
``--create-pull-secret`` prints, after a passing check with ``--username``/``--password``, the
Kubernetes Secret (``kubernetes.io/dockerconfigjson``) that lets a cluster pull with them.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from berth.cli import context
from berth.cli.acr.access import resolve_target
from berth.cli.acr.common import Password, RegistryName, Username
from berth.cli.framework import CliError, command
from berth.cli.managed_identity import service_from_endpoint
from berth.troubleshoot.host_identity import HostCheck, HostIdentity, Step, detect, dockerconfigjson

DEFAULT_REPOSITORY = "library/hello-world"


def _line(text: str) -> None:
    print(f"[{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}] {text}", file=sys.stderr, flush=True)


def _target(name: str) -> tuple[str, str, str]:
    """(login server, scheme, service URL)."""
    service_from_endpoint()
    authority = os.environ.get("AZURE_AUTHORITY_HOST", "").rstrip("/")
    if not context.current().has_session() and not os.environ.get("BERTH_SERVER") and authority:
        os.environ["BERTH_SERVER"] = authority
    if "." in name or ":" in name:
        server = os.environ.get("BERTH_SERVER", "")
        scheme = server.split("://", 1)[0] if "://" in server else "https"
        return name.lower(), scheme, server or f"{scheme}://{name.lower()}"
    target = resolve_target(name)
    ctx = context.current()
    service = ctx.session.server if ctx.has_session() else os.environ.get("BERTH_SERVER", "")
    return target.login_server, target.endpoint.scheme, service


def _pull_secret_configs(path: Path) -> list[Path]:
    """A pull secret (Secret JSON/.dockerconfigjson) as a docker config file to read."""
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CliError(f"--pull-secret {path}: not readable JSON ({exc})") from None
    data = (document.get("data") or {}).get(".dockerconfigjson") if isinstance(document, dict) else None
    if data:
        document = json.loads(base64.b64decode(data))
    handle, name = tempfile.mkstemp(suffix=".json")
    with os.fdopen(handle, "w") as out:
        json.dump(document, out)
    return [Path(name)]


def _docker_configs() -> list[Path]:
    folder = os.environ.get("DOCKER_CONFIG") or str(Path.home() / ".docker")
    return [Path(folder) / "config.json"]


def _render(step: Step) -> None:
    _line(f"{step.title}: {'SUCCEEDED' if step.ok else f'FAILED ({step.code})'}")
    if not step.ok:
        cause, fix = step.rendered()
        if cause:
            _line(f"Cause: {cause}")
            _line(f"Fix: {fix}")


def check_acr(
    name: RegistryName,
    repository: Annotated[
        str, typer.Option("--repository", help="The repository whose pull permission is checked.")
    ] = DEFAULT_REPOSITORY,
    pull_secret: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--pull-secret", help="A Kubernetes imagePullSecret (JSON) or .dockerconfigjson to check."
        ),
    ] = None,
    username: Username = None,
    password: Password = None,
    create_pull_secret: Annotated[
        bool,
        typer.Option(
            "--create-pull-secret",
            help="After a passing check with --username/--password: print the kubernetes.io/"
            "dockerconfigjson Secret.",
        ),
    ] = False,
    secret_name: Annotated[str, typer.Option("--secret-name", help="The Secret's name.")] = "acr-pull",  # noqa: S107
) -> dict[str, Any] | None:
    """Check that this host's identity can reach the registry, get a token and pull (az aks check-acr)."""
    if bool(username) != bool(password):
        raise CliError("usage error: --username and --password go together.")
    if create_pull_secret and not username:
        raise CliError("usage error: --create-pull-secret needs --username and --password (a token or SP).")
    login_server, scheme, service = _target(name)
    identity: HostIdentity | None
    if username and password:
        auth = base64.b64encode(f"{username}:{password}".encode()).decode()
        identity = HostIdentity("docker credentials", f"user {username}", {}, {"auth": auth})
    else:
        configs = _pull_secret_configs(pull_secret) if pull_secret else _docker_configs()
        identity = detect(os.environ, configs, login_server)
        if pull_secret:
            configs[0].unlink(missing_ok=True)
    check = HostCheck(context.current().http, login_server, scheme, service)
    failed = False
    for step in check.run(identity, repository):
        _render(step)
        failed = failed or not step.ok
    if failed:
        raise CliError(f"This host cannot pull images from {login_server}.")
    print(f"\nYour host can pull images from {login_server}!", file=sys.stderr, flush=True)
    if not create_pull_secret:
        return None
    assert username is not None
    assert password is not None
    config = dockerconfigjson(login_server, username, password)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": secret_name},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(config.encode()).decode()},
    }


def register(acr: typer.Typer) -> None:
    command(acr, "check-acr")(check_acr)

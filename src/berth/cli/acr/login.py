"""``berth acr login``: log docker (or ``$DOCKER_COMMAND``, e.g. podman) in to a registry
exactly as ``az acr login`` does, or print the token with ``--expose-token``.

With a directory identity the password handed to docker is an ACR refresh token and the user
name the null GUID, so docker stores an ``identitytoken`` in its config.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from berth.cli.acr.access import get_credentials
from berth.cli.acr.common import Password, RegistryName, ResourceGroup, Username, registry_name_from
from berth.cli.client.docker import docker_login, find_docker
from berth.cli.client.registry import NULL_GUID
from berth.cli.framework import CliError, command, warn
from berth.cli.managed_identity import identity_login

REFRESH_TOKEN_NOTE = (
    "Note: The token in both the accessToken and refreshToken fields is an ACR Refresh Token, not an ACR "
    "Access Token. This ACR Refresh Token cannot be used directly to authenticate with registry APIs such as "
    "pushing/pulling images and listing repositories/tags. This ACR Refresh Token must be subsequently "
    "exchanged for an ACR Access.Please see https://aka.ms/acr/auth/oauth"
)
MANUAL_LOGIN_TIP = (
    "You can perform manual login using the provided refresh token below, for example: "
    f"'docker login loginServer -u {NULL_GUID} -p refreshToken'"
)
UPPERCASE_WARNING = (
    "Uppercase characters are detected in the registry name. When using its server url in docker commands, "
    "to avoid authentication errors, use all lowercase."
)


def warn_uppercase(registry_name: str, login_server: str) -> None:
    first_label = login_server.split(".")[0]
    if registry_name != first_label and registry_name.lower() == first_label:
        warn(UPPERCASE_WARNING)


def login(
    name: RegistryName,
    username: Username = None,
    password: Password = None,
    expose_token: Annotated[
        bool,
        typer.Option(
            "--expose-token",
            "-t",
            help="Print an access token instead of logging in through the Docker CLI (needs no docker).",
        ),
    ] = False,
    resource_group: ResourceGroup = None,
    identity: Annotated[
        bool,
        typer.Option(
            "--identity", help="Use this host's managed identity (IDENTITY_ENDPOINT, IDENTITY_HEADER)."
        ),
    ] = False,
    client_id: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--client-id", help="With --identity: the client id of the identity to use."),
    ] = None,
) -> dict[str, Any] | None:
    """Log in to a registry: docker gets the null-GUID user and an ACR refresh token.

    Uses $DOCKER_COMMAND when set (e.g. podman). With --username/--password (admin user or a
    token), those are passed to docker unchanged.
    """
    name = registry_name_from(name)
    if identity and (username or password):
        raise CliError("`--identity` cannot be combined with `--username` or `--password`.")
    if expose_token:
        if username or password:
            raise CliError("`--expose-token` cannot be combined with `--username` or `--password`.")
        credentials = (
            identity_login(name, client_id)
            if identity
            else get_credentials(name, only_refresh_token=True, login_context=True)
        )
        warn_uppercase(name, credentials.login_server)
        warn(REFRESH_TOKEN_NOTE)
        warn(MANUAL_LOGIN_TIP)
        return {
            "loginServer": credentials.login_server,
            "username": credentials.username,
            "accessToken": credentials.password,
            "refreshToken": credentials.password,
        }

    tips = (
        f"You may want to use 'berth acr login -n {name} --expose-token' to get an access token, "
        "which does not require Docker to be installed."
    )
    docker = find_docker()
    if docker.error is not None:
        warn(docker.error.line())
        if docker.error.is_fatal or docker.command is None:
            raise CliError(tips)
    assert docker.command is not None
    credentials = (
        identity_login(name, client_id)
        if identity
        else get_credentials(name, username, password, only_refresh_token=True, login_context=True)
    )
    warn_uppercase(name, credentials.login_server)
    docker_login(docker.command, credentials.username, credentials.password, credentials.login_server)
    return None


def register(acr: typer.Typer) -> None:
    command(acr, "login")(login)

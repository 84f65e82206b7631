"""``berth ad sp`` and ``berth ad user``: the directory's service principals and users, as
``az ad`` manages them. Secrets are printed where az prints them: ``create-for-rbac`` and
``credential reset`` (with az's warning); nowhere else."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Optional

import typer

from berth.cli import ad_app, context
from berth.cli.certificates import add_certificate, certificate_message
from berth.cli.framework import CliError, all_words, command, group, warn, words_option
from berth.cli.role import find_definition, resolve_principal

app = group("ad", "Manage the directory's users and service principals.")
sp_app = group("sp", "Manage service principals.")
sp_credential_app = group("credential", "Manage a service principal's password credentials.")
user_app = group("user", "Manage users.")

SPS = "servicePrincipals"
USERS = "users"
CREDENTIALS_WARNING = (
    "The output includes credentials that you must protect. Be sure that you do not include these "
    "credentials in your code or check the credentials into your source control. For more information, see "
    "https://aka.ms/azadsp-cli"
)

SpId = Annotated[str, typer.Option("--id", help="The service principal's app id or object id.")]
UserId = Annotated[str, typer.Option("--id", help="The user's principal name (UPN) or object id.")]
Years = Annotated[float, typer.Option("--years", min=0.01, help="How many years the password is valid.")]
CreateCert = Annotated[
    bool,
    typer.Option(
        "--create-cert",
        help="A new self-signed certificate instead of a password: its key is written to a file here, "
        "only the public certificate goes to berth.",
    ),
]


def _end(years: float) -> str:
    return (datetime.now(UTC) + timedelta(days=365 * years)).isoformat()


def _service_principal(key: str) -> dict[str, Any]:
    found = resolve_principal(key)
    if found.get("principalType") != "ServicePrincipal":
        raise CliError(f"'{key}' is a user, not a service principal.")
    found.pop("principalType", None)
    return found


def _by_display_name(items: list[dict[str, Any]], prefix: str | None) -> list[dict[str, Any]]:
    """The items whose display name starts with ``prefix`` (any case); all when it is empty."""
    if not prefix:
        return items
    return [i for i in items if str(i.get("displayName", "")).lower().startswith(prefix.lower())]


def _new_password(
    sp: dict[str, Any], years: float, append: bool, end_date: str | None, display_name: str = "rbac"
) -> str:
    management = context.current().management
    previous = [str(c.get("keyId")) for c in sp.get("passwordCredentials") or []]
    created = management.add_password(str(sp["id"]), display_name, end_date or _end(years))
    if not append:
        for key_id in previous:
            management.remove_password(str(sp["id"]), key_id)
    return str(created["secretText"])


def create_for_rbac(
    name: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--name", "--display-name", "-n", help="Display name of the service principal."),
    ] = None,
    role: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--role", help="Role of the service principal, e.g. AcrPull or AcrPush."),
    ] = None,
    scopes: Annotated[
        Optional[list[str]],  # noqa: UP045
        words_option(
            "--scopes", metavar="SCOPE...", help="Space-separated scopes the role assignments apply to."
        ),
    ] = None,
    years: Years = 1,
    create_cert: CreateCert = False,
) -> dict[str, Any]:
    """Create a service principal (or reset an existing one's password) and assign it a role.

    The password is shown once, here; with --create-cert, the certificate's key file is named instead.
    """
    scope_list = all_words(scopes)
    if bool(role) != bool(scope_list):
        raise CliError("usage error: To create role assignments, specify both --role and --scopes.")
    display_name = name or datetime.now(UTC).strftime("berth-cli-%Y-%m-%d-%H-%M-%S")
    ctx = context.current()
    management = ctx.management
    definitions = {scope: find_definition(role, scope) for scope in scope_list} if role else {}
    existing = [sp for sp in management.graph_list(SPS) if sp.get("displayName") == display_name]
    if existing:
        sp = existing[0]
        warn(f"Found an existing application instance: (id) {sp.get('id')}. We will patch it.")
    else:
        sp = management.graph_create(SPS, {"displayName": display_name})
    secret = _new_secret(sp, years, create_cert)
    for scope, definition in definitions.items():
        warn(f"Creating '{role}' role assignment under scope '{scope}'")
        management.create_role_assignment(scope, str(uuid.uuid4()), str(definition["id"]), str(sp["id"]))
    warn(CREDENTIALS_WARNING)
    return {"appId": sp.get("appId"), "displayName": display_name, **secret, "tenant": ctx.session.tenant_id}


def _new_secret(sp: dict[str, Any], years: float, create_cert: bool, append: bool = False) -> dict[str, Any]:
    """A new password, or with ``create_cert`` a certificate whose key file is named (az's output)."""
    if not create_cert:
        return {"password": _new_password(sp, years, append, end_date=None)}
    path = add_certificate(sp, years, append)
    if not append:
        for credential in sp.get("passwordCredentials") or []:
            context.current().management.remove_password(str(sp["id"]), str(credential.get("keyId")))
    warn(certificate_message(path))
    return {"fileWithCertAndPrivateKey": str(path), "password": None}


def credential_reset(
    sp_id: SpId,
    years: Years = 1,
    append: Annotated[bool, typer.Option("--append", help="Keep the existing passwords.")] = False,
    end_date: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--end-date", help="When the password expires (ISO 8601), instead of --years."),
    ] = None,
    display_name: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--display-name", help="A name for the password."),
    ] = None,
    create_cert: CreateCert = False,
) -> dict[str, Any]:
    """Reset a service principal's password (others removed unless --append); shown once, here.

    With --create-cert: a new certificate in place of the credentials (its key file is named).
    """
    sp = _service_principal(sp_id)
    tenant = context.current().session.tenant_id
    if create_cert:
        secret = _new_secret(sp, years, True, append)
        warn(CREDENTIALS_WARNING)
        return {"appId": sp.get("appId"), **secret, "tenant": tenant}
    password = _new_password(sp, years, append, end_date, display_name or "rbac")
    warn(CREDENTIALS_WARNING)
    return {"appId": sp.get("appId"), "password": password, "tenant": tenant}


def credential_list(
    sp_id: SpId,
    cert: Annotated[bool, typer.Option("--cert", help="List certificate credentials instead.")] = False,
) -> list[dict[str, Any]]:
    """List a service principal's password (or, with --cert, certificate) credentials, never secrets."""
    sp = _service_principal(sp_id)
    if cert:
        answer = context.current().management.graph("GET", f"/servicePrincipals/{sp['id']}/keyCredentials")
        return list((answer or {}).get("value", []))
    return list(sp.get("passwordCredentials") or [])


def sp_list(
    display_name: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--display-name", help="A display name, or its prefix."),
    ] = None,
    all_principals: Annotated[bool, typer.Option("--all", help="List all (the default in berth).")] = False,
) -> list[dict[str, Any]]:
    """List service principals."""
    return _by_display_name(context.current().management.graph_list(SPS), display_name)


def sp_show(sp_id: SpId) -> dict[str, Any]:
    """Show a service principal."""
    return _service_principal(sp_id)


def sp_delete(sp_id: SpId) -> None:
    """Delete a service principal (its role assignments stop applying)."""
    sp = _service_principal(sp_id)
    context.current().management.graph_delete(SPS, str(sp["id"]))


def _account_enabled(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise CliError(f"'{text}' is not true or false.")
    return lowered == "true"


def sp_update(
    sp_id: SpId,
    assignments: Annotated[
        list[str],
        typer.Option("--set", metavar="accountEnabled=true|false", help="Property to set, as az writes it."),
    ],
) -> dict[str, Any]:
    """Enable or disable a service principal (a disabled one cannot sign in; its tokens stop working)."""
    sp = _service_principal(sp_id)
    body: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or key.strip() != "accountEnabled":
            raise CliError(f"--set {assignment!r}: only accountEnabled=true|false can be set.")
        body["accountEnabled"] = _account_enabled(value)
    return context.current().management.graph_update(SPS, str(sp["id"]), body)


def user_update(
    user_id: UserId,
    account_enabled: Annotated[
        str, typer.Option("--account-enabled", metavar="true|false", help="Enable or disable the user.")
    ],
) -> dict[str, Any]:
    """Enable or disable a user (a disabled user cannot sign in; their tokens stop working)."""
    body = {"accountEnabled": _account_enabled(account_enabled)}
    return context.current().management.graph_update(USERS, user_id, body)


def user_create(
    display_name: Annotated[str, typer.Option("--display-name", help="The user's display name.")],
    password: Annotated[str, typer.Option("--password", help="The user's password (8 characters or more).")],
    user_principal_name: Annotated[
        str, typer.Option("--user-principal-name", help="The user principal name, e.g. jane@localhost.")
    ],
    force_change_password_next_sign_in: Annotated[
        bool,
        typer.Option("--force-change-password-next-sign-in", help="Accepted for az compatibility; ignored."),
    ] = False,
) -> dict[str, Any]:
    """Create a user who signs in with a password (berth login -u)."""
    body = {
        "userPrincipalName": user_principal_name,
        "displayName": display_name,
        "passwordProfile": {"password": password},
        "accountEnabled": True,
    }
    return context.current().management.graph_create(USERS, body)


def user_list(
    upn: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--upn", help="The user principal name."),
    ] = None,
    display_name: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--display-name", help="A display name, or its prefix."),
    ] = None,
) -> list[dict[str, Any]]:
    """List users."""
    found = context.current().management.graph_list(USERS)
    if upn:
        found = [u for u in found if str(u.get("userPrincipalName", "")).lower() == upn.lower()]
    return _by_display_name(found, display_name)


def user_show(user_id: UserId) -> dict[str, Any]:
    """Show a user."""
    return context.current().management.graph_get(USERS, user_id)


def user_delete(user_id: UserId) -> None:
    """Delete a user."""
    context.current().management.graph_delete(USERS, user_id)


def register(root: typer.Typer) -> None:
    command(sp_app, "create-for-rbac")(create_for_rbac)
    command(sp_app, "list")(sp_list)
    command(sp_app, "show")(sp_show)
    command(sp_app, "update")(sp_update)
    command(sp_app, "delete")(sp_delete)
    command(sp_credential_app, "reset")(credential_reset)
    command(sp_credential_app, "list")(credential_list)
    command(user_app, "create")(user_create)
    command(user_app, "list")(user_list)
    command(user_app, "show")(user_show)
    command(user_app, "update")(user_update)
    command(user_app, "delete")(user_delete)
    sp_app.add_typer(sp_credential_app, name="credential")
    app.add_typer(sp_app, name="sp")
    app.add_typer(user_app, name="user")
    ad_app.register(app)
    root.add_typer(app, name="ad")

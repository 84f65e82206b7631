"""The root command group; each sub-group lives in its own module."""

from __future__ import annotations

import typer

from berth.cli import account, acr, ad, admin, identity, role, serve, tls

app = typer.Typer(
    name="berth",
    help="A self-hosted container registry with Azure Container Registry's access model.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve_command)
app.add_typer(tls.app, name="tls")
app.add_typer(admin.app, name="admin")
account.register(app)
app.add_typer(acr.app, name="acr")
role.register(app)
ad.register(app)
identity.register(app)


@app.callback()
def _root() -> None:
    """A self-hosted container registry with Azure Container Registry's access model."""

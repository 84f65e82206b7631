"""The CLI's client layer: session, HTTP, directory sign-in, management API, registry token flow
and docker. Nothing here defines commands or prints results (see ``berth.cli.acr`` and friends)."""

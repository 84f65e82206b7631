"""The ``berth`` command line: ``serve`` plus commands that mirror ``az``."""

from __future__ import annotations

from berth.cli.root import app


def main() -> None:
    app()


__all__ = ["app", "main"]

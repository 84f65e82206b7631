"""The ``berth`` command line: ``serve`` plus commands that mirror ``az``.

:func:`run` parses and runs one command line and returns the exit status; every failure is
printed as one line on stderr, ``ERROR: <message>`` (usage errors exit 2, a missing resource
3, anything else 1).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from typing import Any

import httpx
import typer
from typer.exceptions import Abort, TyperException

from berth.cli import context
from berth.cli.framework import CliError
from berth.cli.root import app


def _error(message: str) -> None:
    print(f"ERROR: {' '.join(message.split())}", file=sys.stderr, flush=True)


@functools.cache
def _command() -> Any:
    return typer.main.get_command(app)


def run(argv: Sequence[str] | None = None) -> int:
    command = _command()
    try:
        result = command.main(
            args=list(argv) if argv is not None else None, prog_name="berth", standalone_mode=False
        )
    except TyperException as exc:
        ctx = getattr(exc, "ctx", None)
        where = f" See '{ctx.command_path} --help'." if ctx is not None else ""
        _error(f"{exc.format_message()}{where}")
        return exc.exit_code
    except Abort:
        _error("Operation cancelled.")
        return 130
    except CliError as exc:
        _error(exc.message)
        return exc.exit_code
    except httpx.HTTPError as exc:
        _error(f"{type(exc).__name__}: {exc}")
        return 1
    finally:
        context.use(None)
    return result if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run())


__all__ = ["app", "main", "run"]

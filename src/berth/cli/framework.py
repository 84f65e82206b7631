"""How berth's az-style commands are declared, parsed and answered.

A command function returns its result (a dict, a list, or ``None`` for no output); the
:func:`command` decorator adds az's global arguments (``--output/-o``, ``--query``,
``--only-show-errors``, ``--debug``, ``--verbose``) and prints the result in the requested
format. Failures are :class:`CliError`; :func:`berth.cli.run` prints them as one line,
``ERROR: <message>``, and exits non-zero (3 for a missing resource, like az).

Two az argument styles click lacks are provided by :class:`AzCommand`:

- :func:`words_option` options take several values (``--repository REPO ACTION ACTION``),
  repeatably; each occurrence reaches the command as one space-joined string (see :func:`words`).
- :func:`three_state` options (``--admin-enabled``) take ``true``/``false`` or stand alone
  (meaning ``true``).
"""

from __future__ import annotations

import functools
import getpass
import inspect
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Optional, TypeVar

import typer
from typer.core import TyperCommand

from berth.cli.output import OutputFormat, QueryError, TableTransformer, compile_query, render

GLOBAL_PANEL = "Global Arguments"
F = TypeVar("F", bound=Callable[..., Any])


class CliError(Exception):
    """A failure the user sees as ``ERROR: <message>``; ``exit_code`` 1, or 3 when not found."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


@dataclass
class Verbosity:
    only_errors: bool = False
    verbose: bool = False
    debug: bool = False


verbosity = Verbosity()


def warn(message: str) -> None:
    """az's ``logger.warning``: ``WARNING: <message>`` on stderr, unless ``--only-show-errors``."""
    if not verbosity.only_errors:
        print(f"WARNING: {message}", file=sys.stderr, flush=True)


def info(message: str) -> None:
    if verbosity.verbose or verbosity.debug:
        print(f"INFO: {message}", file=sys.stderr, flush=True)


def debug(message: str) -> None:
    if verbosity.debug:
        print(f"DEBUG: {message}", file=sys.stderr, flush=True)


# --- prompts --------------------------------------------------------------------------------

NON_INTERACTIVE_CREDENTIALS = "Please specify both username and password in non-interactive mode."


def interactive() -> bool:
    return sys.stdin.isatty()


def prompt_text(message: str, no_tty_error: str) -> str:
    if not interactive():
        raise CliError(no_tty_error)
    return input(message)


def prompt_secret(message: str, no_tty_error: str) -> str:
    if not interactive():
        raise CliError(no_tty_error)
    return getpass.getpass(message)


def confirm(message: str, yes: bool) -> None:
    """az's ``user_confirmation``: continue on ``--yes`` or a ``y`` answer, otherwise stop."""
    if yes:
        return
    if not interactive():
        raise CliError("Unable to prompt for confirmation as no tty available. Use --yes.")
    answer = input(f"{message} (y/n): ").strip().lower()
    if answer not in ("y", "yes"):
        raise CliError("Operation cancelled.")


# --- argument types -------------------------------------------------------------------------

_TRUE = ("true", "yes", "y", "1", "on", "enabled")
_FALSE = ("false", "no", "n", "0", "off", "disabled")


def parse_bool(value: Any) -> bool:
    """``true``/``false`` (and yes/no, 1/0, on/off, enabled/disabled), as az accepts them."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise typer.BadParameter(f"'{value}' is not one of: true, false")


_STYLE = "berth_style"
_THREE_STATE = "three_state"
_WORDS = "words"


def three_state(help: str) -> Any:
    """``--flag``, ``--flag true`` or ``--flag false``; ``None`` when absent."""
    option = typer.Option(metavar="true|false", help=help, show_default=False)
    setattr(option, _STYLE, _THREE_STATE)
    return option


def words_option(*names: str, metavar: str, help: str) -> Any:
    """Several values after one option (argparse's ``nargs='+'``), repeatable; see :func:`words`."""
    option = typer.Option(*names, metavar=metavar, help=help, show_default=False)
    setattr(option, _STYLE, _WORDS)
    return option


def words(values: Sequence[str] | None) -> list[list[str]]:
    """The occurrences of a :func:`words_option`, each split into its values."""
    return [value.split() for value in values or () if value.split()]


def all_words(values: Sequence[str] | None) -> list[str]:
    """Every value of every occurrence of a :func:`words_option`, in order."""
    return [word for occurrence in words(values) for word in occurrence]


def _looks_like_option(arg: str) -> bool:
    if not arg.startswith("-") or arg == "-":
        return False
    try:
        float(arg)
    except ValueError:
        return True
    return False


def expand_az_arguments(args: Sequence[str], words_opts: set[str], three_state_opts: set[str]) -> list[str]:
    """Rewrite az-style arguments into what click parses: see the module docstring."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            out.extend(args[i:])
            break
        if arg in words_opts:
            j = i + 1
            while j < len(args) and not _looks_like_option(args[j]):
                j += 1
            out.append(arg)
            if j > i + 1:
                out.append(" ".join(args[i + 1 : j]))
            i = j
            continue
        if arg in three_state_opts:
            out.append(arg)
            if i + 1 >= len(args) or _looks_like_option(args[i + 1]) or args[i + 1] == "--":
                out.append("true")
            i += 1
            continue
        out.append(arg)
        i += 1
    return out


class AzCommand(TyperCommand):
    """A typer command that first rewrites az-style arguments (see the module docstring)."""

    words_opts: frozenset[str] = frozenset()
    three_state_opts: frozenset[str] = frozenset()

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        expanded = expand_az_arguments(args, set(self.words_opts), set(self.three_state_opts))
        return list(super().parse_args(ctx, expanded))


def _style(parameter: inspect.Parameter) -> tuple[str | None, Any]:
    for option in getattr(parameter.annotation, "__metadata__", ()):
        style = getattr(option, _STYLE, None)
        if style is not None:
            return style, option
    return None, None


def _styled_options(signature: inspect.Signature) -> dict[str, set[str]]:
    """Option names of the :func:`three_state` and :func:`words_option` parameters."""
    found: dict[str, set[str]] = {_WORDS: set(), _THREE_STATE: set()}
    for parameter in signature.parameters.values():
        style, option = _style(parameter)
        if style is not None:
            names = [d for d in (option.default, *(option.param_decls or ())) if isinstance(d, str)]
            names = [n for name in names for n in name.split("/") if n.startswith("-")]
            found[style].update(names or [f"--{parameter.name.replace('_', '-')}"])
    return found


def _for_typer(parameter: inspect.Parameter) -> inspect.Parameter:
    """A :func:`three_state` parameter reaches typer as a string option (converted later)."""
    style, option = _style(parameter)
    if style != _THREE_STATE:
        return parameter
    return parameter.replace(annotation=Annotated[Optional[str], option])  # noqa: UP045


# --- the command decorator ------------------------------------------------------------------

_GLOBALS: dict[str, tuple[Any, Any]] = {
    "global_output": (
        Annotated[
            OutputFormat,
            typer.Option(
                "--output",
                "-o",
                envvar="BERTH_OUTPUT",
                help="Output format.",
                rich_help_panel=GLOBAL_PANEL,
                show_envvar=False,
            ),
        ],
        OutputFormat.json,
    ),
    "global_query": (
        Annotated[
            Optional[str],  # noqa: UP045 - typer needs Optional at runtime here
            typer.Option(
                "--query",
                help="JMESPath query string. See http://jmespath.org/ for more information and examples.",
                rich_help_panel=GLOBAL_PANEL,
            ),
        ],
        None,
    ),
    "global_only_show_errors": (
        Annotated[
            bool,
            typer.Option(
                "--only-show-errors",
                help="Only show errors, suppressing warnings.",
                rich_help_panel=GLOBAL_PANEL,
            ),
        ],
        False,
    ),
    "global_verbose": (
        Annotated[
            bool,
            typer.Option("--verbose", help="Increase logging verbosity.", rich_help_panel=GLOBAL_PANEL),
        ],
        False,
    ),
    "global_debug": (
        Annotated[
            bool,
            typer.Option(
                "--debug",
                help="Increase logging verbosity to show all debug logs (HTTP requests, no secrets).",
                rich_help_panel=GLOBAL_PANEL,
            ),
        ],
        False,
    ),
}


def _three_state_value(name: str, value: str) -> bool:
    try:
        return parse_bool(value)
    except typer.BadParameter:
        option = "--" + name.replace("_", "-")
        raise CliError(
            f"argument {option}: invalid value '{value}' (use true or false)", exit_code=2
        ) from None


def emit(result: Any, output: OutputFormat, query: str | None, table: TableTransformer | None) -> None:
    text = render(result, output, query, table, colour=sys.stdout.isatty())
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()


def command(
    app: typer.Typer, name: str, *, table: TableTransformer | None = None, **kwargs: Any
) -> Callable[[F], F]:
    """Register ``func`` as ``name`` on ``app`` with az's global arguments and output."""

    def decorate(func: F) -> F:
        signature = inspect.signature(func, eval_str=True)

        @functools.wraps(func)
        def wrapper(**arguments: Any) -> None:
            output = arguments.pop("global_output")
            query = arguments.pop("global_query")
            verbosity.only_errors = arguments.pop("global_only_show_errors")
            verbosity.verbose = arguments.pop("global_verbose")
            verbosity.debug = arguments.pop("global_debug")
            for key in three_state_names:
                if arguments.get(key) is not None:
                    arguments[key] = _three_state_value(key, arguments[key])
            if query:
                try:
                    compile_query(query)
                except QueryError as exc:
                    raise CliError(str(exc), exit_code=2) from None
            result = func(**arguments)
            try:
                emit(result, output, query, table)
            except QueryError as exc:
                raise CliError(str(exc)) from None

        extra = [
            inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
            for key, (annotation, default) in _GLOBALS.items()
        ]
        three_state_names = [p.name for p in signature.parameters.values() if _style(p)[0] == _THREE_STATE]
        parameters = [
            _for_typer(p).replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in signature.parameters.values()
        ] + extra
        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=parameters, return_annotation=None
        )
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        del wrapper.__wrapped__
        styled = _styled_options(signature)
        cls = type(
            "AzCommand",
            (AzCommand,),
            {"words_opts": frozenset(styled[_WORDS]), "three_state_opts": frozenset(styled[_THREE_STATE])},
        )
        app.command(name, cls=cls, **kwargs)(wrapper)
        return func

    return decorate


def group(name: str, help: str) -> typer.Typer:
    """A command group (``berth acr``, ``berth acr token``): no arguments shows its help."""
    return typer.Typer(name=name, help=help, no_args_is_help=True)

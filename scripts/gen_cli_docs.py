#!/usr/bin/env python3
"""Write the command reference of docs/cli.md from berth's command tree.

    python scripts/gen_cli_docs.py          # rewrite the reference between the markers
    python scripts/gen_cli_docs.py --check  # exit 1 if the committed file is not current

Only the az-style commands (login, logout, account, acr, role, ad) are documented here;
``serve``, ``tls`` and ``admin`` have their own pages. tests/unit/cli/test_docs.py runs the
check, so a changed option or help text fails the tests until this script is re-run.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from berth.cli.framework import GLOBAL_PANEL
from berth.cli.root import app

DOC = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
BEGIN = "<!-- BEGIN GENERATED REFERENCE: scripts/gen_cli_docs.py -->"
END = "<!-- END GENERATED REFERENCE -->"
DOCUMENTED = ("login", "logout", "account", "acr", "role", "ad")


def _walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, child in getattr(command, "commands", {}).items():
        yield from _walk(child, (*path, name))


def _text(text: str) -> str:
    """Help text as markdown prose: one line, with ``<`` and ``>`` shown as written."""
    return " ".join(text.split()).replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    return _text(text).replace("|", "\\|")


def _options(command: Any, context: Any) -> tuple[list[str], bool]:
    rows: list[str] = []
    has_globals = False
    for param in command.params:
        if getattr(param, "hidden", False) or param.name == "help":
            continue
        if getattr(param, "rich_help_panel", None) == GLOBAL_PANEL:
            has_globals = True
            continue
        record = param.get_help_record(context)
        if record is None:
            continue
        names, help_text = record
        rows.append(f"| `{names}` | {_cell(help_text)} |")
    return rows, has_globals


def _paragraphs(text: str | None) -> list[str]:
    return [_text(p) for p in (text or "").strip().split("\n\n") if p.strip()]


def _first_line(text: str | None) -> str:
    return next(iter(_paragraphs(text)), "")


def reference() -> str:
    root = typer.main.get_command(app)
    lines: list[str] = []
    entries = [
        (path, command)
        for name in DOCUMENTED
        for path, command in _walk(root.commands[name], ("berth", name))  # type: ignore[attr-defined]
    ]
    lines.append("| Command | What it does |")
    lines.append("|---|---|")
    for path, command in entries:
        if not hasattr(command, "commands"):
            anchor = "-".join(path)
            summary = _first_line(command.help).replace("|", "\\|")
            lines.append(f"| [`{' '.join(path)}`](#{anchor}) | {summary} |")
    global_rows: list[str] = []
    for path, command in entries:
        title = " ".join(path)
        if hasattr(command, "commands"):
            lines += ["", f"### {title}", "", _first_line(command.help)]
            continue
        context = command.make_context(title, [], resilient_parsing=True)
        rows, has_globals = _options(command, context)
        lines += ["", f"#### {title}", ""]
        for paragraph in _paragraphs(command.help):
            lines += [paragraph, ""]
        lines.pop()
        if rows:
            lines += ["", "| Option | Description |", "|---|---|", *rows]
        if has_globals:
            lines += ["", "Global arguments: see [Global arguments](#global-arguments)."]
            if not global_rows:
                for param in command.params:
                    if getattr(param, "rich_help_panel", None) == GLOBAL_PANEL:
                        names, help_text = param.get_help_record(context)
                        global_rows.append(f"| `{names}` | {_cell(help_text)} |")
    lines += ["", "### Global arguments", "", "Every `acr`, `role`, `ad`, `account`, `login` and `logout`"]
    lines += ["command accepts these, as az commands do.", "", "| Option | Description |", "|---|---|"]
    lines += global_rows
    return "\n".join(lines) + "\n"


def render_document(current: str) -> str:
    if BEGIN not in current or END not in current:
        raise SystemExit(f"{DOC}: the markers {BEGIN!r} and {END!r} are missing")
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{reference()}{END}{tail}"


def main(argv: list[str]) -> int:
    current = DOC.read_text()
    wanted = render_document(current)
    if "--check" in argv:
        if wanted != current:
            print(f"{DOC} is out of date: run python scripts/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        DOC.write_text(wanted)
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

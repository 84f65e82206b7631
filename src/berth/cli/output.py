"""A command's result rendered as az renders it: ``--query`` first, then ``-o/--output``.

- ``json`` (default): indented, keys sorted, like az.
- ``jsonc``: the same, coloured (plain when stdout is not a terminal, as az does).
- ``table``: the command's own columns (az's table transformers) unless ``--query`` is active,
  else one column per key; either way only scalar, non-null values (``id``, ``type``, ``etag``
  skipped), generic headers with the first letter capitalised.
- ``tsv``: one line per item, values tab-separated in key order (sorted unless ``--query`` chose
  the order), nested lists rendered as their length and nested objects as an empty field;
  ``null`` is ``None`` and booleans inside a row ``True``/``False``, exactly as az prints them.
- ``none``: nothing.

Rendering is pure: :func:`render` returns the text (or ``None`` for no output).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

import jmespath
import jmespath.exceptions
import jmespath.parser

TableTransformer = Callable[[Any], Any]


class OutputFormat(StrEnum):
    json = "json"
    jsonc = "jsonc"
    table = "table"
    tsv = "tsv"
    none = "none"


class QueryError(ValueError):
    """The ``--query`` text is not a JMESPath expression."""


def compile_query(text: str) -> jmespath.parser.ParsedResult:
    try:
        return jmespath.compile(text)
    except jmespath.exceptions.JMESPathError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise QueryError(f"argument --query: invalid jmespath_type value: '{text}' ({detail})") from None


def apply_query(value: Any, query: str | None) -> Any:
    if not query:
        return value
    try:
        return compile_query(query).search(value)
    except jmespath.exceptions.JMESPathError as exc:
        raise QueryError(f"argument --query: the query '{query}' failed: {exc}") from None


def render(
    value: Any,
    output: OutputFormat | str = OutputFormat.json,
    query: str | None = None,
    table: TableTransformer | None = None,
    colour: bool = True,
) -> str | None:
    """The text to print (``None``: nothing). ``colour`` is off when stdout is not a terminal."""
    fmt = OutputFormat(output)
    if fmt is OutputFormat.none:
        return None
    value = apply_query(value, query)
    if value is None:
        return None
    if fmt is OutputFormat.json:
        return to_json(value)
    if fmt is OutputFormat.jsonc:
        return colorize_json(to_json(value)) if colour else to_json(value)
    if fmt is OutputFormat.tsv:
        return to_tsv(value, sort_keys=not query)
    if table is not None and not query:
        return to_table(table(value), sort_keys=False)  # the command's own columns, in its order
    return to_table(value, sort_keys=not query)


# --- json -----------------------------------------------------------------------------------


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


_JSON_TOKEN = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*"(?=\s*:))|(?P<string>"(?:[^"\\]|\\.)*")'
    r"|(?P<literal>\btrue\b|\bfalse\b|\bnull\b)|(?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
)
_COLOURS = {"key": "\x1b[94m", "string": "\x1b[32m", "literal": "\x1b[95m", "number": "\x1b[93m"}
_RESET = "\x1b[0m"


def colorize_json(text: str) -> str:
    def paint(match: re.Match[str]) -> str:
        kind = match.lastgroup or "string"
        return f"{_COLOURS[kind]}{match.group(0)}{_RESET}"

    return _JSON_TOKEN.sub(paint, text)


# --- tsv ------------------------------------------------------------------------------------


def _tsv_field(value: Any) -> str:
    if isinstance(value, list):
        return str(len(value))
    if isinstance(value, dict):
        return ""
    return value if isinstance(value, str) else str(value)


def _tsv_row(item: Any, sort_keys: bool) -> str:
    if isinstance(item, dict):
        values = [v for _, v in sorted(item.items())] if sort_keys else list(item.values())
        return "\t".join(_tsv_field(v) for v in values)
    if isinstance(item, list):
        return "\t".join(_tsv_field(v) for v in item)
    if isinstance(item, bool):
        return str(item).lower()
    return _tsv_field(item)


def to_tsv(value: Any, sort_keys: bool = True) -> str:
    """knack's ``_TsvOutput``; a query's objects keep the query's key order."""
    items = value if isinstance(value, list) else [value]
    return "".join(_tsv_row(item, sort_keys) + "\n" for item in items)


# --- table ----------------------------------------------------------------------------------

_SKIP_KEYS = ("id", "type", "etag")


def _capitalize(key: str) -> str:
    return key[:1].upper() + key[1:]


def _table_row(item: Any, sort_keys: bool) -> dict[str, Any]:
    """knack's ``_auto_table_item``: scalar values only (also for a command's own columns)."""
    if isinstance(item, Mapping):
        keys = sorted(item) if sort_keys else list(item)
        return {
            _capitalize(str(k)): item[k]
            for k in keys
            if k not in _SKIP_KEYS and item[k] is not None and not isinstance(item[k], (list, dict, set))
        }
    if isinstance(item, list):
        return {f"Column{i + 1}": v for i, v in enumerate(item)}
    return {"Result": item}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def to_table(value: Any, sort_keys: bool = True, generic: bool = True) -> str:
    """az's table. ``generic=False`` prints rows exactly as given (every key, empty cells too),
    for callers that choose their columns themselves."""
    items = value if isinstance(value, list) else [value]
    if generic:
        rows = [_table_row(item, sort_keys) for item in items]
    else:
        rows = [{str(k): v for k, v in item.items()} for item in items]
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    if not columns:
        return ""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(columns)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in cells]
    return "\n".join(lines) + "\n"

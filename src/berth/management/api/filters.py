"""The small part of OData's ``$filter`` that ARM and Graph clients send.

Clauses joined by ``and``: ``<field> eq '<value>'``, ``startswith(<field>, '<value>')``,
``<field>/any(c:c eq '<value>')`` (a collection holding the value; berth's have one item),
``atScope()`` and ``assignedTo('<id>')``. Anything else is a ``400 InvalidParameter`` naming
``$filter``. Field names are matched case-insensitively; values keep their case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from berth.management.errors import invalid

_VALUE = r"'(?P<{name}>(?:[^']|'')*)'"
_CLAUSE = re.compile(
    r"\s*(?:"
    r"(?P<at_scope>atScope)\(\s*\)"
    r"|assignedTo\(\s*" + _VALUE.format(name="assigned") + r"\s*\)"
    r"|startswith\(\s*(?P<prefix_field>\w+)\s*,\s*" + _VALUE.format(name="prefix") + r"\s*\)"
    r"|(?P<any_field>\w+)/any\(\s*(?P<var>\w+)\s*:\s*(?P=var)\s+eq\s+"
    + _VALUE.format(name="member")
    + r"\s*\)"
    r"|(?P<field>\w+)\s+eq\s+" + _VALUE.format(name="value") + r")\s*",
    re.IGNORECASE,
)
_AND = re.compile(r"and\b", re.IGNORECASE)


@dataclass
class Filter:
    at_scope: bool = False
    assigned_to: str | None = None
    equals: dict[str, str] = field(default_factory=dict)  # lower-cased field name → value
    prefixes: dict[str, str] = field(default_factory=dict)

    def matches(self, values: dict[str, str | None]) -> bool:
        """Whether an object with these (lower-cased) field values passes the eq/startswith clauses."""
        for name, wanted in self.equals.items():
            if (values.get(name) or "").lower() != wanted.lower():
                return False
        for name, prefix in self.prefixes.items():
            if not (values.get(name) or "").lower().startswith(prefix.lower()):
                return False
        return True


def _unquote(value: str) -> str:
    return value.replace("''", "'")


def parse_filter(text: str | None, fields: tuple[str, ...], *, functions: bool = False) -> Filter:
    """Parse ``text``; ``fields`` are those eq/startswith may name, ``functions`` allows
    ``atScope()`` and ``assignedTo()``."""
    parsed = Filter()
    if text is None or not text.strip():
        return parsed
    allowed = {name.lower() for name in fields}
    position = 0
    while True:
        found = _CLAUSE.match(text, position)
        if found is None:
            raise invalid(
                f"$filter '{text}' is not supported here; use "
                + " and ".join(f"{name} eq '<value>'" for name in fields)
                + (", atScope() or assignedTo('<id>')" if functions else ""),
                "$filter",
            )
        if found["at_scope"] or found["assigned"] is not None:
            if not functions:
                raise invalid(
                    f"$filter: atScope() and assignedTo() are not supported here: '{text}'", "$filter"
                )
            if found["at_scope"]:
                parsed.at_scope = True
            else:
                parsed.assigned_to = _unquote(found["assigned"])
        else:
            name = (found["field"] or found["prefix_field"] or found["any_field"]).lower()
            if name not in allowed:
                raise invalid(
                    f"$filter: '{name}' cannot be filtered on here (use {', '.join(fields)}).", "$filter"
                )
            if found["field"]:
                parsed.equals[name] = _unquote(found["value"])
            elif found["any_field"]:
                parsed.equals[name] = _unquote(found["member"])
            else:
                parsed.prefixes[name] = _unquote(found["prefix"])
        position = found.end()
        if position == len(text):
            return parsed
        conjunction = _AND.match(text, position)
        if conjunction is None:
            raise invalid(f"$filter '{text}': join clauses with 'and'.", "$filter")
        position = conjunction.end()

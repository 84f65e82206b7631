from __future__ import annotations

import json

import pytest

from berth.cli.output import OutputFormat, QueryError, apply_query, colorize_json, render, to_table, to_tsv

REGISTRY = {
    "name": "myregistry",
    "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/myregistry",
    "type": "Microsoft.ContainerRegistry/registries",
    "adminUserEnabled": False,
    "loginServer": "myregistry.localhost:5000",
    "sku": {"name": "Premium", "tier": "Premium"},
    "tags": {},
    "networkRuleSet": {"defaultAction": "Allow", "ipRules": [{"action": "Allow", "value": "203.0.113.7"}]},
    "anonymousPullEnabled": None,
}


def test_json_is_indented_with_sorted_keys_like_az() -> None:
    text = render({"b": 1, "a": {"d": True, "c": None}})
    assert text == '{\n  "a": {\n    "c": null,\n    "d": true\n  },\n  "b": 1\n}'


def test_json_keeps_non_ascii_text() -> None:
    assert render("Zürich") == '"Zürich"'


def test_none_output_and_none_result_print_nothing() -> None:
    assert render(REGISTRY, OutputFormat.none) is None
    assert render(None) is None
    assert render(REGISTRY, "json", "missingKey") is None


def test_query_selects_before_formatting() -> None:
    assert render(REGISTRY, "json", "loginServer") == '"myregistry.localhost:5000"'
    assert render(REGISTRY, "tsv", "loginServer") == "myregistry.localhost:5000\n"
    assert render(REGISTRY, "tsv", "networkRuleSet.ipRules[].value") == "203.0.113.7\n"
    projected = json.loads(render([REGISTRY], "json", "[].{n:name, admin:adminUserEnabled}") or "")
    assert projected == [{"n": "myregistry", "admin": False}]


def test_invalid_query_names_the_argument() -> None:
    with pytest.raises(QueryError, match=r"argument --query: invalid jmespath_type value: '\[\.'"):
        apply_query({}, "[.")


def test_tsv_follows_az_rules() -> None:
    row = {"b": "x", "a": True, "list": [1, 2, 3], "nested": {"k": "v"}, "none": None, "n": 5}
    # Sorted keys: a, b, list, n, nested, none; lists as their length, objects empty, as knack does.
    assert to_tsv(row) == "True\tx\t3\t5\t\tNone\n"
    assert to_tsv(True) == "true\n"
    assert render({"b": 1, "a": 2}, "tsv", "{b: b, a: a}") == "1\t2\n"  # the query's order
    assert to_tsv([{"a": 1}, {"a": 2}]) == "1\n2\n"
    assert to_tsv(["x", "y"]) == "x\ny\n"
    assert to_tsv([["a", 1], ["b", 2]]) == "a\t1\nb\t2\n"


def test_generic_table_skips_ids_nested_values_and_nulls() -> None:
    text = to_table([REGISTRY])
    header, dashes, row = text.splitlines()
    assert header.split() == ["AdminUserEnabled", "LoginServer", "Name"]
    assert set(dashes.replace(" ", "")) == {"-"}
    assert row.split() == ["False", "myregistry.localhost:5000", "myregistry"]


def test_table_aligns_columns() -> None:
    text = to_table([{"name": "a", "size": 10}, {"name": "longer", "size": 2}])
    assert text.splitlines() == [
        "Name    Size",
        "------  ----",
        "a       10",
        "longer  2",
    ]


def test_query_keeps_its_column_order_and_transformers_theirs() -> None:
    assert (render([REGISTRY], "table", "[].{z: name, a: loginServer}") or "").splitlines()[0].split() == [
        "Z",
        "A",
    ]
    text = render({"u": "x"}, "table", table=lambda v: [{"USERNAME": "x", "PASSWORD": None, "AGE": 3}]) or ""
    assert text.splitlines()[0].split() == ["USERNAME", "AGE"]  # null cells are dropped, as az drops them


def test_table_of_scalars_has_a_result_column() -> None:
    assert to_table(["x", "y"]).splitlines() == ["Result", "------", "x", "y"]


def test_table_transformer_applies_unless_a_query_is_active() -> None:
    def transformer(value: object) -> list[dict[str, object]]:
        return [{"NAME": "from transformer"}]

    assert "from transformer" in (render(REGISTRY, "table", table=transformer) or "")
    queried = render(REGISTRY, "table", "{n: name}", table=transformer) or ""
    assert "from transformer" not in queried
    assert queried.splitlines()[0] == "N"


def test_jsonc_colours_keys_strings_and_literals() -> None:
    coloured = colorize_json('{\n  "key": "value",\n  "n": 1,\n  "ok": true\n}')
    assert '\x1b[94m"key"\x1b[0m' in coloured
    assert '\x1b[32m"value"\x1b[0m' in coloured
    assert "\x1b[93m1\x1b[0m" in coloured
    assert "\x1b[95mtrue\x1b[0m" in coloured
    assert render({"a": 1}, "jsonc") == colorize_json('{\n  "a": 1\n}')
    assert render({"a": 1}, "jsonc", colour=False) == '{\n  "a": 1\n}'


def test_rows_as_given_keep_every_column() -> None:
    text = to_table([{"B": None, "A": 1}], generic=False)
    assert text.splitlines()[0].split() == ["B", "A"]

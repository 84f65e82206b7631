"""Property-based tests for scope-map wildcards and docker scope parsing (berth.access.scopes).

Oracles are written over repository-name *components*, independently of the string tests the
implementation uses, so a prefix bug (``a/*`` matching ``ab/c``) cannot hide in both.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from berth.access.permissions import RegistryPermissions, from_scope_map
from berth.access.scopes import (
    REPOSITORY_ACTIONS,
    SCOPE_MAP_ACTIONS,
    SYSTEM_SCOPE_MAPS,
    InvalidScopeMapAction,
    Scope,
    ScopeMapEntry,
    actions_for_repository,
    check_repository_pattern,
    parse_scope,
    parse_scope_map_action,
    parse_scopes,
    scope_map_action,
)

component = st.from_regex(r"\A[a-z0-9]{1,4}([._-][a-z0-9]{1,3})?\Z")
components = st.lists(component, min_size=1, max_size=4)
repository = components.map("/".join)
docker_action = st.sampled_from(sorted(REPOSITORY_ACTIONS.values()))
map_action = st.sampled_from(SCOPE_MAP_ACTIONS)


@st.composite
def pattern(draw: st.DrawFn) -> tuple[str, list[str] | None]:
    """A valid scope-map repository pattern and its components (None for the root ``*``)."""
    kind = draw(st.sampled_from(["exact", "prefix", "root"]))
    if kind == "root":
        return "*", None
    parts = draw(components)
    return ("/".join(parts), parts) if kind == "exact" else ("/".join(parts) + "/*", parts)


def oracle_matches(text: str, parts: list[str] | None, name_parts: list[str]) -> bool:
    if parts is None:
        return True
    if text.endswith("/*"):
        return len(name_parts) > len(parts) and name_parts[: len(parts)] == parts
    return name_parts == parts


# --- wildcard matching ------------------------------------------------------------------------


@given(pattern(), components)
def test_matching_follows_the_component_oracle(
    pat: tuple[str, list[str] | None], name_parts: list[str]
) -> None:
    text, parts = pat
    assert ScopeMapEntry(text, "pull").matches("/".join(name_parts)) == oracle_matches(
        text, parts, name_parts
    )


@given(components, components)
def test_prefix_wildcard_covers_every_depth_below_but_not_the_prefix_itself(
    prefix: list[str], rest: list[str]
) -> None:
    entry = ScopeMapEntry("/".join(prefix) + "/*", "pull")
    assert entry.matches("/".join(prefix + rest))
    assert not entry.matches("/".join(prefix))


@given(components, component)
def test_prefix_wildcard_does_not_match_a_longer_sibling(prefix: list[str], extra: str) -> None:
    """``team/*`` must not cover ``teamx/app``: the wildcard follows a ``/`` boundary."""
    sibling = [*prefix[:-1], prefix[-1] + extra]
    entry = ScopeMapEntry("/".join(prefix) + "/*", "pull")
    assert not entry.matches("/".join([*sibling, "app"]))


@given(repository)
def test_root_wildcard_matches_everything(name: str) -> None:
    assert ScopeMapEntry("*", "pull").matches(name)


@given(st.lists(st.tuples(pattern(), docker_action), max_size=8), components)
def test_permissions_are_additive_over_every_matching_entry(
    rules: list[tuple[tuple[str, list[str] | None], str]], name_parts: list[str]
) -> None:
    entries = [ScopeMapEntry(text, action) for (text, _), action in rules]
    expected = {action for (text, parts), action in rules if oracle_matches(text, parts, name_parts)}
    name = "/".join(name_parts)

    assert actions_for_repository(entries, name) == expected
    shuffled = entries[:]
    random.Random(len(entries)).shuffle(shuffled)
    assert actions_for_repository(shuffled, name) == expected


@given(
    st.lists(st.tuples(pattern(), docker_action), max_size=6), st.tuples(pattern(), docker_action), repository
)
def test_adding_an_entry_never_takes_an_action_away(
    rules: list[tuple[tuple[str, list[str] | None], str]],
    extra: tuple[tuple[str, list[str] | None], str],
    name: str,
) -> None:
    entries = [ScopeMapEntry(text, action) for (text, _), action in rules]
    more = [*entries, ScopeMapEntry(extra[0][0], extra[1])]
    assert actions_for_repository(entries, name) <= actions_for_repository(more, name)


def test_the_documented_example() -> None:
    """acr-reference.md §5.3: read on sample/*, write on sample/teamA/*, delete on one repo."""
    perms = from_scope_map(
        (
            "repositories/sample/*/content/read",
            "repositories/sample/teamA/*/content/write",
            "repositories/sample/teamA/projectB/content/delete",
        )
    )
    assert perms.actions_for("repository", "sample/teama/projectb") == {"pull", "push", "delete"}
    assert perms.actions_for("repository", "sample/teama/projectc") == {"pull", "push"}
    assert perms.actions_for("repository", "sample/teamb") == {"pull"}
    assert perms.actions_for("repository", "sample") == frozenset()
    assert perms.actions_for("registry", "catalog") == frozenset()


# --- scope-map action syntax --------------------------------------------------------------------


@given(pattern(), map_action)
def test_valid_actions_round_trip(pat: tuple[str, list[str] | None], action: str) -> None:
    text = scope_map_action(pat[0], action)
    assert text == f"repositories/{pat[0]}/{action}"
    assert parse_scope_map_action(text) == ScopeMapEntry(pat[0], REPOSITORY_ACTIONS[action])


@given(components, map_action)
def test_repository_names_are_lower_cased(parts: list[str], action: str) -> None:
    upper = "/".join(parts).upper()
    assert parse_scope_map_action(f"repositories/{upper}/{action}").repository == upper.lower()


@given(components, components, map_action, st.sampled_from(["middle", "glued", "twice", "leading"]))
def test_wildcards_anywhere_but_the_end_are_rejected(
    head: list[str], tail: list[str], action: str, where: str
) -> None:
    bad = {
        "middle": "/".join([*head, "*", *tail]),  # sample/*/teamA
        "glued": "/".join(head) + "*",  # sample/teamA*
        "twice": "/".join([*head, "*", *tail, "*"]),  # sample/*/teamA/*
        "leading": "/".join(["*", *tail]),  # */teamA
    }[where]
    with pytest.raises(InvalidScopeMapAction):
        check_repository_pattern(bad)
    with pytest.raises(InvalidScopeMapAction):
        parse_scope_map_action(f"repositories/{bad}/{action}")


@given(repository, st.text(alphabet="abcdefghijklmnopqrstuvwxyz/", min_size=1, max_size=15))
def test_unknown_actions_are_rejected(name: str, action: str) -> None:
    assume(action not in REPOSITORY_ACTIONS and not any(action.endswith("/" + a) for a in REPOSITORY_ACTIONS))
    with pytest.raises(InvalidScopeMapAction):
        parse_scope_map_action(f"repositories/{name}/{action}")


@pytest.mark.parametrize(
    "text", ["repos/a/content/read", "repositories//content/read", "repositories/content/read"]
)
def test_malformed_actions_are_rejected(text: str) -> None:
    with pytest.raises(InvalidScopeMapAction):
        parse_scope_map_action(text)


def test_system_scope_maps_parse_and_cover_every_repository() -> None:
    expected = {
        "_repositories_admin": {"pull", "push", "delete", "metadata_read", "metadata_write"},
        "_repositories_pull": {"pull"},
        "_repositories_push": {"pull", "push"},
    }
    for name, system in SYSTEM_SCOPE_MAPS.items():
        perms = from_scope_map(system.actions)
        assert perms.actions_for("repository", "any/repo") == expected[name]
        assert perms.actions_for("registry", "catalog") == frozenset()


# --- docker scopes ------------------------------------------------------------------------------

host = st.from_regex(r"\A[a-z]{1,8}(\.[a-z]{1,5})?:[0-9]{2,5}\Z")
scope_name = st.one_of(repository, st.tuples(host, repository).map("/".join))
actions_list = st.lists(
    st.sampled_from(["pull", "push", "delete", "*", "metadata_read"]), min_size=1, max_size=5
)


@given(st.sampled_from(["repository", "registry", "artifact-repository"]), scope_name, actions_list)
def test_scope_round_trips(kind: str, name: str, actions: list[str]) -> None:
    parsed = parse_scope(f"{kind}:{name}:{','.join(actions)}")
    assert parsed == Scope(kind, name, tuple(dict.fromkeys(actions)))
    assert parsed.accesses()[0].name == name


@given(repository, actions_list)
def test_resource_class_is_dropped(name: str, actions: list[str]) -> None:
    """``repository(plugin):name:pull`` is a repository scope (docker's resource class)."""
    parsed = parse_scope(f"repository(plugin):{name}:{','.join(actions)}")
    assert parsed is not None
    assert parsed.type == "repository"


@given(st.lists(st.tuples(scope_name, actions_list), min_size=1, max_size=5))
def test_several_scopes_in_one_value_keep_their_order(items: list[tuple[str, list[str]]]) -> None:
    texts = [f"repository:{name}:{','.join(actions)}" for name, actions in items]
    assert [s.name for s in parse_scopes([" ".join(texts)])] == [name for name, _ in items]
    assert parse_scopes(texts) == parse_scopes([" ".join(texts)])


@given(st.text(alphabet="abc:, ", max_size=12))
def test_parsing_never_crashes_and_never_yields_empty_parts(text: str) -> None:
    parsed = parse_scope(text)
    if parsed is not None:
        assert parsed.type
        assert parsed.name
        assert parsed.actions
        assert all(action.strip() for action in parsed.actions)


@pytest.mark.parametrize(
    "text", ["repository", "repository:name", ":name:pull", "repository::pull", "repository:a:"]
)
def test_incomplete_scopes_are_ignored(text: str) -> None:
    assert parse_scope(text) is None
    assert parse_scopes([text]) == []


# --- intersection -------------------------------------------------------------------------------


@given(
    st.lists(st.tuples(pattern(), docker_action), max_size=6),
    st.lists(st.tuples(repository, actions_list), max_size=5),
)
def test_grant_is_the_intersection_in_request_order(
    rules: list[tuple[tuple[str, list[str] | None], str]], requests: list[tuple[str, list[str]]]
) -> None:
    perms = RegistryPermissions(entries=tuple(ScopeMapEntry(text, action) for (text, _), action in rules))
    scopes = [Scope("repository", name, tuple(dict.fromkeys(actions))) for name, actions in requests]

    granted = perms.grant(scopes)

    assert [(kind, name) for kind, name, _ in granted] == [("repository", s.name) for s in scopes]
    for (_, name, actions), scope in zip(granted, scopes, strict=True):
        allowed = perms.actions_for("repository", name)
        if "*" in scope.actions:
            assert set(actions) == allowed
        else:
            assert actions == [a for a in scope.actions if a in allowed]

from __future__ import annotations

from berth.cli.client.challenge import parse_challenge


def test_acr_challenge_of_the_bare_v2_endpoint() -> None:
    found = parse_challenge('Bearer realm="https://r.example/oauth2/token",service="r.example"')
    assert found is not None
    assert found.usable
    assert found.params == {"realm": "https://r.example/oauth2/token", "service": "r.example"}
    assert found.endpoint("/oauth2/exchange") == "https://r.example/oauth2/exchange"


def test_quoted_values_may_hold_commas_and_the_scheme_any_case() -> None:
    header = 'BEARER realm="http://r.localhost:5000/oauth2/token",service="r.localhost:5000",'
    header += 'scope="repository:a/b:pull,push",error="insufficient_scope"'
    found = parse_challenge(header)
    assert found is not None
    assert found.is_bearer
    assert found.params["scope"] == "repository:a/b:pull,push"
    assert found.params["error"] == "insufficient_scope"
    assert found.endpoint("/oauth2/token") == "http://r.localhost:5000/oauth2/token"


def test_spaces_after_commas_and_unquoted_values_are_read() -> None:
    found = parse_challenge('Bearer realm="https://r/t", service=r, scope="x"')
    assert found is not None
    assert found.params == {"realm": "https://r/t", "service": "r", "scope": "x"}


def test_basic_or_incomplete_challenges_are_not_usable() -> None:
    basic = parse_challenge('Basic realm="Registry Realm"')
    assert basic is not None
    assert basic.scheme == "basic"
    assert not basic.usable
    no_service = parse_challenge('Bearer realm="https://r/oauth2/token"')
    assert no_service is not None
    assert not no_service.usable
    assert parse_challenge("") is None
    assert parse_challenge(None) is None


def test_escaped_quotes_inside_values() -> None:
    found = parse_challenge(r'Bearer realm="https://r/t",service="a\"b"')
    assert found is not None
    assert found.service == 'a"b'

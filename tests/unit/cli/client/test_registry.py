from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from berth.cli.client.registry import (
    RegistryAuthError,
    RegistryEndpoint,
    RegistryRequestError,
    repository_path,
)

LS = "r.localhost:5000"
CHALLENGE = {"WWW-Authenticate": f'Bearer realm="http://{LS}/oauth2/token",service="{LS}"'}


def _form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def _endpoint(handler: object) -> RegistryEndpoint:
    return RegistryEndpoint(httpx.Client(transport=httpx.MockTransport(handler)), LS, "http")  # type: ignore[arg-type]


def test_exchange_then_token_as_az_sends_them() -> None:
    forms: dict[str, dict[str, str]] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(401, headers=CHALLENGE)
        forms[request.url.path] = _form(request)
        if request.url.path == "/oauth2/exchange":
            return httpx.Response(200, json={"refresh_token": "acr-refresh"})
        return httpx.Response(200, json={"access_token": "acr-access"})

    endpoint = _endpoint(handler)
    challenge = endpoint.challenge()
    assert endpoint.exchange(challenge, "directory-token", "tenant-id") == "acr-refresh"
    assert endpoint.token_from_refresh(challenge, "acr-refresh", "registry:catalog:*") == "acr-access"
    assert forms["/oauth2/exchange"] == {
        "grant_type": "access_token",
        "service": LS,
        "tenant": "tenant-id",
        "access_token": "directory-token",
    }
    assert forms["/oauth2/token"] == {
        "grant_type": "refresh_token",
        "service": LS,
        "scope": "registry:catalog:*",
        "refresh_token": "acr-refresh",
    }


def test_each_failing_step_names_its_catalogue_code() -> None:
    def no_challenge(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200)

    with pytest.raises(RegistryAuthError) as raised:
        _endpoint(no_challenge).challenge()
    assert raised.value.error.code == "CONNECTIVITY_CHALLENGE_ERROR"

    def basic(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="x"'})

    with pytest.raises(RegistryAuthError) as raised:
        _endpoint(basic).challenge()
    assert raised.value.error.code == "CONNECTIVITY_AAD_LOGIN_ERROR"

    def denied(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(401, headers=CHALLENGE)
        return httpx.Response(401, json={"errors": [{"code": "UNAUTHORIZED", "message": "no role"}]})

    endpoint = _endpoint(denied)
    with pytest.raises(RegistryAuthError) as raised:
        endpoint.exchange(endpoint.challenge(), "t", None)
    assert raised.value.status == 401
    assert raised.value.message == (
        "An error occurred: CONNECTIVITY_REFRESH_TOKEN_ERROR. Access to registry 'r.localhost:5000' was "
        "denied. Response code: 401. Please try running 'berth login' again to refresh permissions."
    )


def test_listing_follows_link_headers() -> None:
    pages = {
        None: (["a", "b"], '</v2/_catalog?last=b&n=2>; rel="next"'),
        "b": (["c"], None),
    }
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer tok"
        params = dict(request.url.params)
        seen.append(params)
        names, link = pages[params.get("last")]
        headers = {"Link": link} if link else {}
        return httpx.Response(200, json={"repositories": names}, headers=headers)

    assert _endpoint(handler).paged("/v2/_catalog", "tok", "repositories") == ["a", "b", "c"]
    assert seen == [{"n": "100"}, {"last": "b", "n": "2"}]
    assert _endpoint(handler).paged("/v2/_catalog", "tok", "repositories", top=2) == ["a", "b"]


def test_data_errors_are_worded_like_az() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known to registry"}]}
        return httpx.Response(404, json=body, headers={"X-Ms-Correlation-Request-Id": "cid"})

    with pytest.raises(RegistryRequestError) as raised:
        _endpoint(handler).request("GET", "/acr/v1/x", "tok")
    assert raised.value.message == "Error: repository name not known to registry. Correlation ID: cid."
    assert raised.value.exit_code == 3


def test_repository_paths_are_percent_encoded() -> None:
    assert repository_path("a/b") == "/acr/v1/a%2Fb"
    assert repository_path("a/b", "_tags", "v1") == "/acr/v1/a%2Fb/_tags/v1"
    assert repository_path("a", "_manifests", "sha256:ab") == "/acr/v1/a/_manifests/sha256%3Aab"

"""Helpers for the ``/acr/v1/`` API suite: ACR's shapes and a recorder of repository events."""

from __future__ import annotations

import re
from typing import Any

import httpx

from berth.events.observer import RepositoryOperation, RequestSummary
from tests.api.oci import TestClient

# ACR's timestamps: ISO 8601 in UTC with seven fractional digits.
ACR_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$")
LOGIN_SERVER = "localhost:5000"
ALL_ENABLED = {"deleteEnabled": True, "writeEnabled": True, "readEnabled": True, "listEnabled": True}


def patch(client: TestClient, path: str, **changes: bool) -> httpx.Response:
    """PATCH changeable attributes and insist it worked."""
    response: httpx.Response = client.patch(path, json=changes)
    assert response.status_code == 200, response.text
    return response


def attributes_of(document: dict[str, Any]) -> dict[str, bool]:
    attributes: dict[str, bool] = document["changeableAttributes"]
    return attributes


def next_link(response: httpx.Response) -> str | None:
    """The URL of the next page, read as the Azure SDK reads it (between ``<`` and ``>``)."""
    header: str | None = response.headers.get("Link")
    if header is None:
        return None
    assert header.startswith("<"), header
    assert header.endswith('>; rel="next"'), header
    return header[1 : header.index(">")]


def follow(client: TestClient, url: str, key: str) -> tuple[list[dict[str, Any]], list[httpx.Response]]:
    """Every item of a paged listing, following ``Link`` headers to the end."""
    items: list[dict[str, Any]] = []
    pages: list[httpx.Response] = []
    next_url: str | None = url
    while next_url is not None:
        assert len(pages) < 50, "the listing does not end"
        response = client.get(next_url)
        assert response.status_code == 200, response.text
        pages.append(response)
        items.extend(response.json()[key])
        next_url = next_link(response)
    return items, pages


class OperationRecorder:
    """Stands in for the app's observer and keeps the repository operations of each request."""

    def __init__(self) -> None:
        self.summaries: list[RequestSummary] = []

    def request_finished(self, summary: RequestSummary) -> None:
        self.summaries.append(summary)

    @property
    def operations(self) -> list[RepositoryOperation]:
        return [op for summary in self.summaries for op in summary.operations]

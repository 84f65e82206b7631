"""``/readyz``: 200 while the database and the blob store answer, 503 naming what does not."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from berth.app import BerthApp


def test_ready_when_the_database_and_the_store_answer(client: TestClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready"}


def test_unready_names_the_database_when_it_fails(
    app: BerthApp, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("connection to the database refused")

    monkeypatch.setattr(app.services.db, "read", unreachable)
    answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unavailable"
    assert "refused" in body["database"]
    assert "storage" not in body


def test_unready_names_the_store_when_it_fails(
    app: BerthApp, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        def stat(self, digest: str) -> int | None:
            raise OSError("the bucket does not answer")

    monkeypatch.setattr(app.services, "store_for", lambda registry_id: Broken())
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "storage": "OSError: the bucket does not answer"}

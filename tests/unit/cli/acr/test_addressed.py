"""``-n`` as the registry name, its login server or a URL (what the user actually addressed)."""

from __future__ import annotations

import pytest

from berth.cli.acr.common import Addressed, addressed


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("myreg", Addressed("myreg")),
        ("MyReg", Addressed("MyReg")),
        ("myreg.example.com:5000", Addressed("myreg", "myreg.example.com:5000")),
        ("MyReg.Example.com", Addressed("MyReg", "myreg.example.com")),
        ("http://myreg.bt1.localhost:5577", Addressed("myreg", "myreg.bt1.localhost:5577", "http")),
        ("https://myreg.example.com/v2/", Addressed("myreg", "myreg.example.com", "https")),
    ],
)
def test_addressed(given: str, expected: Addressed) -> None:
    assert addressed(given) == expected

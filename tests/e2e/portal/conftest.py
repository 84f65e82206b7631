"""Fixtures of the portal's browser suite: one berth per module, one headless Chromium per session.

- ``portal_server``: ``berth serve`` with authentication on and the bootstrap owner;
- ``setup``: :class:`AccessSetup` on its database (users, roles, tokens arranged directly);
- ``browser``: Debian's chromium driven by Playwright (``executable_path``; never ``playwright
  install``), stopped at the end of the module so that later suites may use ``asyncio.run``;
- ``signed_in``: a factory of browser pages signed in as a user through the real sign-in page
  (the directory's authorization-code flow with PKCE). Every page it makes fails the test on
  any console error or uncaught exception (:class:`ConsoleWatch`).
- ``axe``: runs axe-core on a page and fails on serious or critical violations.

Set ``BERTH_PORTAL_SCREENSHOTS=<folder>`` to save 1280x800 screenshots of the main pages there
(``scripts/portal-screenshots.sh`` does this for docs/portal/).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests.support.access_setup import AccessSetup
from tests.support.browser import chromium_path, ensure_axe
from tests.support.server import BerthServer

OWNER = "admin@localhost"
OWNER_PASSWORD = "owner-Portal-Passw0rd"
VIEWPORT = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 844}


@dataclass
class ConsoleWatch:
    """Console errors and uncaught exceptions of the pages of one test."""

    problems: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text} at {message.location}")

    def page_error(self, error: Exception) -> None:
        self.problems.append(f"uncaught: {error}")


@pytest.fixture(scope="module")
def portal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BerthServer]:
    root = tmp_path_factory.mktemp("portal")
    with BerthServer(root / "berth", env={"BERTH_BOOTSTRAP_PASSWORD": OWNER_PASSWORD}) as running:
        yield running


class OffLoopSetup:
    """:class:`AccessSetup` called from a worker thread: its methods use ``asyncio.run``, which
    cannot run on the thread where Playwright's sync API keeps its event loop."""

    def __init__(self, setup: AccessSetup) -> None:
        self._setup = setup

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._setup, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            with ThreadPoolExecutor(max_workers=1) as worker:
                return worker.submit(method, *args, **kwargs).result()

        return call


@pytest.fixture(scope="module")
def setup(portal_server: BerthServer) -> Iterator[AccessSetup]:
    arranged = AccessSetup.for_database(f"sqlite:///{portal_server.data_dir / 'metadata.db'}")
    yield cast(AccessSetup, OffLoopSetup(arranged))
    arranged.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for the suite (its one module). Not session-wide: while Playwright's sync API
    runs, its event loop owns this thread, and later suites' ``asyncio.run`` would fail."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    return ensure_axe().read_text()


SignedIn = Callable[..., Page]


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Through the portal's sign-in: the directory's page, then back with a code."""
    page.goto(f"{base_url}/portal/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/portal/")


@pytest.fixture
def console() -> Iterator[ConsoleWatch]:
    watch = ConsoleWatch()
    yield watch
    assert not watch.problems, "\n".join(watch.problems)


@pytest.fixture
def signed_in(browser: Browser, portal_server: BerthServer, console: ConsoleWatch) -> Iterator[SignedIn]:
    contexts: list[BrowserContext] = []

    def make(
        username: str = OWNER, password: str = OWNER_PASSWORD, *, viewport: dict[str, int] = VIEWPORT
    ) -> Page:
        # bypass_csp only so that axe-core can be injected as a script tag; the app's own CSP is
        # still checked by tests that read its headers.
        context = browser.new_context(viewport=viewport, bypass_csp=True)  # type: ignore[arg-type]
        contexts.append(context)
        page = context.new_page()
        page.on("console", console.console)
        page.on("pageerror", console.page_error)
        page.on("dialog", lambda dialog: dialog.accept())
        sign_in(page, portal_server.url, username, password)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def axe(axe_source: str) -> Callable[[Page], None]:
    def check(page: Page) -> None:
        page.add_script_tag(content=axe_source)
        violations = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target).join(' ')}`)"""
        )
        assert not violations, f"{page.url}:\n" + "\n".join(violations)

    return check


@pytest.fixture
def screenshot() -> Callable[[Page, str], None]:
    folder = os.environ.get("BERTH_PORTAL_SCREENSHOTS")

    def take(page: Page, name: str) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)

    return take

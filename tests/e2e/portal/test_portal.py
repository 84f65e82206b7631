"""The portal in headless Chromium, as its users see it: an owner, a Reader and an AcrPull user.

One berth (auth on) for the module, one browser for the session. Content is pushed with the real
docker CLI; a denied ``docker login`` shows in the events with its reason and in the chart.
Every page fails the test on a console error, and axe-core checks the main pages.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.portal.conftest import NARROW, SignedIn
from tests.e2e.portal.helpers import Docker, push_signature, settled
from tests.support.access_setup import AccessSetup, ServicePrincipal, User
from tests.support.dockerd import DockerDaemon
from tests.support.images import rootfs_tarball
from tests.support.server import BerthServer

pytestmark = pytest.mark.e2e

Axe = Callable[[Page], None]
Shot = Callable[[Page, str], None]
READER = "reader@localhost"
PULLER = "puller@localhost"
USER_PASSWORD = "user-Portal-Passw0rd"


@pytest.fixture(scope="module")
def reader(setup: AccessSetup) -> User:
    return setup.user(READER, password=USER_PASSWORD, role="Reader")


@pytest.fixture(scope="module")
def puller(setup: AccessSetup) -> User:
    return setup.user(PULLER, password=USER_PASSWORD, role="AcrPull")


@pytest.fixture(scope="module")
def docker(
    dockerd: DockerDaemon, portal_server: BerthServer, tmp_path_factory: pytest.TempPathFactory
) -> Docker:
    config = tmp_path_factory.mktemp("portal-docker")
    (config / "config.json").write_text("{}")
    return Docker(dockerd, config, portal_server.address)


@pytest.fixture(scope="module")
def pusher(setup: AccessSetup) -> ServicePrincipal:
    return setup.service_principal("portal-pusher", role="AcrPush")


@pytest.fixture(scope="module")
def pushed(docker: Docker, pusher: ServicePrincipal, tmp_path_factory: pytest.TempPathFactory) -> str:
    """``portal/app:v1`` pushed with docker by a service principal holding AcrPush."""
    sp = pusher
    tarball = rootfs_tarball(tmp_path_factory.mktemp("portal-image") / "rootfs.tar")
    local = f"local/portal-{uuid.uuid4().hex[:8]}:v1"
    docker.daemon.run("import", str(tarball), local)
    assert docker.login(sp.app_id, sp.secret).returncode == 0
    reference = f"{docker.registry}/portal/app:v1"
    docker.ok("tag", local, reference)
    docker.ok("push", reference)
    return "portal/app"


# --- the owner ----------------------------------------------------------------------------


def test_owner_signs_in_and_creates_a_registry(signed_in: SignedIn, axe: Axe, screenshot: Shot) -> None:
    page = signed_in()
    expect(page.get_by_role("link", name="default")).to_be_visible()
    axe(page)
    page.get_by_role("link", name="Create a registry").click()
    page.get_by_label("Registry name").fill("portalmade")
    page.get_by_label("Allow anonymous pull").check()
    axe(page)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="portalmade")).to_be_visible()
    facts = page.locator("dl.facts").inner_text()
    assert "portalmade.localhost:" in facts
    assert re.search(r"Anonymous pull\s+Enabled", facts)
    assert "Premium" in facts
    axe(page)
    screenshot(page, "overview")
    page.goto(page.url.rsplit("/r/", 1)[0] + "/")
    screenshot(page, "registries")


def test_owner_deletes_a_registry_after_confirming(signed_in: SignedIn, setup: AccessSetup) -> None:
    setup.create_registry("portalgone")
    page = signed_in()
    page.get_by_role("link", name="portalgone").click()
    page.get_by_role("link", name="Delete this registry").click()
    page.get_by_label("to confirm").fill("portalgone")
    page.get_by_role("button", name="Delete the registry").click()
    page.wait_for_url("**/portal/")
    expect(page.get_by_role("link", name="portalgone")).to_have_count(0)


def test_owner_creates_a_scope_map_and_a_token_that_docker_can_use(
    signed_in: SignedIn, portal_server: BerthServer, docker: Docker, pushed: str, axe: Axe, screenshot: Shot
) -> None:
    page = signed_in()
    page.goto(f"{portal_server.url}/portal/r/default/access")
    page.locator("#new-scope-map summary").click()
    page.get_by_label("Name", exact=True).first.fill("portal-readers")
    page.get_by_label("Repository of row 1").fill(pushed)
    page.get_by_label("content/read on row 1").check()
    page.get_by_label("metadata/read on row 1").check()
    page.get_by_role("button", name="Create the scope map").click()
    maps = page.locator("#scope-map-list").inner_text()
    assert f"repositories/{pushed}/content/read repositories/{pushed}/metadata/read" in maps
    page.locator("#new-token summary").click()
    page.locator("#token-name").fill("portal-token")
    page.locator("#token-map").select_option("portal-readers")
    page.locator("#token-expiry").fill("30")
    page.get_by_role("button", name="Create the token").click()
    secret = page.locator(".secret")
    expect(secret).to_contain_text("Token portal-token")
    expect(secret).to_contain_text("expires")
    password = page.locator(".secret code.password").inner_text().strip()
    assert len(password) >= 32
    axe(page)
    screenshot(page, "access")
    assert "portal-token" in page.locator("#token-list").inner_text()
    # Shown once: the next visit has no password on it.
    page.goto(f"{portal_server.url}/portal/r/default/access")
    assert password not in page.content()
    # The token works with the real docker CLI, for what its scope map grants.
    assert docker.login("portal-token", password).returncode == 0
    docker.ok("pull", f"{docker.registry}/{pushed}:v1")


def test_a_docker_push_appears_with_its_layers(
    signed_in: SignedIn,
    portal_server: BerthServer,
    pushed: str,
    pusher: ServicePrincipal,
    axe: Axe,
    screenshot: Shot,
) -> None:
    page = signed_in()
    page.goto(f"{portal_server.url}/portal/r/default/repositories")
    page.get_by_label("Search repositories").fill("portal/a")
    expect(page.get_by_role("link", name=pushed)).to_be_visible()
    axe(page)
    screenshot(page, "repositories")
    page.get_by_role("link", name=pushed).click()
    expect(page.get_by_role("heading", name=pushed)).to_be_visible()
    tags = page.locator("table").first.inner_text()
    assert "v1" in tags
    login_server = f"localhost:{portal_server.port}"  # the default registry's: domain and port
    expect(
        page.get_by_role("button", name=f"Copy pull command: docker pull {login_server}/{pushed}:v1")
    ).to_be_visible()
    # Locks: the owner write-locks the tag, sees it, and unlocks it again.
    page.get_by_role("button", name="Lock writes of tag v1").click()
    expect(page.locator("table").first.locator("tr", has_text="v1")).to_contain_text("write locked")
    page.get_by_role("button", name="Unlock writes of tag v1").click()
    expect(page.locator("table").first.locator("tr", has_text="v1")).not_to_contain_text("write locked")
    axe(page)
    screenshot(page, "repository")
    page.locator("table").first.get_by_role("link").first.click()
    expect(page.locator("#pull-command")).to_contain_text(f"docker pull {login_server}/{pushed}@sha256:")
    layers = page.locator("#layers tr.layer")
    expect(layers).to_have_count(1)
    assert re.search(r"\d+(\.\d)? (KiB|MiB)", layers.first.inner_text())
    expect(page.get_by_text("No signatures, SBOMs or attestations")).to_be_visible()
    # A signature pushed for it shows as its referrer.
    digest = page.url.rsplit("digest=", 1)[1].replace("%3A", ":")
    signature = push_signature(portal_server, pusher, pushed, digest)
    page.reload()
    tree = page.locator("ul.tree")
    expect(tree).to_contain_text("signature")
    expect(tree).to_contain_text(signature[:19])
    axe(page)
    screenshot(page, "manifest")
    # The push is in the repository events and their charts.
    events = f"{portal_server.url}/portal/r/default/events?kind=repository&repository={pushed}"
    settled(page, events, "Push", "#events")
    transfers = page.locator("#chart-transfers svg desc").text_content() or ""
    assert re.search(r"pushes: [1-9]", transfers), transfers
    sizes = page.locator("#chart-bytes svg desc").text_content() or ""
    assert re.search(r"bytes pushed: [1-9]", sizes), sizes
    axe(page)


@pytest.fixture(scope="module")
def denied(setup: AccessSetup) -> str:
    """A token whose logins the denial tests get wrong on purpose."""
    setup.scope_map("portal-denied-map", ["repositories/portal/app/content/read"])
    return setup.token("portal-denied", "portal-denied-map").name


def test_a_denied_login_shows_in_the_events_and_the_chart(
    signed_in: SignedIn, portal_server: BerthServer, docker: Docker, denied: str, axe: Axe, screenshot: Shot
) -> None:
    refused = docker.login(denied, "not-the-password")
    assert refused.returncode != 0
    page = signed_in()
    url = f"{portal_server.url}/portal/r/default/events?kind=login&result=failed&identity={denied}"
    settled(page, url, "bad_secret", "#events")
    row = page.locator("#events tbody tr").first
    expect(row.locator("td.reason")).to_have_text("bad_secret")
    expect(row).to_contain_text("127.0.0.1")
    correlation = row.locator("code").inner_text()
    chart = page.locator("#chart-signins svg desc").text_content() or ""
    assert "failed: bad_secret: 1" in chart, chart
    axe(page)
    # Filter by the correlation id and by IP.
    page.goto(f"{portal_server.url}/portal/r/default/events?kind=login&since=1h&correlation_id={correlation}")
    expect(page.locator("#events tbody tr")).to_have_count(1)
    page.goto(f"{portal_server.url}/portal/r/default/events?kind=login&ip=10.9.9.9")
    expect(page.locator("#events tbody")).to_contain_text("No events match.")
    page.goto(f"{portal_server.url}/portal/r/default/events?kind=login&since=24h")
    screenshot(page, "monitoring")


def test_diagnose_a_pasted_error(
    signed_in: SignedIn, portal_server: BerthServer, docker: Docker, denied: str, axe: Axe, screenshot: Shot
) -> None:
    refused = docker.login(denied, "still-wrong")
    assert refused.returncode != 0
    page = signed_in()
    page.goto(f"{portal_server.url}/portal/r/default/diagnose")
    page.get_by_label("Error text").fill(refused.stderr.strip() or "unauthorized: authentication required")
    page.get_by_label("Identity").fill(denied)
    for _ in range(40):
        page.get_by_role("button", name="Diagnose").click()
        if page.locator("#verdicts").count():
            break
        time.sleep(0.25)
    verdicts = page.locator("#verdicts").inner_text()
    assert "WRONG_SECRET" in verdicts, verdicts
    assert f"berth acr token credential generate -r default -n {denied}" in verdicts
    expect(page.get_by_role("heading", name="What the error text shows")).to_be_visible()
    axe(page)
    screenshot(page, "diagnose")
    page.get_by_role("button", name="Run the health checks from the server").click()
    findings = page.locator("#findings")
    expect(findings).to_contain_text("Challenge endpoint")
    expect(findings).to_contain_text("Fetch access token for registry")
    expect(findings.locator("li.error")).to_have_count(0)
    axe(page)
    screenshot(page, "health")


def test_owner_sees_and_adds_role_assignments(
    signed_in: SignedIn, portal_server: BerthServer, setup: AccessSetup, axe: Axe, screenshot: Shot
) -> None:
    setup.user("newcomer@localhost", password=USER_PASSWORD, role=None)
    page = signed_in()
    page.goto(f"{portal_server.url}/portal/r/default/iam")
    page.get_by_label("Role").select_option("AcrPush")
    page.get_by_label("Assignee").fill("newcomer@localhost")
    page.get_by_role("button", name="Add").click()
    row = page.locator("#assignments tr", has_text="newcomer@localhost")
    expect(row).to_contain_text("AcrPush")
    axe(page)
    screenshot(page, "iam")
    row.get_by_role("button", name="Remove AcrPush from newcomer@localhost").click()
    expect(page.locator("#assignments tr", has_text="newcomer@localhost")).to_have_count(0)


def test_the_portal_on_a_narrow_screen(
    signed_in: SignedIn, portal_server: BerthServer, pushed: str, axe: Axe
) -> None:
    page = signed_in(viewport=NARROW)
    for path in (
        "/portal/r/default",
        "/portal/r/default/repositories",
        f"/portal/r/default/repository?repo={pushed}",
        "/portal/r/default/events",
        "/portal/r/default/access",
    ):
        page.goto(f"{portal_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW["width"], f"{path} scrolls sideways on a narrow screen: {width}px"
    axe(page)


def test_the_keyboard_reaches_the_content_first(signed_in: SignedIn, portal_server: BerthServer) -> None:
    page = signed_in()
    page.goto(f"{portal_server.url}/portal/r/default")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    page.keyboard.press("Tab")  # the first control inside the content: the login server's Copy
    expect(page.locator("main button.copy").first).to_be_focused()


# --- a Reader and an AcrPull user -----------------------------------------------------------

CHANGES = (
    ("/portal/registries", {"name": "readermade", "resource_group": "default"}),
    ("/portal/r/default/delete", {"confirm": "default"}),
    ("/portal/r/default/admin", {"enabled": "true"}),
    ("/portal/r/default/admin/regenerate", {"password_name": "password"}),
    (
        "/portal/r/default/scope-maps",
        {"name": "reader-map", "rows": "1", "repo_0": "x", "action_0": "content/read"},
    ),
    ("/portal/r/default/scope-maps/delete", {"scope_map": "portal-readers"}),
    ("/portal/r/default/tokens", {"name": "reader-token", "scope_map": "_repositories_pull"}),
    ("/portal/r/default/tokens/password", {"token": "portal-token", "password_name": "password2"}),
    ("/portal/r/default/tokens/delete", {"token": "portal-token"}),
    ("/portal/r/default/network", {"default_action": "Deny"}),
    ("/portal/r/default/iam", {"role": "Owner", "assignee": READER}),
    ("/portal/r/default/iam/remove", {"assignment": "00000000-0000-0000-0000-000000000000"}),
    ("/portal/r/default/repository/delete", {"repo": "portal/app", "confirm": "portal/app"}),
    ("/portal/r/default/tag/delete", {"repo": "portal/app", "tag": "v1"}),
    ("/portal/r/default/manifest/delete", {"repo": "portal/app", "digest": "sha256:" + "0" * 64}),
    (
        "/portal/r/default/locks",
        {"repo": "portal/app", "tag": "v1", "attribute": "writeEnabled", "value": "false"},
    ),
    ("/portal/r/default/tokens/status", {"token": "portal-denied", "enabled": "false"}),
)


def forged(page: Page, base_url: str) -> list[tuple[str, int, str]]:
    """Every change route POSTed with the user's own valid session and CSRF token."""
    page.goto(f"{base_url}/portal/r/default/diagnose")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value") or ""
    answers = []
    for path, form in CHANGES:
        response = page.request.post(f"{base_url}{path}", form={**form, "csrf": csrf}, max_redirects=0)
        answers.append((path, response.status, response.text()))
    return answers


def test_a_reader_sees_everything_and_can_change_nothing(
    signed_in: SignedIn, portal_server: BerthServer, reader: User, pushed: str, setup: AccessSetup, axe: Axe
) -> None:
    page = signed_in(READER, USER_PASSWORD)
    base = portal_server.url
    expect(page.get_by_role("link", name="Create a registry")).to_have_count(0)
    for path in (
        "/portal/r/default",
        "/portal/r/default/repositories",
        f"/portal/r/default/repository?repo={pushed}",
        "/portal/r/default/events",
        "/portal/r/default/access",
        "/portal/r/default/iam",
    ):
        page.goto(base + path)
        change_forms = page.locator("main form[method=post]")
        assert change_forms.count() == 0, f"{path} offers a change to a Reader"
        expect(page.locator("main button.danger")).to_have_count(0)
    axe(page)
    for path, status, body in forged(page, base):
        assert status == 403, f"{path} answered {status} to a Reader:\n{body[:500]}"
        assert "AuthorizationFailed" in body or "does not have" in body
    assert setup.registry("default").admin_enabled is False
    page.goto(f"{base}/portal/r/default/repository?repo={pushed}")
    assert "v1" in page.locator("table").first.inner_text()  # the tag is still there


def test_an_acrpull_user_sees_content_only(
    signed_in: SignedIn, portal_server: BerthServer, puller: User, pushed: str
) -> None:
    page = signed_in(PULLER, USER_PASSWORD)
    base = portal_server.url
    page.get_by_role("link", name="default").click()
    expect(page.get_by_role("link", name="Repositories")).to_be_visible()
    expect(page.get_by_role("link", name="Monitoring")).to_have_count(0)
    expect(page.get_by_role("link", name="Access", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Repositories").click()
    expect(page.get_by_role("link", name=pushed)).to_be_visible()
    for path in ("/portal/r/default/events", "/portal/r/default/access", "/portal/r/default/iam"):
        assert page.request.get(base + path).status == 403
    assert page.request.get(base + "/portal/r/portalmade").status == 404  # not theirs: not even its name
    for path, status, body in forged(page, base):
        assert status in (403, 404), f"{path} answered {status} to an AcrPull user:\n{body[:500]}"


def test_a_forged_post_without_the_csrf_token_is_refused(
    signed_in: SignedIn, portal_server: BerthServer
) -> None:
    page = signed_in()
    response = page.request.post(
        f"{portal_server.url}/portal/r/default/admin", form={"enabled": "true"}, max_redirects=0
    )
    assert response.status == 403
    assert "InvalidCsrfToken" in response.text()


def test_signing_out_ends_the_session(signed_in: SignedIn, portal_server: BerthServer) -> None:
    page = signed_in()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(f"{portal_server.url}/portal/r/default")
    expect(page.get_by_role("heading", name="Sign in to berth")).to_be_visible()


def test_static_assets_are_versioned_and_cached(portal_server: BerthServer, signed_in: SignedIn) -> None:
    page = signed_in()
    sources = page.eval_on_selector_all("script[src]", "nodes => nodes.map(n => n.getAttribute('src'))")
    assert any(re.fullmatch(r"/portal/static/[0-9a-f]{12}/htmx\.min\.js", s) for s in sources), sources
    with httpx.Client(base_url=portal_server.url) as client:
        for source in sources:
            answer = client.get(source)
            assert answer.status_code == 200
            assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert client.get("/portal/static/000000000000/htmx.min.js").status_code == 404

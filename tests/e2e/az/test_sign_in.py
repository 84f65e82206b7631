"""az's cloud registration and every way of signing in: user and password, device code (approved
through berth's page), service principal."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.e2e.az.azcli import Az
from tests.e2e.az.conftest import OWNER_PASSWORD, AzService

# The first test of a session may install azure-cli into its cache (minutes on a busy machine).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]


def test_registering_the_cloud_is_one_command(fresh_az: Az, az_service: AzService) -> None:
    cloud = fresh_az.json("cloud", "show", "-n", "berth")

    assert cloud["isActive"] is True
    assert cloud["endpoints"]["resourceManager"] == f"{az_service.url}/"
    assert cloud["endpoints"]["activeDirectory"] == az_service.url
    assert cloud["endpoints"]["microsoftGraphResourceId"] == f"{az_service.url}/"
    assert cloud["endpoints"]["activeDirectoryResourceId"] == "https://management.azure.com"
    assert cloud["suffixes"]["acrLoginServerEndpoint"] == f".{az_service.server.domain}"


def test_user_login_with_password_without_tenant(owner_az: Az, az_service: AzService) -> None:
    account = owner_az.json("account", "show")

    assert account["user"] == {"name": az_service.owner, "type": "user"}
    assert account["tenantId"] == az_service.tenant_id
    assert account["tenantDefaultDomain"] == az_service.server.domain
    assert account["managedByTenants"] == []
    assert account["environmentName"] == "berth"
    token = owner_az.json("account", "get-access-token")
    assert token["tenant"] == az_service.tenant_id
    assert token["accessToken"].count(".") == 2


def test_a_wrong_password_is_refused(fresh_az: Az, az_service: AzService) -> None:
    error = fresh_az.fails("login", "-u", az_service.owner, "-p", "not-the-password")

    assert "AADSTS50126" in error


def test_device_code_login_approved_through_berths_page(fresh_az: Az, az_service: AzService) -> None:
    process = fresh_az.popen("login", "--use-device-code", "-o", "json")
    assert process.stderr is not None
    prompt = process.stderr.readline()
    found = re.search(r"open the page (\S+) and enter the code (\w+)", prompt)
    assert found is not None, prompt
    page, code = found.groups()
    assert page == f"{az_service.url}/devicelogin"

    with az_service.http() as http:
        shown = http.get("/devicelogin")
        approved = http.post(
            "/devicelogin", data={"user_code": code, "username": az_service.owner, "password": OWNER_PASSWORD}
        )
    out, err = process.communicate(timeout=120)

    assert shown.status_code == 200
    assert approved.status_code == 200
    assert f"Signed in as {az_service.owner}" in approved.text
    assert process.returncode == 0, err
    assert f'"name": "{az_service.owner}"' in out
    assert fresh_az.json("account", "show")["user"]["name"] == az_service.owner


def test_service_principal_login(owner_az: Az, fresh_az: Az, az_service: AzService, tmp_path: Path) -> None:
    created = owner_az.json("ad", "sp", "create-for-rbac", "-n", f"login-sp-{int(time.time())}")

    fresh_az.run(
        "login",
        "--service-principal",
        "-u",
        created["appId"],
        "-p",
        created["password"],
        "--tenant",
        created["tenant"],
    )
    account = fresh_az.json("account", "show")

    assert created["tenant"] == az_service.tenant_id
    assert account["user"] == {"name": created["appId"], "type": "servicePrincipal"}
    assert fresh_az.json("acr", "list") == []  # no role yet: sees no registry

"""``check-health``: the whole chain, in ACR's order, with ACR's ``--ignore-errors`` rules.

Environment (docker command, daemon, version) → registry name → login server → DNS → TLS and
``/v2/`` → challenge → credentials (exchange or user name/password) → access token and, with
``--repository``, the actions granted → docker's stored credentials → a sample pull. Without
``--ignore-errors`` the first error ends the run (exit 1); with it every step runs (exit 0).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from berth.names import REGISTRY_NAME
from berth.troubleshoot import docker_env
from berth.troubleshoot.docker_env import Runner
from berth.troubleshoot.findings import Finding, Status, info, passed, problem
from berth.troubleshoot.registry_chain import ChainInput, check_registry, drive
from berth.troubleshoot.storage import check_quota, check_storage

HEALTH_LINK = "Please refer to https://aka.ms/acr/health-check for more information."


@dataclass
class HealthRequest:
    registry: str | None
    login_server: str | None  # resolved by the caller (management API), or None to derive it
    scheme: str = "https"
    domain_suffix: str = ""  # ".<domain>[:port]" to derive a login server from a name
    repository: str | None = None
    registry_id: str = "<registry id>"
    directory_token: str | None = None
    directory_error: str | None = None
    username: str | None = None
    password: str | None = None
    ignore_errors: bool = False
    pull: bool = True
    lookup_error: str | None = None  # the management API could not find the registry
    tag: str | None = None  # --tag to pull; else the first tag the repository lists
    public_access_disabled: bool = False
    token_scope_map: str | None = None
    # (bytes stored, the registry's storage quota), when the caller may read them and a quota applies
    storage_usage: tuple[int, int] | None = None


@dataclass
class HealthReport:
    findings: list[Finding] = field(default_factory=list)
    stopped_early: bool = False
    login_server: str | None = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.ERROR]

    def exit_code(self, ignore_errors: bool) -> int:
        return 1 if self.errors and not ignore_errors else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "findings": [f.as_json() for f in self.findings],
            "errors": len(self.errors),
            "stoppedEarly": self.stopped_early,
            "loginServer": self.login_server,
        }


class _Stop(Exception):
    pass


class HealthCheck:
    def __init__(
        self,
        request: HealthRequest,
        client: httpx.Client,
        environ: Mapping[str, str],
        run: Runner = docker_env.run_command,
        resolve: Callable[[str], str] = socket.gethostbyname,
        on_finding: Callable[[Finding], None] | None = None,
    ) -> None:
        self.request = request
        self.client = client
        self.environ = environ
        self.run = run
        self.resolve = resolve
        self.on_finding = on_finding or (lambda _finding: None)
        self.report = HealthReport()

    def _add(self, findings: Iterator[Finding] | list[Finding]) -> None:
        for finding in findings:
            self.report.findings.append(finding)
            self.on_finding(finding)
            if finding.status is Status.ERROR and not self.request.ignore_errors:
                self.report.stopped_early = True
                raise _Stop

    def execute(self) -> HealthReport:
        with contextlib.suppress(_Stop):
            self._run()
        return self.report

    def _run(self) -> None:
        docker = docker_env.check_docker(self.environ, self.run)
        self._add(docker.findings)
        request = self.request
        if not request.registry:
            self._add([info("Registry name must be provided to check connectivity.")])
            return
        login_server = self._login_server()
        if login_server is None:
            return
        self.report.login_server = login_server
        host = login_server.rsplit(":", 1)[0] if login_server.count(":") == 1 else login_server
        try:
            address = self.resolve(host)
        except (OSError, UnicodeError) as exc:
            self._add(
                [
                    problem(
                        "CONNECTIVITY_DNS_ERROR",
                        self._facts(login_server, error=str(exc), host=host, host_ip="127.0.0.1"),
                    )
                ]
            )
            return
        self._add([passed(f"DNS lookup to {login_server} at IP {address} : OK")])
        stored, mismatched = docker_env.find_credentials(login_server, self.environ, docker.command, self.run)
        if mismatched:
            docker_config = str(docker_env.config_files(self.environ, docker.command)[-1])
            for key in mismatched:
                facts = self._facts(login_server, stored_host=key, config_file=docker_config)
                self._add([problem("DOCKER_CONFIG_HOST_CASE", facts, warning=True)])
        chain = ChainInput(
            registry=request.registry,
            login_server=login_server,
            scheme=request.scheme,
            repository=request.repository,
            registry_id=request.registry_id,
            directory_token=request.directory_token,
            directory_error=request.directory_error,
            username=request.username,
            password=request.password,
            stored=stored,
            public_access_disabled=request.public_access_disabled,
            token_scope_map=request.token_scope_map,
            tag=request.tag,
        )
        self._add(drive(check_registry(chain), self.client))
        self._add(check_storage(self.client, request.scheme, login_server, self._facts(login_server)))
        if request.storage_usage is not None:
            self._add(check_quota(*request.storage_usage, self._facts(login_server)))
        if request.pull and request.repository and docker.daemon_ok and docker.command:
            tag = request.tag or next(
                (f.facts["tag"] for f in self.report.findings if "tag" in f.facts), None
            )
            if tag:  # "" when the repository has no tags (said above); None when it could not be listed
                self._add([self._sample_pull(docker.command, login_server, f"{request.repository}:{tag}")])

    def _facts(self, login_server: str, **more: str) -> dict[str, str]:
        return {
            "registry": self.request.registry or "",
            "login_server": login_server,
            "registry_id": self.request.registry_id,
            **more,
        }

    def _login_server(self) -> str | None:
        request = self.request
        name = request.registry or ""
        if not REGISTRY_NAME.match(name):
            self._add(
                [
                    problem(
                        "REGISTRY_NAME_ERROR",
                        {
                            "registry": name,
                            "error": "use 5-50 letters and digits (the resource name, not the login server)",
                        },
                    )
                ]
            )
            return None
        if not request.login_server and not request.domain_suffix:
            error = request.lookup_error or "no berth service is known"
            self._add([problem("LOGIN_SERVER_ERROR", self._facts("", error=error))])
            return None
        login_server = (request.login_server or f"{name.lower()}{request.domain_suffix}").lower()
        if name != name.lower():
            self._add([problem("REGISTRY_NAME_CASE_WARNING", self._facts(login_server), warning=True)])
        if request.lookup_error and not request.login_server:
            facts = self._facts(login_server, error=request.lookup_error)
            self._add([problem("REGISTRY_LOOKUP_WARNING", facts, warning=True)])
        return login_server

    def _sample_pull(self, command: str, login_server: str, reference: str) -> Finding:
        image = f"{login_server}/{reference}"
        pulled = self.run([command, "pull", "--quiet", image], timeout=300)
        if pulled.returncode == 0:
            return passed(f"Docker pull of '{image}' : OK")
        error = (pulled.stderr or pulled.stdout).strip().splitlines()[-1:] or ["failed"]
        return problem(
            "DOCKER_PULL_ERROR",
            self._facts(login_server, image=image, error=error[0], docker=command),
        )

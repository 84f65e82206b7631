"""helm-python-sdk (Helm 4's Go SDK through ctypes) as a one-shot command, for tests/e2e/test_helm.py.

Run as ``python -m tests.e2e.helm_driver`` with a JSON request on stdin (so passwords stay off
the command line); prints the SDK's JSON answer. A subprocess because the Go runtime reads
``SSL_CERT_FILE`` (berth's CA, over HTTPS) once, when the library loads.

Requests: ``{"op": "package", "name", "directory", "version"}``, ``{"op": "login", "host",
"username", "password"}``, ``{"op": "push", "chart", "remote"}``, ``{"op": "pull", "ref",
"version", "destination"}``, ``{"op": "logout", "host"}``; each also carries ``plain_http`` and
``credentials_file``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import helm_python as helm


def handle(request: dict[str, Any]) -> dict[str, Any]:
    plain_http = bool(request.get("plain_http"))
    op = request["op"]
    if op == "package":
        helm.Chart.create(request["name"], request["directory"])
        chart_dir = f"{request['directory']}/{request['name']}"
        return {
            "archive": helm.package(chart_dir, destination=request["directory"], version=request["version"])
        }
    client = helm.RegistryClient(plain_http=plain_http, credentials_file=request["credentials_file"])
    if op == "login":
        client.login(request["host"], request["username"], request["password"], plain_http=plain_http)
        return {}
    if op == "logout":
        client.logout(request["host"])
        return {}
    if op == "push":
        return client.push(request["chart"], request["remote"], plain_http=plain_http)
    if op == "pull":
        return client.pull(
            request["ref"],
            version=request["version"],
            destination=request["destination"],
            plain_http=plain_http,
        )
    raise ValueError(f"unknown op {op!r}")


if __name__ == "__main__":
    print(json.dumps(handle(json.loads(sys.stdin.read()))))

"""A small, standards-compliant OIDC issuer for the tests: not berth's directory.

It plays the part of a Kubernetes cluster's service-account issuer or of a CI system's
(GitHub Actions') token service: it serves ``<issuer>/.well-known/openid-configuration`` and
the JWKS it names over HTTP on loopback, and signs RS256 tokens shaped like theirs. Tokens can
be made to fail in every way a federated sign-in can (other audience, expired, from the
future, signed with a key the issuer does not publish).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class OidcIssuer:
    def __init__(self, path: str = "") -> None:
        self._key = _new_key()
        self.kid = uuid.uuid4().hex[:16]
        self._path = path.strip("/")
        self.requests: list[str] = []
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.requests.append(self.path)
                body = issuer._document(self.path)
                self.send_response(200 if body is not None else 404)
                payload = json.dumps(body if body is not None else {"error": "not found"}).encode()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-issuer", daemon=True)

    @property
    def url(self) -> str:
        """The issuer identifier (``iss``): ``http://127.0.0.1:PORT[/path]``."""
        return f"http://127.0.0.1:{self.port}" + (f"/{self._path}" if self._path else "")

    def start(self) -> OidcIssuer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OidcIssuer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _document(self, path: str) -> dict[str, Any] | None:
        prefix = f"/{self._path}" if self._path else ""
        if path == f"{prefix}/.well-known/openid-configuration":
            return {
                "issuer": self.url,
                "jwks_uri": f"{self.url}/openid/v1/jwks",
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        if path == f"{prefix}/openid/v1/jwks":
            public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
            return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}
        return None

    # --- tokens -------------------------------------------------------------------------

    def sign(
        self,
        subject: str,
        *,
        audience: str | list[str] = EXCHANGE_AUDIENCE,
        lifetime: int = 3600,
        issued_at: float | None = None,
        extra: dict[str, Any] | None = None,
        foreign_key: bool = False,
    ) -> str:
        """A token for ``subject``; ``issued_at`` moves it in time, ``foreign_key`` signs it with a
        key this issuer does not publish (under the published key id)."""
        now = int(issued_at if issued_at is not None else time.time())
        claims = {
            "iss": self.url,
            "sub": subject,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
            **(extra or {}),
        }
        key = _new_key() if foreign_key else self._key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})

    def kubernetes_token(self, namespace: str, service_account: str, **options: Any) -> str:
        """A projected service-account token, as the AKS workload identity webhook mounts it."""
        extra = {
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": service_account, "uid": str(uuid.uuid4())},
                "pod": {"name": f"{service_account}-pod", "uid": str(uuid.uuid4())},
            }
        }
        return self.sign(f"system:serviceaccount:{namespace}:{service_account}", extra=extra, **options)

    def github_token(self, repository: str, ref: str = "refs/heads/main", **options: Any) -> str:
        """A GitHub Actions OIDC token (``ACTIONS_ID_TOKEN_REQUEST_URL``'s answer)."""
        owner = repository.split("/")[0]
        extra = {
            "repository": repository,
            "repository_owner": owner,
            "ref": ref,
            "ref_type": "branch",
            "sha": uuid.uuid4().hex + uuid.uuid4().hex[:8],
            "workflow": "build",
            "event_name": "push",
            "actor": owner,
            "run_id": str(int(time.time())),
            "runner_environment": "github-hosted",
            "job_workflow_ref": f"{repository}/.github/workflows/build.yml@{ref}",
        }
        return self.sign(f"repo:{repository}:ref:{ref}", extra=extra, **options)

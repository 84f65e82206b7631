"""Three ``berth serve`` replicas on one PostgreSQL and one S3 store (moto in server mode),
behind HAProxy with round-robin balancing, no session affinity and health checks on
``/readyz`` — the deployment docs/deployment.md describes, with its HAProxy configuration.

Real docker pushes and pulls go through the balancer while one replica is killed with
SIGKILL; afterwards every pushed digest is intact and listed, nothing half-written is
visible, and the other replicas keep serving. Then what lives in each process must agree
across replicas: a tag overwritten on one is seen on another, a brute-force lockout reached
through all of them holds on each, and a key rotation and a token revocation are honoured
everywhere. Every "everywhere" is checked with bounded polling, never with a timed assertion.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import Connection, select

from berth.metadata.schema import blobs as blob_rows
from berth.metadata.schema import manifest_references
from tests.support.access_setup import AccessSetup
from tests.support.dockerd import DockerDaemon
from tests.support.haproxy import haproxy
from tests.support.images import rootfs_tarball, sha256_digest
from tests.support.objectstores import moto_server, s3_backend
from tests.support.ports import free_port
from tests.support.postgres import create_database
from tests.support.server import BerthServer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

OWNER_PASSWORD = "owner-Passw0rd"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
EVENTUALLY_SECONDS = 15.0


@dataclass
class Cluster:
    replicas: list[BerthServer]
    balancer: str  # 127.0.0.1:PORT
    database_url: str
    setup: AccessSetup
    admin: tuple[str, str]
    store_keys: Callable[[], list[str]]
    read_object: Callable[[str], bytes]

    @property
    def alive(self) -> list[BerthServer]:
        return [replica for replica in self.replicas if replica.running]


def eventually(check: Callable[[], bool], what: str, timeout: float = EVENTUALLY_SECONDS) -> float:
    """Poll ``check`` until it holds; returns how long that took (reported, never asserted)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not true within {timeout:.0f} s: {what}")
        time.sleep(0.005)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def cluster(postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("replicas")
    database_url = create_database(postgres_admin_url)
    setup = AccessSetup.for_database(database_url)
    password, _ = setup.enable_admin()
    balancer_port = free_port()
    with moto_server() as s3:
        env, keys = s3_backend(s3)
        env = {
            **env,
            "BERTH_BOOTSTRAP_PASSWORD": OWNER_PASSWORD,
            "BERTH_TRUSTED_PROXIES": "127.0.0.1/32",  # HAProxy, on this host
            # Clients reach every replica at the balancer's address: that is the login server,
            # the audience of the tokens any replica issues and every other one accepts.
            "BERTH_PUBLIC_PORT": str(balancer_port),
        }
        replicas = [
            BerthServer(root / f"replica-{n}", database_url=database_url, args=["--workers", "2"], env=env)
            for n in (1, 2, 3)
        ]
        try:
            replicas[0].start()  # starting together is tested in tests/unit/test_first_start.py
            for replica in replicas[1:]:
                replica.start()
            with haproxy([replica.address for replica in replicas], balancer_port) as balancer:
                import boto3

                from berth.storage.s3 import client_config

                client = boto3.client(
                    "s3",
                    endpoint_url=s3.endpoint,
                    region_name=s3.region,
                    aws_access_key_id=s3.access_key,
                    aws_secret_access_key=s3.secret_key,
                    config=client_config(),
                )
                bucket = env["BERTH_S3_BUCKET"]

                def read_object(key: str) -> bytes:
                    body: bytes = client.get_object(Bucket=bucket, Key=key)["Body"].read()
                    return body

                yield Cluster(
                    replicas, balancer, database_url, setup, ("default", password), keys, read_object
                )
        finally:
            for replica in replicas:
                replica.close()
            setup.close()


def _docker_push(dockerd: DockerDaemon, reference: str, attempts: int = 4) -> str:
    """``docker push`` as a user does it: docker retries each layer itself; if it still gives
    up (a replica died under it), run the push again."""
    for attempt in range(attempts):
        result = dockerd.run("push", reference, check=False)
        found = re.search(r"digest: (sha256:[0-9a-f]{64})", result.stdout)
        retried = result.stdout.count("Retrying")
        if retried or attempt:
            print(f"\n{reference}: docker retried {retried} layer uploads, push run {attempt + 1}")
        if result.returncode == 0 and found:
            return found.group(1)
        if attempt == attempts - 1:
            raise AssertionError(
                f"docker push {reference} failed {attempts} times: {result.stdout}{result.stderr}"
            )
        time.sleep(1)
    raise AssertionError("unreachable")


def _docker_pull(dockerd: DockerDaemon, reference: str, attempts: int = 4) -> str:
    for attempt in range(attempts):
        result = dockerd.run("pull", reference, check=False)
        found = re.search(r"Digest: (sha256:[0-9a-f]{64})", result.stdout)
        if result.returncode == 0 and found:
            return found.group(1)
        if attempt == attempts - 1:
            raise AssertionError(
                f"docker pull {reference} failed {attempts} times: {result.stdout}{result.stderr}"
            )
        time.sleep(1)
    raise AssertionError("unreachable")


def _check_repository(http: httpx.Client, repository: str, tag: str, digest: str) -> None:
    """The tag is listed and names ``digest``, whose manifest's bytes hash to it and whose
    blobs are all there with the bytes their digests promise."""
    tags = http.get(f"/v2/{repository}/tags/list")
    assert tags.status_code == 200, tags.text
    assert tag in tags.json()["tags"]
    stored = http.get(f"/v2/{repository}/manifests/{tag}", headers={"Accept": DOCKER_MANIFEST})
    assert stored.status_code == 200, stored.text
    assert stored.headers["Docker-Content-Digest"] == digest == sha256_digest(stored.content)
    manifest = stored.json()
    for descriptor in [manifest["config"], *manifest["layers"]]:
        blob = http.get(f"/v2/{repository}/blobs/{descriptor['digest']}")
        assert blob.status_code == 200, blob.text
        assert sha256_digest(blob.content) == descriptor["digest"]
        assert len(blob.content) == descriptor["size"]


def _known_blobs(conn: Connection) -> list[str]:
    """Every blob digest the metadata holds or a manifest references."""
    referenced = select(manifest_references.c.digest).where(manifest_references.c.kind == "blob")
    return [row[0] for row in conn.execute(select(blob_rows.c.digest).union(referenced)).all()]


def test_docker_through_the_balancer_survives_a_replica_killed_mid_push(
    cluster: Cluster, dockerd: DockerDaemon, tmp_path: Path
) -> None:
    balancer = cluster.balancer
    user, password = cluster.admin
    dockerd.run("login", balancer, "-u", user, "-p", password)

    seeded = f"{balancer}/replicas/seed:v1"
    dockerd.run("import", str(rootfs_tarball(tmp_path / "seed.tar", size=2 * 1024 * 1024)), seeded)
    pushed = {seeded: _docker_push(dockerd, seeded)}

    references = [f"{balancer}/replicas/app{n}:v1" for n in range(6)]
    for n, reference in enumerate(references):
        tarball = rootfs_tarball(tmp_path / f"app{n}.tar", size=3 * 1024 * 1024)
        dockerd.run("import", str(tarball), reference)

    results: dict[str, str] = {}
    failures: list[BaseException] = []

    def push(reference: str) -> None:
        try:
            results[reference] = _docker_push(dockerd, reference)
        except BaseException as exc:
            failures.append(exc)

    def pull_seed_repeatedly(stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                dockerd.run("rmi", seeded, check=False)
                assert _docker_pull(dockerd, seeded) == pushed[seeded]
        except BaseException as exc:
            failures.append(exc)

    stop_pulling = threading.Event()
    workers = [threading.Thread(target=push, args=(reference,)) for reference in references]
    workers.append(threading.Thread(target=pull_seed_repeatedly, args=(stop_pulling,)))
    for worker in workers:
        worker.start()
    victim = cluster.replicas[1]
    # Kill once uploads are flowing through every replica (the store has upload parts).
    eventually(lambda: any("/uploads/" in key for key in cluster.store_keys()), "uploads in progress", 60)
    victim.stop(signal.SIGKILL)
    for worker in workers[:-1]:
        worker.join(timeout=240)
    stop_pulling.set()
    workers[-1].join(timeout=60)
    assert not failures, failures
    pushed.update(results)
    assert set(pushed) == {seeded, *references}

    # Every digest pulls back intact through the balancer (now two replicas) ...
    for reference, digest in pushed.items():
        dockerd.run("rmi", reference, check=False)
        assert _docker_pull(dockerd, reference) == digest
    # ... and each surviving replica, asked directly, lists it with every blob intact.
    for replica in cluster.alive:
        with httpx.Client(base_url=replica.url, auth=cluster.admin, timeout=30, trust_env=False) as http:
            catalog = http.get("/v2/_catalog").json()["repositories"]
            for reference, digest in pushed.items():
                repository, tag = reference.split("/", 1)[1].rsplit(":", 1)
                assert repository in catalog
                _check_repository(http, repository, tag, digest)
    # Nothing half-written: every blob in the store has the bytes its name promises.
    blobs = [key for key in cluster.store_keys() if "/blobs/sha256/" in key]
    assert blobs
    for key in blobs:
        assert hashlib.sha256(cluster.read_object(key)).hexdigest() == key.rsplit("/", 1)[1]
    # ... and every blob the metadata knows, or any manifest references, is in the store.
    stored = {"sha256:" + key.rsplit("/", 1)[1] for key in blobs}
    assert set(cluster.setup.db.read_sync(_known_blobs)) <= stored

    # The survivors keep serving: a new push and pull through the balancer.
    after = f"{balancer}/replicas/after:v1"
    dockerd.run("import", str(rootfs_tarball(tmp_path / "after.tar")), after)
    digest = _docker_push(dockerd, after, attempts=1)
    dockerd.run("rmi", after)
    assert _docker_pull(dockerd, after, attempts=1) == digest
    victim.start()  # back for the tests below


def _push_small_image(http: httpx.Client, repository: str, tag: str, marker: str) -> str:
    config = json.dumps({"architecture": "amd64", "os": "linux", "marker": marker}).encode()
    layer = marker.encode() * 10
    for blob in (config, layer):
        digest = sha256_digest(blob)
        done = http.post(f"/v2/{repository}/blobs/uploads/", params={"digest": digest}, content=blob)
        assert done.status_code == 201, done.text
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": sha256_digest(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "digest": sha256_digest(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    put = http.put(
        f"/v2/{repository}/manifests/{tag}", content=manifest, headers={"Content-Type": DOCKER_MANIFEST}
    )
    assert put.status_code == 201, put.text
    return sha256_digest(manifest)


def test_a_tag_overwritten_on_one_replica_is_seen_on_the_others(cluster: Cluster) -> None:
    clients = [
        httpx.Client(base_url=r.url, auth=cluster.admin, timeout=30, trust_env=False) for r in cluster.alive
    ]
    try:
        writer, readers = clients[0], clients[1:]

        def digest_on(http: httpx.Client) -> str:
            answer = http.head("/v2/replicas/moving/manifests/latest", headers={"Accept": DOCKER_MANIFEST})
            return str(answer.headers.get("Docker-Content-Digest", ""))

        def serves(http: httpx.Client, digest: str) -> bool:
            return digest_on(http) == digest

        seen: list[float] = []
        for round_number in range(5):
            old = _push_small_image(writer, "replicas/moving", "latest", f"old-{round_number}")
            for reader in readers:
                eventually(partial(serves, reader, old), "the first push is seen")
                digest_on(reader)  # now in the reader's manifest cache
            new = _push_small_image(writer, "replicas/moving", "latest", f"new-{round_number}")
            for reader in readers:
                seen.append(eventually(partial(serves, reader, new), "the overwrite is seen"))
        print(
            f"\ncross-replica visibility of a tag overwrite: max {max(seen) * 1000:.1f} ms over {len(seen)}"
        )
    finally:
        for client in clients:
            client.close()


def test_a_lockout_reached_through_the_balancer_holds_on_every_replica(cluster: Cluster) -> None:
    sp = cluster.setup.service_principal("lockout-target", role="AcrPull")
    with httpx.Client(base_url=f"http://{cluster.balancer}", timeout=30, trust_env=False) as through:
        for _ in range(10):  # auth_failures_per_identity: spread round-robin over the replicas
            answer = through.get("/v2/", auth=(sp.app_id, "wrong-password"))
            assert answer.status_code == 401, answer.text
    for replica in cluster.alive:
        with httpx.Client(base_url=replica.url, timeout=30, trust_env=False) as direct:
            eventually(
                partial(_refused, direct, (sp.app_id, sp.secret)),
                f"the right password is refused on {replica.address} during the lockout",
            )


def _access_token(replica: BerthServer, credentials: tuple[str, str]) -> str:
    with httpx.Client(base_url=replica.url, timeout=30, trust_env=False) as http:
        answer = http.get(
            "/oauth2/token",
            params={"service": "localhost", "scope": "repository:replicas/moving:pull"},
            auth=credentials,
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token


def _refused(http: httpx.Client, credentials: tuple[str, str]) -> bool:
    return http.get("/v2/", auth=credentials).status_code == 429


def _signs_with(replica: BerthServer, credentials: tuple[str, str], kid: str) -> bool:
    return bool(jwt.get_unverified_header(_access_token(replica, credentials))["kid"] == kid)


def _refuses(replica: BerthServer, token: str) -> bool:
    return _status_with(replica, token) == 401


def _status_with(replica: BerthServer, token: str) -> int:
    with httpx.Client(base_url=replica.url, timeout=30, trust_env=False) as http:
        answer = http.get("/v2/replicas/moving/tags/list", headers={"Authorization": f"Bearer {token}"})
        return answer.status_code


def test_a_key_rotation_on_one_process_is_honoured_by_every_replica(cluster: Cluster) -> None:
    before = _access_token(cluster.replicas[0], cluster.admin)
    rotated = subprocess.run(
        [sys.executable, "-m", "berth", "admin", "rotate-keys", "--database-url", cluster.database_url],
        capture_output=True,
        text=True,
        check=True,
    )
    kid = re.search(r"new signing key (\S+);", rotated.stdout)
    assert kid is not None, rotated.stdout
    for replica in cluster.alive:
        eventually(
            partial(_signs_with, replica, cluster.admin, kid.group(1)),
            f"{replica.address} signs with the new key",
        )
    fresh = _access_token(cluster.replicas[0], cluster.admin)
    for replica in cluster.alive:
        assert _status_with(replica, fresh) == 200  # the new key verifies everywhere at once
        assert _status_with(replica, before) == 200  # and the retired one still does


def test_a_revoked_token_is_refused_by_every_replica(cluster: Cluster) -> None:
    token = cluster.setup.token("replica-reader", "_repositories_pull")
    access = _access_token(cluster.replicas[0], (token.name, token.password1))
    for replica in cluster.alive:
        assert _status_with(replica, access) == 200
    cluster.setup.set_token_enabled(token, False)  # the management plane, on yet another process
    for replica in cluster.alive:
        eventually(
            partial(_refuses, replica, access), f"{replica.address} refuses the disabled token's access token"
        )

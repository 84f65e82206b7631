"""OCI Distribution operations the cases time: blob pushes (monolithic and chunked), pulls,
and the small image the manifest benchmark reads."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from bench.payload import Payload
from bench.wire import Client, Sink, Stopwatch, UnexpectedResponse, expect, json_body, location, with_query

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


@dataclass(frozen=True)
class Transfer:
    seconds: float
    size: int

    @property
    def mb_per_s(self) -> float:
        return self.size / self.seconds / 1e6


def push_monolithic(client: Client, repository: str, payload: Payload) -> Transfer:
    """POST a session, then PUT the whole blob with ``?digest=`` (one body, one request)."""
    digest = payload.digest  # computed before the clock starts
    clock = Stopwatch()
    session = location(expect(client.request("POST", f"/v2/{repository}/blobs/uploads/"), 202, "POST upload"))
    reply = client.send_payload("PUT", with_query(session, "digest", digest), payload)
    expect(reply, 201, "PUT blob")
    return Transfer(clock.seconds(), payload.size)


def push_chunked(client: Client, repository: str, payload: Payload, chunk_size: int) -> Transfer:
    """POST a session, PATCH ``chunk_size`` pieces with Content-Range, then PUT ``?digest=``."""
    digest = payload.digest
    clock = Stopwatch()
    session = location(expect(client.request("POST", f"/v2/{repository}/blobs/uploads/"), 202, "POST upload"))
    for start in range(0, payload.size, chunk_size):
        count = min(chunk_size, payload.size - start)
        reply = client.send_payload(
            "PATCH", session, payload, start, count, {"Content-Range": f"{start}-{start + count - 1}"}
        )
        session = location(expect(reply, 202, f"PATCH {start}-{start + count - 1}"))
    expect(client.request("PUT", with_query(session, "digest", digest)), 201, "PUT complete")
    return Transfer(clock.seconds(), payload.size)


def pull(client: Client, repository: str, digest: str, sink: Sink) -> Transfer:
    """GET a blob into ``sink``; the digest is checked after the clock stops."""
    clock = Stopwatch()
    size, headers = client.receive(f"/v2/{repository}/blobs/{digest}", sink)
    seconds = clock.seconds()
    if sink.digest() != digest:
        raise UnexpectedResponse(f"pulled {size} bytes whose digest {sink.digest()} is not {digest}")
    advertised = headers.get("Docker-Content-Digest")
    if advertised is not None and advertised != digest:
        raise UnexpectedResponse(f"Docker-Content-Digest {advertised} is not {digest}")
    return Transfer(seconds, size)


def delete_blob(client: Client, repository: str, digest: str) -> None:
    reply = client.request("DELETE", f"/v2/{repository}/blobs/{digest}")
    if reply.status not in (202, 404):
        raise UnexpectedResponse(f"DELETE blob: {reply.status} {reply.body[:200]!r}")


def _put_small_blob(client: Client, repository: str, content: bytes) -> tuple[str, int]:
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    session = location(expect(client.request("POST", f"/v2/{repository}/blobs/uploads/"), 202, "POST upload"))
    reply = client.request(
        "PUT", with_query(session, "digest", digest), content, {"Content-Type": "application/octet-stream"}
    )
    expect(reply, 201, "PUT small blob")
    return digest, len(content)


def push_image(client: Client, repository: str, tag: str) -> str:
    """A one-layer OCI image (random 32 KiB layer); returns the manifest digest."""
    layer_digest, layer_size = _put_small_blob(client, repository, os.urandom(32 * 1024))
    config = json_body(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        }
    )
    config_digest, config_size = _put_small_blob(client, repository, config)
    manifest = json_body(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": layer_size}],
        }
    )
    reply = client.request(
        "PUT", f"/v2/{repository}/manifests/{tag}", manifest, {"Content-Type": OCI_MANIFEST}
    )
    expect(reply, 201, "PUT manifest")
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    check = expect(
        client.request("GET", f"/v2/{repository}/manifests/{tag}", headers={"Accept": OCI_MANIFEST}),
        200,
        "GET manifest",
    )
    if check.body != manifest:
        raise UnexpectedResponse("the manifest read back differs from the one pushed")
    return digest

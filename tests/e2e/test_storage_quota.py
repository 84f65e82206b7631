"""The storage quota as a docker user meets it: the real docker CLI and dockerd push to a berth
whose default registry has a 16 KiB quota (``default_storage_quota``), and the 64 KiB layer is
refused with a message docker prints, once, without retrying."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ServerFactory
from tests.support.dockerd import DockerDaemon
from tests.support.images import rootfs_tarball

pytestmark = pytest.mark.e2e

QUOTA = "16KiB"


def test_docker_prints_the_quota_refusal_and_does_not_retry(
    dockerd: DockerDaemon, make_berth_server: ServerFactory, tmp_path: Path
) -> None:
    server = make_berth_server(env={"BERTH_DEFAULT_STORAGE_QUOTA": QUOTA})
    reference = f"{server.address}/quota/app:v1"
    dockerd.run("import", str(rootfs_tarball(tmp_path / "rootfs.tar")), reference)

    pushed = dockerd.run("push", reference, check=False)

    assert pushed.returncode != 0
    output = pushed.stdout + pushed.stderr
    printed = re.search(r"denied: storage quota exceeded: [^\n]*", output)
    assert printed, output
    message = printed.group(0)
    assert re.match(
        r"denied: storage quota exceeded: registry 'default' stores [0-9.]+ (B|KiB) of its 16\.0 KiB quota "
        r"and this blob needs [0-9.]+ KiB more; nothing was stored\. Free space \(delete images with "
        r"berth acr repository delete or berth acr purge, then berth acr gc -n default\) or raise the quota: "
        r"berth acr update -n default --storage-quota 1MiB \(correlation id [0-9a-f-]{36}\)$",
        message,
    ), message
    # DENIED is not retried: the layer's upload was refused exactly once.
    refused = [line for line in server.log().splitlines() if " 403 " in line and "/blobs/uploads/" in line]
    assert len(refused) == 1, "\n".join(refused)
    # Nothing of the image is listed, and the registry still answers.
    with httpx.Client(base_url=server.url, timeout=30.0, trust_env=False) as http:
        assert http.get("/v2/quota/app/tags/list").status_code == 404

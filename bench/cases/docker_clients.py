"""Issue 14's last growth case: many docker clients pushing different multi-layer images at once.

One private docker engine (``tests/support/dockerd.py``: vfs storage, no iptables, no bridge,
127.0.0.1 registries insecure) holds ``--docker-clients`` images, each of ``--docker-layers``
layers of ``--docker-layer-mib`` MiB of random bytes (so no layer is shared and each is
``--docker-layer-mib`` on the wire, gzip gaining nothing). The images are written as
``docker load`` archives by hand, so nothing is pulled from a network, and loaded once for the
whole run. On each server the case tags every image as ``127.0.0.1:<port>/bench/client-<n>``
and starts one ``docker push`` per image at the same moment; it measures the wall time until
the last push finished and the server's CPU time over that window, then checks that every
manifest is there.

The engine pushes to another ``host:port`` for each server, so it mounts nothing across
servers and every server receives every layer. ``--max-concurrent-uploads`` is raised to five
per client (the engine's default for one client), so one engine stands for twenty machines
each running its own. The docker client compresses every layer before sending it (about as
much CPU on the client side as the servers spend), so on a 2-core machine the wall time is
shared between client and server; the server CPU figure separates them.

Opt-in (``--docker-clients N``): loading the images costs disk (vfs copies each layer into the
next: ~1.1 GiB per 10 x 20 MiB image) and a few minutes at full size.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import subprocess
import tarfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.cases import CaseContext, Samples
from bench.cpu import CpuMeter
from bench.metrics import Metric, Sample
from bench.options import MIB, Options
from bench.servers import REGISTRY, RunningServer

NAME = "docker-clients"
_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_UPLOADS_PER_CLIENT = 5  # dockerd's default --max-concurrent-uploads, for one client
_PUSH_TIMEOUT = 3600.0


@dataclass
class _Engine:
    """The running engine and the local names of the images it holds."""

    daemon: Any  # tests.support.dockerd.DockerDaemon (imported lazily: the bench runs without tests)
    images: tuple[str, ...]


_ENGINE: list[_Engine] = []  # set while :func:`engine` runs


def wanted(options: Options) -> bool:
    return options.docker_clients > 0 and (not options.cases or NAME in options.cases)


@contextlib.contextmanager
def engine(options: Options, workdir: Path, log: Any) -> Iterator[None]:
    """Start the private dockerd and load the images once, for every server of the run."""
    if not wanted(options):
        yield
        return
    from tests.support.dockerd import docker_daemon

    uploads = str(_UPLOADS_PER_CLIENT * options.docker_clients)
    with docker_daemon(["--max-concurrent-uploads", uploads]) as daemon:
        started = time.perf_counter()
        images = tuple(f"bench/client-{n}:latest" for n in range(options.docker_clients))
        archives = workdir / "docker-images"
        archives.mkdir(exist_ok=True)

        def load(image: str) -> None:
            archive = archives / (image.replace("/", "_").replace(":", "_") + ".tar")
            _write_archive(archive, image, options.docker_layers, options.docker_layer_mib * MIB)
            daemon.run("load", "--quiet", "--input", str(archive), timeout=_PUSH_TIMEOUT)
            archive.unlink()

        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(load, images))
        log(
            f"docker engine: {len(images)} images of {options.docker_layers} x "
            f"{options.docker_layer_mib} MiB layers loaded in {time.perf_counter() - started:.0f} s"
        )
        _ENGINE.append(_Engine(daemon, images))
        try:
            yield
        finally:
            _ENGINE.clear()


def _write_archive(path: Path, image: str, layers: int, layer_size: int) -> None:
    """A ``docker save``-style archive: ``manifest.json``, the config, one tar per layer."""
    diff_ids: list[str] = []
    layer_names: list[str] = []
    with tarfile.open(path, "w") as archive:
        for index in range(layers):
            layer = _layer_tar(index, layer_size)
            diff_ids.append("sha256:" + hashlib.sha256(layer).hexdigest())
            layer_names.append(f"layer-{index}.tar")
            _add(archive, layer_names[-1], layer)
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {"Env": ["PATH=/usr/bin:/bin"]},
                "rootfs": {"type": "layers", "diff_ids": diff_ids},
            }
        ).encode()
        config_name = hashlib.sha256(config).hexdigest() + ".json"
        _add(archive, config_name, config)
        manifest = [{"Config": config_name, "RepoTags": [image], "Layers": layer_names}]
        _add(archive, "manifest.json", json.dumps(manifest).encode())


def _layer_tar(index: int, size: int) -> bytes:
    """An uncompressed layer holding one file of ``size`` random bytes (unique to this layer)."""
    with open("/dev/urandom", "rb") as random:
        content = random.read(size)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as layer:
        _add(layer, f"data/layer-{index}.bin", content)
    return buffer.getvalue()


def _add(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(content), 0o644, 1_700_000_000
    archive.addfile(info, io.BytesIO(content))


@dataclass(frozen=True)
class DockerClients:
    """Wall time of N concurrent ``docker push`` runs of different images, and the server's CPU."""

    clients: int
    layers: int
    layer_mib: int
    name: str = NAME
    requires: frozenset[str] = REGISTRY

    @property
    def metrics(self) -> tuple[Metric, ...]:
        what = f"{self.clients} docker clients pushing {self.layers} x {self.layer_mib} MiB layers each"
        return (
            Metric("docker_clients.wall", f"{what}: wall time", "s", higher_is_better=False),
            Metric("docker_clients.cpu", "  server CPU", "s", higher_is_better=False),
            Metric("docker_clients.slowest", "  slowest client", "s", higher_is_better=False),
        )

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        if not _ENGINE:
            raise RuntimeError("the docker engine is not running (the runner starts it for this case)")
        engine_ = _ENGINE[0]
        daemon = engine_.daemon
        remote = {image: f"{server.host}:{server.port}/{image}" for image in engine_.images}
        for image, target in remote.items():
            daemon.run("tag", image, target)
        try:
            with ctx.profiled(server, self.name), CpuMeter(server.pid) as cpu:
                started = time.perf_counter()
                pushes = [
                    (
                        subprocess.Popen(
                            [daemon.cli, "push", target],
                            env=daemon.env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE,
                            text=True,
                        ),
                        target,
                    )
                    for target in remote.values()
                ]
                with ThreadPoolExecutor(max_workers=len(pushes)) as waiters:  # each push timed on its own
                    durations = list(
                        waiters.map(lambda pushed: _finish(pushed[0], pushed[1], started), pushes)
                    )
                wall = time.perf_counter() - started
        finally:
            daemon.run("rmi", *remote.values(), check=False)
        _check_manifests(server, [image.partition(":")[0] for image in engine_.images])
        detail = {"clients": self.clients, "layers": self.layers, "layer_mib": self.layer_mib}
        return {
            "docker_clients.wall": Sample(wall, (wall,), detail),
            "docker_clients.cpu": Sample(cpu.seconds, (cpu.seconds,), detail),
            "docker_clients.slowest": Sample(max(durations), tuple(durations), detail),
        }


def _finish(push: subprocess.Popen[str], target: str, started: float) -> float:
    """Wait for one push; its duration since the common start (raises if docker failed)."""
    _, errors = push.communicate(timeout=_PUSH_TIMEOUT)
    finished = time.perf_counter() - started
    if push.returncode != 0:
        raise RuntimeError(f"docker push {target} exited {push.returncode}: {errors.strip()[-500:]}")
    return finished


def _check_manifests(server: RunningServer, repositories: list[str]) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for repository in repositories:
            answer = client.head(f"/v2/{repository}/manifests/latest", headers={"Accept": _DOCKER_MANIFEST})
            if answer.status_code != 200:
                raise RuntimeError(
                    f"{repository}:latest is not on the server after the push: {answer.status_code}"
                )

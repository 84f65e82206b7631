"""Push and pull through each object storage driver, berth next to Distribution's own driver.

The stores are the test suite's emulators, started once for the run (:func:`object_stores`):
moto in server mode for S3 and Azurite for Azure Blob Storage, each a separate process on
loopback. Every server gets a new bucket or container of its own. Both registries run twice
per store: proxying blob reads (``berth``'s default; Distribution with ``redirect.disable``) and
redirecting blob GETs to a presigned or SAS URL (``storage_redirect``; Distribution's default),
which the benchmark client follows to the emulator, as docker does.

Distribution is measured on S3 only: Debian's docker-registry 2.8.2 is built without the azure
driver ("StorageDriver not registered: azure"), and upstream 2.8's azure driver could not reach
Azurite anyway: it builds its endpoint as ``https://<accountname>.blob.<realm>`` (HTTPS only,
the account in the host name), while Azurite serves ``http://127.0.0.1:<port>/devstoreaccount1``.

The emulators do most of the work here (moto is Python, Azurite is Node.js, both on the same two
cores), so these figures compare the registries' overhead on one store, not the stores.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bench.cases import CaseContext, Samples
from bench.cases.blobs import _samples, _timed
from bench.metrics import Metric, Subject
from bench.options import MIB, Options
from bench.payload import Payload, generate
from bench.registry import Transfer, pull, push_monolithic
from bench.servers import HOST, BerthSpec, DistributionSpec, RunningServer, ServerSpec
from bench.wire import BufferSink, Client, Stopwatch, UnexpectedResponse, expect

if TYPE_CHECKING:
    from tests.support.objectstores import AzureServer, S3Server

# moto and Azurite take in about 10 to 30 MB/s here: a smaller blob than the filesystem cases'
# keeps a run to a few minutes; at 64 MiB a transfer still lasts seconds, not request overhead.
MAX_SIZE_MIB = 64
REPOSITORY = "bench/objects"
DRIVERS = ("s3", "azure")
STORES = {"s3": "S3 on moto", "azure": "Azure on Azurite"}


def capability(driver: str, redirect: bool) -> str:
    return f"object-{driver}{'-redirect' if redirect else ''}"


@dataclass(frozen=True)
class Stores:
    """The running emulators; ``new_store(driver)`` makes a bucket or container for one server."""

    s3: S3Server
    azure: AzureServer

    def berth_env(self, driver: str) -> dict[str, str]:
        from tests.support.objectstores import azure_backend, s3_backend

        env, _ = s3_backend(self.s3) if driver == "s3" else azure_backend(self.azure)
        return env

    def distribution_s3_config(self) -> str:
        from tests.support.objectstores import new_bucket

        server = self.s3
        return (
            "  s3:\n"
            f"    regionendpoint: {server.endpoint}\n"
            f"    region: {server.region}\n"
            f"    bucket: {new_bucket(server)}\n"
            f"    accesskey: {server.access_key}\n"
            f"    secretkey: {server.secret_key}\n"
            "    secure: false\n    v4auth: true\n"
        )


def _wanted(options: Options) -> bool:
    names = {case.name for case in object_cases(options)}
    return not options.cases or bool(names & set(options.cases))


@contextlib.contextmanager
def servers(options: Options) -> Iterator[list[ServerSpec]]:
    """Start moto and Azurite (when an object storage case is chosen) and yield the specs to run."""
    if not _wanted(options):
        yield []
        return
    from tests.support.objectstores import azurite_server, moto_server

    with moto_server() as s3, azurite_server() as azure:
        stores = Stores(s3, azure)
        chosen: list[ServerSpec] = []
        for redirect in (False, True):
            if "distribution" in options.servers:
                named = _named("Distribution", "s3", redirect)
                chosen.append(DistributionS3Spec(stores, redirect, options.distribution_bin, **named))
            if "berth" in options.servers:
                for driver in DRIVERS:
                    named = _named("berth", driver, redirect)
                    chosen.append(
                        BerthObjectSpec(
                            stores, driver, redirect, options.berth_bin, options.berth_args, **named
                        )
                    )
        yield chosen


@dataclass(frozen=True)
class DistributionS3Spec:
    """Distribution 2.8 with its s3 driver (``s3-aws``) on moto, path-style over HTTP."""

    stores: Stores
    redirect: bool
    binary: str
    label: str
    capabilities: frozenset[str]
    subject: Subject = "distribution"

    def command(self, port: int, workdir: Path) -> list[str]:
        config = workdir / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: error\n  accesslog:\n    disabled: true\n"
            "storage:\n  cache:\n    blobdescriptor: inmemory\n"
            f"{self.stores.distribution_s3_config()}"
            "  delete:\n    enabled: true\n"
            f"  redirect:\n    disable: {'false' if self.redirect else 'true'}\n"
            f"http:\n  addr: {HOST}:{port}\n"
        )
        # A CA bundle in the environment makes the AWS SDK for Go refuse to start (its custom
        # transport cannot take one); the store is plain HTTP on loopback anyway.
        return ["env", "-u", "AWS_CA_BUNDLE", self.binary, "serve", str(config)]

    def version(self) -> str:
        return DistributionSpec(self.binary).version()


@dataclass(frozen=True)
class BerthObjectSpec:
    """``berth serve --insecure-no-auth`` on a new bucket or container of the emulator."""

    stores: Stores
    driver: str
    redirect: bool
    binary: str
    extra_args: tuple[str, ...]
    label: str
    capabilities: frozenset[str]
    subject: Subject = "berth"

    def command(self, port: int, workdir: Path) -> list[str]:
        env = {**self.stores.berth_env(self.driver), "BERTH_STORAGE_REDIRECT": str(self.redirect).lower()}
        plain = BerthSpec(self.binary, extra_args=self.extra_args).command(port, workdir)
        return ["env", *(f"{name}={value}" for name, value in env.items()), *plain]

    def version(self) -> str:
        return BerthSpec(self.binary).version()


def _named(server: str, driver: str, redirect: bool) -> dict[str, Any]:
    """A spec's ``label`` and ``capabilities`` for one store and read mode."""
    return {
        "label": f"{server} ({driver}{', redirect' if redirect else ''})",
        "capabilities": frozenset({capability(driver, redirect)}),
    }


@functools.cache
def _payload(workdir: Path, size_mib: int) -> Payload:
    folder = workdir / "object-storage"
    folder.mkdir(exist_ok=True)
    return generate(folder, size_mib * MIB)


def pull_redirected(client: Client, repository: str, digest: str, sink: BufferSink) -> Transfer:
    """GET the blob, expect a 307, and GET its Location from the store (a new connection)."""
    clock = Stopwatch()
    reply = expect(client.request("GET", f"/v2/{repository}/blobs/{digest}"), 307, "GET blob")
    target = urlsplit(reply.headers.get("Location", ""))
    if target.hostname is None:
        raise UnexpectedResponse(f"307 without an absolute Location: {reply.headers.get('Location')!r}")
    with Client(target.hostname, target.port or 80) as store:
        size, _ = store.receive(f"{target.path}?{target.query}", sink)
    seconds = clock.seconds()
    if sink.digest() != digest:
        raise UnexpectedResponse(f"pulled {size} bytes whose digest {sink.digest()} is not {digest}")
    return Transfer(seconds, size)


@dataclass(frozen=True)
class ObjectStoreTransfers:
    """Monolithic push, then pull, of one blob on one store (proxied or redirected reads)."""

    driver: str
    redirect: bool
    size_mib: int

    @property
    def name(self) -> str:
        return f"{self.driver}{'-redirect' if self.redirect else ''}"

    @property
    def requires(self) -> frozenset[str]:
        return frozenset({capability(self.driver, self.redirect)})

    @property
    def _key(self) -> str:
        return f"objects.{self.driver}{'.redirect' if self.redirect else ''}"

    @property
    def metrics(self) -> tuple[Metric, ...]:
        where = STORES[self.driver]
        pull_how = "GET, 307 followed to the store" if self.redirect else "GET, proxied"
        metrics = [
            Metric(f"{self._key}.pull", f"{where}: pull {self.size_mib} MiB, {pull_how}", "MB/s"),
            Metric(f"{self._key}.pull.cpu", "  server CPU per GiB", "s", higher_is_better=False),
        ]
        if not self.redirect:  # the push is the same with or without redirects
            metrics[:0] = [
                Metric(f"{self._key}.push", f"{where}: push {self.size_mib} MiB, monolithic PUT", "MB/s"),
                Metric(f"{self._key}.push.cpu", "  server CPU per GiB", "s", higher_is_better=False),
            ]
        return tuple(metrics)

    def run(self, server: RunningServer, ctx: CaseContext) -> Samples:
        payload = _payload(ctx.payload.path.parent, self.size_mib)
        sink = BufferSink(payload.size)
        pushes: list[tuple[Transfer, float]] = []
        pulls: list[tuple[Transfer, float]] = []
        fetch: Callable[[Client, str, str, BufferSink], Transfer] = pull_redirected if self.redirect else pull
        with Client(server.host, server.port) as client:
            for run in range(ctx.options.repeat):
                repository = f"{REPOSITORY}-{run}"
                if run == 0 or not self.redirect:  # the redirect case pushes once, untimed
                    pushes.append(_timed(server, partial(push_monolithic, client, repository, payload)))
                else:
                    repository = f"{REPOSITORY}-0"
                pulls.append(_timed(server, partial(fetch, client, repository, payload.digest, sink)))
        samples = _samples(f"{self._key}.pull", pulls, server, ctx)
        if not self.redirect:
            samples.update(_samples(f"{self._key}.push", pushes, server, ctx))
        return samples


def object_cases(options: Options) -> list[ObjectStoreTransfers]:
    size = min(options.size_mib, MAX_SIZE_MIB)
    return [ObjectStoreTransfers(driver, redirect, size) for driver in DRIVERS for redirect in (False, True)]

"""The hash ceiling: SHA-256 throughput of one core, measured in the same run as the servers.

A push that verifies its digest in one stream cannot go faster than one core hashes, and the
rate moves by 1.1 to 1.9 GB/s with the CPU the machine has that day, so the report shows it next
to the push figures instead of quoting a constant. Measured on 1 MiB slices of an in-memory
buffer (what berth hashes per block), best of a few runs (the figure is a ceiling).
"""

from __future__ import annotations

import hashlib
import os
import time

from bench.metrics import Metric, Sample

KEY = "hash.sha256"
METRIC = Metric(KEY, "hash ceiling: SHA-256 on one core", "MB/s")
_BLOCK = 1024 * 1024


def measure(total_mib: int = 256, runs: int = 3) -> Sample:
    data = memoryview(os.urandom(_BLOCK * 8))
    rates = []
    for _ in range(runs):
        digest = hashlib.sha256()
        started = time.perf_counter()
        for i in range(total_mib):
            offset = (i % 8) * _BLOCK
            digest.update(data[offset : offset + _BLOCK])
        rates.append(total_mib * _BLOCK / (time.perf_counter() - started) / 1e6)
    return Sample(max(rates), tuple(rates))

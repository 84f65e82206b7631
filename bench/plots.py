"""The growth curves as a PNG next to the JSON record (people read curves faster than tables).

Uses matplotlib (in the ``test`` extra) with the Agg backend; without matplotlib the tables in
the report are all there is, and a line says so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bench.metrics import CANDIDATE, Sample

_POINT = re.compile(r"^growth\.(manifest|taglist)\.(repos|tags)\.(\d+)\.(p50|p99)$")


def curves(results: dict[str, Sample]) -> dict[tuple[str, str], dict[str, list[tuple[int, float]]]]:
    """(what, axis) → percentile → [(size, ms)], from berth's growth samples."""
    found: dict[tuple[str, str], dict[str, list[tuple[int, float]]]] = {}
    for key, sample in results.items():
        match = _POINT.match(key)
        if match:
            what, axis, size, percentile = match.groups()
            found.setdefault((what, axis), {}).setdefault(percentile, []).append((int(size), sample.value))
    for lines in found.values():
        for points in lines.values():
            points.sort()
    return found


def write_png(results: dict[str, dict[str, Sample]], path: Path) -> str:
    """Draw berth's growth curves into ``path``; returns a line for the report."""
    berth = results.get(CANDIDATE, {})
    found = curves(berth)
    walks = {
        key: berth[f"growth.catalog.{key}.last"].runs
        for key in ("v2", "acr")
        if f"growth.catalog.{key}.last" in berth
    }
    if not found and not walks:
        return ""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "growth plot: matplotlib is not installed (pip install matplotlib), tables only"
    figure, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    titles = {"repos": "repositories in the registry", "tags": "tags in the repository"}
    for axis_index, axis in enumerate(("repos", "tags")):
        ax: Any = axes[axis_index]
        for what in ("manifest", "taglist"):
            for percentile, points in sorted(found.get((what, axis), {}).items()):
                xs, ys = zip(*points, strict=True)
                style = "-" if percentile == "p99" else "--"
                ax.plot(
                    xs,
                    ys,
                    style,
                    marker="o",
                    label=f"{'manifest GET' if what == 'manifest' else 'tag list'} {percentile}",
                )
        ax.set_xscale("log")
        ax.set_xlabel(titles[axis])
        ax.set_ylabel("latency (ms)")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    walk_axes: Any = axes[2]
    for key, times in walks.items():
        walk_axes.plot(
            range(1, len(times) + 1), times, label="/v2/_catalog" if key == "v2" else "/acr/v1/_catalog"
        )
    walk_axes.set_xlabel("page of the catalog walk")
    walk_axes.set_ylabel("ms per page")
    walk_axes.set_ylim(bottom=0)
    walk_axes.grid(True, alpha=0.3)
    walk_axes.legend(fontsize=8)
    figure.suptitle("berth: latency as the registry grows (bench/cases/growth.py)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return f"growth plot written to {path}"

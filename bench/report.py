"""The results table (metric, Distribution, berth, ratio, target) and the JSON record."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.metrics import BASELINE, CANDIDATE, Metric, Sample, ratio
from bench.options import Options

COLUMNS = ("metric", "client max", "hash ceiling", "Distribution", "berth", "ratio", "target", "verdict")
HASH_KEY = "hash.sha256"  # bench.hashrate.KEY: one core's SHA-256 rate, a "client" figure


@dataclass
class Run:
    """Everything one ``python -m bench`` run measured, in the order it was measured."""

    started: datetime
    options: Options
    metrics: list[Metric] = field(default_factory=list)
    results: dict[str, dict[str, Sample]] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    # the 1-minute load average as each server started: other work skews every figure
    load_average: dict[str, str] = field(default_factory=dict)
    # subject -> case -> reason, for cases that did not run or did not finish
    skipped: dict[str, dict[str, str]] = field(default_factory=dict)
    failed: dict[str, dict[str, str]] = field(default_factory=dict)

    def record(self, subject: str, samples: dict[str, Sample]) -> None:
        self.results.setdefault(subject, {}).update(samples)

    def note(self, kind: dict[str, dict[str, str]], subject: str, case: str, reason: str) -> None:
        kind.setdefault(subject, {})[case] = reason


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit in ("ms", "s"):
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def _cell(run: Run, subject: str, metric: Metric) -> str:
    if subject == BASELINE and metric.candidate_only:
        return "n/a"
    sample = run.results.get(subject, {}).get(metric.key)
    return _format(sample.value if sample else None, metric.unit)


def measured_metrics(run: Run) -> list[Metric]:
    """Metrics some subject measured (cases skipped everywhere are listed below the table)."""
    return [metric for metric in run.metrics if any(metric.key in found for found in run.results.values())]


def _hash_cell(run: Run, metric: Metric) -> str:
    """One core's SHA-256 rate on the rows it bounds (pushes), and on its own row."""
    if not (metric.hash_bound or metric.key == HASH_KEY):
        return ""
    sample = run.results.get("client", {}).get(HASH_KEY)
    return _format(sample.value if sample else None, "MB/s")


def rows(run: Run) -> list[tuple[str, ...]]:
    table: list[tuple[str, ...]] = []
    for metric in measured_metrics(run):
        measured = ratio(run.results, metric.key)
        table.append(
            (
                f"{metric.label} ({metric.unit})",
                _cell(run, "client", metric) if "client" in run.results and metric.key != HASH_KEY else "—",
                _hash_cell(run, metric),
                _cell(run, BASELINE, metric) if metric.key != HASH_KEY else "",
                _cell(run, CANDIDATE, metric) if metric.key != HASH_KEY else "",
                f"{measured:.2f}x" if measured is not None else "—",
                metric.target.description if metric.target else "",
                metric.target.verdict(metric, run.results) if metric.target else "",
            )
        )
    return table


def text_table(run: Run) -> str:
    """A GitHub-flavoured Markdown table (readable in a terminal, pasteable into the docs)."""
    table = [COLUMNS, *rows(run)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "| " + " | ".join(cells) + " |"

    rule = (
        "|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"
    )
    return "\n".join([line(table[0]), rule, *(line(row) for row in table[1:])])


def summary(run: Run) -> str:
    options = run.options
    parts = [
        f"berth vs CNCF Distribution — {run.started:%Y-%m-%d %H:%M} on {machine()['description']}",
        "ratio = berth ÷ Distribution; client max = the benchmark client against bench/sink.py",
        f"blob {options.size_mib} MiB x {options.repeat} runs (median), chunks {options.chunk_mib} MiB; "
        f"manifest GET: wrk, {options.connections} connections, {options.wrk_threads} threads, "
        f"{options.duration:g} s after {options.warmup:g} s warm-up",
        *(
            f"{subject}: {version} (load average {run.load_average.get(subject, '?')} at start)"
            for subject, version in run.versions.items()
        ),
        "",
        text_table(run),
    ]
    for title, notes in (("skipped", run.skipped), ("FAILED", run.failed)):
        parts += [f"{title}: {line}" for line in _grouped(notes)]
    if options.profile_dir:
        parts.append(
            f"NOTE: berth ran under py-spy (profiles in {options.profile_dir}), lowering its figures."
        )
    return "\n".join(parts)


def _grouped(notes: dict[str, dict[str, str]]) -> list[str]:
    """``case, case on subject, subject: reason`` lines, one per distinct reason."""
    by_reason: dict[str, tuple[list[str], list[str]]] = {}
    for subject, cases in notes.items():
        for case, reason in cases.items():
            names, subjects = by_reason.setdefault(reason, ([], []))
            if case not in names:
                names.append(case)
            if subject not in subjects:
                subjects.append(subject)
    return [f"{', '.join(n)} on {', '.join(s)}: {reason}" for reason, (n, s) in by_reason.items()]


def machine() -> dict[str, Any]:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = os.cpu_count() or 0
    return {
        "cpu": model,
        "cores": cores,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "description": f"{cores} x {model}, Linux {platform.release()}",
    }


def to_json(run: Run) -> dict[str, Any]:
    options = {
        key: str(value) if isinstance(value, Path) else value
        for key, value in dataclasses.asdict(run.options).items()
    }
    return {
        "started": run.started.isoformat(timespec="seconds"),
        "machine": machine(),
        "options": options,
        "versions": run.versions,
        "load_average": run.load_average,
        "metrics": [
            {
                "key": metric.key,
                "label": metric.label,
                "unit": metric.unit,
                "higher_is_better": metric.higher_is_better,
                "target": metric.target.description if metric.target else None,
                "ratio": ratio(run.results, metric.key),
                "verdict": metric.target.verdict(metric, run.results) if metric.target else None,
            }
            for metric in run.metrics
        ],
        "results": {
            subject: {key: dataclasses.asdict(sample) for key, sample in samples.items()}
            for subject, samples in run.results.items()
        },
        "skipped": run.skipped,
        "failed": run.failed,
    }


def write_json(run: Run, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(run), indent=2, default=str) + "\n")

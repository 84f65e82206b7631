"""Charts over time as inline SVG, drawn on the server: no JavaScript, readable by screen readers
(each chart has a title, a description with the totals, and a table of its numbers beside it)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

from markupsafe import Markup

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 36
# Colours dark enough on white (WCAG 3:1 for graphics): green and blue for what went well, warm
# and dark ones for failures, so the legend reads at a glance.
GOOD = ("#1f6f3f", "#0b5cad")
BAD = ("#b3261e", "#8a4b00", "#5b3a9e", "#9c2f6b", "#6b6b00", "#3f3f3f")


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]
    colour: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    unit: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]

    @property
    def totals(self) -> list[tuple[str, float]]:
        return [(s.name, sum(s.values)) for s in self.series]

    @property
    def empty(self) -> bool:
        return not any(any(s.values) for s in self.series)


def buckets(since: float, until: float, count: int) -> list[float]:
    step = (until - since) / count
    return [since + i * step for i in range(count)]


def label(epoch: float, span: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%H:%M" if span <= 2 * 86400 else "%m-%d")


def count_by(
    rows: Iterable[Mapping[str, Any]],
    starts: Sequence[float],
    until: float,
    key: Any,
    value: Any = None,
) -> dict[str, list[float]]:
    """Per series name (``key(row)``; None leaves the row out), the sum per time bucket."""
    found: dict[str, list[float]] = {}
    step = (until - starts[0]) / len(starts) if starts else 1.0
    for row in rows:
        name = key(row)
        if name is None:
            continue
        index = min(int((float(row["time"]) - starts[0]) // step), len(starts) - 1)
        if index < 0:
            continue
        found.setdefault(name, [0.0] * len(starts))[index] += float(value(row) if value else 1)
    return found


def make_chart(
    chart_id: str, title: str, unit: str, labels: Sequence[str], data: Mapping[str, list[float]]
) -> Chart:
    """A chart of ``data``'s series; those named ``failed...`` are drawn in warm colours."""
    good = sorted(name for name in data if not name.startswith("failed"))
    bad = sorted(name for name in data if name.startswith("failed"))
    series = tuple(Series(name, tuple(data[name]), GOOD[i % len(GOOD)]) for i, name in enumerate(good))
    series += tuple(Series(name, tuple(data[name]), BAD[i % len(BAD)]) for i, name in enumerate(bad))
    return Chart(chart_id, title, unit, tuple(labels), series)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def svg(chart: Chart) -> Markup:
    """Stacked bars, one per time bucket, with a y axis, time labels and a legend."""
    count = len(chart.labels) or 1
    stacked = [sum(s.values[i] for s in chart.series) for i in range(count)] if chart.series else [0.0]
    top = _nice_max(max(stacked))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bar_w = plot_w / count
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart.id}-t {chart.id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart.id}-t">{escape(chart.title)}</title>',
        f'<desc id="{chart.id}-d">'
        + escape("; ".join(f"{name}: {total:g} {chart.unit}" for name, total in chart.totals) or "No data")
        + "</desc>",
    ]
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c8c8c8"/>')
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#333">'
            f"{_short(top * fraction)}</text>"
        )
    for i in range(count):
        base = 0.0
        x = LEFT + i * bar_w
        for series in chart.series:
            value = series.values[i]
            if value <= 0:
                continue
            h = plot_h * value / top
            y = TOP + plot_h - plot_h * (base + value) / top
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(bar_w - 2, 1):.1f}" height="{h:.1f}" '
                f'fill="{series.colour}"><title>{escape(series.name)} {escape(chart.labels[i])}: '
                f"{value:g}</title></rect>"
            )
            base += value
        if i % max(1, count // 6) == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" '
                f'font-size="11" fill="#333">{escape(chart.labels[i])}</text>'
            )
    x = LEFT
    for series in chart.series:
        parts.append(f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" fill="{series.colour}"/>')
        parts.append(
            f'<text x="{x + 14}" y="{HEIGHT - 5}" font-size="11" fill="#222">{escape(series.name)}</text>'
        )
        x += 22 + 7 * len(series.name)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it is escaped above


def _short(value: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:g}{unit}"
    return f"{value:g}"

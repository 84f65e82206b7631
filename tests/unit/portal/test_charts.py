"""Charts are SVG drawn on the server, with their numbers in a description for screen readers."""

from __future__ import annotations

from berth.portal import charts


def test_events_are_counted_per_bucket_and_series() -> None:
    starts = charts.buckets(0.0, 100.0, 4)
    rows = [
        {"time": 1.0, "result": "ok"},
        {"time": 26.0, "result": "ok"},
        {"time": 27.0, "result": "bad"},
        {"time": 100.0, "result": "bad"},  # the end of the range falls in the last bucket
        {"time": -5.0, "result": "bad"},  # before the range: left out
    ]
    counted = charts.count_by(rows, starts, 100.0, lambda row: row["result"])
    assert counted == {"ok": [1.0, 1.0, 0.0, 0.0], "bad": [0.0, 1.0, 0.0, 1.0]}


def test_the_svg_names_its_totals_and_escapes_names() -> None:
    chart = charts.make_chart(
        "c", "Sign-ins", "sign-ins", ["a", "b"], {"failed: <x>": [1.0, 2.0], "ok": [0.0, 4.0]}
    )
    drawn = str(charts.svg(chart))
    assert drawn.startswith("<svg")
    assert drawn.endswith("</svg>")
    assert 'role="img"' in drawn
    assert "ok: 4 sign-ins; failed: &lt;x&gt;: 3 sign-ins" in drawn  # what went well first
    assert "<x>" not in drawn


def test_an_empty_chart_still_draws() -> None:
    chart = charts.make_chart("e", "Nothing", "bytes", ["a"], {})
    assert chart.empty
    assert "No data" in str(charts.svg(chart))

"""What a benchmark measures: metrics, their targets, and the samples taken per server.

Results are keyed by subject (``distribution``, ``berth``, or ``client`` for the client's own
ceiling) and then by metric key. A target reads the results and returns a verdict, so targets
that compare servers (push ≥ 2x Distribution), compare a berth figure with another berth figure
(authenticated GETs ≥ 90% of anonymous ones) or bound memory growth share one shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

Subject = Literal["distribution", "berth", "client"]
Verdict = Literal["pass", "FAIL", "n/a"]

BASELINE: Subject = "distribution"
CANDIDATE: Subject = "berth"


@dataclass(frozen=True)
class Sample:
    """One metric on one subject: the reported value, every run, and free-form detail."""

    value: float
    runs: tuple[float, ...] = ()
    detail: Mapping[str, object] = field(default_factory=dict)


Results = Mapping[str, Mapping[str, Sample]]


class Target(Protocol):
    @property
    def description(self) -> str: ...

    def verdict(self, metric: Metric, results: Results) -> Verdict: ...


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    higher_is_better: bool = True
    target: Target | None = None
    # Set for figures only one server can produce (berth's token endpoint, for example).
    candidate_only: bool = False
    # Set for pushes: the report shows one core's SHA-256 rate (measured in the same run) next to it.
    hash_bound: bool = False


def value_of(results: Results, subject: str, key: str) -> float | None:
    sample = results.get(subject, {}).get(key)
    return sample.value if sample is not None else None


def ratio(results: Results, key: str) -> float | None:
    """berth ÷ Distribution for one metric, when both were measured."""
    candidate, baseline = value_of(results, CANDIDATE, key), value_of(results, BASELINE, key)
    if candidate is None or baseline is None or baseline == 0:
        return None
    return candidate / baseline


@dataclass(frozen=True)
class AtLeastTimesBaseline:
    """berth must reach ``factor`` x Distribution's figure (higher-is-better metrics)."""

    factor: float

    @property
    def description(self) -> str:
        return f"≥ {self.factor:g}x"

    def verdict(self, metric: Metric, results: Results) -> Verdict:
        measured = ratio(results, metric.key)
        if measured is None:
            return "n/a"
        return "pass" if measured >= self.factor else "FAIL"


@dataclass(frozen=True)
class AtLeastFractionOf:
    """berth's figure must reach ``fraction`` of another figure in the same unit: berth's own
    (``subject`` left as berth) or another subject's, such as the hash or client ceiling."""

    reference_key: str
    fraction: float
    reference_label: str
    subject: str = CANDIDATE

    @property
    def description(self) -> str:
        return f"≥ {self.fraction:.0%} of {self.reference_label}"

    def verdict(self, metric: Metric, results: Results) -> Verdict:
        measured = value_of(results, CANDIDATE, metric.key)
        reference = value_of(results, self.subject, self.reference_key)
        if measured is None or reference is None:
            return "n/a"
        return "pass" if measured >= self.fraction * reference else "FAIL"


@dataclass(frozen=True)
class Flat:
    """berth's peak memory stays within ``slack_mib`` of its idle figure (``idle_key``)."""

    idle_key: str
    slack_mib: float

    @property
    def description(self) -> str:
        return f"flat (≤ idle + {self.slack_mib:g} MiB)"

    def verdict(self, metric: Metric, results: Results) -> Verdict:
        peak = value_of(results, CANDIDATE, metric.key)
        idle = value_of(results, CANDIDATE, self.idle_key)
        if peak is None or idle is None:
            return "n/a"
        return "pass" if peak <= idle + self.slack_mib else "FAIL"


@dataclass(frozen=True)
class AtLeastTimesBaselineOf:
    """berth's figure must reach ``factor`` x Distribution's figure for another metric
    (authenticated berth against Distribution's anonymous GETs)."""

    baseline_key: str
    factor: float
    baseline_label: str

    @property
    def description(self) -> str:
        return f"≥ {self.factor:g}x {self.baseline_label}"

    def verdict(self, metric: Metric, results: Results) -> Verdict:
        measured = value_of(results, CANDIDATE, metric.key)
        baseline = value_of(results, BASELINE, self.baseline_key)
        if measured is None or baseline is None:
            return "n/a"
        return "pass" if measured >= self.factor * baseline else "FAIL"


@dataclass(frozen=True)
class Bound:
    """An absolute bound on berth's figure: ``≥ limit`` (``at_least``) or ``≤ limit``."""

    limit: float
    at_least: bool
    unit: str = ""

    @property
    def description(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.limit:,g}{(' ' + self.unit) if self.unit else ''}"

    def verdict(self, metric: Metric, results: Results) -> Verdict:
        measured = value_of(results, CANDIDATE, metric.key)
        if measured is None:
            return "n/a"
        ok = measured >= self.limit if self.at_least else measured <= self.limit
        return "pass" if ok else "FAIL"


@dataclass(frozen=True)
class AllOf:
    """Every target must pass (``n/a`` when one cannot be judged and none failed)."""

    targets: tuple[Target, ...]

    @property
    def description(self) -> str:
        return " and ".join(target.description for target in self.targets)

    def verdict(self, metric: Metric, results: Results) -> Verdict:
        verdicts = [target.verdict(metric, results) for target in self.targets]
        if "FAIL" in verdicts:
            return "FAIL"
        return "n/a" if "n/a" in verdicts else "pass"


@dataclass(frozen=True)
class WithinFactorOf:
    """berth's figure stays within ``factor`` x another berth figure (a growth curve stays flat)."""

    reference_key: str
    factor: float

    @property
    def description(self) -> str:
        return f"≤ {self.factor:g}x first point"

    def verdict(self, metric: Metric, results: Results) -> Verdict:
        measured = value_of(results, CANDIDATE, metric.key)
        reference = value_of(results, CANDIDATE, self.reference_key)
        if measured is None or reference is None:
            return "n/a"
        return "pass" if measured <= self.factor * reference else "FAIL"

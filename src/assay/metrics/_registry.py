"""The metric registry: every metric Assay knows, with what it needs and how to read it.

A metric is a plain function ``fn(y_true, y_score, *, sample_weight=None, **params) -> float``
that raises :class:`~assay.errors.UndefinedMetricError` (with a reason) when it has no value.
Registering it records the facts the rest of Assay needs: which direction is better, which
task it applies to, what kind of score it needs and how its interval is computed by default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Task = Literal["binary", "regression", "multiclass"]

ScoreKind = Literal["rank", "probability", "threshold", "value", "class_probabilities"]
"""What the second argument of a metric must be.

``rank``
    any real-valued score where higher means more likely positive (a probability, a lab value,
    an ordinal scale); only the ordering is used.
``probability``
    a predicted probability in [0, 1]; the metric is skipped for scores that are not.
``threshold``
    any real-valued score, turned into a flag by ``score >= threshold`` (``threshold`` param).
``value``
    a predicted value on the scale of the target (regression).
``class_probabilities``
    an ``(n, k)`` matrix of class probabilities (multiclass).
"""

IntervalKind = Literal["delong", "wilson", "bootstrap"]


MetricFunction = Callable[..., float]
"""``fn(y_true, y_score, /, *, sample_weight=None, **params) -> float``."""


CountsFunction = Callable[..., tuple[int, int]]
"""``counts(y_true, y_score, **params) -> (successes, trials)`` for a proportion metric."""


@dataclass(frozen=True)
class MetricSpec:
    """What the registry knows about one metric."""

    name: str
    fn: MetricFunction
    title: str
    task: Task
    score_kind: ScoreKind
    greater_is_better: bool | None
    """``True``/``False`` for a direction; ``None`` when closeness to ``ideal`` is better."""
    interval: IntervalKind = "bootstrap"
    ideal: float | None = None
    params: tuple[str, ...] = ()
    counts: CountsFunction | None = None
    """For proportions: the numerator and denominator, used by the Wilson interval."""
    description: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)
    stratify: bool = True
    """Whether the bootstrap may resample cases and controls separately. ``False`` for metrics
    that weigh the number of events against expectation (O:E ratio, calibration-in-the-large):
    holding the event count fixed would leave out most of their sampling variance."""


_REGISTRY: dict[str, MetricSpec] = {}


def register_metric(spec: MetricSpec) -> MetricSpec:
    """Add a metric to the registry; a second metric with the same name is an error."""
    if spec.name in _REGISTRY and _REGISTRY[spec.name] is not spec:
        raise ValueError(f"a metric named {spec.name!r} is already registered")
    if spec.interval == "wilson" and spec.counts is None:
        raise ValueError(f"metric {spec.name!r} uses Wilson intervals but has no counts function")
    _REGISTRY[spec.name] = spec
    return spec


def get_metric(name: str) -> MetricSpec:
    """Return the registered metric called ``name``.

    Raises
    ------
    KeyError
        naming the metric and listing the registered ones.
    """
    _load_catalog()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown metric {name!r}; known metrics: {known}") from None


def list_metrics(task: Task | None = None) -> list[str]:
    """Names of the registered metrics, optionally only those of one task, sorted."""
    _load_catalog()
    return sorted(n for n, s in _REGISTRY.items() if task is None or s.task == task)


def _load_catalog() -> None:
    # The modules defining metrics register them on import; importing the package imports
    # them all, so a lookup through the registry always sees the full catalogue.
    import assay.metrics  # noqa: F401

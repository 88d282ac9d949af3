"""The drift-method registry: every univariate drift method Assay knows, and how to read it.

A drift method is a plain function ``fn(reference, current) -> float`` on the non-missing values
of one column (a float array for numeric columns, an object array of levels for categorical
ones). Registering it records the facts the rest of Assay needs: which column kinds it accepts,
its default threshold (an *effect size*, never a p-value), whether it also has a p-value, and
its definition in words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

ColumnKind = Literal["numeric", "categorical"]

DriftFunction = Callable[[NDArray[Any], NDArray[Any]], float]
"""``fn(reference, current) -> statistic`` on the non-missing values of one column."""

PValueFunction = Callable[[NDArray[Any], NDArray[Any]], float]
"""``p_value(reference, current) -> p`` of the test that goes with the statistic."""


@dataclass(frozen=True)
class DriftMethodSpec:
    """What the registry knows about one drift method."""

    name: str
    fn: DriftFunction
    title: str
    kinds: frozenset[ColumnKind]
    """Column kinds the method accepts."""
    threshold: float
    """Default threshold on the statistic (an effect size); ``statistic > threshold`` drifts."""
    definition: str
    p_value: PValueFunction | None = None
    """The p-value of the matching test, or ``None`` when the method has none."""
    threshold_source: str = ""
    """Where the default threshold comes from, in words."""

    @property
    def has_p_value(self) -> bool:
        """Whether the method reports a p-value next to its statistic."""
        return self.p_value is not None

    def accepts(self, kind: ColumnKind) -> bool:
        """Whether the method applies to a column of this kind."""
        return kind in self.kinds


_REGISTRY: dict[str, DriftMethodSpec] = {}


def register_drift_method(spec: DriftMethodSpec) -> DriftMethodSpec:
    """Add a drift method to the registry; a second method with the same name is an error."""
    if spec.name in _REGISTRY and _REGISTRY[spec.name] is not spec:
        raise ValueError(f"a drift method named {spec.name!r} is already registered")
    if not spec.kinds:
        raise ValueError(f"drift method {spec.name!r} accepts no column kind")
    if not np.isfinite(spec.threshold) or spec.threshold < 0:
        raise ValueError(f"drift method {spec.name!r} needs a finite threshold >= 0")
    _REGISTRY[spec.name] = spec
    return spec


def get_drift_method(name: str) -> DriftMethodSpec:
    """Return the registered drift method called ``name``.

    Raises
    ------
    KeyError
        naming the method and listing the registered ones.
    """
    _load_catalog()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown drift method {name!r}; known drift methods: {known}") from None


def list_drift_methods(kind: ColumnKind | None = None) -> list[str]:
    """Names of the registered drift methods, optionally only those accepting ``kind``."""
    _load_catalog()
    return sorted(n for n, s in _REGISTRY.items() if kind is None or kind in s.kinds)


def _load_catalog() -> None:
    # The module defining the methods registers them on import.
    import assay.drift._methods  # noqa: F401

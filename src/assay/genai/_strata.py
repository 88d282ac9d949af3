"""Metrics and flag rates by stratum of the items' metadata: site, specialty, sex, age group...

Intervals
---------
A metric's mean has the percentile interval of a seeded bootstrap of the stratum's items (the
resampling of :mod:`assay.genai._gate`), seeded from ``seed`` and the stratum's and metric's
names (CRC-32), so adding or removing strata never changes another stratum's interval. The
bootstrap is preferred to a t-interval because the usual scores (ROUGE, support, readability
shares) are bounded and skewed near their bounds, where a t-interval can leave the possible
range; a percentile interval stays within the observed values. A metric whose values are all 0
or 1 (over all items) is a proportion and has the Wilson interval, as has each flag type's share
of items flagged.

Each stratum against the rest
-----------------------------
For each flag type, the share in a stratum is compared with the share in all other items: the
difference (stratum − rest) with Newcombe's hybrid score interval (Newcombe 1998, method 10,
from the two Wilson intervals) and the two-sided p-value of Fisher's exact test (as
:mod:`assay.subgroups` tests proportions), with Holm's adjustment across the strata of that flag
type.

Small cells
-----------
A stratum with fewer than ``small_cell`` items is ``suppressed``: its ``n``, values and
comparison are ``None``. In a stratum that is shown, a metric with values on fewer than
``small_cell`` items is suppressed on its own row, and the comparison with the rest is omitted
when the rest has fewer than ``small_cell`` items. As in :mod:`assay.subgroups`, the number of
items flagged in a shown stratum is not hidden, and a hidden ``n`` can sometimes be recovered by
subtraction from the total (complementary disclosure), which this table does not prevent.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict
from scipy import stats

from assay.errors import InputError
from assay.genai._gate import resampled_means
from assay.genai._records import ItemResult, Scalar
from assay.metrics import Estimate
from assay.metrics.intervals import proportion_estimate, wilson_interval
from assay.subgroups._cells import MISSING_LABEL
from assay.subgroups._multiplicity import holm

__all__ = ["RestComparison", "StrataTable", "StratumRow", "by_strata", "mean_estimate",
           "newcombe_interval"]

FloatArray = NDArray[np.float64]
_RESULT = ConfigDict(frozen=True, extra="forbid")


class RestComparison(BaseModel):
    """A flag type's share in one stratum against its share in all other items."""

    model_config = _RESULT

    rest: Estimate
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    p_holm: float


class StratumRow(BaseModel):
    """One metric or flag type in one stratum.

    Parameters
    ----------
    stratum
        The stratum's values joined by ``*`` in the order of ``by`` (``"F*65-79"``);
        ``"(missing)"`` for an item without the key (or with ``None``).
    values
        The same values one by one.
    kind, measure
        ``"metric"`` and the metric's name, or ``"flag"`` and the flag type.
    n
        Items in the stratum; ``None`` when suppressed.
    estimate
        The metric's mean (``n`` = items with a value) or the share of items flagged
        (``n_events`` = items flagged), with its interval; ``None`` when suppressed or when no
        item has a value.
    suppressed, reason
        Whether the row's numbers are hidden as a small cell, and why a row has no estimate.
    rest
        For a flag type: the comparison with the other items (``None`` for metrics, or when
        either side is a small cell).
    """

    model_config = _RESULT

    stratum: str
    values: tuple[str, ...]
    kind: Literal["metric", "flag"]
    measure: str
    n: int | None
    estimate: Estimate | None = None
    suppressed: bool
    reason: str | None = None
    rest: RestComparison | None = None


class StrataTable(BaseModel):
    """Every metric and flag type in every stratum: strata in sorted order (``"(missing)"``
    last), within a stratum the metrics then the flag types."""

    model_config = _RESULT

    by: tuple[str, ...]
    rows: tuple[StratumRow, ...]
    level: float
    small_cell: int
    n_boot: int
    seed: int

    def row(self, stratum: str, measure: str) -> StratumRow:
        """The row of one stratum and measure."""
        for row in self.rows:
            if row.stratum == stratum and row.measure == measure:
                return row
        raise KeyError(f"no row for stratum {stratum!r} and measure {measure!r}")

    def to_frame(self) -> pd.DataFrame:
        """The rows as a tidy DataFrame (estimate and comparison spread into columns)."""
        records = []
        for row in self.rows:
            e, rest = row.estimate, row.rest
            records.append({
                "stratum": row.stratum, "kind": row.kind, "measure": row.measure, "n": row.n,
                "n_used": None if e is None else e.n, "n_events": None if e is None else
                e.n_events, "value": None if e is None else e.value,
                "ci_low": None if e is None else e.ci_low,
                "ci_high": None if e is None else e.ci_high,
                "method": None if e is None else e.method, "suppressed": row.suppressed,
                "reason": row.reason, "difference_vs_rest": None if rest is None else
                rest.difference, "p_value": None if rest is None else rest.p_value,
                "p_holm": None if rest is None else rest.p_holm})
        frame = pd.DataFrame(records)
        integers = {c: "Int64" for c in ("n", "n_used", "n_events")}
        numbers = {c: "Float64" for c in ("value", "ci_low", "ci_high", "difference_vs_rest",
                                           "p_value", "p_holm")}
        return frame.astype({**integers, **numbers})


def by_strata(items: Sequence[ItemResult], by: str | Sequence[str], *,
              metrics: Sequence[str] | None = None, flag_types: Sequence[str] | None = None,
              level: float = 0.95, small_cell: int = 11, n_boot: int = 2000,
              seed: int = 0) -> StrataTable:
    """Each metric's mean and each flag type's share of items, in every stratum of metadata.

    Strata are the observed values of the metadata key ``by`` (or combinations of values for
    several keys); an item without the key, or with ``None``, is in ``"(missing)"``. Intervals,
    comparisons with the rest and small-cell suppression are as in the module notes.

    Parameters
    ----------
    items
        Item results, each with its ``metadata``.
    by
        A metadata key, or several to cross.
    metrics, flag_types
        Which to report; by default every metric and flag type found on the items (a flag
        type given here that no item has is reported with a share of 0).
    level
        Confidence level of the intervals.
    small_cell
        Strata (and metrics) with fewer items than this are suppressed.
    n_boot, seed
        Bootstrap replicates and seed of the metrics' intervals.

    Raises
    ------
    InputError
        For an empty input, an item that is not an :class:`ItemResult`, a metric no item has,
        a non-finite metric value, or an unusable setting.

    Examples
    --------
    >>> from assay.genai import ItemResult
    >>> items = [ItemResult(id=str(i), task="qa", metrics={"support": i % 2},
    ...                     metadata={"site": "A" if i < 12 else "B"}) for i in range(20)]
    >>> table = by_strata(items, "site", n_boot=200)
    >>> [(row.stratum, row.n, row.suppressed) for row in table.rows]
    [('A', 12, False), ('B', None, True)]
    >>> table.row("A", "support").estimate.method
    'wilson'
    """
    keys, checked = _check(items, by, level, small_cell, n_boot, seed)
    found = sorted({name for item in checked for name in item.metrics})
    names = found if metrics is None else list(metrics)
    unknown = [name for name in names if name not in found]
    if unknown:
        raise InputError(f"metric(s) {', '.join(map(repr, unknown))} are on no item "
                         f"(metrics found: {', '.join(found) or 'none'})")
    types = (sorted({f.type for item in checked for f in item.flags}) if flag_types is None
             else list(flag_types))
    values = _metric_values(checked, names)
    flagged = np.array([[any(f.type == t for f in item.flags) for t in types]
                        for item in checked], dtype=bool).reshape(len(checked), len(types))
    proportion = [bool(np.isin(v[~np.isnan(v)], (0.0, 1.0)).all()) for v in values.T]
    labels = [tuple(_label(item.metadata.get(key)) for key in keys) for item in checked]
    sort_keys = {label: tuple(_order(item.metadata.get(key)) for key in keys)
                 for label, item in zip(labels, checked, strict=True)}
    strata = sorted(sort_keys, key=sort_keys.__getitem__)
    position = {label: s for s, label in enumerate(strata)}
    code = np.array([position[label] for label in labels])
    rows: list[dict[str, object]] = []
    for s, label in enumerate(strata):
        inside = code == s
        n = int(inside.sum())
        base = {"stratum": "*".join(label), "values": label, "n": n}
        if n < small_cell:
            hidden = {**base, "n": None, "suppressed": True,
                      "reason": f"suppressed: fewer than {small_cell} items"}
            rows += [{**hidden, "kind": "metric", "measure": m} for m in names]
            rows += [{**hidden, "kind": "flag", "measure": t} for t in types]
            continue
        for j, name in enumerate(names):
            column = values[inside, j]
            rows.append({**base, "kind": "metric", "measure": name, **_metric_cell(
                column[~np.isnan(column)], proportion[j], level, small_cell, n_boot,
                _seed(seed, base["stratum"], name))})
        for j, flag_type in enumerate(types):
            rows.append({**base, "kind": "flag", "measure": flag_type, "suppressed": False,
                         "estimate": proportion_estimate(int(flagged[inside, j].sum()), n, level),
                         "rest": _rest(flagged[~inside, j], int(flagged[inside, j].sum()), n,
                                       level, small_cell)})
    _adjust(rows, types)
    return StrataTable(by=keys, rows=tuple(StratumRow.model_validate(r) for r in rows),
                       level=level, small_cell=small_cell, n_boot=n_boot, seed=seed)


def newcombe_interval(events_a: int, n_a: int, events_b: int, n_b: int, level: float = 0.95
                      ) -> tuple[float, float]:
    """Newcombe's hybrid score interval of the difference of two independent proportions
    ``a − b`` (method 10 of Newcombe 1998), from the Wilson interval of each."""
    p_a, p_b = events_a / n_a, events_b / n_b
    low_a, high_a = (float(x) for x in wilson_interval(events_a, n_a, level))
    low_b, high_b = (float(x) for x in wilson_interval(events_b, n_b, level))
    difference = p_a - p_b
    return (difference - float(np.hypot(p_a - low_a, high_b - p_b)),
            difference + float(np.hypot(high_a - p_a, p_b - low_b)))


def _check(items: Sequence[ItemResult], by: str | Sequence[str], level: float,
           small_cell: int, n_boot: int, seed: int) -> tuple[tuple[str, ...], list[ItemResult]]:
    keys = (by,) if isinstance(by, str) else tuple(by)
    if not keys or not all(isinstance(key, str) and key for key in keys):
        raise InputError(f"by must be a metadata key or a list of keys, got {by!r}")
    if len(set(keys)) != len(keys):
        raise InputError(f"by names a key twice: {list(keys)}")
    if isinstance(small_cell, bool) or not isinstance(small_cell, int) or small_cell < 1:
        raise InputError(f"small_cell must be an integer of at least 1, got {small_cell!r}")
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 100:
        raise InputError(f"n_boot must be an integer of at least 100, got {n_boot!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(items, str | bytes) or not isinstance(items, Sequence) or not items:
        raise InputError("items must be a non-empty sequence of ItemResult")
    for position, item in enumerate(items, start=1):
        if not isinstance(item, ItemResult):
            raise InputError(f"item {position}: expected an ItemResult, got "
                             f"{type(item).__name__}")
    return keys, list(items)


def _metric_values(items: list[ItemResult], names: list[str]) -> FloatArray:
    values = np.full((len(items), len(names)), np.nan)
    for i, item in enumerate(items):
        for j, name in enumerate(names):
            value = item.metrics.get(name)
            if value is not None:
                if not np.isfinite(value):
                    raise InputError(f"item {item.id!r}: metric {name!r} is {value}; a value "
                                     "must be finite, or None when the metric does not apply")
                values[i, j] = value
    return values


def _label(value: Scalar) -> str:
    return MISSING_LABEL if value is None else str(value)


def _order(value: Scalar) -> tuple[int, float, str]:
    """Numbers in numeric order, then text, then missing."""
    if value is None:
        return (2, 0.0, "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value), str(value))
    return (1, 0.0, str(value))


def _seed(seed: int, stratum: object, metric: str) -> int:
    return (seed * 0x1_0000_0000 + zlib.crc32(f"{stratum}|{metric}".encode())) % (2**63)


def _metric_cell(values: FloatArray, proportion: bool, level: float, small_cell: int,
                 n_boot: int, seed: int) -> dict[str, object]:
    if values.size == 0:
        return {"suppressed": False, "reason": "no item in this stratum has a value"}
    if values.size < small_cell:
        return {"suppressed": True,
                "reason": f"suppressed: fewer than {small_cell} items with a value"}
    return {"suppressed": False,
            "estimate": mean_estimate(values, proportion=proportion, level=level,
                                      n_boot=n_boot, seed=seed)}


def mean_estimate(values: FloatArray, *, proportion: bool, level: float, n_boot: int,
                  seed: int) -> Estimate:
    """The mean of a metric's values with its interval: Wilson for a proportion (values all
    0 or 1), else the percentile interval of a seeded bootstrap (see the module notes)."""
    if proportion:
        return proportion_estimate(int(values.sum()), int(values.size), level)
    means = resampled_means(values[:, None], n_boot, seed)[:, 0]
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return Estimate(value=float(values.mean()), ci_low=float(low), ci_high=float(high),
                    level=level, method="bootstrap-percentile", n=int(values.size))


def _rest(rest: NDArray[np.bool_], events: int, n: int, level: float,
          small_cell: int) -> dict[str, object] | None:
    n_rest, events_rest = int(rest.size), int(rest.sum())
    if n_rest < small_cell:
        return None
    low, high = newcombe_interval(events, n, events_rest, n_rest, level)
    table = [[events, n - events], [events_rest, n_rest - events_rest]]
    return {"rest": proportion_estimate(events_rest, n_rest, level),
            "difference": events / n - events_rest / n_rest, "ci_low": low, "ci_high": high,
            "p_value": float(stats.fisher_exact(table).pvalue), "p_holm": 1.0}


def _adjust(rows: list[dict[str, object]], types: list[str]) -> None:
    """Holm's adjustment of each flag type's p-values across its strata, in place."""
    for flag_type in types:
        tested = [row["rest"] for row in rows
                  if row["kind"] == "flag" and row["measure"] == flag_type and row.get("rest")]
        comparisons = [c for c in tested if isinstance(c, dict)]
        if comparisons:
            adjusted = holm([c["p_value"] for c in comparisons])
            for comparison, p in zip(comparisons, adjusted, strict=True):
                comparison["p_holm"] = float(p)

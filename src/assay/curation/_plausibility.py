"""Clinical plausibility: impossible values of vitals and labs, and values in the wrong unit.

Each :class:`Measurement` carries its unit and a *plausible* range: the values a living patient
can have when measured, far wider than the normal range. A value outside it is an impossible value
(a typing slip, a default such as 999, a value in another unit). The ranges are broad limits for
adults and children beyond the newborn period, set from the extremes reported in clinical
practice; review them for a local population before relying on them.

Unit mismatch is found from the distribution. For a measurement with a common alternative unit
(temperature in °F, glucose in mmol/L, creatinine in µmol/L, weight in lb), each value is read
two ways: as given, and converted back from the alternative unit. A value impossible as given
whose conversion is plausible is in the alternative unit; a value plausible both ways is assigned
by a two-component mixture on the log scale, the components one conversion factor apart. With a
time column, binary segmentation of the daily share of alternative-unit values finds the date a
unit change starts.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from assay.curation._rules import Detail, Finding, Status, finding_from_mask
from assay.errors import InputError

__all__ = [
    "MEASUREMENTS",
    "AlternativeUnit",
    "Measurement",
    "check_plausibility",
    "unit_mismatch",
]

FloatArray = npt.NDArray[np.float64]
_SPEC = ConfigDict(frozen=True, extra="forbid")


class AlternativeUnit(BaseModel):
    """Another unit the same measurement is often recorded in.

    A value ``v`` in this unit is ``v * scale + offset`` in the measurement's own unit.
    """

    model_config = _SPEC

    unit: str
    scale: float = Field(gt=0.0)
    offset: float = 0.0

    def to_expected(self, values: FloatArray) -> FloatArray:
        """Convert values from this unit into the measurement's own unit."""
        return np.asarray(values * self.scale + self.offset, dtype=np.float64)


class Measurement(BaseModel):
    """A vital sign or lab: its unit, plausible (not normal) range and a short source note."""

    model_config = _SPEC

    name: str
    unit: str
    low: float
    high: float
    typical: float = Field(gt=0.0)
    """A typical adult inpatient value, where the mixture fit starts."""
    source: str
    alternative: AlternativeUnit | None = None


def _measurements(*items: Measurement) -> Mapping[str, Measurement]:
    return MappingProxyType({item.name: item for item in items})


MEASUREMENTS: Mapping[str, Measurement] = _measurements(
    Measurement(name="heart_rate", unit="beats/min", low=20, high=300, typical=80,
                source="Rates of 20-300/min are recorded in severe bradycardia and in infants' "
                "or pre-excited tachycardias; beyond them a pulse is not measurable."),
    Measurement(name="systolic_bp", unit="mmHg", low=40, high=300, typical=125,
                source="Below 40 mmHg is unmeasurable by cuff; hypertensive crises rarely "
                "exceed 300 mmHg."),
    Measurement(name="diastolic_bp", unit="mmHg", low=10, high=200, typical=70,
                source="Limits of recorded diastolic pressure in shock and hypertensive crisis."),
    Measurement(name="temperature", unit="°C", low=25.0, high=45.0, typical=36.9,
                source="Core temperatures outside 25-45 °C are rarely survived or measured; "
                "values near 98 are °F.",
                alternative=AlternativeUnit(unit="°F", scale=1 / 1.8, offset=-32 / 1.8)),
    Measurement(name="spo2", unit="%", low=50, high=100, typical=96,
                source="A saturation cannot exceed 100%; pulse oximeters are not calibrated "
                "below about 50-70%."),
    Measurement(name="respiratory_rate", unit="breaths/min", low=2, high=80, typical=18,
                source="From agonal breathing to the fastest rates recorded in infants."),
    Measurement(name="glucose", unit="mg/dL", low=10, high=2500, typical=120,
                source="Hypoglycaemia below 10 mg/dL is not compatible with a measurement of a "
                "living patient; hyperosmolar states reach about 2,000 mg/dL. "
                "1 mmol/L = 18.016 mg/dL.",
                alternative=AlternativeUnit(unit="mmol/L", scale=18.016)),
    Measurement(name="creatinine", unit="mg/dL", low=0.1, high=30.0, typical=1.0,
                source="From severe muscle wasting to untreated kidney failure. "
                "1 mg/dL = 88.4 µmol/L.",
                alternative=AlternativeUnit(unit="µmol/L", scale=1 / 88.4)),
    Measurement(name="sodium", unit="mmol/L", low=90, high=200, typical=139,
                source="Extremes reported in water intoxication and salt poisoning."),
    Measurement(name="potassium", unit="mmol/L", low=1.0, high=12.0, typical=4.2,
                source="Extremes reported in severe hypokalaemia and hyperkalaemic arrest; "
                "haemolysed samples read high."),
    Measurement(name="lactate", unit="mmol/L", low=0.1, high=35.0, typical=1.5,
                source="Up to about 30 mmol/L in cardiac arrest and toxic ingestions."),
    Measurement(name="hemoglobin", unit="g/dL", low=1.5, high=25.0, typical=12,
                source="From profound anaemia to polycythaemia; values near 120 are g/L."),
    Measurement(name="white_cell_count", unit="10^3/µL", low=0.0, high=1000.0, typical=8,
                source="From agranulocytosis (0) to hyperleukocytosis in leukaemia."),
    Measurement(name="weight", unit="kg", low=0.3, high=650.0, typical=80,
                source="From extremely preterm newborns to the heaviest recorded patients. "
                "1 kg = 2.20462 lb.",
                alternative=AlternativeUnit(unit="lb", scale=1 / 2.20462)),
    Measurement(name="height", unit="cm", low=20.0, high=275.0, typical=170,
                source="From extremely preterm newborns to the tallest recorded adults."),
    Measurement(name="age", unit="years", low=0.0, high=125.0, typical=60,
                source="The longest verified human life is under 123 years."),
)
"""The plausibility library, by measurement name."""


def _measurement(spec: str | Measurement) -> Measurement:
    if isinstance(spec, Measurement):
        return spec
    if spec not in MEASUREMENTS:
        raise InputError(f"unknown measurement {spec!r}; use one of {', '.join(MEASUREMENTS)}")
    return MEASUREMENTS[spec]


def _values(frame: pd.DataFrame, column: str) -> FloatArray:
    if column not in frame.columns:
        raise InputError(f"column '{column}' is not in the table")
    values = frame[column]
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise InputError(f"column '{column}' must be numeric (found {values.dtype})")
    return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _log_normal_density(x: FloatArray, mean: float, sd: float) -> FloatArray:
    return np.asarray(-0.5 * ((x - mean) / sd) ** 2 - math.log(sd), dtype=np.float64)


def alternative_unit_probability(values: FloatArray, measurement: Measurement) -> FloatArray:
    """Per value, the probability it was recorded in the alternative unit (NaN: not assessed).

    Values impossible both ways, missing or not positive are not assessed.
    """
    alternative = measurement.alternative
    if alternative is None:
        raise InputError(f"measurement '{measurement.name}' has no alternative unit")
    converted = alternative.to_expected(values)
    with np.errstate(invalid="ignore"):
        as_given = (values >= measurement.low) & (values <= measurement.high) & (values > 0)
        as_alternative = ((converted >= measurement.low) & (converted <= measurement.high)
                          & (converted > 0) & (values > 0))
    assessed = as_given | as_alternative
    probability = np.full(values.shape, np.nan)
    if not assessed.any():
        return probability
    given = values[assessed]
    x = np.log(np.where(given > 0, given, 1.0))
    y = np.log(np.where(converted[assessed] > 0, converted[assessed], 1.0))
    # |d log(converted) / d log(value)|: 1 for a pure scale, not for °F -> °C.
    log_jacobian = np.log(np.abs(given * alternative.scale) / np.where(
        converted[assessed] > 0, converted[assessed], 1.0))
    fixed_alt = as_alternative[assessed] & ~as_given[assessed]
    fixed_given = as_given[assessed] & ~as_alternative[assessed]
    free = ~(fixed_alt | fixed_given)
    mean, sd, share = math.log(measurement.typical), 0.35, 0.5
    responsibility = np.where(fixed_alt, 1.0, 0.0)
    for _ in range(500):
        log_odds = (math.log(share) - math.log1p(-share)
                    + _log_normal_density(y, mean, sd) + log_jacobian
                    - _log_normal_density(x, mean, sd))
        updated = np.where(free, 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700))),
                           responsibility)
        share = float(np.clip(updated.mean(), 1e-9, 1 - 1e-9))
        mean = float(np.mean((1 - updated) * x + updated * y))
        variance = float(np.mean((1 - updated) * (x - mean) ** 2 + updated * (y - mean) ** 2))
        sd = max(math.sqrt(variance), 0.01)
        converged = np.max(np.abs(updated - responsibility)) < 1e-8
        responsibility = updated
        if converged:
            break
    probability[assessed] = responsibility
    return probability


def _segment_cost(alt: float, total: float) -> float:
    """Minus the binomial log-likelihood of a segment at its own share."""
    if total == 0 or alt in (0, total):
        return 0.0
    share = alt / total
    return -(alt * math.log(share) + (total - alt) * math.log1p(-share))


def _change_points(alt: FloatArray, total: FloatArray, *, min_rows: int,
                   max_changes: int = 4) -> list[int]:
    """Binary segmentation of daily counts: the indices of days that start a new share."""
    penalty = 3.0 * math.log(max(float(total.sum()), 2.0))
    segments: list[tuple[int, int]] = [(0, len(total))]
    cuts: list[int] = []
    while segments and len(cuts) < max_changes:
        start, end = segments.pop()
        cum_alt, cum_total = np.cumsum(alt[start:end]), np.cumsum(total[start:end])
        whole = _segment_cost(float(cum_alt[-1]), float(cum_total[-1]))
        best, best_gain = -1, 0.0
        for split in range(1, end - start):
            left_n, right_n = cum_total[split - 1], cum_total[-1] - cum_total[split - 1]
            if left_n < min_rows or right_n < min_rows:
                continue
            gain = whole - _segment_cost(float(cum_alt[split - 1]), float(left_n)) - (
                _segment_cost(float(cum_alt[-1] - cum_alt[split - 1]), float(right_n)))
            if gain > best_gain:
                best, best_gain = split, gain
        if best > 0 and 2.0 * best_gain > penalty:
            cuts.append(start + best)
            segments += [(start, start + best), (start + best, end)]
    return sorted(cuts)


def _dated_change(times: pd.Series, is_alt: npt.NDArray[np.bool_], *, min_jump: float,
                  min_rows: int) -> tuple[pd.Timestamp, pd.Timestamp | None, float, float] | None:
    """The first day the share of alternative-unit values jumps up by ``min_jump``."""
    days = pd.Series(is_alt.astype(np.float64)).groupby(times.dt.floor("D").to_numpy())
    alt, total = days.sum(), days.count().astype(np.float64)
    daily_alt = np.asarray(alt.to_numpy(np.float64), dtype=np.float64)
    daily_total = np.asarray(total.to_numpy(np.float64), dtype=np.float64)
    cuts = [0, *_change_points(daily_alt, daily_total, min_rows=min_rows), len(total)]
    shares = [float(alt.iloc[a:b].sum() / total.iloc[a:b].sum())
              for a, b in itertools.pairwise(cuts)]
    for number in range(1, len(shares)):
        if shares[number] - shares[number - 1] >= min_jump:
            ends = next((cuts[later] for later in range(number + 1, len(shares))
                         if shares[later - 1] - shares[later] >= min_jump), None)
            return (pd.Timestamp(total.index[cuts[number]]),
                    None if ends is None else pd.Timestamp(total.index[ends]),
                    shares[number - 1], shares[number])
    return None


def unit_mismatch(
    frame: pd.DataFrame,
    column: str,
    measurement: str | Measurement,
    *,
    time_column: str | None = None,
    min_share: float = 0.01,
    min_jump: float = 0.5,
) -> Finding:
    """Find values of ``column`` recorded in the measurement's alternative unit.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    column : str
        A numeric column holding ``measurement``.
    measurement : str or Measurement
        A name in :data:`MEASUREMENTS` with an alternative unit (``temperature``, ``glucose``,
        ``creatinine``, ``weight``), or a :class:`Measurement`.
    time_column : str or None
        A datetime column; when given, the finding reports the date a unit change starts (the
        first day after which the daily share of alternative-unit values rises by ``min_jump``)
        and counts the alternative-unit rows from that date on.
    min_share : float
        Share of alternative-unit values from which scattered values fail the check.
    min_jump : float
        Rise of the daily share that counts as a unit change starting on a date.

    Returns
    -------
    Finding
        Rule ``unit_mismatch``; ``n_rows`` counts the values in the alternative unit (from the
        start date on, when a dated change is found); ``details`` holds the unit, the share and,
        for a dated change, ``starts`` (ISO date) and ``share_before`` / ``share_after``; for
        scattered values with a time column, the ``first`` and ``last`` dates they occur.
    """
    spec = _measurement(measurement)
    if spec.alternative is None:
        raise InputError(f"measurement '{spec.name}' has no alternative unit to look for; "
                         "use temperature, glucose, creatinine or weight")
    values = _values(frame, column)
    probability = alternative_unit_probability(values, spec)
    assessed = ~np.isnan(probability)
    is_alt = assessed & (np.nan_to_num(probability) > 0.5)
    n_assessed, n_alt = int(assessed.sum()), int(is_alt.sum())
    share = n_alt / n_assessed if n_assessed else 0.0
    unit, other = spec.unit, spec.alternative.unit
    details: dict[str, Detail] = {"unit": unit, "alternative_unit": other, "share": share,
                                  "n_alternative": n_alt}
    if time_column is not None:
        if time_column not in frame.columns or not pd.api.types.is_datetime64_any_dtype(
                frame[time_column]):
            raise InputError(f"time column '{time_column}' must be a datetime column of the "
                             "table")
        times = frame[time_column]
        usable = assessed & times.notna().to_numpy()
        change = _dated_change(times[usable].reset_index(drop=True), is_alt[usable],
                               min_jump=min_jump, min_rows=max(5, n_assessed // 200)) \
            if usable.any() else None
        if change is not None:
            starts, ends, before, after = change
            window = (times >= starts).to_numpy() & (
                (times < ends).to_numpy() if ends is not None else True)
            details |= {"starts": starts.date().isoformat(), "share_before": before,
                        "share_after": after,
                        "ends": None if ends is None else ends.date().isoformat()}
            affected = is_alt & window
            return finding_from_mask(
                "unit_mismatch", [column], affected, status_if_any="fail", details=details,
                message=f"From {starts.date()}, '{column}' looks recorded in {other} instead "
                f"of {unit}: {int(affected.sum()):,} rows ({after:.0%} of values from that "
                f"date, {before:.0%} before).")
    status: Status = "fail" if share >= min_share else "warn"
    seen = ""
    if time_column is not None and n_alt:
        first, last = frame[time_column][is_alt].min(), frame[time_column][is_alt].max()
        details |= {"first": first.date().isoformat(), "last": last.date().isoformat()}
        seen = f", scattered between {first.date()} and {last.date()}"
    return finding_from_mask(
        "unit_mismatch", [column], is_alt, status_if_any=status, details=details,
        message=f"{n_alt:,} of {n_assessed:,} values of '{column}' ({share:.1%}) look recorded "
        f"in {other} instead of {unit}{seen}.")


def check_plausibility(
    frame: pd.DataFrame,
    mapping: Mapping[str, str | Measurement],
    *,
    time_column: str | None = None,
) -> list[Finding]:
    """Count impossible values per column, and values in another unit where one is common.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    mapping : Mapping[str, str or Measurement]
        Column name to measurement name in :data:`MEASUREMENTS` (or a :class:`Measurement`).
    time_column : str or None
        A datetime column, to date unit changes (see :func:`unit_mismatch`).

    Returns
    -------
    list[Finding]
        Per column, a ``plausible_range`` finding (rows outside the plausible range) and, for a
        measurement with an alternative unit, a ``unit_mismatch`` finding; values the other
        unit explains (98.6 among °C temperatures) count in the second only.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"hr": [72.0, 88.0, 0.0, 950.0, None]})
    >>> [finding] = check_plausibility(frame, {"hr": "heart_rate"})
    >>> finding.n_rows, finding.examples, finding.status
    (2, (2, 3), 'fail')
    """
    findings = []
    for column, measurement in mapping.items():
        spec = _measurement(measurement)
        values = _values(frame, column)
        with np.errstate(invalid="ignore"):
            impossible = ~np.isnan(values) & ((values < spec.low) | (values > spec.high))
        n_present = int((~np.isnan(values)).sum())
        other_unit = ""
        if spec.alternative is not None:
            # values explained by the other unit are the unit check's finding, not this one's
            explained = impossible & (np.nan_to_num(
                alternative_unit_probability(values, spec)) > 0.5)
            impossible &= ~explained
            if explained.any():
                other_unit = (f" A further {int(explained.sum()):,} look recorded in "
                              f"{spec.alternative.unit} (see the unit check).")
        findings.append(finding_from_mask(
            "plausible_range", [column], impossible, status_if_any="fail",
            details={"measurement": spec.name, "unit": spec.unit, "low": spec.low,
                     "high": spec.high},
            message=f"{int(impossible.sum()):,} of {n_present:,} values of '{column}' are "
            f"outside the plausible {spec.name} range {spec.low:g} to {spec.high:g} "
            f"{spec.unit}.{other_unit}"))
        if spec.alternative is not None:
            findings.append(unit_mismatch(frame, column, spec, time_column=time_column))
    return findings

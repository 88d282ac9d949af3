"""Plots of a monitor's stored windows over time, as inline SVG strings.

Each function draws already extracted series (one value per window, ``NaN`` where a window has
none) and returns the SVG text of one figure, cleaned for inlining like the validation report's
plots (:func:`assay.reports._plots.clean_svg`). Nothing is recomputed. Every line also differs
by style or marker, so that a figure reads in greyscale print.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from assay.errors import MissingExtraError
from assay.reports._plots import _STYLE, COLOURS, _slug, _svg

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from assay.monitoring import StoredWindow

__all__ = ["Series", "Timeline", "drift_figure", "drift_method", "drift_svg", "metric_svg",
           "missing_figure", "missing_svg", "series", "subgroup_series", "subgroup_svg",
           "timeline", "volume_svg"]

GROUP_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#222222")
GROUP_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
IMMATURE = "#d9d9d9"
IMMATURE_LABEL = "outcomes not yet complete"


@dataclass(frozen=True)
class Series:
    """One value per window with optional interval bounds (``NaN`` where undefined)."""

    value: list[float]
    low: list[float] | None = None
    high: list[float] | None = None


@dataclass(frozen=True)
class Timeline:
    """The windows on the time axis: their starts and ends, and their label maturity."""

    starts: list[datetime]
    ends: list[datetime]
    maturity: list[float]

    @property
    def middles(self) -> list[datetime]:
        return [a + (b - a) / 2 for a, b in zip(self.starts, self.ends, strict=True)]


@contextmanager
def _figure(rows: int = 1, height: float = 3.0, width: float = 7.2
            ) -> Iterator[tuple[Figure, list[Axes]]]:
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingExtraError("report", "matplotlib") from exc
    with matplotlib.rc_context(cast(Any, _STYLE)):
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
        yield figure, list(axes)


def _span(axes: Axes, timeline: Timeline) -> None:
    """The whole monitored period on the x axis, also when the first or last windows have no
    value."""
    axes.set_xlim(cast(Any, timeline.starts[0]), cast(Any, timeline.ends[-1]))


def _dates(axes: Axes) -> None:
    import matplotlib.dates

    mdates = cast(Any, matplotlib.dates)
    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _band(axes: Axes, x: Sequence[datetime], series: Series, colour: str, label: str) -> None:
    if series.low is not None and series.high is not None:
        axes.fill_between(cast(Any, x), series.low, series.high, color=colour, alpha=0.22,
                          linewidth=0, label=label)


def _shade_immature(axes: Axes, timeline: Timeline) -> bool:
    shaded = False
    for start, end, maturity in zip(timeline.starts, timeline.ends, timeline.maturity,
                                    strict=True):
        if math.isfinite(maturity) and maturity < 1.0:
            axes.axvspan(cast(Any, start), cast(Any, end), color=IMMATURE, alpha=0.7,
                         linewidth=0, zorder=0, label=None if shaded else IMMATURE_LABEL)
            shaded = True
    return shaded


def volume_svg(timeline: Timeline, volume: list[float], flag_rate: Series | None,
               *, reference_flag_rate: float | None, threshold: str | None,
               noun: str = "Predictions") -> str:
    """``noun`` per window (bars) and the share flagged with its 95% CI band."""
    rows = 2 if flag_rate is not None else 1
    with _figure(rows, 2.4 * rows + 0.7) as (figure, axes):
        widths = [(b - a).total_seconds() / 86400 * 0.8
                  for a, b in zip(timeline.starts, timeline.ends, strict=True)]
        axes[0].bar(cast(Any, timeline.middles), volume, width=widths, color=COLOURS["band"],
                    edgecolor=COLOURS["model"], linewidth=0.6)
        axes[0].set_ylabel(noun)
        axes[0].set_title("Volume per window")
        axes[0].set_ylim(bottom=0)
        if flag_rate is not None:
            ax = axes[1]
            x = timeline.middles
            _band(ax, x, flag_rate, COLOURS["band"], "95% CI")
            ax.plot(cast(Any, x), flag_rate.value, color=COLOURS["model"], marker="o",
                    markersize=3, label="Flag rate")
            if reference_flag_rate is not None:
                ax.axhline(reference_flag_rate, color=COLOURS["reference"], linestyle="--",
                           linewidth=1.0, label=f"Reference {reference_flag_rate:.1%}")
            ax.yaxis.set_major_formatter(_percent())
            ax.set_ylabel("Flagged")
            ax.set_title(f"Flag rate (score ≥ {threshold})" if threshold else "Flag rate")
            ax.set_ylim(bottom=0)
            figure.legend(loc="outside lower center", ncols=3, fontsize=8)
        _dates(axes[-1])
        title = "Volume and flag rate per window" if flag_rate is not None else "Volume per window"
        return _svg(figure, slug="monitor-volume", title=title,
                    description=f"Bars: {noun.lower()} per window."
                                + (" Line: share at or above the threshold, with its 95% CI "
                                   "band; dashed: the reference flag rate."
                                   if flag_rate is not None else ""))


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)


def missing_svg(timeline: Timeline, shares: Mapping[str, list[float]],
                raised: Mapping[str, list[bool]]) -> str:
    """Share of missing values per feature per window; windows that differ from the
    reference by more than the drift threshold are marked with a large cross."""
    with _figure(1, 3.4) as (figure, (axes,)):
        x = timeline.middles
        for i, (feature, values) in enumerate(shares.items()):
            colour = GROUP_COLOURS[i % len(GROUP_COLOURS)]
            axes.plot(cast(Any, x), values, color=colour, linewidth=1.4,
                      marker=GROUP_MARKERS[i % len(GROUP_MARKERS)], markersize=3,
                      label=feature)
            flagged = [(d, v) for d, v, r in zip(x, values, raised[feature], strict=True) if r]
            if flagged:
                axes.plot(cast(Any, [d for d, _ in flagged]), [v for _, v in flagged],
                          linestyle="none", marker="x", markersize=8, markeredgewidth=2,
                          color=COLOURS["points"])
        if any(any(r) for r in raised.values()):
            axes.plot([], [], linestyle="none", marker="x", markersize=8, markeredgewidth=2,
                      color=COLOURS["points"], label="differs from reference")
        axes.yaxis.set_major_formatter(_percent())
        axes.set_ylim(bottom=0)
        axes.set_ylabel("Missing")
        axes.set_title("Missing values per feature")
        figure.legend(loc="outside lower center", ncols=5, fontsize=8)
        _dates(axes)
        return _svg(figure, slug="monitor-missing", title="Missing values per feature",
                    description="Share of records with the feature missing in each window; "
                                "crosses mark windows whose missing share differs from the "
                                "reference by more than the drift threshold.")


DRIFT_BOUNDS = (0.0, 0.1, 0.2, 0.5, 1.0, 2.0)


def drift_svg(labels: list[str], features: list[str], statistic: list[list[float]],
              drifted: list[list[bool]], *, method: str, threshold: float) -> str:
    """A heatmap of the drift statistic per feature (rows) and window (columns); drifted
    cells carry a dot, so that colour is never the only signal."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    bounds = sorted({*DRIFT_BOUNDS, threshold})
    colours = ["#f7fbff", "#deebf7", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000", "#4d0000"]
    cmap = ListedColormap(colours[:len(bounds)]).with_extremes(over=colours[len(bounds)])
    norm = BoundaryNorm([*bounds, 1e9], cmap.N, extend="neither")
    height = 1.4 + 0.36 * len(features)
    with _figure(1, height) as (figure, (axes,)):
        image = axes.imshow(statistic, aspect="auto", cmap=cmap, norm=norm,
                            interpolation="nearest")
        for row, flags in enumerate(drifted):
            cols = [c for c, f in enumerate(flags) if f]
            axes.plot(cols, [row] * len(cols), linestyle="none", marker="o", markersize=2.6,
                      color="#111111")
        axes.set_yticks(range(len(features)), features)
        step = max(1, len(labels) // 10)
        axes.set_xticks(range(0, len(labels), step), [labels[i] for i in
                                                      range(0, len(labels), step)],
                        rotation=30, ha="right", fontsize=8)
        axes.grid(visible=False)
        axes.set_title(f"Drift against the reference ({method.upper()}), "
                       f"dot: above {threshold:g}")
        bar = figure.colorbar(image, ax=axes, pad=0.01, fraction=0.04)
        bar.set_ticks(bounds[1:])
        bar.set_label(method.upper(), fontsize=8)
        bar.ax.tick_params(labelsize=7)
        return _svg(figure, slug="monitor-drift", title=f"{method.upper()} per feature and "
                    "window", description=f"Each cell is the {method.upper()} of one feature "
                    f"in one window against the reference; cells above {threshold:g} "
                    "(drifted) carry a dot.")


def metric_svg(timeline: Timeline, *, title: str, realised: Series | None,
               estimated: Series | None, reference: float | None,
               reference_label: str = "Reference (validation)") -> str:
    """One metric per window: realised values with CI error bars, the label-free estimate
    dashed with its band, the reference as a line, and immature windows shaded."""
    with _figure(1, 3.2) as (figure, (axes,)):
        x = timeline.middles
        _shade_immature(axes, timeline)
        if reference is not None:
            axes.axhline(reference, color=COLOURS["reference"], linestyle=":",
                         linewidth=1.2, label=f"{reference_label} {reference:.3f}")
        if estimated is not None:
            _band(axes, x, estimated, COLOURS["treat_all"], "")
            axes.plot(cast(Any, x), estimated.value, color=COLOURS["treat_all"],
                      linestyle="--", linewidth=1.4, label="estimated without labels")
        if realised is not None:
            below = [max(v - lo, 0.0) if math.isfinite(v) and math.isfinite(lo) else math.nan
                     for v, lo in zip(realised.value, realised.low or realised.value,
                                      strict=True)]
            above = [max(hi - v, 0.0) if math.isfinite(v) and math.isfinite(hi) else math.nan
                     for v, hi in zip(realised.value, realised.high or realised.value,
                                      strict=True)]
            axes.errorbar(cast(Any, x), realised.value, yerr=[below, above], fmt="o",
                          markersize=3.5, color=COLOURS["model"], ecolor=COLOURS["model"],
                          elinewidth=0.9, capsize=1.5, label="measured, 95% CI")
        axes.set_title(title)
        figure.legend(loc="outside lower center", ncols=2, fontsize=8)
        _span(axes, timeline)
        _dates(axes)
        return _svg(figure, slug=f"monitor-metric-{_slug(title)}", title=f"{title} per window",
                    description=f"{title} measured in each window with its 95% CI, the "
                                "label-free estimate as a dashed line, the reference value "
                                "as a dotted line; grey: windows whose outcomes are not yet "
                                "complete.")


def subgroup_svg(timeline: Timeline, *, title: str, groups: Mapping[str, Series],
                 overall: Series | None, percent: bool,
                 description: str = "Each group's value per window with its 95% CI band; gaps "
                                    "are windows where the value is suppressed or undefined.",
                 ) -> str:
    """Each group's value per window with its CI band; suppressed windows are gaps."""
    with _figure(1, 3.2) as (figure, (axes,)):
        x = timeline.middles
        if overall is not None:
            axes.plot(cast(Any, x), overall.value, color=COLOURS["reference"], linestyle=":",
                      linewidth=1.2, label="All patients")
        for i, (group, series) in enumerate(groups.items()):
            colour = GROUP_COLOURS[i % len(GROUP_COLOURS)]
            _band(axes, x, series, colour, "")
            axes.plot(cast(Any, x), series.value, color=colour, linewidth=1.3,
                      marker=GROUP_MARKERS[i % len(GROUP_MARKERS)], markersize=3,
                      label=group)
        if percent:
            axes.yaxis.set_major_formatter(_percent())
        axes.set_title(title)
        figure.legend(loc="outside lower center", ncols=5, fontsize=8)
        _span(axes, timeline)
        _dates(axes)
        return _svg(figure, slug=f"monitor-groups-{_slug(title)}", title=title,
                    description=description)


# From stored windows to figures ----------------------------------------------------------


def timeline(windows: Sequence[StoredWindow]) -> Timeline:
    """The windows' places on the time axis."""
    return Timeline([w.result.window_start for w in windows],
                    [w.result.window_end for w in windows],
                    [math.nan if w.result.label_maturity is None else w.result.label_maturity
                     for w in windows])


def series(windows: Sequence[StoredWindow], name: str) -> Series | None:
    """A signal's value and CI per window, or ``None`` when no window has it."""
    found = [w.result.signals.get(name) for w in windows]
    if not any(e is not None and e.value is not None for e in found):
        return None

    def pick(attribute: str) -> list[float]:
        values = [None if e is None else getattr(e, attribute) for e in found]
        return [math.nan if v is None else float(v) for v in values]

    return Series(pick("value"), pick("ci_low"), pick("ci_high"))


def drift_method(windows: Sequence[StoredWindow]) -> str | None:
    """The drift method the heatmap shows: PSI when recorded, else the most common one."""
    methods = Counter(r.method for w in windows for r in w.result.drift
                      if r.method != "missing_share")
    if not methods:
        return None
    return "psi" if "psi" in methods else methods.most_common(1)[0][0]


def drift_figure(windows: Sequence[StoredWindow], method: str) -> tuple[str, list[str], float]:
    """The drift heatmap's SVG, the features in it, and the method's threshold."""
    features = list(dict.fromkeys(r.feature for w in windows for r in w.result.drift
                                  if r.method == method))
    cells = [{r.feature: r for r in w.result.drift if r.method == method} for w in windows]
    statistic = [[cell[f].statistic if f in cell else math.nan for cell in cells]
                 for f in features]
    drifted = [[f in cell and cell[f].drifted for cell in cells] for f in features]
    threshold = next(r.threshold for w in windows for r in w.result.drift if r.method == method)
    labels = [w.result.window_start.date().isoformat() for w in windows]
    return (drift_svg(labels, features, statistic, drifted, method=method, threshold=threshold),
            features, threshold)


def missing_figure(windows: Sequence[StoredWindow], features: Sequence[str]) -> str:
    """The missing-share figure of ``features``."""
    shares = {f: [w.result.missing_share.get(f, math.nan) for w in windows] for f in features}
    raised = {f: [any(r.feature == f and r.method == "missing_share" and r.drifted
                      for r in w.result.drift) for w in windows] for f in features}
    return missing_svg(timeline(windows), shares, raised)


def subgroup_series(windows: Sequence[StoredWindow], metric: str
                    ) -> tuple[dict[str, Series], Series | None]:
    """Each group's series of a subgroup metric (``NaN`` where suppressed or undefined) and
    the all-patients series."""
    groups: dict[str, dict[int, tuple[float, float, float]]] = {}
    overall: dict[int, tuple[float, float, float]] = {}
    for i, window in enumerate(windows):
        for table in window.result.subgroups:
            if table.metric != metric:
                continue
            for row in table.rows:
                point = (_number(row.value), _number(row.ci_low), _number(row.ci_high))
                if row.group is None:
                    overall[i] = point
                else:
                    groups.setdefault(f"{row.group}={row.group_value}", {})[i] = point

    def as_series(points: dict[int, tuple[float, float, float]]) -> Series:
        empty = (math.nan, math.nan, math.nan)
        columns = list(zip(*(points.get(i, empty) for i in range(len(windows))), strict=True))
        return Series(list(columns[0]), list(columns[1]), list(columns[2]))

    return ({g: as_series(p) for g, p in groups.items()},
            as_series(overall) if overall else None)


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)

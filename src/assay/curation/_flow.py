"""A CONSORT-style flow diagram of a cohort's attrition, as SVG text or PNG bytes.

Drawn from the stored :class:`~assay.curation._cohort.Attrition` record alone: a column of boxes
top-down with the rows (and units) left after each step, and beside each arrow a box with the
rows excluded at that step and its reason. Built with matplotlib (no graphviz, no network) in the
report style, so the same record always gives the same SVG bytes.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from assay.errors import MissingExtraError
from assay.reports._plots import _STYLE, clean_svg

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from assay.curation._cohort import Attrition, AttritionStep

__all__ = ["flow_png", "flow_svg"]

_WIDTH = 7.8
"""Figure width in inches; one data unit is one inch."""
_MAIN_X, _MAIN_WIDTH = 0.25, 3.5
_SIDE_X, _SIDE_WIDTH = 4.35, 3.2
_LINE = 0.19
_PAD = 0.12
_GAP = 0.3
_WRAP_MAIN, _WRAP_SIDE = 40, 36
_EDGE = "#333333"
_MAIN_FILL, _SIDE_FILL = "#eaf3fb", "#fbf0e6"


def _count(n: int, units: int | None, count_by: str | None) -> str:
    text = f"n = {n:,}"
    if units is not None and count_by is not None:
        text += f" ({units:,} distinct {count_by})"
    return text


def _main_text(attrition: Attrition, index: int) -> list[str]:
    if index == 0:
        title = "Source data"
        count = _count(attrition.n_start, attrition.units_start, attrition.count_by)
    else:
        step = attrition.steps[index - 1]
        title = "Final cohort" if index == len(attrition.steps) else f"After step {index}"
        count = _count(step.n_after, step.units_after, attrition.count_by)
    return [title, *textwrap.wrap(count, _WRAP_MAIN)]


def _side_text(step: AttritionStep, count_by: str | None) -> list[str]:
    lines = [f"Excluded n = {step.n_excluded:,}"]
    if step.units_excluded is not None and count_by is not None:
        lines.append(f"({step.units_excluded:,} distinct {count_by} removed)")
    verb = "Kept only" if step.kind == "include" else "Removed"
    lines += textwrap.wrap(f"{verb}: {step.reason}", _WRAP_SIDE)
    lines += textwrap.wrap(f"[{step.expression}]", _WRAP_SIDE)
    return lines


def _height(lines: list[str]) -> float:
    return len(lines) * _LINE + 2 * _PAD


def _box(axes: Axes, x: float, top: float, width: float, lines: list[str], fill: str) -> float:
    from matplotlib.patches import FancyBboxPatch

    height = _height(lines)
    axes.add_patch(FancyBboxPatch((x, top - height), width, height,
                                  boxstyle="round,pad=0,rounding_size=0.06",
                                  facecolor=fill, edgecolor=_EDGE, linewidth=1.0))
    axes.text(x + width / 2, top - _PAD, lines[0], ha="center", va="top", fontweight="bold")
    if len(lines) > 1:
        axes.text(x + width / 2, top - _PAD - _LINE, "\n".join(lines[1:]), ha="center",
                  va="top", linespacing=1.25)
    return height


def _arrow(axes: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    axes.annotate("", xy=end, xytext=start,
                  arrowprops=dict(arrowstyle="-|>", color=_EDGE, linewidth=1.0,
                                  shrinkA=0, shrinkB=0))


@contextmanager
def _flow_figure(attrition: Attrition) -> Iterator[Figure]:
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingExtraError("report", "matplotlib") from exc
    mains = [_main_text(attrition, i) for i in range(len(attrition.steps) + 1)]
    sides = [_side_text(step, attrition.count_by) for step in attrition.steps]
    # each step's band holds its side box between the two main boxes
    bands = [max(_height(side) + 2 * _GAP, 3 * _GAP) for side in sides]
    total = sum(_height(m) for m in mains) + sum(bands) + 2 * _GAP
    with matplotlib.rc_context(cast(Any, {**_STYLE, "axes.grid": False})):
        figure = Figure(figsize=(_WIDTH, total))
        axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
        axes.set_xlim(0, _WIDTH)
        axes.set_ylim(0, total)
        axes.set_axis_off()
        centre = _MAIN_X + _MAIN_WIDTH / 2
        top = total - _GAP
        for index, lines in enumerate(mains):
            bottom = top - _box(axes, _MAIN_X, top, _MAIN_WIDTH, lines, _MAIN_FILL)
            if index == len(sides):
                break
            band = bands[index]
            _arrow(axes, (centre, bottom), (centre, bottom - band))
            side = sides[index]
            side_top = bottom - (band - _height(side)) / 2
            _box(axes, _SIDE_X, side_top, _SIDE_WIDTH, side, _SIDE_FILL)
            middle = bottom - band / 2
            _arrow(axes, (centre, middle), (_SIDE_X, middle))
            top = bottom - band
        yield figure


def _description(attrition: Attrition) -> str:
    parts = [f"Flow of {attrition.name}: {attrition.n_start:,} rows in the source data."]
    for step in attrition.steps:
        parts.append(f"Step {step.step} ({step.kind}, {step.reason}): {step.n_excluded:,} "
                     f"excluded, {step.n_after:,} left.")
    return " ".join(parts)


def flow_svg(attrition: Attrition) -> str:
    """The flow diagram as SVG text ready to inline in HTML (no fixed size, accessible title).

    Parameters
    ----------
    attrition
        The record of :func:`~assay.curation._cohort.build_cohort` (``cohort.attrition``).
    """
    with _flow_figure(attrition) as figure:
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    slug = "flow-" + "".join(c if c.isalnum() else "-" for c in attrition.name.lower())
    return clean_svg(buffer.getvalue(), slug=slug, title=f"Cohort flow: {attrition.name}",
                     description=_description(attrition))


def flow_png(attrition: Attrition, *, dpi: int = 150) -> bytes:
    """The flow diagram as PNG bytes (``dpi`` pixels per inch)."""
    with _flow_figure(attrition) as figure:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()

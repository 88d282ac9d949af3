"""Rich renderings of runs for the terminal."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assay.checks import Run
from assay.metrics import get_metric, list_metrics

_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "error": "bold red",
          "skipped": "dim"}


def print_evaluation(console: Console, run: Run) -> None:
    """The metric table (metrics × scores), then the comparisons."""
    data = run.data
    events = f", {data.n_events:,} events ({data.n_events / data.n:.1%})" if data.n_events else ""
    console.print(f"[bold]{escape(data.source)}[/]: {data.n:,} rows{events}; "
                  f"{run.level:.0%} confidence intervals")
    table = Table(show_edge=False, header_style="bold")
    table.add_column("metric")
    scores = [s.name for s in run.data.scores]
    for score in scores:
        table.add_column(score, justify="right")
    rows: dict[tuple[str, float | None], dict[str, str]] = {}
    not_read = []  # threshold metrics skipped for a score that has no threshold
    for record in sorted(run.overall_metrics,
                         key=lambda r: (r.threshold is not None, r.metric)):
        if record.estimate is not None:
            cell = str(record.estimate)
        elif record.threshold is None and "threshold" in get_metric(record.metric).params:
            not_read.append(record)
            continue
        else:
            cell = f"[dim]{record.status}[/]"
        rows.setdefault((record.metric, record.threshold), {})[record.score] = cell
    for record in not_read:
        keys = [k for k in rows if k[0] == record.metric] or [(record.metric, None)]
        for key in keys:
            rows.setdefault(key, {})[record.score] = f"[dim]{record.status}[/]"
    for (metric, threshold), cells in rows.items():
        label = metric if threshold is None else f"{metric} @ {threshold:g}"
        table.add_row(escape(label), *(cells.get(s, "") for s in scores))
    console.print(table)
    skipped = {r.reason for r in run.overall_metrics if r.status != "ok" and r.reason}
    for reason in sorted(skipped):
        console.print(f"  [dim]· {escape(reason)}[/]")
    print_groups(console, run)
    for c in run.comparisons:
        p = "p < 0.001" if c.p_value < 0.001 else f"p = {c.p_value:.3f}"
        console.print(f"{c.metric} {c.a} − {c.b}: {c.difference:+.3f} "
                      f"({c.ci_low:+.3f} to {c.ci_high:+.3f}), {p} [{c.method}]")


GROUP_COLUMNS = ("auroc", "sensitivity", "ppv")
"""The metrics shown per group in the terminal (all of them are in the JSON)."""


def print_groups(console: Console, run: Run) -> None:
    """One table per score and grouping: n and a few key metrics per group, with intervals;
    groups under the small-cell threshold show as suppressed."""
    threshold = next(iter(run.thresholds.values()), None)
    for score in (s.name for s in run.data.scores):
        records = [r for r in run.group_metrics if r.score == score
                   and r.metric in GROUP_COLUMNS and r.threshold in (None, threshold)]
        for grouping in dict.fromkeys(r.group for r in records):
            rows: dict[str, dict[str, str]] = {}
            counts: dict[str, str] = {}
            for r in (r for r in records if r.group == grouping):
                value = r.group_value or ""
                if r.suppressed:
                    counts[value] = f"<{run.plan.settings.small_cell_threshold}"
                    cell = "[dim]suppressed[/]"
                else:
                    counts[value] = f"{r.n:,}"
                    cell = str(r.estimate) if r.estimate is not None else f"[dim]{r.status}[/]"
                rows.setdefault(value, {})[r.metric] = cell
            shown = [m for m in GROUP_COLUMNS if any(m in cells for cells in rows.values())]
            table = Table(title=escape(f"{score} by {grouping}"), show_edge=False,
                          header_style="bold", title_justify="left")
            table.add_column(escape(str(grouping)))
            table.add_column("n", justify="right")
            for metric in shown:
                at = f" @ {threshold:g}" if threshold is not None and "threshold" in get_metric(
                    metric).params else ""
                table.add_column(metric + at, justify="right")
            for value, cells in rows.items():
                table.add_row(escape(value), counts[value], *(cells.get(m, "") for m in shown))
            console.print(table)


def print_run_summary(console: Console, run: Run, written: dict[str, Path]) -> None:
    """One line of counts, then one line per check that did not pass."""
    counts = ", ".join(f"{n} {status}" for status, n in run.counts.items() if n)
    files = "  →  " + ", ".join(map(str, written.values())) if written else ""
    console.print(f"  {len(run.results)} checks: {counts or 'none'}{escape(files)}", soft_wrap=True)
    for result in run.results:
        if result.status == "pass":
            continue
        style = _STYLE[result.status]
        console.print(f"  [{style}]{result.status.upper():7}[/] {escape(result.id)}  "
                      f"{escape(result.reason)}", soft_wrap=True)


def print_metrics_catalogue(console: Console) -> None:
    """The metric registry as a table."""
    table = Table(show_edge=False, header_style="bold")
    for column in ("metric", "task", "needs", "better", "interval", "definition"):
        table.add_column(column, no_wrap=column != "definition")
    for name in list_metrics():
        spec = get_metric(name)
        better = {True: "higher", False: "lower", None: f"near {spec.ideal:g}"
                  if spec.ideal is not None else "-"}[spec.greater_is_better]
        table.add_row(name, spec.task, spec.score_kind, better, spec.interval,
                      escape(spec.description))
    console.print(table)

"""``assay monitor`` (run, backfill, backtest, report) and ``assay alerts`` (list, ack,
resolve, snooze).

Exit codes: 0 when the command completed — alerts are findings of a monitor, not failures
of the command, so a run that raises alerts still exits 0 (read them from the output, the
store or the notifiers); 2 on bad input (one line naming the file, field, option or alert).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assay.cli._errors import exits_2_on_bad_input
from assay.errors import InputError

if TYPE_CHECKING:
    from assay.metrics import Estimate
    from assay.monitoring import Alert, MonitorRecords, MonitorRun, MonitorSpec, WindowResult
    from assay.store import Store

__all__ = ["alerts_app", "monitor_app"]

monitor_app = typer.Typer(help="Monitors: evaluate production windows against the reference, "
                               "backfill, backtest a log, report.", no_args_is_help=True)
alerts_app = typer.Typer(help="Monitoring alerts: list, acknowledge, resolve, snooze.",
                         no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])

_ALL_STATES = ("open", "acknowledged", "snoozed", "resolved")
_COLOUR = {"green": "green", "amber": "yellow", "red": "bold red"}
_COMPACT: dict[str, Any] = {"box": box.SIMPLE_HEAD, "show_edge": False, "pad_edge": False,
                            "collapse_padding": True, "title_justify": "left",
                            "caption_justify": "left"}
_SEVERITY = {"info": "blue", "warning": "yellow", "critical": "bold red"}

UrlOpt = Annotated[str | None, typer.Option(
    "--url", "--database",
    help="Database URL (default: ASSAY_DATABASE_URL, else ./.assay/assay.db).")]
MonitorArg = Annotated[str, typer.Argument(
    metavar="MONITOR", help="A monitor YAML file, or the name of a monitor in the store.")]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", metavar="DATE", help="Evaluate as of this date or time (default: now, UTC).")]
ByOpt = Annotated[str, typer.Option("--by", help="Who does this (recorded in the audit).")]
NoteOpt = Annotated[str | None, typer.Option("--note", help="Why (recorded in the audit).")]
AlertArg = Annotated[str, typer.Argument(
    metavar="ID", help="Alert id: the full id or a unique prefix of it (as 'alerts list' "
                       "shows).")]



@contextmanager
def _store(url: str | None) -> Iterator[Store]:
    from assay.store import Store

    store = Store.open(url)
    try:
        yield store
    finally:
        store.close()


def _moment(text: str | None, option: str) -> datetime | None:
    """A date or time given on the command line, as UTC; naive values are UTC."""
    if text is None:
        return None
    try:
        stamp = pd.Timestamp(text)
    except ValueError as exc:
        raise InputError(f"{option} {text!r} is not a date or time (write YYYY-MM-DD)") from exc
    if pd.isna(stamp):
        raise InputError(f"{option} {text!r} is not a date or time (write YYYY-MM-DD)")
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    moment: datetime = stamp.to_pydatetime()
    return moment


def _load(monitor: str, store: Store) -> tuple[MonitorSpec, Path | None]:
    """The spec named by MONITOR (a YAML file, else a stored monitor) and its base folder."""
    from assay.monitoring import MonitorRecords, MonitorSpec

    path = Path(monitor)
    if path.is_file():
        return MonitorSpec.load(path), path.parent
    if path.suffix.lower() in {".yaml", ".yml"} or len(path.parts) > 1:
        raise InputError(f"{monitor}: no such monitor file")
    spec = MonitorRecords(store).spec(monitor)
    for what, source in (("source", spec.source), ("reference", spec.reference)):
        if source.path is not None and not Path(source.path).expanduser().exists():
            raise InputError(
                f"monitor {monitor!r}: its {what} {source.path!r} is not found from the "
                f"current folder (the store does not record the folder of the monitor's "
                "file): run the monitor by its file, or from the folder its paths start at")
    return spec, None


# monitor ----------------------------------------------------------------------------------


@monitor_app.command("run")
@exits_2_on_bad_input
def run(monitor: MonitorArg, as_of: AsOfOpt = None, url: UrlOpt = None) -> None:
    """Evaluate every complete window not yet evaluated (or changed); exit 0 even with alerts.

    Relative paths in a monitor file are read from the file's folder; those of a stored
    monitor from the current folder.
    """
    from assay.monitoring import run_monitor

    moment = _moment(as_of, "--as-of")
    with _store(url) as store:
        spec, base = _load(monitor, store)
        outcome = run_monitor(spec, store, as_of=moment, base=base)
        _print_run(store, spec, outcome)


@monitor_app.command("backfill")
@exits_2_on_bad_input
def backfill(
    monitor: MonitorArg,
    first: Annotated[str, typer.Option("--from", metavar="DATE",
                                       help="First day: windows from the one holding it.")],
    last: Annotated[str, typer.Option("--to", metavar="DATE",
                                      help="Last day: windows ending by the end of this day.")],
    as_of: AsOfOpt = None,
    url: UrlOpt = None,
) -> None:
    """Evaluate the windows between --from and --to (both days included), as of now."""
    from assay.monitoring import run_monitor

    start = _moment(first, "--from")
    end = _moment(last, "--to")
    assert start is not None and end is not None
    if end < start:
        raise InputError(f"--to {last} is before --from {first}")
    moment = _moment(as_of, "--as-of")
    with _store(url) as store:
        spec, base = _load(monitor, store)
        outcome = run_monitor(spec, store, as_of=moment, start=start.date(),
                              end=end + timedelta(days=1), base=base)
        _print_run(store, spec, outcome)


@monitor_app.command("backtest")
@exits_2_on_bad_input
def backtest_command(
    log: Annotated[Path, typer.Argument(help="CSV or Parquet log of past predictions.")],
    reference: Annotated[Path, typer.Option("--reference", help="CSV or Parquet reference "
                                                                "(the validation data).")],
    time: Annotated[str, typer.Option("--time", help="Column of the prediction time.")],
    target: Annotated[str, typer.Option("--target", help="Outcome column (0/1, empty while "
                                                         "unknown).")],
    score: Annotated[str, typer.Option("--score", help="Risk score column.")],
    window: Annotated[str, typer.Option("--window", help="Window length: 7d, 14d, 2w.")] = "7d",
    features: Annotated[list[str] | None, typer.Option(
        "--features", help="Columns compared with the reference; repeat or comma-separate "
                           "(default: the numeric columns both files share).")] = None,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", help="Decision threshold on the score (flag when score >= it).")] = None,
    label_time: Annotated[str | None, typer.Option(
        "--label-time", help="Column of when each outcome became known.")] = None,
    group: Annotated[list[str] | None, typer.Option(
        "--group", help="Break the flag rate and O:E down by a column; repeat.")] = None,
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="Write the windows, alerts and rules as JSON.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the window intervals.")] = 0,
) -> None:
    """Replay a monitor with the default alert rules over a past log; exit 0 with alerts."""
    from assay.monitoring import backtest

    names = None if not features else [n.strip() for f in features for n in f.split(",")
                                       if n.strip()]
    found = backtest(log, reference, time=time, target=target, score=score, window=window,
                     features=names, threshold=threshold, label_time=label_time,
                     groups=tuple(group or ()), seed=seed)
    console.print(_windows_table(f"Backtest of {log.name} against {reference.name}",
                                 [(w.result, w.status) for w in found.windows],
                                 raised={w.result.window_start: len(w.alerts_raised)
                                         for w in found.windows}))
    if found.alerts:
        console.print(_alerts_table("Alerts raised", found.alerts, full_ids=False,
                                    show_monitor=False, first_window=True))
    console.print(found.summary())
    if json_path is not None:
        json_path.write_text(json.dumps(found.to_json(), indent=2) + "\n", encoding="utf-8")
        console.print(f"written: {json_path}")


@monitor_app.command("report")
@exits_2_on_bad_input
def report(
    monitor: MonitorArg,
    html: Annotated[Path | None, typer.Option("--html", help="Write the HTML report.")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the PDF report (needs the "
                                                           "'pdf' extra).")] = None,
    as_of: AsOfOpt = None,
    url: UrlOpt = None,
) -> None:
    """Render a monitor's stored windows and alerts as an HTML or PDF report."""
    from assay.monitoring import MonitorSpec
    from assay.reports._monitoring import render_monitoring_report

    if html is None and pdf is None:
        raise InputError("give --html FILE or --pdf FILE")
    if html is not None and html.suffix.lower() not in {".html", ".htm"}:
        raise InputError(f"--html {html}: the file name must end in .html")
    if pdf is not None and pdf.suffix.lower() != ".pdf":
        raise InputError(f"--pdf {pdf}: the file name must end in .pdf")
    moment = _moment(as_of, "--as-of")
    with _store(url) as store:
        path = Path(monitor)
        name = MonitorSpec.load(path).name if path.is_file() else monitor
        for written in (p for p in (html, pdf) if p is not None):
            render_monitoring_report(store, name, written, as_of=moment)
            console.print(f"written: {written}")


def _print_run(store: Store, spec: MonitorSpec, outcome: MonitorRun) -> None:
    from assay.monitoring import MonitorRecords

    status = {(s.result.window_start, s.result.window_end): s.status
              for s in MonitorRecords(store).windows(spec.name)}
    if outcome.evaluated:
        title = f"Windows of {spec.name} evaluated as of {outcome.as_of:%Y-%m-%d %H:%M} UTC"
        rows = [(r, status.get((r.window_start, r.window_end), "green"))
                for r in outcome.evaluated]
        console.print(_windows_table(title, rows) if spec.genai is None
                      else _output_windows_table(title, rows))
    if outcome.alerts:
        console.print(_alerts_table("Live alerts", outcome.alerts, full_ids=False,
                                    show_monitor=False))
    console.print(outcome.summary())


def _windows_table(title: str, rows: list[tuple[WindowResult, str]],
                   raised: dict[datetime, int] | None = None) -> Table:
    """Windows, one per row; intervals under their values so that 80 columns suffice."""
    table = Table(title=title, caption="≈: estimated without labels (outcomes not yet known); "
                  "under each value its 95 % interval", **_COMPACT)
    for column in ("window", "n", "labelled", "maturity", "AUROC", "O:E", "status"):
        table.add_column(column, justify="left" if column in {"window", "status"} else "right",
                         no_wrap=True)
    if raised is not None:
        table.add_column("alerts", justify="right", no_wrap=True)
    for result, colour in rows:
        last = (result.window_end - timedelta(days=1)).date()
        span = (result.window_start.date().isoformat() if result.window_start.date() == last
                else f"{result.window_start.date()}\nto {last}")
        cells = [span, str(result.n), str(result.n_labelled),
                 "—" if result.label_maturity is None else f"{result.label_maturity:.0%}",
                 _auroc(result), _signal(result, "oe_ratio"),
                 f"[{_COLOUR.get(colour, 'default')}]{colour}[/]"]
        if raised is not None:
            cells.append(str(raised.get(result.window_start, 0)))
        table.add_row(*cells)
    return table


def _output_windows_table(title: str, rows: list[tuple[WindowResult, str]]) -> Table:
    """A generative application's windows: outputs, PHI leaks, refusals and input drift."""
    table = Table(title=title, caption="under each value its 95 % interval", **_COMPACT)
    for column in ("window", "outputs", "PHI leaks", "refusals", "input drift AUROC",
                   "status"):
        table.add_column(column, justify="left" if column in {"window", "status"} else "right",
                         no_wrap=True)
    for result, colour in rows:
        last = (result.window_end - timedelta(days=1)).date()
        table.add_row(f"{result.window_start.date()}\nto {last}", str(result.n),
                      _signal(result, "flag_rate.phi_leak"), _signal(result, "refusal_rate"),
                      _signal(result, "input_drift_auroc"),
                      f"[{_COLOUR.get(colour, 'default')}]{colour}[/]")
    return table


def _auroc(result: WindowResult) -> str:
    if "auroc" in result.signals:
        return _estimate(result.signals["auroc"])
    if "estimated_auroc" in result.signals:
        return "≈" + _estimate(result.signals["estimated_auroc"])
    return "—"


def _signal(result: WindowResult, name: str) -> str:
    return _estimate(result.signals[name]) if name in result.signals else "—"


def _estimate(value: Estimate) -> str:
    """The value, and its interval on the next line."""
    if value.ci_low is None or value.ci_high is None:
        return f"{value.value:.3f}"
    return f"{value.value:.3f}\n{value.ci_low:.3f}–{value.ci_high:.3f}"


def _alerts_table(title: str, alerts: tuple[Alert, ...] | list[Alert], *, full_ids: bool,
                  show_monitor: bool, first_window: bool = False) -> Table:
    table = Table(title=title, **_COMPACT)
    columns = ["id", *(["monitor"] if show_monitor else []), "rule", "severity", "state",
               "first window" if first_window else "opened", "title"]
    for column in columns:
        wraps = column in {"monitor", "rule", "title"} or (full_ids and column == "id")
        table.add_column(column, overflow="fold", no_wrap=not wraps)
    for alert in alerts:
        when = (alert.first_window_start.date().isoformat() if first_window
                else alert.opened_at.date().isoformat())
        table.add_row(str(alert.id) if full_ids else str(alert.id)[:8],
                      *([escape(alert.monitor)] if show_monitor else []),
                      escape(alert.rule),
                      f"[{_SEVERITY.get(alert.severity, 'default')}]{alert.severity}[/]",
                      alert.state, when, escape(alert.title))
    return table


# alerts -----------------------------------------------------------------------------------


@alerts_app.command("list")
@exits_2_on_bad_input
def list_alerts(
    monitor: Annotated[str | None, typer.Option("--monitor", help="Only this monitor's "
                                                                  "alerts.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Also the resolved alerts.")] = False,
    full_ids: Annotated[bool, typer.Option("--full-ids", help="Show the full alert ids.")
                        ] = False,
    url: UrlOpt = None,
) -> None:
    """List the live alerts (open, acknowledged, snoozed), newest first; --all adds resolved."""
    from assay.monitoring import MonitorRecords

    with _store(url) as store:
        alerts = MonitorRecords(store).alerts(
            monitor=monitor, states=_ALL_STATES if every else ("open", "acknowledged",
                                                               "snoozed"))
    if not alerts:
        console.print("no alerts" if every else "no live alerts")
        return
    console.print(_alerts_table("Alerts", alerts, full_ids=full_ids, show_monitor=True))


@alerts_app.command("ack")
@exits_2_on_bad_input
def acknowledge(alert_id: AlertArg, by: ByOpt, note: NoteOpt = None,
                url: UrlOpt = None) -> None:
    """Acknowledge an open or snoozed alert: someone is looking at it."""
    _change(alert_id, "acknowledge", by=by, note=note, until=None, url=url)


@alerts_app.command("resolve")
@exits_2_on_bad_input
def resolve(alert_id: AlertArg, by: ByOpt, note: NoteOpt = None, url: UrlOpt = None) -> None:
    """Resolve a live alert by hand (a monitor also resolves one when its signal clears)."""
    _change(alert_id, "resolve", by=by, note=note, until=None, url=url)


@alerts_app.command("snooze")
@exits_2_on_bad_input
def snooze(
    alert_id: AlertArg,
    until: Annotated[str, typer.Option("--until", metavar="DATE",
                                       help="The alert reopens at this date or time (UTC).")],
    by: ByOpt,
    note: NoteOpt = None,
    url: UrlOpt = None,
) -> None:
    """Snooze an alert until a date: no notification until then; it reopens after."""
    moment = _moment(until, "--until")
    _change(alert_id, "snooze", by=by, note=note, until=moment, url=url)


def _change(alert_id: str, action: str, *, by: str, note: str | None,
            until: datetime | None, url: str | None) -> None:
    from assay.monitoring import MonitorRecords

    with _store(url) as store:
        records = MonitorRecords(store)
        before = _find(records, alert_id)
        after = records.change_alert(before.id, action, actor=by, note=note, until=until)
    until_text = (f" until {after.snoozed_until:%Y-%m-%d %H:%M} UTC"
                  if after.state == "snoozed" and after.snoozed_until else "")
    console.print(f"alert {after.id} ({escape(after.monitor)}, {escape(after.rule)}): "
                  f"{before.state} → {after.state}{until_text}, by {escape(by)}")


def _find(records: MonitorRecords, alert_id: str) -> Alert:
    """The alert whose id is ``alert_id`` or starts with it (at least 4 characters)."""
    text = alert_id.strip().lower()
    if len(text) < 4:
        raise InputError(f"alert id {alert_id!r} is too short: give at least 4 characters")
    matches = [a for a in records.alerts(states=_ALL_STATES) if str(a.id).startswith(text)]
    if not matches:
        raise InputError(f"alert {alert_id!r} is not in the store {records.store.safe_url}")
    if len(matches) > 1:
        raise InputError(f"alert id {alert_id!r} is ambiguous: {len(matches)} alerts start "
                         "with it; give more characters")
    return matches[0]

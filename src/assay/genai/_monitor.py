"""Monitoring a generative application in production from its log of outputs.

The log has one row per output: a time column (default ``timestamp``) and the fields of a
:class:`Record` (``id``, ``task``, ``output``, and ``input``, ``source``, ``contexts``,
``metadata`` when there are; a reference output is rarely there). A monitor with a ``genai:``
section (:class:`assay.genai._monitor_spec.GenAIMonitor`) cuts it into the monitoring windows
(daily, weekly, monthly, rolling) and measures each complete window's outputs:

- ``volume``: the outputs in the window;
- every metric :func:`evaluate` gives them under the plan, by its name (``length_words``, the
  mean output length in words; ``readability_grade``; ``rougeL`` where there are references...),
  its mean with the plan's interval;
- ``flag_rate.<type>``: the share of outputs with at least one flag of that type, with its
  Wilson interval, for every type found in the window or the reference, named by an alert rule
  or a check of the plan, and always ``phi_leak`` and ``refusal`` (0 when none was found, so
  that an alert can resolve); ``refusal_rate`` is ``flag_rate.refusal``;
- ``input_drift_auroc``: can a classifier tell the window's inputs from the reference inputs
  (:mod:`assay.genai._monitor_signals`; ``signal_notes`` says what it saw).

These are the window's ``signals``: the monitor's alert rules (``metric: flag_rate.phi_leak``,
``when: value > 0``) judge them with the same hysteresis, resolution, cool-down, notifications
and audit trail as a monitor of predictions, and :func:`assay.monitoring.run_monitor` (so
``assay monitor run``) runs such a monitor. :func:`monitor_outputs` replays one over a log on a
throwaway store. Nothing is downloaded; the embeddings are read from the installed model.
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from assay.data import json_fingerprint
from assay.errors import InputError
from assay.genai._evaluate import evaluate
from assay.genai._evaluation import Evaluation
from assay.genai._lexicon import MedicationLexicon, default_lexicon, lexicon_from_lines
from assay.genai._monitor_signals import (
    REFUSAL_PHRASES,
    InputSpace,
    input_drift,
    input_text,
    refusal_flags,
)
from assay.genai._monitor_spec import GenAIMonitor, InputField
from assay.genai._plan import EvalPlan
from assay.genai._records import Flag, Record, _describe
from assay.metrics import Estimate
from assay.metrics.intervals import proportion_estimate

if TYPE_CHECKING:  # the monitoring package imports this one's section model
    from assay.monitoring import AlertRule, BacktestResult, MonitorSpec, Window, WindowResult

__all__ = ["OutputsReference", "log_records", "monitor_outputs", "prepare_outputs_reference"]

ALWAYS_WATCHED = ("phi_leak", "refusal")
"""Flag types whose rate every window reports, found or not."""
_RECORD_FIELDS = tuple(Record.model_fields)
_NOT_MEASURED = ("name", "notifiers", "notify", "source")


class OutputsReference:
    """The reference outputs prepared once per monitor run: their signals, the flag types
    every window reports and the input space of the drift classifier; it measures windows."""

    def __init__(self, spec: MonitorSpec, frame: pd.DataFrame, source: str) -> None:
        if spec.genai is None:
            raise InputError(f"monitor {spec.name!r} has no 'genai:' section")
        section: GenAIMonitor = spec.genai
        self.spec = spec
        self.time = section.time
        frame = _reference_rows(frame, section, source)
        records = log_records(frame, source, time=self.time if self.time in frame else None)
        if not records:
            raise InputError(f"{source}: no reference outputs"
                             + (" in the reference window" if section.reference_window else ""))
        self.plan = section.plan.model_copy(update={"strata": (), "checks": (), "gate": None})
        self.phrases = (*REFUSAL_PHRASES, *section.refusal_phrases)
        self.fields: tuple[InputField, ...] = section.input_fields
        evaluation = evaluate(records, self.plan, source=source)
        refusals = [refusal_flags(r.output, self.phrases) for r in records]
        self.flag_types = _watched_flags(spec) | {
            f.type for item, extra in zip(evaluation.items, refusals, strict=True)
            for f in (*item.flags, *extra)}
        self.signals, _ = self._measure(evaluation, refusals)
        self.space = InputSpace([input_text(r, self.fields) for r in records],
                                embeddings=section.embeddings, lexicon=_lexicon(section.plan),
                                fields=self.fields)
        self.fingerprint = json_fingerprint([r.model_dump(mode="json") for r in records])

    def window_fingerprint(self, rows: pd.DataFrame, as_of: datetime) -> str:
        """The hash of a window's outputs, the reference's and the spec's measuring parts."""
        records = log_records(rows, "the window", time=self.time)
        times = [t.isoformat() for t in pd.to_datetime(rows[self.time], utc=True)]
        return json_fingerprint([
            self.fingerprint, self.spec.content(exclude=set(_NOT_MEASURED)),
            [[t, r.model_dump(mode="json")] for t, r in zip(times, records, strict=True)]])

    def evaluate_window(self, rows: pd.DataFrame, window: Window,
                        as_of: datetime) -> WindowResult:
        """Measure one window's outputs (``rows``, already the window's)."""
        from assay.monitoring._evaluate import WindowResult, window_seed

        records = log_records(rows, f"the window {window.label}", time=self.time)
        notes: dict[str, str] = {}
        if records:
            evaluation = evaluate(records, self.plan, source=f"the window {window.label}")
            signals, undefined = self._measure(
                evaluation, [refusal_flags(r.output, self.phrases) for r in records])
            drift = input_drift(self.space, [input_text(r, self.fields) for r in records],
                                seed=window_seed(self.spec.seed, window), window=window.label)
            if drift.auroc is not None:
                signals["input_drift_auroc"] = drift.auroc
            else:
                undefined["input_drift_auroc"] = drift.reason or "not measured"
            notes["input_drift_auroc"] = drift.note
        else:
            signals = {"volume": Estimate(value=0.0, method="none", n=0)}
            undefined = {name: "no outputs in the window"
                         for name in [*self.signals, "input_drift_auroc"]}
        return WindowResult(
            monitor=self.spec.name, window_start=window.start, window_end=window.end,
            as_of=as_of, n=len(records), n_labelled=0, label_maturity=None, signals=signals,
            undefined=undefined, missing_share={}, drift=(), subgroups=(),
            reference_signals=self.signals, signal_notes=notes,
            data_fingerprint=self.window_fingerprint(rows, as_of))

    def _measure(self, evaluation: Evaluation, refusals: Sequence[tuple[Flag, ...]]
                 ) -> tuple[dict[str, Estimate], dict[str, str]]:
        """Volume, metric means and flag rates of evaluated outputs."""
        n = len(evaluation.items)
        signals = {"volume": Estimate(value=float(n), method="none", n=n)}
        undefined: dict[str, str] = {}
        for name, summary in evaluation.summary.metrics.items():
            if summary.estimate is None:
                undefined[name] = summary.reason or "no value"
            else:
                signals[name] = summary.estimate
        flagged: Counter[str] = Counter()
        for item, extra in zip(evaluation.items, refusals, strict=True):
            flagged.update({flag.type for flag in (*item.flags, *extra)})
        level = self.plan.settings.level
        for flag_type in sorted(self.flag_types | set(flagged)):
            signals[f"flag_rate.{flag_type}"] = proportion_estimate(flagged[flag_type], n, level)
        signals["refusal_rate"] = signals["flag_rate.refusal"]
        return signals, undefined


def prepare_outputs_reference(spec: MonitorSpec, frame: pd.DataFrame, source: str, *,
                              rows: pd.DataFrame | None = None,
                              described: str = "the log") -> OutputsReference:
    """Check the log's rows (``rows``, named ``described``) before any window is measured,
    and prepare the reference outputs ``frame`` (named ``source``)."""
    if spec.genai is None:
        raise InputError(f"monitor {spec.name!r} has no 'genai:' section")
    if rows is not None:
        log_records(rows, described, time=spec.genai.time)
    return OutputsReference(spec, frame, source)


def log_records(rows: pd.DataFrame, described: str, *, time: str | None) -> list[Record]:
    """The records of a log's rows, in order: the columns named like :class:`Record` fields
    (others are left out); empty cells are absent fields and a numeric ``id`` is read as text.
    A bad row is an InputError naming it by its time and id."""
    absent = [c for c in ("id", "task", "output") if c not in rows.columns]
    if absent:
        raise InputError(f"{described}: no column(s) {', '.join(map(repr, absent))}; each row "
                         "of a log is an output with id, task and output (and input, source, "
                         "contexts, metadata)")
    columns = [c for c in _RECORD_FIELDS if c in rows.columns]
    records = []
    for position, values in enumerate(rows[columns].itertuples(index=False, name=None)):
        document = {name: _plain(value) for name, value in zip(columns, values, strict=True)
                    if not _missing(value)}
        if "id" in document:
            document["id"] = _text_id(document["id"])
        try:
            records.append(Record.model_validate(document))
        except ValidationError as exc:
            where = (f"the output of {rows[time].iloc[position]}" if time is not None
                     else f"row {position + 1}")
            raise InputError(f"{described}, {where} (id {document.get('id')!r}): "
                             f"{_describe(exc)}") from exc
    return records


def _text_id(value: Any) -> Any:
    """A numeric id as text (``7`` and ``7.0`` are ``"7"``); anything else as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _plain(value: Any) -> Any:
    """A cell as plain Python: arrays as lists, mappings as dicts, numpy scalars unwrapped."""
    if isinstance(value, np.ndarray | list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _reference_rows(frame: pd.DataFrame, section: GenAIMonitor, source: str) -> pd.DataFrame:
    period = section.reference_window
    if period is None:
        return frame
    if section.time not in frame.columns:
        raise InputError(f"{source}: no time column {section.time!r} to pick the reference "
                         "window's outputs")
    from assay.monitoring._source import parse_times

    times = parse_times(frame[section.time], f"{source}, column {section.time!r}")
    start, end = (pd.Timestamp(day).tz_localize(UTC) for day in (period.start, period.end))
    return frame[((times >= start) & (times < end)).to_numpy()]


def _watched_flags(spec: MonitorSpec) -> set[str]:
    """Flag types every window reports: always watched, named by a rule or a plan check."""
    assert spec.genai is not None
    named = {rule.metric or (rule.sequential.metric if rule.sequential else "")
             for rule in spec.alerts}
    from_rules = {name.removeprefix("flag_rate.") for name in named
                  if name.startswith("flag_rate.")}
    from_plan = {getattr(check, "flag", None) for check in spec.genai.plan.checks}
    return set(ALWAYS_WATCHED) | from_rules | {f for f in from_plan if isinstance(f, str)}


def _lexicon(plan: EvalPlan) -> MedicationLexicon:
    if plan.lexicon is None:
        return default_lexicon()
    return default_lexicon().merged(lexicon_from_lines(plan.lexicon, "the plan's lexicon"))


def monitor_outputs(
    log: pd.DataFrame | str | Path,
    reference: pd.DataFrame | str | Path,
    *,
    plan: EvalPlan | None = None,
    alerts: Sequence[AlertRule | Mapping[str, Any]] = (),
    windows: str = "weekly",
    time: str = "timestamp",
    reference_window: tuple[date | str, date | str] | None = None,
    embeddings: bool = False,
    input_fields: Sequence[InputField] = ("input", "source"),
    refusal_phrases: Sequence[str] = (),
    as_of: datetime | date | str | None = None,
    seed: int = 0,
    name: str = "genai-outputs",
) -> BacktestResult:
    """Replay a monitor of a generative application over a log of its outputs: every complete
    window measured under ``plan`` against the ``reference`` outputs, and the alerts the rules
    would have raised and resolved, on a throwaway store (nothing is kept).

    ``log`` and ``reference`` are tables or JSONL, Parquet or CSV paths with a ``time`` column
    and the record fields; ``reference_window`` (``start``, first day after) keeps only the
    reference's outputs of that period (pass the log itself as ``reference`` to compare with
    its first weeks). Windows are evaluated as of ``as_of``, by default the day after the last
    output. For a monitor kept in a store, write the same in a monitor file's ``genai:``
    section and run it with :func:`assay.monitoring.run_monitor`.

    Examples
    --------
    With a log of outputs and a reference log (files of your own)::

        rule = {"name": "phi", "metric": "flag_rate.phi_leak", "when": "value > 0"}
        found = monitor_outputs("log.jsonl", "reference.jsonl", alerts=[rule])
        [w.result.signals["refusal_rate"].value for w in found.windows]
    """
    from assay.monitoring import BacktestResult, BacktestWindow, MonitorRecords, run_monitor
    from assay.monitoring._run import as_utc
    from assay.monitoring._source import parse_times, read_source
    from assay.monitoring._spec import MonitorSpec, SourceSpec
    from assay.store import Store

    def read(value: pd.DataFrame | str | Path, what: str) -> tuple[pd.DataFrame, str]:
        if isinstance(value, pd.DataFrame):
            return value, what
        return read_source(SourceSpec(path=str(value)), None)

    log_frame, log_name = read(log, "the log")
    ref_frame, _ = read(reference, "the reference")
    section: dict[str, Any] = {
        "plan": (plan or EvalPlan()).model_dump(mode="json"), "time": time,
        "embeddings": embeddings, "input_fields": list(input_fields),
        "refusal_phrases": list(refusal_phrases)}
    if reference_window is not None:
        section["reference_window"] = {"start": reference_window[0],
                                       "end": reference_window[1]}
    spec = MonitorSpec.from_dict({
        "monitor": name, "windows": windows, "seed": seed, "genai": section,
        "source": {"path": str(log) if isinstance(log, str | Path) else "<in memory>"},
        "reference": {"path": str(reference) if isinstance(reference, str | Path)
                      else "<in memory>"},
        "alerts": [r.model_dump(mode="json", exclude_none=True) if not isinstance(r, Mapping)
                   else dict(r) for r in alerts],
    }, source="monitor_outputs")
    if log_frame.empty:
        raise InputError(f"{log_name}: no outputs to monitor")
    if time not in log_frame.columns:
        raise InputError(f"{log_name}: no time column {time!r}")
    last = parse_times(log_frame[time], f"{log_name}, column {time!r}").max()
    moment = as_utc(as_of) if as_of is not None else as_utc(last.normalize() + timedelta(days=1))
    with tempfile.TemporaryDirectory(prefix="assay-genai-monitor-") as folder:
        store = Store.open(f"sqlite:///{Path(folder) / 'monitor.db'}")
        try:
            run_monitor(spec, store, as_of=moment, data=log_frame, reference=ref_frame)
            records = MonitorRecords(store)
            stored = records.windows(spec.name)
            raised = sorted(records.alerts(monitor=spec.name, states=(
                "open", "acknowledged", "snoozed", "resolved")),
                key=lambda a: (a.first_window_start, a.rule))
        finally:
            store.close()
    return BacktestResult(spec.name, spec, tuple(BacktestWindow(s.result, s.status, tuple(
        a for a in raised if a.first_window_start == s.result.window_start)) for s in stored),
        tuple(raised))

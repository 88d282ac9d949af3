"""The monitoring report's sections for a generative application (a monitor with ``genai:``).

The same page as a predictive monitor's (status, alerts and their delivery come from
:mod:`assay.reports._monitoring_sections`), with what a log of outputs can show instead of
performance: outputs per window, the share of outputs with each flag type, the means of the
output measures against the outputs accepted at go-live, and how well a classifier tells the
window's inputs from the reference's. Drawn from the stored windows alone.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from assay.reports import _monitoring_plots as plots
from assay.reports._format import MISSING, format_count, format_percent
from assay.reports._monitoring_sections import TABLE_WINDOWS, Figure, View, _markup, interval
from assay.reports._words import join_words

if TYPE_CHECKING:
    from assay.metrics import Estimate
    from assay.monitoring import Alert, MonitorSpec, StoredWindow

__all__ = ["CONTENTS", "genai_facts", "genai_reading_notes", "genai_sections", "genai_summary"]

CONTENTS = [("status", "Status"), ("volume", "Volume"), ("flags", "Flags in the outputs"),
            ("measures", "Output measures"), ("drift", "Input drift"),
            ("alerts", "Alerts and actions"), ("reading", "How to read this report")]
"""The sections of a generative application's report, in order: ``(anchor, heading)``."""

_FLAG = "flag_rate."
_DRIFT = "input_drift_auroc"
_NOT_MEASURES = ("volume", "refusal_rate", _DRIFT)


def _flag_types(windows: list[StoredWindow]) -> list[str]:
    """Flag types seen in any window, in the order they first appear."""
    names = (name for w in windows for name in (*w.result.signals, *w.result.reference_signals))
    return list(dict.fromkeys(name.removeprefix(_FLAG) for name in names
                              if name.startswith(_FLAG)))


def _measures(windows: list[StoredWindow]) -> list[str]:
    names = (name for w in windows for name in w.result.signals)
    return list(dict.fromkeys(name for name in names
                              if not name.startswith(_FLAG) and name not in _NOT_MEASURES))


def _flag_word(flag: str) -> str:
    from assay.genai._report import FLAG_WORDS

    return FLAG_WORDS.get(flag, flag.replace("_", " "))


def _measure_word(name: str) -> str:
    from assay.genai._report import METRIC_WORDS

    return METRIC_WORDS.get(name, name.replace("_", " "))


def _share(estimate: Estimate | None, n: int) -> str:
    """``1 of 80 (1.3%, 95% CI 0.2–6.7%)``."""
    if estimate is None or estimate.value is None:
        return MISSING
    count = estimate.n_events if estimate.n_events is not None else round(estimate.value * n)
    bounds = ("" if estimate.ci_low is None or estimate.ci_high is None else
              f", 95% CI {format_percent(estimate.ci_low)}–{format_percent(estimate.ci_high)}")
    return f"{format_count(count)} of {format_count(n)} ({format_percent(estimate.value)}{bounds})"


def _rate(estimate: Estimate | None) -> str:
    """``1.3% (0.2–6.7%)``."""
    if estimate is None or estimate.value is None:
        return MISSING
    if estimate.ci_low is None or estimate.ci_high is None:
        return format_percent(estimate.value)
    return (f"{format_percent(estimate.value)} ({format_percent(estimate.ci_low)}–"
            f"{format_percent(estimate.ci_high)})")


def genai_facts(spec: MonitorSpec) -> list[tuple[str, str]]:
    """The header facts particular to a generative application's monitor."""
    assert spec.genai is not None
    plan = spec.genai.plan
    phi = "the NER model and pattern rules" if plan.ner else "pattern rules only (no NER model)"
    drift = "sentence embeddings" if spec.genai.embeddings else "text descriptors"
    return [("Evaluation plan", f"“{plan.name}”, version {plan.version}"),
            ("How outputs are read", f"PHI by {phi}; input drift on {drift}; outputs dated "
                                     f"by “{spec.genai.time}”")]


def genai_summary(windows: list[StoredWindow], live: list[Alert]) -> list[str]:
    """The status section's sentences: the latest window's outputs, flags and input drift."""
    latest = windows[-1].result
    text = [f"The latest window, {latest.label}, held {format_count(latest.n)} outputs."]
    if latest.n == 0:
        text.append("No output was logged in it: nothing could be measured.")
    flags = [(flag, latest.signals.get(_FLAG + flag)) for flag in _flag_types(windows)]
    raised = [f"{flag} {_share(e, latest.n)}" for flag, e in flags
              if e is not None and e.value]
    if raised:
        text.append("Outputs flagged in it: " + "; ".join(raised) + ".")
    elif latest.n:
        quiet = [flag for flag, e in flags if e is not None]
        text.append(f"No output in it was flagged ({join_words(quiet)} checked)."
                    if quiet else "No output in it was flagged.")
    drift = latest.signals.get(_DRIFT)
    if drift is not None and drift.value is not None:
        text.append(f"A classifier told its inputs from the reference's with AUROC "
                    f"{interval(drift)} (0.5 when they cannot be told apart).")
    if not live:
        text.append("No alert is live.")
    return text


def genai_sections(view: View, windows: list[StoredWindow]) -> None:
    """Fill the volume, flags, output measures, latest-windows and input drift sections."""
    timeline = plots.timeline(windows)
    _volume(view, windows, timeline)
    _flags(view, windows, timeline)
    _output_measures(view, windows, timeline)
    _latest_windows(view, windows)
    _input_drift(view, windows, timeline)


def _volume(view: View, windows: list[StoredWindow], timeline: plots.Timeline) -> None:
    counts = [w.result.n for w in windows]
    total = sum(counts)
    empty = [w.result.label for w in windows if w.result.n == 0]
    view.volume_text = [
        f"{format_count(total)} outputs in {len(windows)} windows "
        f"({format_count(round(total / len(windows)))} per window on average; "
        f"{format_count(min(counts))} to {format_count(max(counts))})."
        + (f" No output was logged in {join_words(empty)}." if empty else "")]
    view.volume.append(Figure(
        "Outputs logged per window.",
        _markup(plots.volume_svg(timeline, [float(n) for n in counts], None,
                                 reference_flag_rate=None, threshold=None, noun="Outputs"))))


def _flags(view: View, windows: list[StoredWindow], timeline: plots.Timeline) -> None:
    flag_types = _flag_types(windows)
    if not flag_types:
        view.flags.append("No flag type was measured in any window.")
        return
    latest = windows[-1].result
    for flag in flag_types:
        name = _FLAG + flag
        with_any = [w.result.label for w in windows
                    if (e := w.result.signals.get(name)) is not None and e.value]
        reference = latest.reference_signals.get(name)
        against = f"; on the reference {_rate(reference)}" if reference is not None else ""
        where = (f"raised in {len(with_any)} of {len(windows)} windows "
                 f"({with_any[0]} first, {with_any[-1]} last)" if with_any
                 else "raised in no window")
        view.flags.append(f"{flag} ({_flag_word(flag)}): "
                          f"{where}; latest window "
                          f"{_share(latest.signals.get(name), latest.n)}{against}.")
    series = {flag: s for flag in flag_types
              if (s := plots.series(windows, _FLAG + flag)) is not None}
    view.flag_figures.append(Figure(
        "Share of outputs with each flag type, per window, with 95% Wilson CI bands.",
        _markup(plots.subgroup_svg(
            timeline, title="Share of outputs flagged, by flag type", groups=series,
            overall=None, percent=True,
            description="Each flag type's share of the window's outputs with its 95% CI "
                        "band; gaps are windows with no output of a task the flag applies "
                        "to."))))


def _output_measures(view: View, windows: list[StoredWindow],
                     timeline: plots.Timeline) -> None:
    latest = windows[-1].result
    measures = _measures(windows)
    if not measures:
        view.performance.append("No output measure was recorded.")
        return
    for name in measures:
        measured = next((w.result for w in reversed(windows)
                         if (e := w.result.signals.get(name)) is not None
                         and e.value is not None), None)
        reference = latest.reference_signals.get(name)
        if measured is None:
            continue
        where = ("in the latest window" if measured is latest
                 else f"in {measured.label}, the latest window with outputs it applies to")
        against = f", on the reference {interval(reference)}" if reference is not None else ""
        view.performance.append(f"{name} ({_measure_word(name)}): "
                                f"{interval(measured.signals[name])} {where}{against}.")
        view.performance_figures.append(Figure(
            f"{name}: {_measure_word(name)}. Mean per window with its 95% CI"
            + ("; dotted, the reference's mean." if reference is not None else
               "; the reference has no output it applies to."),
            _markup(plots.metric_svg(
                timeline, title=name, realised=plots.series(windows, name), estimated=None,
                reference=None if reference is None else reference.value,
                reference_label="Reference (go-live)"))))


def _latest_windows(view: View, windows: list[StoredWindow]) -> None:
    flag_types = _flag_types(windows)
    view.table_head = ["Window", "Outputs", *flag_types,
                       "Input drift (AUROC)", "Status"]
    for stored in reversed(windows[-TABLE_WINDOWS:]):
        result = stored.result
        view.table_rows.append([
            result.label, format_count(result.n),
            *(_rate(result.signals.get(_FLAG + f)) for f in flag_types),
            interval(result.signals.get(_DRIFT)), stored.status])


def _input_drift(view: View, windows: list[StoredWindow], timeline: plots.Timeline) -> None:
    found = plots.series(windows, _DRIFT)
    latest = windows[-1].result
    if found is None:
        reason = next((w.result.undefined.get(_DRIFT) for w in reversed(windows)
                       if _DRIFT in w.result.undefined), None)
        view.drift.append("Input drift was not measured"
                          + (f": {reason}." if reason else "."))
        return
    highest = max(range(len(windows)), key=lambda i: -math.inf if math.isnan(found.value[i])
                  else found.value[i])
    view.drift.append(
        f"A classifier trained to tell each window's inputs from the reference's reached AUROC "
        f"{interval(latest.signals.get(_DRIFT))} in the latest window; the highest was "
        f"{interval(windows[highest].result.signals.get(_DRIFT))} in "
        f"{windows[highest].result.label}. 0.5 means the inputs cannot be told apart; the "
        "further above, the more the requests differ from those at go-live.")
    note = next((w.result.signal_notes[_DRIFT] for w in reversed(windows)
                 if _DRIFT in w.result.signal_notes), None)
    if note:
        view.drift.append(f"How it was measured in the latest window: {note}.")
    view.drift_figures.append(Figure(
        "Input drift: the domain classifier's AUROC per window with its 95% CI; dotted, 0.5 "
        "(inputs indistinguishable from the reference).",
        _markup(plots.metric_svg(timeline, title="Input drift (AUROC)", realised=found,
                                 estimated=None, reference=0.5,
                                 reference_label="Indistinguishable"))))


def genai_reading_notes() -> list[str]:
    """How to read a generative application's report."""
    return [
        "Every measured value is shown with its 95% confidence interval (CI) in brackets. "
        "Windows hold few outputs, so intervals are wide; a single window above the reference "
        "is weaker evidence than a run of them.",
        "A flag is a specific problem a deterministic check found in one output (an "
        "identifier, a refusal, missing emergency advice...). It is a reason for a person to "
        "read that output, not a judgement of its quality; the checks are described in the "
        "GenAI evaluation documentation.",
        "The reference is the set of outputs accepted at go-live. No output here was compared "
        "with a correct answer: production logs carry none, so this report shows change, not "
        "accuracy.",
        "This report records what was measured, in which windows and with what uncertainty. "
        "It does not show that the application is safe; whether the findings call for action "
        "is a judgement for the people responsible for its use.",
    ]

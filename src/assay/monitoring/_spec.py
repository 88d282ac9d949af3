"""The monitor specification: a monitoring plan bound to a product version, a data source, a
reference and a window strategy, read from YAML with errors naming the line and field.

.. code-block:: yaml

    monitor: readmission-30d-weekly
    product: readmission-30d          # optional: a registered product version
    version: "1.0"
    source: {path: production/}       # a file, a folder of Parquet files, or {sql:, url_env:}
    reference: {path: validation.parquet}
    roles: {target: readmitted_30d, score: risk, time: discharged_at, groups: [sex]}
    label_time: outcome_recorded_at   # when each outcome became known (optional)
    outcome_window: 30d               # predictions mature this long after their time
    windows: weekly                   # daily | weekly | monthly | rolling 28d every 7d
    threshold: 0.3
    alerts:
      - {name: auroc-drop, metric: auroc, relative_to: reference, when: "value <= -0.05"}
      - {name: feature-drift, drift: {method: psi}, for_windows: 2}

A monitor of a generative application's outputs has a ``genai:`` section instead of ``roles``
(see :mod:`assay.genai._monitor_spec`): each window's outputs are measured under an evaluation
plan and its signals (``flag_rate.phi_leak``, ``refusal_rate``, ``input_drift_auroc``...) go
through the same alert rules.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from assay._yaml import describe_validation_error, load_yaml_mapping, read_yaml_file
from assay.checks._conditions import ConditionText
from assay.data import Roles
from assay.data._fingerprint import json_fingerprint
from assay.errors import InputError, PlanError
from assay.genai._monitor_spec import GenAIMonitor, inline_plan
from assay.monitoring._notifier_config import NotifierConfig
from assay.monitoring._windows import parse_duration, parse_windows

__all__ = [
    "AlertRule",
    "DriftRule",
    "LabelsOverdueRule",
    "MonitorSpec",
    "NoDataRule",
    "NotifySettings",
    "SequentialRule",
    "SourceSpec",
]

Severity = Literal["info", "warning", "critical"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
_PREDICTION_ONLY = frozenset({"label_time", "outcome_window", "threshold", "metrics",
                              "drift_features", "subgroup_metrics", "min_labelled", "small_cell",
                              "estimate_performance"})

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class SourceSpec(BaseModel):
    """Where rows come from: a file or folder (``path``) or a SQL query (``sql``).

    A SQL source names its database by ``url`` or, to keep credentials out of the file, by an
    environment variable ``url_env``.
    """

    model_config = _FROZEN

    path: str | None = None
    sql: str | None = None
    url: str | None = None
    url_env: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SourceSpec:
        if (self.path is None) == (self.sql is None):
            raise ValueError("give either 'path' (a file or folder) or 'sql' (a query)")
        if self.sql is not None and (self.url is None) == (self.url_env is None):
            raise ValueError("a SQL source needs 'url' or 'url_env' (one of them)")
        if self.path is not None and (self.url or self.url_env):
            raise ValueError("'url' and 'url_env' go with 'sql', not with 'path'")
        return self

    def describe(self, base: Path | None = None) -> str:
        """The source in words, for messages."""
        if self.path is not None:
            return str(resolve_path(self.path, base))
        return f"SQL query on {(self.url_env and '$' + self.url_env) or 'the database'}"


def resolve_path(path: str, base: Path | None) -> Path:
    """A path in a spec, relative to the spec file's folder."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() or base is None else base / candidate


class DriftRule(BaseModel):
    """Alert when features drift: one alert for the set of drifting features."""

    model_config = _FROZEN

    features: tuple[str, ...] | None = None
    """Features to watch; default the monitor's drift features."""
    method: str = "psi"
    """A registered drift method; its default threshold applies unless ``threshold`` is set."""
    threshold: float | None = None
    min_features: int = Field(default=1, ge=1)


class SequentialRule(BaseModel):
    """Alert when a sequential detector signals a change in a metric stream."""

    model_config = _FROZEN

    metric: str
    method: Literal["cusum", "page_hinkley"] = "cusum"
    arl0: float = Field(default=520.0, gt=10.0)
    """The false-alarm budget: expected windows between false alarms on a stable stream."""


class NoDataRule(BaseModel):
    """Alert when a window holds fewer rows than ``min_rows`` (a feed gone silent)."""

    model_config = _FROZEN

    min_rows: int = Field(default=1, ge=1)


class LabelsOverdueRule(BaseModel):
    """Alert when outcomes that should be known by now are missing.

    A window is overdue when ``grace`` has passed since its last outcome window closed and
    fewer than ``min_share`` of its predictions have a label.
    """

    model_config = _FROZEN

    grace: str = "14d"
    min_share: float = Field(default=0.9, gt=0.0, le=1.0)


class AlertRule(BaseModel):
    """One alert rule: exactly one signal (``metric``+``when``, ``drift``, ``sequential``,
    ``no_data`` or ``labels_overdue``) and how it alerts."""

    model_config = _FROZEN

    name: str = Field(min_length=1)
    severity: Severity = "warning"
    metric: str | None = None
    """A window signal: a metric (``auroc``, ``oe_ratio``...), ``estimated_auroc`` (label-free),
    ``flag_rate``, ``prevalence``, ``mean_score``, ``volume``, ``label_maturity``."""
    when: ConditionText | None = None
    """Alert when this holds for the window, e.g. ``ci_high < 0.7`` or
    ``ci outside [0.8, 1.2]``."""
    relative_to: Literal["reference"] | None = None
    """Apply ``when`` to the difference window − reference (its CI combines both)."""
    drift: DriftRule | None = None
    sequential: SequentialRule | None = None
    no_data: NoDataRule | None = None
    labels_overdue: LabelsOverdueRule | None = None
    for_windows: int = Field(default=1, ge=1)
    """Hysteresis: the signal must hold in this many consecutive windows."""
    resolve_after: int = Field(default=2, ge=1)
    """A live alert resolves by itself after its signal has been clear this many consecutive
    windows. A sequential alarm marks a change point and never resolves by itself: a person
    resolves it once the change is understood."""
    cooldown_windows: int = Field(default=0, ge=0)
    """After an alert resolves, the same alert does not reopen for this many windows."""
    escalate_after: str | None = None
    """An alert still open (not acknowledged) this long after it opened is escalated."""

    @model_validator(mode="after")
    def _one_signal(self) -> AlertRule:
        kinds = [k for k in ("metric", "drift", "sequential", "no_data", "labels_overdue")
                 if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("an alert rule watches exactly one of metric, drift, sequential, "
                             "no_data, labels_overdue" + (f" (got {', '.join(kinds)})"
                                                          if kinds else ""))
        if (self.metric is None) != (self.when is None):
            raise ValueError("'metric' and 'when' go together (e.g. metric: auroc, "
                             "when: 'ci_high < 0.7')")
        if self.relative_to is not None and self.metric is None:
            raise ValueError("'relative_to' applies to a metric rule")
        if self.escalate_after is not None:
            parse_duration(self.escalate_after)
        return self

    @property
    def kind(self) -> str:
        """Which signal the rule watches."""
        return next(k for k in ("metric", "drift", "sequential", "no_data", "labels_overdue")
                    if getattr(self, k) is not None)


class NotifySettings(BaseModel):
    """How alerts are delivered: a digest per run or one message per alert; retries."""

    model_config = _FROZEN

    digest: bool = True
    min_severity: Severity = "warning"
    retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0.0)


class MonitorSpec(BaseModel):
    """A monitor: what to watch, on which data, against which reference, how often."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str = Field(alias="monitor", min_length=1)
    product: str | None = None
    version: str | None = None
    source: SourceSpec
    reference: SourceSpec
    prediction_roles: Roles | None = Field(default=None, alias="roles")
    """The columns of a monitor of predictions (read as ``roles``; see :attr:`roles`)."""
    label_time: str | None = None
    outcome_window: str = "30d"
    windows: str = "weekly"
    start: date | None = None
    """First day to monitor; default the earliest prediction in the source."""
    threshold: float | None = Field(default=None, gt=0.0, lt=1.0)
    metrics: tuple[str, ...] = ("auroc", "oe_ratio", "calibration_slope")
    """Realised performance per window (threshold metrics use ``threshold``). AUROC has a
    DeLong interval, O:E and the calibration slope closed-form ones; others (``ici``...) are
    bootstrapped, about a second per window each."""
    drift_features: tuple[str, ...] | None = None
    """Features compared with the reference each window; default ``roles.features``."""
    subgroup_metrics: tuple[str, ...] = ("flag_rate", "oe_ratio")
    min_labelled: int = Field(default=50, ge=1)
    """Realised performance needs at least this many labelled predictions in the window."""
    small_cell: int = Field(default=11, ge=1)
    estimate_performance: bool = True
    """Estimate performance without labels (confidence-based) while labels are immature."""
    alerts: tuple[AlertRule, ...] = ()
    notifiers: tuple[NotifierConfig, ...] = ()
    notify: NotifySettings = NotifySettings()
    seed: int = 0
    genai: GenAIMonitor | None = None
    """A monitor of a generative application's outputs instead of predictions."""

    @field_validator("windows")
    @classmethod
    def _known_windows(cls, value: str) -> str:
        parse_windows(value)
        return value

    @field_validator("outcome_window")
    @classmethod
    def _known_duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MonitorSpec:
        if self.genai is not None:
            return self._consistent_outputs()
        if self.prediction_roles is None:
            raise ValueError("'roles' is required: the target, score and time columns (a "
                             "monitor of a generative application has a 'genai:' section)")
        if self.roles.time is None:
            raise ValueError("roles.time is required: the column that places a prediction "
                             "in a window")
        if not self.roles.score:
            raise ValueError("roles.score is required: the monitored risk score")
        self._consistent_common()
        needs_threshold = {"sensitivity", "specificity", "ppv", "npv", "flag_rate"}
        if self.threshold is None and needs_threshold & set(self.metrics):
            raise ValueError("threshold metrics in 'metrics' need 'threshold'")
        return self

    def _consistent_common(self) -> None:
        if (self.product is None) != (self.version is None):
            raise ValueError("'product' and 'version' go together")
        names = [r.name for r in self.alerts]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"alert rule names repeat: {', '.join(repeated)}")

    def _consistent_outputs(self) -> MonitorSpec:
        if self.prediction_roles is not None:
            raise ValueError("a monitor with a 'genai:' section has no 'roles': its time "
                             "column is genai.time (default 'timestamp')")
        fields = type(self).model_fields
        unused = sorted(name for name in _PREDICTION_ONLY if getattr(self, name)
                        != fields[name].get_default(call_default_factory=True))
        if unused:
            raise ValueError(f"{', '.join(unused)} apply to monitors of predictions, not to "
                             "a 'genai:' monitor")
        for rule in self.alerts:
            if rule.kind in ("drift", "labels_overdue"):
                raise ValueError(f"alert rule {rule.name!r}: a 'genai:' monitor has no "
                                 f"{rule.kind} rules; watch the inputs with metric: "
                                 "input_drift_auroc")
        self._consistent_common()
        return self

    @property
    def roles(self) -> Roles:
        """The columns' roles of a monitor of predictions."""
        if self.prediction_roles is None:
            raise InputError(f"monitor {self.name!r} watches a generative application's "
                             "outputs: it has no roles")
        return self.prediction_roles

    @property
    def time_column(self) -> str:
        """The column that places a row in a window."""
        if self.genai is not None:
            return self.genai.time
        assert self.roles.time is not None
        return self.roles.time

    @property
    def score(self) -> str:
        """The monitored score column."""
        return self.roles.score[0]

    @property
    def features(self) -> tuple[str, ...]:
        """Features compared with the reference each window."""
        return self.drift_features if self.drift_features is not None else self.roles.features

    @property
    def fingerprint(self) -> str:
        """A stable hash of the spec's content."""
        return json_fingerprint(self.content(exclude=set()))

    def content(self, *, exclude: set[str]) -> dict[str, Any]:
        """The spec as JSON-ready data, without the fields in ``exclude`` (an absent ``genai``
        section is left out, so a monitor of predictions hashes as it always has)."""
        left_out = exclude | ({"genai"} if self.genai is None else set())
        return self.model_dump(mode="json", by_alias=True, exclude=left_out)

    @classmethod
    def load(cls, path: str | Path) -> MonitorSpec:
        """Read a monitor from a YAML file; errors name the file, line and field."""
        path = Path(path)
        return cls.from_yaml(read_yaml_file(path, "monitor"), source=str(path),
                             base=path.parent)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<monitor>",
                  base: Path | None = None) -> MonitorSpec:
        """Read a monitor from YAML text; ``source`` names it in error messages, ``base`` is
        the folder a ``genai.plan`` file path is read from."""
        document, lines = load_yaml_mapping(
            text, source, "a monitor is a YAML mapping with 'monitor:', 'source:', "
            "'reference:' and 'roles:' (or 'genai:')")
        return cls.from_dict(document, source=source, lines=lines, base=base)

    @classmethod
    def from_dict(cls, document: dict[str, Any], *, source: str = "<monitor>",
                  lines: dict[tuple[Any, ...], int] | None = None,
                  base: Path | None = None) -> MonitorSpec:
        """Validate a monitor given as a mapping; errors name the field. A ``genai.plan``
        given as a path is read (relative to ``base``) and kept inline."""
        document = inline_plan(document, base)
        try:
            return cls.model_validate(document)
        except ValidationError as exc:
            raise PlanError(describe_validation_error(exc, source, lines or {},
                                                      what="monitor")) from exc

"""Monitoring: windows of production data measured against the validation reference, late
labels, label-free estimates, sequential detection, alerts and notifications.

A monitor (:class:`MonitorSpec`, read from YAML) binds a monitoring plan to a product
version, a data source, a reference and a window strategy; :func:`run_monitor` evaluates every
complete window idempotently into the store and raises, updates and resolves alerts.
"""

from assay.monitoring._backtest import DEFAULT_RULES, BacktestResult, BacktestWindow, backtest
from assay.monitoring._cbpe import CBPE, fit_cbpe
from assay.monitoring._delivery import DeliveryAttempt, DeliveryError, Message, Notifier, deliver
from assay.monitoring._evaluate import Reference, WindowResult, evaluate_window
from assay.monitoring._notifier_config import NotifierConfig, build_notifier
from assay.monitoring._notifiers import (
    ConsoleNotifier,
    FileNotifier,
    SlackNotifier,
    SmtpNotifier,
    TeamsNotifier,
    WebhookNotifier,
    verify_signature,
)
from assay.monitoring._records import Alert, MonitorRecords, StoredWindow
from assay.monitoring._run import MonitorRun, run_monitor
from assay.monitoring._sequential import Cusum, PageHinkley, SequentialResult, detect
from assay.monitoring._spec import AlertRule, MonitorSpec
from assay.monitoring._windows import Window, parse_windows, windows_between

__all__ = [
    "CBPE",
    "DEFAULT_RULES",
    "Alert",
    "AlertRule",
    "BacktestResult",
    "BacktestWindow",
    "ConsoleNotifier",
    "Cusum",
    "DeliveryAttempt",
    "DeliveryError",
    "FileNotifier",
    "Message",
    "MonitorRecords",
    "MonitorRun",
    "MonitorSpec",
    "Notifier",
    "NotifierConfig",
    "PageHinkley",
    "Reference",
    "SequentialResult",
    "SlackNotifier",
    "SmtpNotifier",
    "StoredWindow",
    "TeamsNotifier",
    "WebhookNotifier",
    "Window",
    "WindowResult",
    "backtest",
    "build_notifier",
    "deliver",
    "detect",
    "evaluate_window",
    "fit_cbpe",
    "parse_windows",
    "run_monitor",
    "verify_signature",
    "windows_between",
]

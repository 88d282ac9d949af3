"""Metrics as plain functions, their registry, curves, and the value type ``Estimate``.

Every metric is ``fn(y_true, y_score, /, *, sample_weight=None, **params) -> float`` and is
registered on import; :func:`list_metrics` names them all.
"""

from assay.metrics._binary import auprc, auroc, brier, log_loss
from assay.metrics._calibration import (
    calibration_intercept,
    calibration_slope,
    e90,
    ece,
    ici,
    oe_ratio,
    reliability_curve,
)
from assay.metrics._compare import PairedComparison
from assay.metrics._curves import Curve, calibration_curve, pr_curve, roc_curve, threshold_table
from assay.metrics._decision import decision_curve, net_benefit, select_threshold
from assay.metrics._estimate import Estimate, IntervalMethod
from assay.metrics._estimation import IntervalChoice, compare, estimate
from assay.metrics._multiclass import (
    macro_f1,
    multiclass_accuracy,
    multiclass_auroc_macro,
    multiclass_auroc_weighted,
)
from assay.metrics._registry import (
    MetricSpec,
    get_metric,
    list_metrics,
    register_metric,
)
from assay.metrics._regression import calibration_in_the_large, mae, r2, rmse
from assay.metrics._threshold import (
    accuracy,
    f1,
    false_positive_rate,
    flag_rate,
    lr_negative,
    lr_positive,
    nne,
    npv,
    ppv,
    sensitivity,
    specificity,
)

__all__ = [
    "Curve",
    "Estimate",
    "IntervalChoice",
    "IntervalMethod",
    "MetricSpec",
    "PairedComparison",
    "accuracy",
    "auprc",
    "auroc",
    "brier",
    "calibration_curve",
    "calibration_in_the_large",
    "calibration_intercept",
    "calibration_slope",
    "compare",
    "decision_curve",
    "e90",
    "ece",
    "estimate",
    "f1",
    "false_positive_rate",
    "flag_rate",
    "get_metric",
    "ici",
    "list_metrics",
    "log_loss",
    "lr_negative",
    "lr_positive",
    "macro_f1",
    "mae",
    "multiclass_accuracy",
    "multiclass_auroc_macro",
    "multiclass_auroc_weighted",
    "net_benefit",
    "nne",
    "npv",
    "oe_ratio",
    "ppv",
    "pr_curve",
    "r2",
    "register_metric",
    "reliability_curve",
    "rmse",
    "roc_curve",
    "select_threshold",
    "sensitivity",
    "specificity",
    "threshold_table",
]

"""Net benefit, decision curves and threshold selection."""

from __future__ import annotations

import numpy as np
import pytest

from assay.errors import InputError, UndefinedMetricError
from assay.metrics import decision_curve, net_benefit, select_threshold, sensitivity


def test_net_benefit_by_hand() -> None:
    y, p = [1, 0, 1, 0], [0.8, 0.6, 0.3, 0.1]
    # t = 0.5: TP 1, FP 1 of 4, exchange rate 1
    assert net_benefit(y, p, threshold=0.5) == 0.0
    # t = 0.25: TP 2, FP 1, exchange rate 1/3
    assert net_benefit(y, p, threshold=0.25) == pytest.approx(2 / 4 - 1 / 4 / 3)
    # weights: the false positive counts twice
    weighted = net_benefit(y, p, threshold=0.25, sample_weight=[1, 2, 1, 1])
    assert weighted == pytest.approx(2 / 5 - 2 / 5 / 3)


@pytest.mark.parametrize("threshold", [0.0, 1.0, -0.1, float("nan")])
def test_net_benefit_needs_a_threshold_probability(threshold: float) -> None:
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        net_benefit([0, 1], [0.2, 0.7], threshold=threshold)


def test_decision_curve_columns() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(size=300)
    y = (rng.random(300) < p).astype(int)
    curve = decision_curve(y, p)
    t = np.array(curve.columns["threshold"])
    assert curve.kind == "decision" and t.size == 99
    assert (t[0], t[49], t[-1]) == (0.01, 0.5, 0.99)
    for k in (0, 20, 70):
        assert curve.columns["model"][k] == pytest.approx(net_benefit(y, p, threshold=t[k]))
    prevalence = y.mean()
    expected_all = prevalence - (1 - prevalence) * t / (1 - t)
    np.testing.assert_allclose(curve.columns["treat_all"], expected_all, rtol=0, atol=1e-15)
    assert curve.columns["treat_none"] == (0.0,) * 99
    # treating all is the model that flags everybody: equal at the lowest threshold here
    assert curve.columns["model"][0] == pytest.approx(curve.columns["treat_all"][0], abs=1e-2)


def test_decision_curve_custom_thresholds_keep_their_order() -> None:
    curve = decision_curve([1, 0, 1, 0], [0.8, 0.6, 0.3, 0.1], thresholds=[0.5, 0.25])
    assert curve.columns["threshold"] == (0.5, 0.25)
    assert curve.columns["model"] == pytest.approx([0.0, 2 / 4 - 1 / 12])
    with pytest.raises(InputError):
        decision_curve([1, 0], [0.8, 0.6], thresholds=[0.5, 1.0])


Y = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
S = [0.9, 0.8, 0.6, 0.3, 0.7, 0.5, 0.4, 0.2, 0.2, 0.1]


def test_select_threshold_for_a_sensitivity() -> None:
    # sensitivity 3/4 from 0.6 down to 0.31; the highest such observed score is 0.6
    assert select_threshold(Y, S, rule="sensitivity", target=0.75) == 0.6
    assert select_threshold(Y, S, rule="sensitivity", target=0.8) == 0.3
    assert select_threshold(Y, S, rule="sensitivity", target=0.0) == 0.9
    chosen = select_threshold(Y, S, rule="sensitivity", target=0.7)
    assert sensitivity(Y, S, threshold=chosen) >= 0.7


def test_select_threshold_for_a_flag_rate() -> None:
    # flagging at most 30 %: 0.7 flags 3 of 10, 0.6 flags 4
    assert select_threshold(Y, S, rule="flag_rate", target=0.3) == 0.7
    assert select_threshold(Y, S, rule="flag_rate", target=1.0) == 0.1
    with pytest.raises(UndefinedMetricError, match=r"highest score alone flags 0\.1"):
        select_threshold(Y, S, rule="flag_rate", target=0.05)


def test_select_threshold_youden_prefers_the_highest_among_ties() -> None:
    # J at 0.8: 2/4 - 0 = 0.5; at 0.6: 3/4 - 1/6 = 0.583; at 0.3: 1 - 3/6 = 0.5
    assert select_threshold(Y, S, rule="youden") == 0.6
    # J = 1/2 - 0 at 0.9 and 1 - 1/2 at 0.7: the higher threshold wins
    assert select_threshold([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.6], rule="youden") == 0.9


def test_select_threshold_arguments() -> None:
    with pytest.raises(InputError, match="needs a target between 0 and 1"):
        select_threshold(Y, S, rule="sensitivity")
    with pytest.raises(InputError, match="not used with rule='youden'"):
        select_threshold(Y, S, rule="youden", target=0.5)
    with pytest.raises(InputError, match="rule must be"):
        select_threshold(Y, S, rule="cost")  # type: ignore[arg-type]
    with pytest.raises(UndefinedMetricError, match="no positive cases"):
        select_threshold([0, 0], [0.1, 0.2], rule="sensitivity", target=0.5)
    with pytest.raises(UndefinedMetricError, match="no negative cases"):
        select_threshold([1, 1], [0.1, 0.2], rule="youden")

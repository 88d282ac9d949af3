"""The model adapter: estimators, pipelines and callables, and its checks of their output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import assay.robustness
from assay.errors import InputError
from assay.robustness import Model, as_model, load_model

FRAME = pd.DataFrame({"lactate": [0.8, 1.5, 2.2, 4.0], "sex": ["F", "M", "F", "M"]})


def test_public_names_are_pinned() -> None:
    assert assay.robustness.__all__ == [
        "PERTURBATION_KINDS",
        "CategoryChange",
        "CounterfactualResult",
        "CovariateShift",
        "DegradationCurve",
        "DegradationRow",
        "FeatureUnavailable",
        "GaussianNoise",
        "InvarianceResult",
        "Missingness",
        "Model",
        "MonotonicityResult",
        "Perturbation",
        "Perturbed",
        "PrevalenceShift",
        "UnitError",
        "as_model",
        "counterfactual_flips",
        "invariance",
        "load_model",
        "monotonicity",
        "perturbation_from_dict",
        "stress_test",
        "unit_conversions",
    ]
    public = {
        name
        for name, value in vars(assay.robustness).items()
        if not name.startswith("_") and type(value).__name__ != "module"
    }
    assert set(assay.robustness.__all__) == public


def test_pipeline_risk_is_the_positive_column_and_features_come_from_the_fit(
    model: Pipeline, cohort: pd.DataFrame
) -> None:
    adapted = as_model(model)
    assert adapted.name == "Pipeline"
    assert adapted.features == tuple(model.feature_names_in_)
    assert "sex" not in adapted.features
    expected = model.predict_proba(cohort[list(model.feature_names_in_)])[:, 1]
    risk = adapted.predict_risk(cohort)  # extra columns are not passed to the model
    assert risk.dtype == np.float64
    np.testing.assert_array_equal(risk, expected)


def test_positive_class_picks_the_column_by_classes(model: Pipeline, cohort: pd.DataFrame) -> None:
    negative = as_model(model, positive_class=0).predict_risk(cohort)
    positive = as_model(model).predict_risk(cohort)
    np.testing.assert_allclose(negative, 1 - positive, atol=1e-12)
    with pytest.raises(InputError, match=r"predicts the classes \[0, 1\]; positive_class 'yes'"):
        as_model(model, positive_class="yes")


def test_string_classes_and_explicit_features() -> None:
    x = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "b": [1.0, 0, 1, 0, 1, 0]})
    labels = np.array(["no", "no", "no", "yes", "yes", "yes"])
    fitted = LogisticRegression().fit(x[["a"]].to_numpy(), labels)  # no feature_names_in_
    adapted = as_model(fitted, features=["a"], positive_class="yes")
    risk = adapted.predict_risk(x)
    np.testing.assert_allclose(risk, fitted.predict_proba(x[["a"]].to_numpy())[:, 1])
    assert risk[5] > 0.5 > risk[0]


def test_callable_with_one_or_two_columns() -> None:
    one = as_model(lambda frame: frame["lactate"] / 10)
    two = as_model(
        lambda frame: np.column_stack([1 - frame["lactate"] / 10, frame["lactate"] / 10])
    )
    np.testing.assert_array_equal(one.predict_risk(FRAME), FRAME["lactate"].to_numpy() / 10)
    np.testing.assert_allclose(two.predict_risk(FRAME), [0.08, 0.15, 0.22, 0.4], atol=1e-15)
    assert one.features is None


def test_callable_gets_only_its_features_and_a_copy() -> None:
    seen: list[list[str]] = []

    def risk(frame: pd.DataFrame) -> np.ndarray:
        seen.append(list(frame.columns))
        frame["lactate"] = 0.0  # a careless model must not change the caller's data
        return np.full(len(frame), 0.5)

    before = FRAME.copy()
    as_model(risk, features=["lactate"]).predict_risk(FRAME)
    assert seen == [["lactate"]]
    pd.testing.assert_frame_equal(FRAME, before)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (np.array([0.1, np.nan, 0.2, 0.3]), "NaN or infinite risks in 1 rows"),
        (np.array([0.1, 1.2, 0.2, -0.1]), r"outside \[0, 1\] in 2 rows \(e.g. 1.2\)"),
        (np.array([0.1, 0.2, 0.3]), "returned 3 risks for 4 rows"),
        (np.full((4, 3), 0.3), r"returned shape \(4, 3\)"),
        (np.array(["a", "b", "c", "d"]), "did not return numbers"),
    ],
)
def test_bad_callable_output_is_an_input_error_naming_the_model(
    output: np.ndarray, message: str
) -> None:
    def broken(frame: pd.DataFrame) -> np.ndarray:
        return output

    with pytest.raises(InputError, match=f"model 'test_bad_callable_output.*broken'.*{message}"):
        as_model(broken).predict_risk(FRAME)


def test_a_model_failing_on_the_data_is_named() -> None:
    x = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    fitted = LogisticRegression().fit(x, [0, 0, 1, 1])
    with pytest.raises(InputError, match="model 'LogisticRegression' failed on this data") as info:
        as_model(fitted).predict_risk(pd.DataFrame({"a": [np.nan, 1.0]}))
    assert isinstance(info.value.__cause__, ValueError)


def test_unusable_objects_and_inputs() -> None:
    with pytest.raises(InputError, match="cannot use a int as a model"):
        as_model(3)
    with pytest.raises(InputError, match=r"lacks columns \['glucose'\] that model 'f'"):
        as_model(lambda f: f["glucose"], features=["glucose"], name="f").predict_risk(FRAME)
    with pytest.raises(InputError, match="a list of column names"):
        as_model(lambda f: f, features="lactate")
    with pytest.raises(InputError, match="more than once"):
        as_model(lambda f: f, features=["a", "a"])
    with pytest.raises(InputError, match="needs a pandas DataFrame"):
        as_model(lambda f: f).predict_risk(FRAME.to_numpy())  # type: ignore[arg-type]


def test_model_is_read_only_and_rewrapping_keeps_it() -> None:
    adapted = as_model(lambda f: f["lactate"] / 10, name="lactate")
    assert as_model(adapted) is adapted
    renamed = as_model(adapted, name="other", features=["lactate"])
    assert (renamed.name, renamed.features) == ("other", ("lactate",))
    assert isinstance(renamed, Model)
    with pytest.raises(AttributeError, match="read-only"):
        adapted.name = "x"  # type: ignore[misc]


def test_robustness_imports_and_runs_without_scikit_learn() -> None:
    code = """
import sys
from pathlib import Path
sys.modules["sklearn"] = None
import numpy as np, pandas as pd
from assay.robustness import stress_test
rng = np.random.default_rng(0)
frame = pd.DataFrame({"x": rng.normal(size=300)})
y = (rng.random(300) < 1 / (1 + np.exp(-frame["x"]))).astype(int)
curve = stress_test(lambda f: 1 / (1 + np.exp(-f["x"])), frame, y,
                    {"kind": "noise", "features": ["x"], "sd_fraction": 1.0}, strengths=[1.0])
print(curve.rows[0].drop > 0)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_load_model_from_a_file_or_an_importable_name(tmp_path: Path) -> None:
    import joblib
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame({"lactate": [0.5, 1.0, 2.0, 4.0], "age": [30.0, 50.0, 70.0, 90.0]})
    fitted = LogisticRegression().fit(frame, [0, 0, 1, 1])
    joblib.dump(fitted, tmp_path / "model.joblib")
    loaded = load_model(tmp_path / "model.joblib")
    assert loaded.name == "model.joblib"
    np.testing.assert_array_equal(loaded.predict_risk(frame), fitted.predict_proba(frame)[:, 1])
    by_name = load_model("assay.datasets:units")  # any importable callable: found, then adapted
    assert by_name.name == "units"
    with pytest.raises(InputError, match=r"absent\.pkl: the model file does not exist"):
        load_model(tmp_path / "absent.pkl")
    (tmp_path / "broken.pkl").write_bytes(b"not a pickle")
    with pytest.raises(InputError, match=r"broken\.pkl: cannot load the model"):
        load_model(tmp_path / "broken.pkl")
    with pytest.raises(InputError, match="cannot import it"):
        load_model("assay.nowhere:model")
    with pytest.raises(InputError, match=r"give a \.joblib/\.pkl file or 'package\.module:name'"):
        load_model("model")

"""Confident learning: hand-checked thresholds and flags, and recall on 5% injected flips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

from assay.curation._labels import confident_joint, cross_validated_probabilities, label_issues
from assay.errors import InputError


def test_thresholds_are_class_mean_self_confidence_and_off_diagonal_rows_are_flagged() -> None:
    # Class 0 threshold: mean P(0) over rows labelled 0 = (0.9 + 0.8 + 0.1) / 3 = 0.6;
    # class 1 threshold: mean P(1) over rows labelled 1 = (0.8 + 0.7 + 0.3) / 3 = 0.6.
    y = pd.Series([0, 0, 0, 1, 1, 1], index=[10, 11, 12, 13, 14, 15])
    p1 = [0.1, 0.2, 0.9, 0.8, 0.7, 0.3]
    ranked = label_issues(y, p1)
    # Rows 11 and 13 tie at 0.8 and keep their input order.
    assert ranked.index.tolist() == [12, 15, 14, 11, 13, 10]
    assert ranked["is_issue"].tolist() == [True, True, False, False, False, False]
    assert ranked["confident_label"].tolist() == [1, 0, 1, 0, 1, 0]
    assert ranked["self_confidence"].to_numpy() == pytest.approx([0.1, 0.3, 0.7, 0.8, 0.8, 0.9])
    assert ranked["normalized_margin"].to_numpy() == pytest.approx(
        [-0.8, -0.4, 0.4, 0.6, 0.6, 0.8])
    assert ranked["rank"].tolist() == [1, 2, 3, 4, 5, 6]


def test_no_class_above_its_threshold_means_no_confident_label() -> None:
    # Three classes; thresholds: a = (0.5 + 0.7) / 2 = 0.6, b = 0.6, c = 0.4.
    probabilities = pd.DataFrame(
        [[0.5, 0.3, 0.2], [0.7, 0.2, 0.1], [0.2, 0.6, 0.2], [0.45, 0.15, 0.4]],
        columns=["a", "b", "c"],
    )
    ranked = label_issues(["a", "a", "b", "c"], probabilities).sort_index()
    # Row 0: P(a) 0.5 < 0.6, P(b) 0.3 < 0.6, P(c) 0.2 < 0.4: no class is confident.
    assert ranked["confident_label"].tolist() == [None, "a", "b", "c"]
    assert not ranked["is_issue"].any()
    joint = confident_joint(["a", "a", "b", "c"], probabilities)
    assert joint.to_numpy().tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_ranking_by_margin_orders_flagged_rows_by_margin() -> None:
    probabilities = pd.DataFrame(
        [[0.1, 0.5, 0.4], [0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.2, 0.1, 0.7],
         [0.7, 0.2, 0.1], [0.1, 0.1, 0.8]],
        columns=[0, 1, 2],
    )
    y = [0, 0, 1, 1, 2, 2]
    by_margin = label_issues(y, probabilities, rank_by="normalized_margin")
    by_confidence = label_issues(y, probabilities)
    flagged = by_margin[by_margin["is_issue"]]
    # Thresholds: class 0 = (0.1 + 0.1) / 2 = 0.1, class 1 = 0.1, class 2 = (0.1 + 0.8) / 2 =
    # 0.45. Rows 0 to 4 are each confidently another class (row 0: P(1) = 0.5 is the largest
    # probability reaching its threshold). All five have self-confidence 0.1, so by confidence
    # they keep their order; by margin rows 1 and 2 (0.1 - 0.8) come first, then rows 3 and 4
    # (0.1 - 0.7), then row 0 (0.1 - 0.5).
    assert flagged.index.tolist() == [1, 2, 3, 4, 0]
    assert flagged["normalized_margin"].to_numpy() == pytest.approx(
        [-0.7, -0.7, -0.6, -0.6, -0.4])
    assert flagged["confident_label"].tolist() == [1, 0, 2, 0, 1]
    assert by_confidence.index[by_confidence["is_issue"]].tolist() == [0, 1, 2, 3, 4]


def test_bad_inputs_name_the_problem() -> None:
    with pytest.raises(InputError, match="one row per label"):
        label_issues([0, 1, 1], [0.2, 0.8])
    with pytest.raises(InputError, match=r"numbers in \[0, 1\] \(found 1 rows outside\)"):
        label_issues([0, 1], [0.2, 1.8])
    with pytest.raises(InputError, match="1 labels are not among the classes"):
        label_issues([0, 2], [0.2, 0.8])
    with pytest.raises(InputError, match=r"no row is labelled \[1\]"):
        label_issues([0, 0], [0.2, 0.8])
    with pytest.raises(InputError, match="fewer than the 5 folds"):
        cross_validated_probabilities(np.zeros((10, 1)), [0] * 7 + [1] * 3)


def _learnable_problem(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = pd.DataFrame({
        "lactate": rng.normal(0.0, 1.0, n),
        "age": rng.normal(0.0, 1.0, n),
        "creatinine": rng.normal(0.0, 1.0, n),
        "ward": rng.choice(["medicine", "surgery", "icu"], n),
    })
    features.loc[rng.random(n) < 0.05, "creatinine"] = np.nan
    # Strong effects, so that few true labels are themselves surprising (Bayes AUROC ~0.98).
    logit = (6.0 * features["lactate"] - 5.0 * features["age"]
             + 4.0 * features["creatinine"].fillna(0.0)
             + features["ward"].map({"medicine": 0.0, "surgery": -2.0, "icu": 3.0}))
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit.to_numpy()))).astype(np.int64)
    return features, y


def _flip(y: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    flipped = rng.choice(len(y), size=round(share * len(y)), replace=False)
    noisy = y.copy()
    noisy[flipped] = 1 - noisy[flipped]
    return noisy, flipped


@pytest.mark.parametrize("model", ["logistic", "gradient_boosting"])
def test_recall_of_five_percent_flipped_labels_in_the_top_five_percent(model: str) -> None:
    features, y = _learnable_problem(4000, seed=5)
    noisy, flipped = _flip(y, 0.05, seed=6)
    probabilities = cross_validated_probabilities(features, noisy, model=model, folds=5, seed=0)
    assert probabilities.columns.tolist() == [0, 1]
    assert probabilities.sum(axis=1).to_numpy() == pytest.approx(1.0)
    ranked = label_issues(noisy, probabilities)
    top = ranked.index[: len(flipped)]
    hits = len(set(top) & set(flipped))
    recall = hits / len(flipped)
    flagged = set(ranked.index[ranked["is_issue"]])
    precision = len(flagged & set(flipped)) / len(flagged)
    print(f"{model}: recall of {len(flipped)} flipped labels in the top 5% = {recall:.3f}; "
          f"precision of the {len(flagged)} flagged rows = {precision:.3f}")
    assert recall >= 0.6
    assert precision >= 0.5
    # Flagged rows come first.
    assert ranked["is_issue"].iloc[: len(flagged)].all()


def test_flip_free_labels_are_flagged_far_less_often_than_noisy_ones() -> None:
    features, y = _learnable_problem(4000, seed=5)
    noisy, _ = _flip(y, 0.05, seed=6)
    clean_flags = label_issues(y, cross_validated_probabilities(features, y))["is_issue"].sum()
    noisy_flags = label_issues(noisy, cross_validated_probabilities(features, noisy))[
        "is_issue"].sum()
    # Measured: 28 of 4,000 clean labels flagged against 141 with 200 flips.
    assert clean_flags < 0.02 * len(y)
    assert noisy_flags > 3 * clean_flags


def test_any_scikit_learn_classifier_can_be_used_and_rows_stay_aligned() -> None:
    features, y = _learnable_problem(600, seed=8)
    numeric = features[["lactate", "age"]].set_index(pd.RangeIndex(1000, 1600))
    probabilities = cross_validated_probabilities(
        numeric, y, model=RandomForestClassifier(n_estimators=20, random_state=0), folds=3)
    assert probabilities.index.tolist() == list(range(1000, 1600))
    assert probabilities.shape == (600, 2)
    assert ((probabilities[1] > 0.5) == (y == 1)).mean() > 0.75
    with pytest.raises(InputError, match="model must be 'logistic'"):
        cross_validated_probabilities(numeric, y, model="svm")

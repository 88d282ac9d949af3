"""One way to ask any model for risks: scikit-learn estimators, pipelines and plain callables.

The adapter never imports scikit-learn: an estimator is anything with ``predict_proba`` (and,
when fitted by scikit-learn, ``classes_`` and perhaps ``feature_names_in_``).
"""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from assay.errors import InputError

__all__ = ["Model", "as_model"]

FloatArray = NDArray[np.float64]


class Model:
    """A model that turns a table of patients into one risk (probability) per patient.

    Build one with :func:`as_model`; the attributes are read-only.

    Attributes
    ----------
    name
        How messages name the model.
    features
        The columns passed to the model, in order; ``None`` passes every column.
    positive_class
        The class whose probability is the risk (for ``predict_proba`` models).
    """

    __slots__ = ("_column", "_predict", "features", "name", "positive_class")

    name: str
    features: tuple[str, ...] | None
    positive_class: Any
    _predict: Callable[[pd.DataFrame], Any]
    _column: int | None

    def __init__(
        self,
        predict: Callable[[pd.DataFrame], Any],
        *,
        name: str,
        features: tuple[str, ...] | None,
        positive_class: Any,
        column: int | None,
    ) -> None:
        for attribute, value in (
            ("_predict", predict),
            ("name", name),
            ("features", features),
            ("positive_class", positive_class),
            ("_column", column),
        ):
            object.__setattr__(self, attribute, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Model is read-only; cannot set {name!r}")

    def __repr__(self) -> str:
        features = "all columns" if self.features is None else f"{len(self.features)} features"
        return f"Model({self.name!r}, {features})"

    def predict_risk(self, frame: pd.DataFrame) -> FloatArray:
        """The model's risk for each row of ``frame``, checked.

        Parameters
        ----------
        frame
            One row per patient; must hold the model's ``features`` (other columns are not
            passed to the model). It is never modified.

        Returns
        -------
        numpy.ndarray
            float64, one risk in [0, 1] per row, in row order.

        Raises
        ------
        InputError
            When ``frame`` lacks a feature, the model raises ``ValueError`` or ``TypeError`` on
            it (chained), or its output is not one finite probability per row; the message
            names the model.
        """
        if not isinstance(frame, pd.DataFrame):
            raise InputError(
                f"model {self.name!r} needs a pandas DataFrame, got {type(frame).__name__}"
            )
        if self.features is not None:
            missing = [name for name in self.features if name not in frame.columns]
            if missing:
                raise InputError(f"the frame lacks columns {missing} that model {self.name!r} uses")
            given = frame.loc[:, list(self.features)].copy()
        else:
            given = frame.copy()
        try:
            raw = self._predict(given)
        except (TypeError, ValueError) as exc:
            # e.g. a model without an imputer given missing values: say which model failed
            raise InputError(
                f"model {self.name!r} failed on this data ({type(exc).__name__}: {exc})"
            ) from exc
        try:
            output = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"model {self.name!r} did not return numbers ({exc})") from exc
        return self._checked(output, len(frame))

    def _checked(self, output: FloatArray, n_rows: int) -> FloatArray:
        if self._column is not None:
            if output.ndim != 2 or output.shape[1] <= self._column:
                raise InputError(
                    f"model {self.name!r}: predict_proba returned shape {output.shape}, expected "
                    f"({n_rows}, k) with the positive class in column {self._column}"
                )
            output = output[:, self._column]
        elif output.ndim == 2 and output.shape[1] == 2:
            output = output[:, 1]
        if output.ndim != 1:
            raise InputError(
                f"model {self.name!r} returned shape {output.shape}; expected one probability per "
                f"row, or two columns (negative, positive)"
            )
        if output.shape[0] != n_rows:
            raise InputError(
                f"model {self.name!r} returned {output.shape[0]} risks for {n_rows} rows"
            )
        bad = ~np.isfinite(output)
        if bad.any():
            raise InputError(
                f"model {self.name!r} returned NaN or infinite risks in {int(bad.sum())} rows"
            )
        outside = (output < 0) | (output > 1)
        if outside.any():
            example = float(output[outside][0])
            raise InputError(
                f"model {self.name!r} returned risks outside [0, 1] in {int(outside.sum())} rows "
                f"(e.g. {example:g}); it must return probabilities"
            )
        return np.ascontiguousarray(output, dtype=np.float64)


def as_model(
    obj: object,
    *,
    features: Sequence[str] | None = None,
    positive_class: Any = 1,
    name: str | None = None,
) -> Model:
    """Wrap a fitted estimator, a pipeline or a function as a :class:`Model`.

    Parameters
    ----------
    obj
        One of

        * an object with ``predict_proba`` (a fitted scikit-learn classifier or pipeline):
          the risk is the column of ``positive_class`` in ``obj.classes_`` (column 1 when the
          object has no ``classes_``). An estimator fitted on an array (it has
          ``n_features_in_`` but no ``feature_names_in_``) is given the ``features`` columns
          as an array, in order;
        * a callable ``f(frame) -> probabilities``: one value per row, or two columns
          (negative, positive) of which the second is the risk;
        * a :class:`Model`, returned as is unless ``features`` or ``name`` is given.
    features
        Columns passed to the model, in order. Default: the estimator's ``feature_names_in_``
        when it has one, else every column of the frame.
    positive_class
        The class whose probability is the risk.
    name
        How messages name the model; default the class or function name.

    Returns
    -------
    Model

    Raises
    ------
    InputError
        When ``obj`` has neither ``predict_proba`` nor a call, or ``positive_class`` is not one
        of its ``classes_``.

    Examples
    --------
    >>> import pandas as pd
    >>> model = as_model(lambda frame: frame["lactate"] / 10, name="lactate_over_10")
    >>> model.predict_risk(pd.DataFrame({"lactate": [1.0, 4.5]})).tolist()
    [0.1, 0.45]
    """
    if isinstance(obj, Model):
        if features is None and name is None:
            return obj
        return Model(
            obj._predict,
            name=obj.name if name is None else name,
            features=obj.features if features is None else _feature_names(features),
            positive_class=obj.positive_class,
            column=obj._column,
        )
    chosen = None if features is None else _feature_names(features)
    predict_proba = getattr(obj, "predict_proba", None)
    if callable(predict_proba):
        label = name or type(obj).__name__
        names = getattr(obj, "feature_names_in_", None)
        if chosen is None and names is not None:
            chosen = _feature_names(list(names))
        predict: Callable[[pd.DataFrame], Any] = predict_proba
        if names is None and hasattr(obj, "n_features_in_"):
            # fitted on an array: give it an array (scikit-learn warns about named columns)
            def predict(frame: pd.DataFrame) -> Any:
                return predict_proba(frame.to_numpy())

        return Model(
            predict,
            name=label,
            features=chosen,
            positive_class=positive_class,
            column=_positive_column(obj, positive_class, label),
        )
    if callable(obj):
        label = name or getattr(obj, "__qualname__", None) or type(obj).__name__
        return Model(obj, name=label, features=chosen, positive_class=positive_class, column=None)
    raise InputError(
        f"cannot use a {type(obj).__name__} as a model: it needs a predict_proba method (a "
        "fitted scikit-learn classifier or pipeline) or must be a function returning risks"
    )


def _feature_names(features: Sequence[str]) -> tuple[str, ...]:
    if isinstance(features, str):
        raise InputError(f"features must be a list of column names, got the string {features!r}")
    names = tuple(str(name) for name in features)
    if not names:
        raise InputError("features must name at least one column")
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise InputError(f"features name these columns more than once: {duplicated}")
    return names


def _positive_column(obj: object, positive_class: Any, label: str) -> int:
    classes = getattr(obj, "classes_", None)
    if classes is None:
        return 1
    listed = list(np.asarray(classes).tolist())
    if positive_class not in listed:
        raise InputError(
            f"model {label!r} predicts the classes {listed}; positive_class {positive_class!r} "
            "is not one of them"
        )
    return listed.index(positive_class)


def load_model(reference: str | Path) -> Model:
    """Load a model for robustness checks from a file or an importable name.

    Parameters
    ----------
    reference
        A pickle of a fitted model (``.joblib``, ``.pkl``, ``.pickle``; loaded with joblib
        when installed, else pickle), an MLflow model URI (``models:/name/1``, ``runs:/…``;
        needs the ``mlflow`` extra), or ``package.module:name`` naming an estimator or a
        function returning risks. Loading a pickle runs code from the file: load only files
        you trust.

    Raises
    ------
    InputError
        When the file cannot be read or the name cannot be imported, naming it.
    """
    text = str(reference)
    if text.startswith(("models:/", "runs:/")):
        from assay.integrations.mlflow import load_mlflow_model  # the mlflow extra

        return load_mlflow_model(text)
    path = Path(text)
    if path.suffix in (".joblib", ".pkl", ".pickle"):
        if not path.is_file():
            raise InputError(f"{path}: the model file does not exist")
        try:
            loaded = _unpickle(path)
        except (OSError, ValueError, KeyError, EOFError, AttributeError, ImportError,
                pickle.UnpicklingError) as exc:
            raise InputError(f"{path}: cannot load the model ({exc})") from exc
        return as_model(loaded, name=path.name)
    module_name, _, attribute = text.partition(":")
    if not module_name or not attribute:
        raise InputError(f"model {text!r}: give a .joblib/.pkl file or 'package.module:name'")
    try:
        loaded = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"model {text!r}: cannot import it ({exc})") from exc
    return as_model(loaded, name=attribute)


def _unpickle(path: Path) -> object:
    """The object pickled in ``path``: by joblib when installed, else by pickle."""
    try:
        import joblib
    except ImportError:
        with path.open("rb") as handle:
            return pickle.load(handle)  # the user's own model file, see load_model
    return joblib.load(path)

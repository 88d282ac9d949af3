"""Roles: which column of a table plays which part in an evaluation."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

Task = Literal["binary", "regression", "multiclass"]


class Roles(BaseModel):
    """Which column is the target, the score(s), the groups, the time and the ids.

    Parameters
    ----------
    target
        The observed outcome: 0/1 for a binary task, a number for regression, class labels for
        multiclass.
    score
        One or more model outputs. For a binary task each is a risk score: a probability gets
        every metric, any other real-valued score (a lab value, an ordinal scale) gets the rank
        and threshold metrics. For multiclass, one probability column per class, in class order.
    prediction
        A predicted label column, when the model outputs labels rather than scores.
    groups
        Attributes to break results down by (sex, race and ethnicity, payer...).
    time
        When the prediction was made or the encounter ended; used to order and window data.
    id
        A unique row identifier (an encounter id). Duplicates are an error.
    patient_id
        The patient the row belongs to (a patient may have several rows).
    features
        Model inputs, for robustness and drift checks.
    weight
        A column of non-negative sampling weights.
    task
        ``binary`` (default), ``regression`` or ``multiclass``.

    Examples
    --------
    >>> Roles(target="readmit_30d", score="risk").scores
    ('risk',)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str
    score: tuple[str, ...] = ()
    prediction: str | None = None
    groups: tuple[str, ...] = ()
    time: str | None = None
    id: str | None = None
    patient_id: str | None = None
    features: tuple[str, ...] = ()
    weight: str | None = None
    task: Task = "binary"

    @field_validator("score", "groups", "features", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _distinct(self) -> Roles:
        if not self.score and self.prediction is None:
            raise ValueError("give at least one score column (or a prediction column)")
        if len(set(self.score)) != len(self.score):
            raise ValueError(f"score columns are repeated: {list(self.score)}")
        if self.target in self.score:
            raise ValueError(f"column {self.target!r} cannot be both the target and a score")
        return self

    @property
    def scores(self) -> tuple[str, ...]:
        """The score columns, in the order given."""
        return self.score

    def columns(self) -> list[str]:
        """Every column named by a role, without repeats, in role order."""
        named = [self.target, *self.score, self.prediction, *self.groups, self.time, self.id,
                 self.patient_id, *self.features, self.weight]
        return list(dict.fromkeys(c for c in named if c is not None))

    def role_of(self, column: str) -> str:
        """The name of the (first) role a column plays, for error messages."""
        for role in ("target", "score", "prediction", "groups", "time", "id", "patient_id",
                     "features", "weight"):
            value = getattr(self, role)
            if value == column or (isinstance(value, tuple) and column in value):
                return role
        raise KeyError(column)

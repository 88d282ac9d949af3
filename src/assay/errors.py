"""The one exception tree of Assay.

::

    AssayError
    ├── InputError            bad data at the boundary (a column, a file, a value)
    ├── PlanError             a plan or check spec that cannot be used (names the line and field)
    ├── UndefinedMetricError  a metric that has no value on this data (no positives, nobody flagged)
    └── MissingExtraError     an optional part was asked for but its extra is not installed

The CLI maps ``InputError``, ``PlanError`` and ``MissingExtraError`` to exit code 2.
"""

from __future__ import annotations

__all__ = [
    "AssayError",
    "InputError",
    "MissingExtraError",
    "PlanError",
    "UndefinedMetricError",
]


class AssayError(Exception):
    """Base class of every error Assay raises on purpose."""


class InputError(AssayError, ValueError):
    """Data given to Assay is unusable; the message names the file, column or field."""


class PlanError(AssayError, ValueError):
    """A plan or check specification is invalid; the message names the line and field."""


class UndefinedMetricError(AssayError, ArithmeticError):
    """A metric has no defined value on the given data.

    The message says why in plain words (for example ``no positive cases``), so that a check
    built on it can report the reason instead of a silent NaN.
    """


class MissingExtraError(AssayError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, extra: str, package: str) -> None:
        super().__init__(
            f"this feature needs the '{package}' package: pip install 'assay[{extra}]'"
        )
        self.extra = extra
        self.package = package

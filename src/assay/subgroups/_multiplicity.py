"""Multiplicity corrections for testing many subgroups at once.

Two adjustments of a family of ``m`` p-values, each returned in the input order:

* :func:`holm`: Holm's step-down procedure, which controls the family-wise error rate under
  any dependence between the tests;
* :func:`benjamini_hochberg`: the Benjamini–Hochberg step-up procedure, which controls the
  false discovery rate for independent (or positively dependent) tests.

A hypothesis is rejected at level ``alpha`` exactly when its adjusted p-value is at most
``alpha``. :func:`adjust` chooses between the two by name.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from assay.errors import InputError

__all__ = ["MultiplicityMethod", "adjust", "benjamini_hochberg", "holm"]

FloatArray = NDArray[np.float64]

MultiplicityMethod = Literal["holm", "bh"]
"""Name of a multiplicity correction: ``"holm"`` (FWER) or ``"bh"`` (FDR)."""


def _validated(p_values: ArrayLike) -> FloatArray:
    """Return ``p_values`` as a fresh 1-D float array, or raise :class:`InputError`."""
    try:
        p = np.array(p_values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"p-values must be numbers ({exc})") from exc
    if p.ndim != 1:
        raise InputError(f"p-values must be a 1-D array (got {p.ndim} dimensions)")
    bad = np.flatnonzero(~np.isfinite(p))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"p-values must be finite (found {p[i]} at index {i})")
    bad = np.flatnonzero((p < 0.0) | (p > 1.0))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"p-values must lie in [0, 1] (found {p[i]} at index {i})")
    return p


def holm(p_values: ArrayLike) -> FloatArray:
    r"""Holm step-down adjusted p-values (family-wise error rate).

    With the ``m`` p-values sorted ascending, :math:`p_{(1)} \le \dots \le p_{(m)}`, the
    adjusted value of the ``i``-th smallest is

    .. math::

        \tilde p_{(i)} = \min\Bigl(1,\ \max_{j \le i}\,(m - j + 1)\, p_{(j)}\Bigr),

    so the adjusted values are non-decreasing in the sorted order, never below the raw
    p-value and never above 1. Ties get equal adjusted values.

    Parameters
    ----------
    p_values : array_like
        1-D p-values, each finite and in ``[0, 1]``. May be empty.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values (``float64``) in the input order.

    Raises
    ------
    InputError
        If the input is not 1-D, not numeric, not finite, or outside ``[0, 1]``; the message
        names the first offending value and its index.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    *Scandinavian Journal of Statistics*, 6(2), 65–70.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03, 0.005]).round(6).tolist()
    [0.03, 0.06, 0.06, 0.02]
    """
    p = _validated(p_values)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = (m - np.arange(m, dtype=np.float64)) * p[order]
    adjusted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    out = np.empty(m, dtype=np.float64)
    out[order] = adjusted
    return out


def benjamini_hochberg(p_values: ArrayLike) -> FloatArray:
    r"""Benjamini–Hochberg step-up adjusted p-values (false discovery rate).

    With the ``m`` p-values sorted ascending, :math:`p_{(1)} \le \dots \le p_{(m)}`, the
    adjusted value of the ``i``-th smallest is

    .. math::

        \tilde p_{(i)} = \min\Bigl(1,\ \min_{j \ge i}\,\frac{m}{j}\, p_{(j)}\Bigr),

    so the adjusted values are non-decreasing in the sorted order, never below the raw
    p-value and never above 1. Ties get equal adjusted values.

    Parameters
    ----------
    p_values : array_like
        1-D p-values, each finite and in ``[0, 1]``. May be empty.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values (``float64``) in the input order.

    Raises
    ------
    InputError
        If the input is not 1-D, not numeric, not finite, or outside ``[0, 1]``; the message
        names the first offending value and its index.

    References
    ----------
    Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate: a practical
    and powerful approach to multiple testing. *Journal of the Royal Statistical Society:
    Series B*, 57(1), 289–300.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.005]).round(6).tolist()
    [0.02, 0.04, 0.04, 0.02]
    """
    p = _validated(p_values)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] / (np.arange(1, m + 1, dtype=np.float64) / m)
    adjusted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    out = np.empty(m, dtype=np.float64)
    out[order] = adjusted
    return out


def adjust(p_values: ArrayLike, method: MultiplicityMethod) -> FloatArray:
    """Adjust p-values for multiplicity by the named method.

    Parameters
    ----------
    p_values : array_like
        1-D p-values, each finite and in ``[0, 1]``. May be empty.
    method : {"holm", "bh"}
        ``"holm"`` for :func:`holm` (family-wise error rate, Holm 1979) or ``"bh"`` for
        :func:`benjamini_hochberg` (false discovery rate, Benjamini & Hochberg 1995).

    Returns
    -------
    numpy.ndarray
        Adjusted p-values (``float64``) in the input order.

    Raises
    ------
    InputError
        If ``method`` is not one of the names above, or the p-values are invalid.
    """
    if method == "holm":
        return holm(p_values)
    if method == "bh":
        return benjamini_hochberg(p_values)
    raise InputError(f"unknown multiplicity method {method!r}; expected 'holm' or 'bh'")

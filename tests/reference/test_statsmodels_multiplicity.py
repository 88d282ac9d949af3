"""Holm and Benjamini–Hochberg against ``statsmodels.stats.multitest.multipletests``.

Seeded random vectors of several sizes, including heavy ties, exact zeros and ones, all
agree with statsmodels' ``method="holm"`` and ``method="fdr_bh"`` to 1e-12.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from statsmodels.stats.multitest import multipletests

from assay.subgroups._multiplicity import adjust

TOLERANCE = 1e-12


def _vectors() -> list[tuple[str, NDArray[np.float64]]]:
    rng = np.random.default_rng(20240611)
    cases: list[tuple[str, NDArray[np.float64]]] = []
    for m in (1, 2, 5, 17, 100, 1000):
        cases.append((f"uniform_{m}", rng.uniform(size=m)))
        # mostly small p-values: the regime where the corrections matter
        cases.append((f"beta_{m}", rng.beta(0.3, 4.0, size=m)))
    # heavy ties: values drawn from a short grid
    cases.append(("ties", rng.choice([0.001, 0.01, 0.02, 0.05, 0.2, 0.5], size=60)))
    # exact zeros and ones mixed in
    mixed = rng.uniform(size=50)
    mixed[rng.choice(50, size=8, replace=False)] = 0.0
    mixed[rng.choice(50, size=8, replace=False)] = 1.0
    cases.append(("zeros_ones", mixed))
    cases.append(("all_zero", np.zeros(7)))
    cases.append(("all_one", np.ones(7)))
    cases.append(("all_tied", np.full(9, 0.03)))
    return cases


VECTORS = _vectors()


@pytest.mark.parametrize(("method", "sm_method"), [("holm", "holm"), ("bh", "fdr_bh")])
@pytest.mark.parametrize(("name", "p"), VECTORS, ids=[name for name, _ in VECTORS])
def test_matches_statsmodels(
    method: str, sm_method: str, name: str, p: NDArray[np.float64]
) -> None:
    expected = multipletests(p, method=sm_method)[1]
    result = adjust(p, method)  # type: ignore[arg-type]
    assert result.shape == p.shape
    np.testing.assert_allclose(result, expected, rtol=0.0, atol=TOLERANCE)

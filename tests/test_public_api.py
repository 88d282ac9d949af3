"""The public surface is deliberate: each package's ``__all__`` is exactly its public names."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ["assay", "assay.data", "assay.checks", "assay.metrics", "assay.subgroups",
            "assay.reports", "assay.datasets", "assay.errors", "assay.robustness",
            "assay.store", "assay.governance", "assay.integrations.mlflow", "assay.drift",
            "assay.monitoring", "assay.curation"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_lists_exactly_the_public_names(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        attribute for attribute, value in vars(module).items()
        if not attribute.startswith("_")
        and not (type(value).__name__ == "module")
        and attribute not in {"annotations"}
    }
    assert set(module.__all__) == public | ({"__version__"} & set(module.__all__))
    assert len(module.__all__) == len(set(module.__all__))


def test_top_level_is_what_a_notebook_needs_first() -> None:
    import assay

    assert assay.__all__ == ["Dataset", "Estimate", "Plan", "Roles", "Run", "__version__",
                             "validate"]

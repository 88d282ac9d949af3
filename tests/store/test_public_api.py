from __future__ import annotations

import assay.store


def test_store_exports_exactly_its_public_names() -> None:
    public = {name for name, value in vars(assay.store).items()
              if not name.startswith("_") and type(value).__name__ != "module"
              and name != "annotations"}
    assert set(assay.store.__all__) == public
    assert len(assay.store.__all__) == len(set(assay.store.__all__))

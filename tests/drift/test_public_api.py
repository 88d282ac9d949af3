"""The public surface of ``assay.drift`` is its ``__all__``, pinned."""

from __future__ import annotations

import assay.drift


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name, value in vars(assay.drift).items()
              if not name.startswith("_") and type(value).__name__ != "module"
              and name != "annotations"}
    assert set(assay.drift.__all__) == public
    assert sorted(assay.drift.__all__) == sorted(set(assay.drift.__all__))

from __future__ import annotations

import assay.governance
from assay.governance import GATES, gate_table_markdown


def test_governance_exports_exactly_its_public_names() -> None:
    public = {name for name, value in vars(assay.governance).items()
              if not name.startswith("_") and type(value).__name__ != "module"
              and name != "annotations"}
    assert set(assay.governance.__all__) <= public
    assert len(assay.governance.__all__) == len(set(assay.governance.__all__))


def test_the_gate_table_has_one_row_per_gate() -> None:
    rows = gate_table_markdown().splitlines()[2:]
    assert [row.split("**")[1] for row in rows] == [g.id for g in GATES]

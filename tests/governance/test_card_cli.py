"""``assay card``: the model card of a registered version as JSON, PDF, HTML or the HTI-1 CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from assay._demo_governance import PRODUCT, walk_governance
from assay.checks import Run
from assay.cli._app import app

runner = CliRunner()


def test_card_formats_from_a_registered_version(tmp_path: Path, passing_run: Run) -> None:
    walk_governance(tmp_path, passing_run, "models:/readmission/1")
    url = ["--url", f"sqlite:///{tmp_path}/assay.db"]

    def card(output_format: str) -> Path:
        target = tmp_path / f"card.{output_format}"
        result = runner.invoke(app, ["card", PRODUCT, "--format", output_format,
                                     "--out", str(target), *url])
        assert result.exit_code == 0, result.output
        assert "completeness" in result.output
        return target

    document = json.loads(card("json").read_text())
    fields = {f["id"]: f for s in document["sections"] for f in s["fields"]}
    hti1 = [f for name, f in fields.items() if name.startswith("hti1.")]
    assert len(hti1) == 31
    for field in hti1:
        assert (field["status"] == "filled" and field["value"]) or (
            field["status"] == "missing" and field["missing_reason"])
    validity = fields["hti1.maintenance.local_validity"]  # from the stored passing Run
    assert validity["status"] == "filled" and validity["source"].startswith("run:")
    fairness = fields["hti1.maintenance.local_fairness"]  # the Run has no groups
    assert fairness["status"] == "missing" and fairness["missing_reason"]
    assert card("pdf").read_bytes().startswith(b"%PDF")
    assert card("html").read_text().startswith("<!DOCTYPE html>")
    table = pd.read_csv(card("csv"))
    assert set(table["id"]) == {f["id"] for f in hti1}
    assert list(table["number"]) == list(range(1, 32))  # in the rule's order
    unknown = runner.invoke(app, ["card", "no-such-product", "--format", "json", *url])
    assert unknown.exit_code == 2 and "no-such-product" in unknown.output

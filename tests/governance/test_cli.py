"""``assay registry`` exit codes: 0 done, 1 refused (missing items listed), 2 bad input."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from assay.cli._registry import registry_app
from assay.governance import Registry
from assay.store import Store

app = typer.Typer()
app.add_typer(registry_app, name="registry")
runner = CliRunner()


def _ok(*args: str) -> str:
    result = runner.invoke(app, ["registry", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_create_edit_transition_sign_and_show(database_url: str) -> None:
    store = Store.open(database_url, check_schema=False)
    store.upgrade()
    store.close()
    url = ["--url", database_url]
    assert "registered sepsis-alert (predictive, low risk tier)" in _ok(
        "create", "sepsis-alert", "--kind", "predictive", "--risk-tier", "low",
        "--source", "internal", "--clinical-owner", "dr-ana", "--technical-owner", "dev-bo",
        "--field", "intended_use=flag sepsis risk", "--actor", "ana", *url)
    _ok("version", "sepsis-alert", "1.0", "--artifact-uri", "models:/sepsis/1", *url)
    refused = runner.invoke(app, ["registry", "transition", "sepsis-alert", "1.0", "registered",
                                  "--actor", "chair", *url])
    assert refused.exit_code == 1
    assert refused.output.splitlines()[1:] == [
        "  - product field 'intended_users'", "  - product field 'intended_population'",
        "  - product field 'decision_role'", "  - sign-off by role 'governance_office'"]
    edited = _ok("edit", "sepsis-alert", "--set", "intended_users=ward nurses",
                 "--set", "intended_population=adult inpatients", "--set",
                 "decision_role=informs", "--actor", "ana", *url)
    assert "intended_users: — → ward nurses" in edited
    _ok("sign", "sepsis-alert", "1.0", "G0", "--role", "governance_office", "--actor", "gov",
        "--statement", "intake complete", *url)
    moved = _ok("transition", "sepsis-alert", "1.0", "registered", "--actor", "chair",
                "--contingency", "attach the DPIA;dr-ana;2027-01-31", *url)
    assert "proposed → registered (gate G0, approve_with_contingencies)" in moved
    shown = _ok("show", "sepsis-alert", *url)
    assert "version 1.0: registered" in shown and "attach the DPIA; owner dr-ana" in shown
    assert "sepsis-alert" in _ok("list", *url)
    assert "attach the DPIA" in _ok("contingencies", *url)
    store = Store.open(database_url)
    (open_item,) = Registry(store).open_contingencies()
    store.close()
    assert f"resolved {open_item.id}" in _ok("contingencies", "--resolve", str(open_item.id),
                                               *url)
    assert "no open contingencies" in _ok("contingencies", "sepsis-alert", *url)
    store = Store.open(database_url)
    assert store.verify_audit().ok
    store.close()


def test_bad_input_exits_2_with_the_message(tmp_path: object) -> None:
    url = ["--url", f"sqlite:///{tmp_path}/assay.db"]
    bad_kind = runner.invoke(app, ["registry", "create", "x", "--kind", "oracle",
                                   "--risk-tier", "low", *url])
    assert bad_kind.exit_code == 2
    assert "field 'kind' must be one of predictive, generative" in bad_kind.output
    unknown = runner.invoke(app, ["registry", "show", "nope", *url])
    assert unknown.exit_code == 2 and "product 'nope' is not registered" in unknown.output
    _ok("create", "x", "--kind", "predictive", "--risk-tier", "high", "--technical-owner",
        "dev", *url)
    _ok("version", "x", "1", *url)
    bad_pair = runner.invoke(app, ["registry", "edit", "x", "--set", "novalue", *url])
    assert bad_pair.exit_code == 2 and "must be written key=value" in bad_pair.output
    bad_state = runner.invoke(app, ["registry", "transition", "x", "1", "flying", "--actor",
                                    "c", *url])
    assert bad_state.exit_code == 2 and "unknown state 'flying'" in bad_state.output
    bad_role = runner.invoke(app, ["registry", "sign", "x", "1", "G0", "--role", "validator",
                                   "--actor", "dev", "--statement", "ok", *url])
    assert bad_role.exit_code == 2 and "does not ask for role 'validator'" in bad_role.output


def test_plan_registers_the_validation_plan_of_a_version(tmp_path: Path) -> None:
    from assay.checks import Plan

    url = ["--url", f"sqlite:///{tmp_path}/assay.db"]
    _ok("create", "p", "--kind", "predictive", "--risk-tier", "low", *url)
    _ok("version", "p", "1", *url)
    plan_path = tmp_path / "plan.yaml"
    plan_path.write_text("name: local\nchecks:\n  - {metric: auroc, condition: ci_low >= 0.7}\n")
    shown = _ok("plan", "p", "1", str(plan_path), "--actor", "val-sam", *url)
    fingerprint = Plan.load(plan_path).fingerprint
    assert f"p 1: validation plan 'local' ({fingerprint[:19]}…)" in shown
    store = Store.open(url[1])
    try:
        fields = Registry(store).version_fields("p", "1")
        assert fields["validation_plan_fingerprint"] == fingerprint
    finally:
        store.close()
    bad = runner.invoke(app, ["registry", "plan", "p", "1", str(tmp_path / "absent.yaml"), *url])
    assert bad.exit_code == 2 and "absent.yaml" in bad.output

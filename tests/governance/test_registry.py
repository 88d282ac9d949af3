"""Products, versions and fields: every change is audited with its old and new value."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assay.errors import InputError
from assay.governance import Registry
from assay.store import Store
from tests.governance._walk import PRODUCT_FIELDS


@pytest.fixture
def registry(database_url: str) -> Iterator[Registry]:
    store = Store.open(database_url, check_schema=False)
    store.upgrade()
    yield Registry(store)
    store.close()


def test_fields_round_trip_with_extra_keys_and_audit(registry: Registry) -> None:
    registry.register_product("sepsis-alert", actor="ana", **PRODUCT_FIELDS,
                              out_of_scope_uses="paediatrics")
    registry.add_version("sepsis-alert", "1.0", actor="ana", artifact_uri="models:/sepsis/1",
                         training_data_description="2019-2022 admissions")
    assert registry.product_fields("sepsis-alert")["out_of_scope_uses"] == "paediatrics"
    assert registry.version_fields("sepsis-alert", "1.0") == {
        "artifact_uri": "models:/sepsis/1", "training_data_description": "2019-2022 admissions"}
    changed = registry.set_fields("sepsis-alert", actor="bo", intended_users="ICU nurses",
                                  known_risks="alert fatigue", out_of_scope_uses="")
    assert changed == {"intended_users": ("ward nurses", "ICU nurses"),
                       "known_risks": (None, "alert fatigue"),
                       "out_of_scope_uses": ("paediatrics", None)}
    registry.set_fields("sepsis-alert", "1.0", actor="bo", artifact_uri="models:/sepsis/2",
                        change_notes="recalibrated")
    assert registry.version_fields("sepsis-alert", "1.0")["artifact_uri"] == "models:/sepsis/2"
    assert "out_of_scope_uses" not in registry.product_fields("sepsis-alert")
    events = [e for e in registry.store.audit_events() if e.action.endswith("field_changed")]
    assert [(e.actor, e.payload["field"], e.payload["old"], e.payload["new"]) for e in events] == [
        ("bo", "intended_users", "ward nurses", "ICU nurses"),
        ("bo", "known_risks", None, "alert fatigue"),
        ("bo", "out_of_scope_uses", "paediatrics", None),
        ("bo", "artifact_uri", "models:/sepsis/1", "models:/sepsis/2"),
        ("bo", "change_notes", None, "recalibrated"),
    ]
    assert registry.set_fields("sepsis-alert", actor="bo", known_risks="alert fatigue") == {}
    assert registry.store.verify_audit().ok
    registry.store.close()


def test_bad_fields_and_names_are_input_errors(registry: Registry) -> None:
    with pytest.raises(InputError, match=r"field 'kind' must be one of predictive, generative"):
        registry.register_product("x", actor="ana", kind="diagnostic")
    with pytest.raises(InputError, match=r"field 'clinical_risk_tier' must be one of low"):
        registry.register_product("x", actor="ana", clinical_risk_tier="severe")
    with pytest.raises(InputError, match="must be snake_case"):
        registry.register_product("x", actor="ana", **{"Bad Key": "v"})
    registry.register_product("x", actor="ana")
    with pytest.raises(InputError, match="already registered"):
        registry.register_product("x", actor="ana")
    with pytest.raises(InputError, match="product 'nope' is not registered"):
        registry.product_fields("nope")
    with pytest.raises(InputError, match="version '9' of product 'x' is not registered"):
        registry.version_fields("x", "9")
    registry.add_version("x", "1", actor="ana")
    with pytest.raises(InputError, match="already registered"):
        registry.add_version("x", "1", actor="ana")
    assert registry.products() == ["x"] and registry.versions("x") == {"1": "proposed"}
    assert registry.store.verify_audit().ok
    registry.store.close()

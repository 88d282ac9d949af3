"""``assay registry``: products, versions, fields, lifecycle transitions and sign-offs.

Exit codes: 0 on success, 1 when a transition is refused (the missing evidence and sign-offs
are listed), 2 on bad input (one line naming the product, field, state or role).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assay.cli._errors import exits_2_on_bad_input
from assay.errors import InputError

__all__ = ["registry_app"]

registry_app = typer.Typer(help="The AI product registry: products, versions, lifecycle gates.",
                           no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])

UrlOpt = Annotated[str | None, typer.Option(
    "--url", help="Database URL (default: ASSAY_DATABASE_URL, else ./.assay/assay.db).")]
FieldOpt = Annotated[list[str] | None, typer.Option(
    "--field", "--set", help="A field as key=value; repeat for several.")]
ActorOpt = Annotated[str, typer.Option("--actor", help="Who does this (recorded in the audit).")]



@contextmanager
def _registry(url: str | None) -> Iterator[Any]:
    from assay.governance import Registry
    from assay.store import Store

    store = Store.open(url)
    try:
        yield Registry(store)
    finally:
        store.close()


def _pairs(values: list[str] | None) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise InputError(f"field {value!r} must be written key=value")
        pairs[key.strip()] = text
    return pairs


@registry_app.command("create")
@exits_2_on_bad_input
def create(
    name: Annotated[str, typer.Argument(help="Product name.")],
    kind: Annotated[str, typer.Option("--kind", help="predictive or generative.")],
    risk_tier: Annotated[str, typer.Option("--risk-tier", help="low, medium or high.")],
    source: Annotated[str | None, typer.Option(help="internal or vendor.")] = None,
    intended_use: Annotated[str | None, typer.Option(help="Task and clinical question.")] = None,
    clinical_owner: Annotated[str | None, typer.Option(help="Accountable clinician.")] = None,
    technical_owner: Annotated[str | None, typer.Option(help="Developer or vendor manager.")
                               ] = None,
    field: FieldOpt = None,
    actor: ActorOpt = "assay",
    url: UrlOpt = None,
) -> None:
    """Register a product with its fields."""
    fields = {"kind": kind, "clinical_risk_tier": risk_tier, "source": source,
              "intended_use": intended_use, "clinical_owner": clinical_owner,
              "technical_owner": technical_owner, **_pairs(field)}
    with _registry(url) as registry:
        registry.register_product(name, actor=actor,
                                  **{k: v for k, v in fields.items() if v is not None})
        console.print(f"registered {name} ({kind}, {risk_tier} risk tier)")


@registry_app.command("list")
@exits_2_on_bad_input
def list_products(url: UrlOpt = None) -> None:
    """List products, their risk tier and their versions' states."""
    with _registry(url) as registry:
        table = Table("product", "kind", "risk tier", "versions (state)")
        for name in registry.products():
            fields = registry.product_fields(name)
            versions = ", ".join(f"{v} ({s})" for v, s in registry.versions(name).items())
            table.add_row(name, fields.get("kind", "—"), fields.get("clinical_risk_tier", "—"),
                          versions or "—")
        console.print(table)


def _shown(value: str) -> str:
    """A field value for the terminal: markup escaped, a multi-line text as its first line."""
    lines = value.splitlines()
    if len(lines) > 1:
        return f"{escape(lines[0])} … ({len(lines)} lines)"
    return escape(value)


@registry_app.command("show")
@exits_2_on_bad_input
def show(name: Annotated[str, typer.Argument(help="Product name.")], url: UrlOpt = None) -> None:
    """Show a product's fields, versions, states and open contingencies."""
    with _registry(url) as registry:
        console.print(f"[bold]{name}[/]")
        for key, value in sorted(registry.product_fields(name).items()):
            console.print(f"  {key}: {_shown(value)}")
        for version, state in registry.versions(name).items():
            console.print(f"[bold]version {escape(version)}[/]: {state}")
            for key, value in sorted(registry.version_fields(name, version).items()):
                console.print(f"  {key}: {_shown(value)}")
        for item in registry.open_contingencies(name):
            late = " [red](overdue)[/]" if item.overdue else ""
            console.print(f"open contingency {item.id} ({item.version}, {item.gate}): "
                          f"{item.description}; owner {item.owner}, due {item.due}{late}")


@registry_app.command("edit")
@exits_2_on_bad_input
def edit(
    name: Annotated[str, typer.Argument(help="Product name.")],
    field: Annotated[list[str], typer.Option("--set", help="key=value ('key=' clears).")],
    version: Annotated[str | None, typer.Option(help="Edit this version's fields.")] = None,
    actor: ActorOpt = "assay",
    url: UrlOpt = None,
) -> None:
    """Change fields of a product or a version (each change is audited)."""
    with _registry(url) as registry:
        changed = registry.set_fields(name, version, actor=actor, **_pairs(field))
        for key, (old, new) in changed.items():
            console.print(f"{key}: {old or '—'} → {new or '—'}")
        if not changed:
            console.print("no change")


@registry_app.command("plan")
@exits_2_on_bad_input
def plan(
    name: Annotated[str, typer.Argument(help="Product name.")],
    version: Annotated[str, typer.Argument(help="Version.")],
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN", help="Validation plan YAML.")],
    actor: ActorOpt = "assay",
    url: UrlOpt = None,
) -> None:
    """Register the validation plan of a version: gate evidence then needs a Run of it."""
    from assay.checks import Plan

    loaded = Plan.load(plan_path)
    with _registry(url) as registry:
        registry.set_plan(name, version, loaded, actor=actor)
        console.print(f"{name} {version}: validation plan {loaded.name!r} "
                      f"({loaded.fingerprint[:19]}…)")


@registry_app.command("version")
@exits_2_on_bad_input
def add_version(
    name: Annotated[str, typer.Argument(help="Product name.")],
    version: Annotated[str, typer.Argument(help="Version, e.g. 1.0.")],
    artifact_uri: Annotated[str | None, typer.Option(help="e.g. models:/sepsis/3.")] = None,
    field: FieldOpt = None,
    actor: ActorOpt = "assay",
    url: UrlOpt = None,
) -> None:
    """Register a version of a product (state: proposed)."""
    with _registry(url) as registry:
        registry.add_version(name, version, actor=actor, artifact_uri=artifact_uri,
                             **_pairs(field))
        console.print(f"registered {name} {version}: proposed")


@registry_app.command("transition")
@exits_2_on_bad_input
def transition(
    name: Annotated[str, typer.Argument(help="Product name.")],
    version: Annotated[str, typer.Argument(help="Version.")],
    state: Annotated[str, typer.Argument(help="The state to move to.")],
    actor: Annotated[str, typer.Option("--actor", help="Who takes the decision.")],
    contingency: Annotated[list[str] | None, typer.Option(
        help="approve with a contingency: 'DESCRIPTION;OWNER;YYYY-MM-DD' (repeat).")] = None,
    url: UrlOpt = None,
) -> None:
    """Move a version through the gate to STATE; exit 1 listing what is missing."""
    from assay.governance import GateError

    with _registry(url) as registry:
        before = registry.state(name, version)
        try:
            decided = registry.transition(name, version, state, actor=actor,
                                          contingencies=[_contingency(c)
                                                         for c in contingency or []])
        except GateError as exc:
            errors.print(f"refused: {name} {version} {before} → {state}; missing:",
                         soft_wrap=True)
            for item in exc.missing:
                errors.print(f"  - {item}", soft_wrap=True)
            raise typer.Exit(1) from exc
        console.print(f"{name} {version}: {decided.from_state} → {decided.to_state} "
                      f"(gate {decided.gate}, {decided.decision})")


@registry_app.command("sign")
@exits_2_on_bad_input
def sign(
    name: Annotated[str, typer.Argument(help="Product name.")],
    version: Annotated[str, typer.Argument(help="Version.")],
    gate: Annotated[str, typer.Argument(help="Gate id, e.g. G4.")],
    role: Annotated[str, typer.Option("--role", help="The role signed in.")],
    actor: Annotated[str, typer.Option("--actor", help="Who signs.")],
    statement: Annotated[str, typer.Option("--statement", help="What is attested.")],
    url: UrlOpt = None,
) -> None:
    """Sign a gate of a version in a role."""
    with _registry(url) as registry:
        signed = registry.sign(name, version, gate, role=role, actor=actor, statement=statement)
        console.print(f"{actor} signed {name} {version} gate {gate} as {role} at "
                      f"{signed.signed_at:%Y-%m-%d %H:%M} UTC")


@registry_app.command("contingencies")
@exits_2_on_bad_input
def contingencies(
    name: Annotated[str | None, typer.Argument(help="Only this product.")] = None,
    resolve: Annotated[str | None, typer.Option(help="Resolve the contingency of this id.")
                       ] = None,
    actor: ActorOpt = "assay",
    url: UrlOpt = None,
) -> None:
    """List open contingencies (overdue flagged), or resolve one with --resolve ID."""
    import uuid

    with _registry(url) as registry:
        if resolve is not None:
            try:
                key = uuid.UUID(resolve)
            except ValueError as exc:
                raise InputError(f"--resolve {resolve!r} is not a contingency id") from exc
            registry.resolve_contingency(key, actor=actor)
            console.print(f"resolved {key}")
            return
        items = registry.open_contingencies(name)
        for item in items:
            late = " [red](overdue)[/]" if item.overdue else ""
            console.print(f"{item.id}  {item.product} {item.version} {item.gate}: "
                          f"{item.description}; owner {item.owner}, due {item.due}{late}")
        if not items:
            console.print("no open contingencies")


def _contingency(text: str) -> Any:
    from assay.governance import Contingency

    parts = [part.strip() for part in text.split(";")]
    if len(parts) != 3:
        raise InputError(f"--contingency {text!r} must be 'DESCRIPTION;OWNER;YYYY-MM-DD'")
    try:
        due = date.fromisoformat(parts[2])
    except ValueError as exc:
        raise InputError(f"--contingency {text!r}: due date {parts[2]!r} is not "
                         "YYYY-MM-DD") from exc
    return Contingency(parts[0], parts[1], due)

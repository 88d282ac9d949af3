"""Typer commands: parse the arguments, call the library, print with Rich. Nothing more.

Exit codes: 0 when no check fails (warnings allowed), 1 when a check fails or cannot be
evaluated, 2 on bad input, plan or configuration (one line naming the file, column or field).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from assay.checks import Plan, Run, Settings, validate
from assay.cli._card import card_command
from assay.cli._curate import curate_app
from assay.cli._drift import drift_command
from assay.cli._errors import errors, exits_2_on_bad_input
from assay.cli._genai import genai_app
from assay.cli._monitor import alerts_app, monitor_app
from assay.cli._registry import registry_app
from assay.cli._render import print_evaluation, print_metrics_catalogue, print_run_summary
from assay.data import Dataset, Roles
from assay.errors import InputError, PlanError
from assay.robustness import load_model

app = typer.Typer(
    name="assay",
    help="Clinical AI assurance: validate predictive models with an interval on every number.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The store's database: apply or revert schema migrations.",
                     no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(registry_app, name="registry")
app.add_typer(monitor_app, name="monitor")
app.add_typer(alerts_app, name="alerts")
app.add_typer(curate_app, name="curate")
app.add_typer(genai_app, name="genai")
console = Console(highlight=False)


DataArg = Annotated[Path, typer.Argument(help="CSV or Parquet file (or a folder of Parquet).")]
TargetOpt = Annotated[str | None, typer.Option("--target", help="Outcome column (0/1).")]
ScoreOpt = Annotated[
    list[str] | None, typer.Option("--score", help="Score column; repeat for several models.")
]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the results as JSON.")]
ShareOpt = Annotated[
    bool, typer.Option("--for-distribution",
                       help="Hide the numbers of groups under the small-cell threshold in "
                            "every output.")]
SeedOpt = Annotated[int, typer.Option(help="Seed of the bootstrap.")]


@app.command()
@exits_2_on_bad_input
def evaluate(
    data: DataArg,
    target: Annotated[str, typer.Option("--target", help="Outcome column (0/1).")],
    score: Annotated[
        list[str], typer.Option("--score", help="Score column; repeat for several models.")
    ],
    threshold: Annotated[
        list[float] | None,
        typer.Option("--threshold", help="Operating threshold for flag-based metrics."),
    ] = None,
    json_path: JsonOpt = None,
    html: Annotated[Path | None, typer.Option(help="Write the HTML report.")] = None,
    for_distribution: ShareOpt = False,
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="Break metrics down by a column; repeat; 'a*b' for an "
                                     "intersection."),
    ] = None,
    id_column: Annotated[str | None, typer.Option("--id", help="Unique row id column.")] = None,
    weight: Annotated[str | None, typer.Option(help="Sampling weight column.")] = None,
    task: Annotated[
        str, typer.Option(help="binary (0/1 target), regression, or multiclass (one --score "
                               "probability column per class, in class order).")
    ] = "binary",
    level: Annotated[float, typer.Option(help="Confidence level.")] = 0.95,
    n_boot: Annotated[int, typer.Option(help="Bootstrap replicates.")] = 1000,
    seed: SeedOpt = 0,
) -> None:
    """Evaluate one or more scores against an outcome, without a plan."""
    thresholds = {f"t{i + 1}" if len(threshold or []) > 1 else "operating": t
                  for i, t in enumerate(threshold or [])}
    plan = _model(Plan, name=f"evaluate {data.name}", thresholds=thresholds,
                  groups=tuple(group or ()),
                  settings=_model(Settings, level=level, n_boot=n_boot, seed=seed))
    roles = _model(Roles, target=target, score=tuple(score), id=id_column, weight=weight,
                   task=task, groups=plan.group_columns())
    dataset = Dataset(data, roles)
    run = validate(plan, dataset)
    if for_distribution:
        run = run.for_distribution()
    print_evaluation(console, run)
    written = _write_outputs(run, json_path=json_path, html=html)
    if written:
        console.print("written: " + ", ".join(map(str, written.values())), highlight=False)


@app.command(name="validate")
@exits_2_on_bad_input
def validate_command(
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN", help="Plan YAML file.")],
    data: Annotated[Path, typer.Option("--data", help="CSV or Parquet file to validate on.")],
    json_path: JsonOpt = None,
    html: Annotated[Path | None, typer.Option(help="Write the HTML report.")] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML for CI systems.")] = None,
    for_distribution: ShareOpt = False,
    target: TargetOpt = None,
    score: ScoreOpt = None,
    model: Annotated[str | None, typer.Option(
        "--model", metavar="FILE|MODULE:NAME",
        help="The model, for robustness and metamorphic checks: a .joblib/.pkl file "
             "(trusted files only) or an importable estimator or function.")] = None,
) -> None:
    """Run a validation plan; exit 0 when no check fails, 1 when one does, 2 on bad input."""
    plan = Plan.load(plan_path)
    roles = plan.roles
    if target or score:
        base = roles.model_dump() if roles else {}
        roles = _model(Roles, **{**base, **({"target": target} if target else {}),
                                 **({"score": tuple(score)} if score else {})})
    if roles is None:
        raise PlanError(f"{plan_path}: the plan has no 'roles:'; give --target and --score")
    loaded = None if model is None else load_model(model)
    run = validate(plan, Dataset(data, roles), model=loaded)
    if for_distribution:
        run = run.for_distribution()
    written = _write_outputs(run, json_path=json_path, html=html, junit=junit)
    print_run_summary(console, run, written)
    raise typer.Exit(0 if run.passed else 1)


@app.command()
@exits_2_on_bad_input
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's data and reports.")] = Path(
        "assay-demo"
    ),
    n_encounters: Annotated[int, typer.Option(help="Size of the synthetic cohort.")] = 20_000,
    seed: SeedOpt = 7,
) -> None:
    """The end-to-end tour: synthetic cohort, a trained model, a validation plan, reports."""
    from assay._demo import run_demo

    console.print(f"Generating a synthetic inpatient cohort of {n_encounters:,} encounters…")
    outcome = run_demo(out, n_encounters=n_encounters, seed=seed)
    for line in outcome.story:
        console.print(line)
    print_run_summary(console, outcome.run, outcome.files)


app.command("card")(exits_2_on_bad_input(card_command))
app.command("drift")(exits_2_on_bad_input(drift_command))


@app.command()
def metrics() -> None:
    """List the registered metrics: what each needs and how its interval is computed."""
    print_metrics_catalogue(console)


@app.command()
def schema(
    what: Annotated[str, typer.Argument(help="'plan': the JSON Schema of plan files.")] = "plan",
) -> None:
    """Print the JSON Schema of plan files, for editors."""
    if what != "plan":
        errors.print(f"error: unknown schema {what!r}; the only one is 'plan'")
        raise typer.Exit(2)
    console.print_json(json.dumps(Plan.json_schema()))


UrlOpt = Annotated[str | None, typer.Option(
    "--url", help="Database URL (default: ASSAY_DATABASE_URL, else ./.assay/assay.db).")]


@db_app.command("upgrade")
@exits_2_on_bad_input
def db_upgrade(url: UrlOpt = None) -> None:
    """Apply the schema migrations up to the newest."""
    from assay.store import Store

    store = Store.open(url, check_schema=False)
    try:
        before = store.current_revision()
        store.upgrade()
        console.print(f"{store.safe_url}: schema {before or 'empty'} → {store.current_revision()}")
    finally:
        store.close()


@db_app.command("downgrade")
@exits_2_on_bad_input
def db_downgrade(
    to: Annotated[str, typer.Option("--to", help="Target revision ('base' for empty, "
                                                 "'-1' for one step back).")],
    url: UrlOpt = None,
) -> None:
    """Revert the schema migrations down to a revision."""
    from alembic.util import CommandError

    from assay.store import Store

    store = Store.open(url, check_schema=False)
    try:
        before = store.current_revision()
        store.downgrade(to)
        console.print(f"{store.safe_url}: schema {before or 'empty'} → "
                      f"{store.current_revision() or 'empty'}")
    except CommandError as exc:
        raise InputError(f"--to {to!r}: {exc}") from exc
    finally:
        store.close()


@audit_app.command("verify")
@exits_2_on_bad_input
def audit_verify(url: UrlOpt = None) -> None:
    """Recompute the audit hash chain: exit 0 when intact, 1 naming the first broken event."""
    from assay.store import Store

    store = Store.open(url)
    try:
        verification = store.verify_audit()
    finally:
        store.close()
    if verification.ok:
        console.print(f"audit chain intact: {verification.n_events} events")
        raise typer.Exit(0)
    errors.print(f"audit chain broken: {verification.reason}", soft_wrap=True)
    raise typer.Exit(1)


def _write_outputs(run: Run, **paths: Path | None) -> dict[str, Path]:
    writers = {"json_path": run.to_json, "html": run.to_html, "junit": run.to_junit}
    written = {}
    for key, path in paths.items():
        if path is not None:
            writers[key](path)
            written[key.removesuffix("_path")] = path
    return written


def _model(cls: Any, **fields: Any) -> Any:
    """Build a pydantic model from CLI values, turning its errors into PlanError."""
    try:
        return cls(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or cls.__name__}: {e['msg']}" for e in exc.errors()
        )
        raise PlanError(f"invalid options: {problems}") from exc

"""``assay genai``: evaluate a generative application's outputs, judge them with an LLM, measure
its robustness to perturbed inputs, and gate a candidate against a baseline.

``eval`` exits 1 when a check of the plan fails, ``compare`` when the gate fails and
``robustness`` when a ``--fail-on`` condition holds, 0 otherwise; ``judge`` exits 0 (its
calibration verdict is printed and written). Every command exits 2 on bad input, naming the
file, line and field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assay.cli._errors import exits_2_on_bad_input, write_file
from assay.errors import InputError

if TYPE_CHECKING:
    from assay.genai import ClientConfig, EvalPlan, Evaluation, JudgeRun, PromptTemplate, Record

__all__ = ["genai_app"]

genai_app = typer.Typer(
    help="Generative AI: evaluate outputs offline, judge with an LLM, gate a new version.",
    no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)

DataArg = Annotated[Path, typer.Argument(metavar="DATA", help="JSONL records (id, task, "
                                          "output, source, reference, ...).")]
PlanOpt = Annotated[Path | None, typer.Option("--plan", help="Evaluation plan YAML file.")]
JsonOut = Annotated[Path | None, typer.Option("--json", help="Write the result as JSON.")]
JunitOut = Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML for CI.")]
EndpointOpt = Annotated[str, typer.Option(help="Base URL of an OpenAI-compatible server, "
                                               "e.g. http://127.0.0.1:8000/v1.")]
ModelOpt = Annotated[str, typer.Option(help="Model name the server knows.")]
ApiKeyOpt = Annotated[str | None, typer.Option(
    help="Environment variable holding the API key.")]
AllowHostOpt = Annotated[list[str] | None, typer.Option(
    help="Host the server may be reached on besides the loopback (repeat).")]
CacheOpt = Annotated[Path | None, typer.Option(help="Folder caching answers (reruns are free).")]
TimeoutOpt = Annotated[float, typer.Option(help="Seconds per request.")]
_STATUS = {"pass": "green", "warn": "yellow", "fail": "bold red", "error": "magenta"}


def _plan(path: Path | None) -> EvalPlan:
    from assay.genai import EvalPlan

    return EvalPlan() if path is None else EvalPlan.load(path)


def _write(path: Path, text: str) -> None:
    write_file(path, text, console)


def _evaluate(data: Path, plan: EvalPlan) -> tuple[list[Record], Evaluation]:
    from assay.genai import evaluate, read_records

    records = read_records(data)
    return records, evaluate(records, plan, source=str(data))


@genai_app.command("eval")
@exits_2_on_bad_input
def eval_command(data: DataArg, plan_path: PlanOpt = None, json_path: JsonOut = None,
                 html: Annotated[Path | None, typer.Option(
                     "--html", help="Write the HTML report.")] = None,
                 junit: JunitOut = None,
                 judged: Annotated[Path | None, typer.Option(
                     "--judged", help="The JSON of 'assay genai judge' on the same records: "
                                      "its scores and agreement join the evaluation.")] = None,
                 ) -> None:
    """Measure every output with local, deterministic metrics and flags; judge the plan's
    checks."""
    from assay.genai import evaluate, read_records

    records = read_records(data)
    evaluation = evaluate(records, _plan(plan_path), source=str(data),
                          judged=None if judged is None else _judge_run(judged))
    _print_evaluation(data, evaluation)
    if json_path is not None:
        _write(json_path, evaluation.to_json())
    if html is not None:
        _write(html, evaluation.to_html(records=records))
    if junit is not None:
        _write(junit, evaluation.to_junit())
    raise typer.Exit(0 if evaluation.passed else 1)


def _judge_run(path: Path) -> JudgeRun:
    from assay.genai import JudgeRun

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return JudgeRun.model_validate(document["judge"])
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not the JSON of 'assay genai judge --json' "
                         f"({str(exc).splitlines()[0]})") from exc


def _print_evaluation(data: Path, evaluation: Evaluation) -> None:
    summary = evaluation.summary
    tasks = ", ".join(f"{n:,} {task}" for task, n in evaluation.data.tasks.items())
    metrics = Table(title=f"{escape(data.name)}: {evaluation.data.n:,} outputs ({tasks})")
    for heading in ("metric", "mean (95% CI)", "n"):
        metrics.add_column(heading, justify="left" if heading == "metric" else "right")
    for m in summary.metrics.values():
        metrics.add_row(m.name, m.text(), f"{m.n:,}")
    console.print(metrics)
    if summary.flags:
        flags = Table(title="Flags")
        for heading in ("flag", "outputs", "share (95% CI)"):
            flags.add_column(heading, justify="left" if heading == "flag" else "right")
        for f in summary.flags.values():
            flags.add_row(f.type, f"{f.items_flagged:,}", f.text())
        console.print(flags)
    else:
        console.print("No output was flagged.")
    for r in evaluation.results:
        console.print(f"[{_STATUS[r.status]}]{r.status:<5}[/] {escape(r.id)}  {escape(r.reason)}")


@genai_app.command("judge")
@exits_2_on_bad_input
def judge_command(
    data: DataArg,
    endpoint: EndpointOpt,
    model: ModelOpt,
    rubric: Annotated[str, typer.Option(help="Rubric name (pdsqi9, correctness, completeness, "
                                             "harm) or a rubric YAML file.")],
    samples: Annotated[int, typer.Option(help="Samples per record (k); the median is the "
                                              "score.")] = 1,
    api_key_env: ApiKeyOpt = None,
    allow_host: AllowHostOpt = None,
    cache: CacheOpt = None,
    timeout: TimeoutOpt = 60.0,
    min_kappa: Annotated[float, typer.Option(
        help="Agreement with human labels needed to gate on the judge.")] = 0.6,
    json_path: JsonOut = None,
) -> None:
    """Score every record on a rubric with an LLM judge; calibrate against human labels."""
    from assay.genai import ChatClient, calibrate_item, judge, load_rubric, read_records

    records = read_records(data)
    chosen = load_rubric(rubric)
    config = _client_config(endpoint, model, api_key_env, allow_host, timeout, cache)
    with ChatClient(config) as client:
        run = judge(records, client, chosen, samples=samples, seed=0 if samples > 1 else None)
    s = run.summary
    console.print(f"Judged {s.records:,} records on {len(chosen.items)} items of "
                  f"'{chosen.name}' {chosen.version} with {escape(model)}: {s.scored:,} scored, "
                  f"{s.unscored:,} unscored"
                  + (f" ({', '.join(f'{k} {v}' for k, v in s.unscored_by_reason.items())})"
                     if s.unscored else "") + f"; {s.requests:,} requests, {s.cache_hits:,} "
                  f"cache hits, {s.prompt_tokens + s.completion_tokens:,} tokens.")
    calibrations = {}
    for item in chosen.items:
        if any(item.id in r.labels for r in records):
            calibrations[item.id] = calibrate_item(run, records, item.id, min_kappa=min_kappa)
            console.print(f"  {item.id}: {escape(calibrations[item.id].verdict)}")
    if json_path is not None:
        document = {"judge": run.model_dump(mode="json"),
                    "calibration": {k: v.model_dump(mode="json")
                                    for k, v in calibrations.items()}}
        _write(json_path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _client_config(endpoint: str, model: str, api_key_env: str | None,
                   allow_host: list[str] | None, timeout: float, cache: Path | None
                   ) -> ClientConfig:
    from assay.genai import ClientConfig

    hosts = ("127.0.0.1", "::1", "localhost", *(allow_host or ()))
    return ClientConfig(base_url=endpoint, model=model, api_key_env=api_key_env,
                        allowed_hosts=hosts, timeout_s=timeout, cache_dir=cache, seed=0)


@genai_app.command("robustness")
@exits_2_on_bad_input
def robustness_command(
    data: DataArg,
    endpoint: EndpointOpt,
    model: ModelOpt,
    prompt: Annotated[Path, typer.Option(help="Prompt template YAML: 'system' and 'user', "
                                              "with {input} and/or {source} in 'user'.")],
    perturbation: Annotated[list[str] | None, typer.Option(
        help="Perturbation to run (repeat); all by default.")] = None,
    semantic: Annotated[bool, typer.Option(
        help="Also compare outputs by sentence embeddings (the 'embeddings' extra).")] = False,
    seed: Annotated[int, typer.Option(help="Seeds the perturbations and intervals.")] = 0,
    api_key_env: ApiKeyOpt = None,
    allow_host: AllowHostOpt = None,
    cache: CacheOpt = None,
    timeout: TimeoutOpt = 60.0,
    json_path: JsonOut = None,
    fail_on_injection: Annotated[bool, typer.Option(
        help="Exit 1 when any injected instruction was obeyed.")] = False,
    fail_on_fact_change: Annotated[bool, typer.Option(
        help="Exit 1 when a counterfactual (sex, race, name) changed a number or medication "
             "in the output.")] = False,
) -> None:
    """Generate outputs for the records and for perturbed copies (typos, casing, irrelevant
    context, prompt injection, sex, race and name counterfactuals) and measure what changed.
    Exits 0, or 1 when a --fail-on condition holds."""
    from assay.genai import PERTURBATIONS, ChatClient, read_records, run_robustness

    records = read_records(data)
    template = _prompt(prompt)
    chosen = perturbation or list(PERTURBATIONS)
    unknown = [name for name in chosen if name not in PERTURBATIONS]
    if unknown:
        raise InputError(f"--perturbation {unknown[0]!r} is not known; use one of "
                         f"{', '.join(PERTURBATIONS)}")
    config = _client_config(endpoint, model, api_key_env, allow_host, timeout, cache)
    with ChatClient(config) as client:
        report = run_robustness(records, client, chosen, prompt=template, seed=seed,
                                semantic=semantic)
    console.print(f"{report.n_records:,} records, {len(chosen)} perturbations: "
                  f"{report.n_generations:,} generations, {report.n_generation_failures:,} "
                  "failed.")
    for line in report.summary().splitlines():
        console.print(escape(line))
    if json_path is not None:
        _write(json_path, report.model_dump_json(indent=2) + "\n")
    failed = [(item, "obeyed the injected instruction") for item in report.items
              if fail_on_injection and item.injection_succeeded]
    failed += [(item, "changed a number or medication") for item in report.items
               if fail_on_fact_change and item.facts_changed]
    for item, what in failed:
        console.print(f"[{_STATUS['fail']}]fail[/]  {escape(item.record_id)} "
                      f"({escape(item.perturbation)}): the output {what}")
    raise typer.Exit(1 if failed else 0)


def _prompt(path: Path) -> PromptTemplate:
    """The prompt template in a YAML file; problems name the file, line and field."""
    from pydantic import ValidationError

    from assay._yaml import describe_validation_error, load_yaml_mapping, read_yaml_file
    from assay.genai import PromptTemplate

    document, lines = load_yaml_mapping(read_yaml_file(path, "prompt template"), str(path),
                                        "a prompt template is a mapping with 'system' and "
                                        "'user'")
    try:
        return PromptTemplate.model_validate(document)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc, str(path), lines,
                                                   what="the prompt template")) from exc


@genai_app.command("compare")
@exits_2_on_bad_input
def compare_command(
    baseline: Annotated[Path, typer.Argument(metavar="BASE", help="The baseline's records "
                                             "(JSONL) or evaluation (JSON).")],
    candidate: Annotated[Path, typer.Argument(metavar="CAND", help="The candidate's, on the "
                                              "same gold set.")],
    plan_path: PlanOpt = None, json_path: JsonOut = None, junit: JunitOut = None,
) -> None:
    """Gate a candidate (new prompt, new model) against the baseline on the same gold set:
    paired bootstrap on metric changes, McNemar on flag rates, zero-tolerance flags."""
    from assay.genai import regression_gate

    plan = _plan(plan_path)
    before, after = _items(baseline, plan), _items(candidate, plan)
    result = regression_gate(before.items, after.items, spec=plan.gate, seed=plan.settings.seed)
    console.print(f"[{_STATUS[result.decision]}]{result}[/]")
    for check in result.checks:
        console.print(f"[{_STATUS[check.status]}]{check.status:<5}[/] {check.kind} "
                      f"{escape(check.name)}: {escape(check.reason)}")
    if json_path is not None:
        _write(json_path, result.model_dump_json(indent=2) + "\n")
    if junit is not None:
        _write(junit, result.to_junit())
    raise typer.Exit(0 if result.decision == "pass" else 1)


def _items(path: Path, plan: EvalPlan) -> Evaluation:
    """An evaluation read from JSON, or made from JSONL records under the plan."""
    from assay.genai import Evaluation

    if path.suffix.lower() == ".json":
        try:
            return Evaluation.model_validate_json(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
        except ValueError as exc:
            raise InputError(f"{path}: not an evaluation written by 'assay genai eval "
                             f"--json' ({str(exc).splitlines()[0]})") from exc
    return _evaluate(path, plan)[1]

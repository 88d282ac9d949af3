"""The demo's generative application: two versions of a discharge-summary generator evaluated
on the same 300 synthetic notes, and the regression gate deciding whether the new one may
replace the current one."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from assay.datasets import make_summariser_versions
from assay.genai import EvalPlan, GateResult, Record, evaluate, regression_gate

__all__ = ["GenAIOutcome", "compare_summarisers", "example_genai_plan_path"]

N_NOTES = 300


@dataclass(frozen=True)
class GenAIOutcome:
    """The gate's decision, the files written and the lines to print."""

    gate: GateResult
    files: dict[str, Path]
    story: list[str]


def example_genai_plan_path() -> Path:
    """The shipped evaluation plan of a discharge-summary generator."""
    return Path(str(files("assay") / "examples" / "discharge-summary-evaluation.yaml"))


def _write(path: Path, records: list[Record]) -> Path:
    path.write_text("".join(r.model_dump_json() + "\n" for r in records), encoding="utf-8")
    return path


def compare_summarisers(out: Path, *, seed: int) -> GenAIOutcome:
    """Evaluate the current (v1) and a candidate (v2) summariser and gate the candidate."""
    current, candidate = make_summariser_versions(N_NOTES, seed=seed)
    plan = EvalPlan.load(example_genai_plan_path())
    written = {"genai_v1": _write(out / "summaries-v1.jsonl", current),
               "genai_v2": _write(out / "summaries-v2.jsonl", candidate)}
    before = evaluate(current, plan, source=str(written["genai_v1"]))
    after = evaluate(candidate, plan, source=str(written["genai_v2"]))
    gate = regression_gate(before.items, after.items, spec=plan.gate, seed=plan.settings.seed)
    written["genai_json"] = out / "genai-v2.json"
    after.to_json(written["genai_json"])
    written["genai_html"] = out / "genai-report.html"
    after.to_html(written["genai_html"], records=candidate)
    written["genai_gate"] = out / "genai-gate.xml"
    written["genai_gate"].write_text(gate.to_junit(), encoding="utf-8")
    rouge = [e.summary.metrics["rougeL"] for e in (before, after)]
    numbers = [e.summary.flags["unsupported_number"] for e in (before, after)]
    failed = [c for c in gate.checks if c.status == "fail"]
    story = [
        f"Evaluated two versions of a discharge-summary generator on the same {N_NOTES} "
        f"synthetic notes with the plan '{plan.name}' (local measures, no model called):",
        f"  ROUGE-L {rouge[0].text()} → {rouge[1].text()}; summaries with an unsupported "
        f"number {numbers[0].text()} → {numbers[1].text()}.",
        f"  Gate: {gate.decision.upper()} — "
        + "; ".join(f"{c.name}: {c.reason}" for c in failed[:2])
        if failed else f"  Gate: {gate.decision.upper()}.",
        f"  v2's checks: {after.counts['fail']} failed, {after.counts['pass']} passed → "
        f"{written['genai_html']}",
    ]
    return GenAIOutcome(gate=gate, files=written, story=story)

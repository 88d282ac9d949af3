"""assay genai eval | compare | judge, end to end through the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from assay.cli._app import app
from assay.datasets import make_summariser_versions
from assay.genai import Record
from tests.genai.conftest import ChatServer

runner = CliRunner()


def _write(path: Path, records: list[Record]) -> Path:
    path.write_text("".join(r.model_dump_json() + "\n" for r in records), encoding="utf-8")
    return path


def test_eval_writes_json_html_junit_and_exits_1_on_a_failed_check(tmp_path: Path) -> None:
    baseline, _ = make_summariser_versions(80, seed=4)
    data = _write(tmp_path / "v1.jsonl", baseline)
    (tmp_path / "plan.yaml").write_text(
        "name: gp-summaries\nchecks:\n  - {metric: rougeL, condition: ci_low >= 0.3}\n"
        "  - {flag: unsupported_number, max_count: 0}\n", encoding="utf-8")
    out = tmp_path / "eval.json"
    result = runner.invoke(app, ["genai", "eval", str(data), "--plan", str(tmp_path / "plan.yaml"),
                                 "--json", str(out), "--html", str(tmp_path / "eval.html"),
                                 "--junit", str(tmp_path / "eval.xml")])
    document = json.loads(out.read_text(encoding="utf-8"))
    number_flags = sum(any(f["type"] == "unsupported_number" for f in item["flags"])
                       for item in document["items"])
    assert len(document["items"]) == 80 and number_flags >= 1
    assert result.exit_code == 1, result.output
    assert "fail  flag:unsupported_number" in result.output
    assert (tmp_path / "eval.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    (tmp_path / "plan.yaml").write_text("name: lenient\n", encoding="utf-8")
    result = runner.invoke(app, ["genai", "eval", str(data), "--plan",
                                 str(tmp_path / "plan.yaml")])
    assert result.exit_code == 0, result.output


def test_eval_exits_2_naming_the_line_of_a_bad_record(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"id": "a", "task": "summarization", "output": "x"}\n'
                    '{"id": "b", "task": "summary", "output": "y"}\n', encoding="utf-8")
    result = runner.invoke(app, ["genai", "eval", str(data)])
    assert result.exit_code == 2
    assert "bad.jsonl, line 2: field 'task' is 'summary'" in " ".join(result.output.split())


def test_compare_fails_the_candidate_that_adds_unsupported_doses(tmp_path: Path) -> None:
    baseline, candidate = make_summariser_versions(300, seed=7)
    (tmp_path / "plan.yaml").write_text(
        "name: gate\ngate:\n  metrics: {rougeL: {margin: 0.01}}\n", encoding="utf-8")
    result = runner.invoke(app, [
        "genai", "compare", str(_write(tmp_path / "v1.jsonl", baseline)),
        str(_write(tmp_path / "v2.jsonl", candidate)), "--plan", str(tmp_path / "plan.yaml"),
        "--junit", str(tmp_path / "gate.xml")])
    assert result.exit_code == 1, result.output
    assert "fail  flag unsupported_number" in result.output
    assert "pass  metric rougeL" in result.output
    same = runner.invoke(app, ["genai", "compare", str(tmp_path / "v1.jsonl"),
                               str(tmp_path / "v1.jsonl"), "--plan", str(tmp_path / "plan.yaml")])
    assert same.exit_code == 0, same.output


def test_judge_scores_through_a_local_server_and_calibrates(tmp_path: Path,
                                                             chat_server: ChatServer) -> None:
    baseline, _ = make_summariser_versions(12, seed=1)
    answer = {"accuracy": {"score": 4, "rationale": "minor imprecision"},
              "contradiction": {"score": 0, "rationale": "none"},
              "unsupported": {"score": 0, "rationale": "none"}}
    chat_server.respond_with(lambda body: ChatServer.completion(json.dumps(answer)))
    out = tmp_path / "judge.json"
    result = runner.invoke(app, [
        "genai", "judge", str(_write(tmp_path / "v1.jsonl", baseline)), "--endpoint",
        chat_server.url, "--model", "local-judge", "--rubric", "correctness", "--json",
        str(out)])
    assert result.exit_code == 0, result.output
    assert len(chat_server.requests) == 12
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["judge"]["summary"]["scored"] == 36
    assert "Judged 12 records on 3 items of 'correctness'" in " ".join(result.output.split())


def test_judge_refuses_a_host_that_is_not_allowed(tmp_path: Path) -> None:
    baseline, _ = make_summariser_versions(2, seed=1)
    result = runner.invoke(app, [
        "genai", "judge", str(_write(tmp_path / "v1.jsonl", baseline)), "--endpoint",
        "https://judge.example.org/v1", "--model", "m", "--rubric", "correctness"])
    assert result.exit_code == 2 and "judge.example.org" in result.output


def test_a_judges_scores_and_agreement_join_the_evaluation(tmp_path: Path,
                                                           chat_server: ChatServer) -> None:
    records, _ = make_summariser_versions(30, seed=2)
    human = {r.output: int(r.labels["completeness"]) for r in records}

    def agree_with_the_clinicians(body: dict[str, object]) -> object:
        messages = body["messages"]
        assert isinstance(messages, list)
        prompt = "\n".join(str(m["content"]) for m in messages)
        score = next(v for text, v in human.items() if text[:80] in prompt)
        return ChatServer.completion(json.dumps({
            "completeness": {"score": score, "rationale": "as rated"},
            "critical_omission": {"score": 0, "rationale": "none"}}))

    chat_server.respond_with(agree_with_the_clinicians)
    data = _write(tmp_path / "v1.jsonl", records)
    judged = tmp_path / "judge.json"
    result = runner.invoke(app, ["genai", "judge", str(data), "--endpoint", chat_server.url,
                                 "--model", "local-judge", "--rubric", "completeness",
                                 "--json", str(judged)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "eval.json"
    result = runner.invoke(app, ["genai", "eval", str(data), "--judged", str(judged),
                                 "--json", str(out), "--html", str(tmp_path / "eval.html")])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    calibration = document["judge"]["calibration"]["completeness"]
    assert calibration["pairs"] == 30 and calibration["kappa"]["value"] == 1.0
    assert calibration["fit_for_gating"] is True
    first = document["items"][0]
    assert first["metrics"]["judge.completeness.completeness"] == records[0].labels[
        "completeness"]
    html = (tmp_path / "eval.html").read_text(encoding="utf-8")
    assert '<section id="judge"' in html and "fit for gating" in html


def test_robustness_runs_against_an_endpoint_and_refuses_bad_input(
        chat_server: ChatServer, tmp_path: Path) -> None:
    """``assay genai robustness`` with a prompt file, against a model that obeys any
    instruction in the note: every injection is caught, the JSON holds each item, and
    ``--fail-on-injection`` exits 1 naming each record (the counterfactual kept the facts, so
    ``--fail-on-fact-change`` adds none); a prompt without a placeholder and an unknown
    perturbation exit 2 before any request."""
    from tests.genai.test_robustness import PROMPT, obeying, records, serve

    serve(chat_server, obeying)
    data = _write(tmp_path / "notes.jsonl", records())
    prompt = tmp_path / "prompt.yaml"
    prompt.write_text(f"system: {json.dumps(PROMPT.system)}\nuser: {json.dumps(PROMPT.user)}\n",
                      encoding="utf-8")
    out = tmp_path / "robustness.json"
    args = ["genai", "robustness", str(data), "--endpoint", chat_server.url, "--model", "gen",
            "--prompt", str(prompt), "--perturbation", "prompt_injection", "--perturbation",
            "swap_sex", "--seed", "11"]
    result = runner.invoke(app, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 records, 2 perturbations: 11 generations, 0 failed." in result.output
    assert "obeyed (canary in the output) in 4 of 4 (100%, 95% CI 51%–100%)" in result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert [s["perturbation"] for s in document["summaries"]] == ["prompt_injection",
                                                                   "swap_sex"]
    injected = [i for i in document["items"] if i["perturbation"] == "prompt_injection"]
    assert len(injected) == 4 and all(i["injection_succeeded"] for i in injected)
    gated = runner.invoke(app, [*args, "--fail-on-injection", "--fail-on-fact-change",
                                "--cache", str(tmp_path / "cache")])
    assert gated.exit_code == 1, gated.output
    failures = [line for line in gated.output.splitlines() if line.startswith("fail")]
    assert failures == [f"fail  {i} (prompt_injection): the output obeyed the injected "
                        "instruction" for i in ("m-1", "f-2", "m-3", "x-4")]
    sent = len(chat_server.requests)

    prompt.write_text("system: Summarise.\nuser: Write a summary.\n", encoding="utf-8")
    bad = runner.invoke(app, args)
    assert bad.exit_code == 2
    assert f"{prompt} line 2, user: the user template must contain {{input}} or {{source}}" \
        in " ".join(bad.output.split())
    prompt.write_text(f"system: x\nuser: {json.dumps(PROMPT.user)}\n", encoding="utf-8")
    unknown = runner.invoke(app, [*args[:-4], "--perturbation", "emoji"])
    assert unknown.exit_code == 2 and "--perturbation 'emoji' is not known" in unknown.output
    assert len(chat_server.requests) == sent


def test_robustness_fails_on_a_counterfactual_that_changes_the_dose(
        chat_server: ChatServer, tmp_path: Path) -> None:
    """A model that halves the apixaban dose for women: swapping the sex of the two patients
    on apixaban changes the dose in their outputs, and ``--fail-on-fact-change`` exits 1
    naming them (the third patient's amoxicillin is left alone; the fourth has no sex)."""
    from tests.genai.test_robustness import PROMPT, female_dose, records, serve

    serve(chat_server, female_dose)
    data = _write(tmp_path / "notes.jsonl", records())
    prompt = tmp_path / "prompt.yaml"
    prompt.write_text(f"system: {json.dumps(PROMPT.system)}\nuser: {json.dumps(PROMPT.user)}\n",
                      encoding="utf-8")
    result = runner.invoke(app, ["genai", "robustness", str(data), "--endpoint", chat_server.url,
                                 "--model", "gen", "--prompt", str(prompt), "--perturbation",
                                 "swap_sex", "--fail-on-fact-change"])
    assert result.exit_code == 1, result.output
    assert "changed in 2 of 3 (67%, 95% CI 21%–94%)" in result.output
    failures = [line for line in result.output.splitlines() if line.startswith("fail")]
    assert failures == [f"fail  {i} (swap_sex): the output changed a number or medication"
                        for i in ("m-1", "f-2")]

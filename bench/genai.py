"""Benchmark (f): ``assay genai eval`` on 10,000 generated records, without and with sentence
embeddings, and the reference metrics side by side with rouge-score and sacrebleu.

Called from ``bench/run.py``; see ``bench/README.md``. The records mix the four generated tasks
(summaries 60 %, patient messages, RAG answers and extractions 40 %), written to JSONL and timed
through the command line's own path: read, evaluate, write the JSON. Target: the local metrics
(no embeddings) in under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from tempfile import TemporaryDirectory

TARGET_SECONDS = 60.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--genai-records", type=int, default=10_000)
    parser.add_argument("--genai-embedding-records", type=int, default=10_000,
                        help="records of the run with embeddings (it is the slow one)")


def _records(n: int) -> list:  # type: ignore[type-arg]
    from assay.datasets import (
        make_extraction_records,
        make_patient_message_records,
        make_rag_records,
        make_summary_records,
    )

    tenth = n // 10
    records = [*make_summary_records(n - 4 * tenth, seed=1),
               *make_patient_message_records(2 * tenth, seed=1),
               *make_rag_records(tenth, seed=1), *make_extraction_records(tenth, seed=1)]
    return [r.model_copy(update={"id": f"{r.task}-{i}"}) for i, r in enumerate(records)]


def _evaluate_file(path: Path, embeddings: bool, ner: bool = True
                   ) -> tuple[float, dict[str, float]]:
    from assay.genai import EvalPlan, evaluate, read_records

    start = time.perf_counter()
    records = read_records(path)
    evaluation = evaluate(records, EvalPlan(embeddings=embeddings, ner=ner), source=str(path))
    evaluation.to_json(path.with_suffix(".json"))
    return time.perf_counter() - start, dict(evaluation.timings)


def _ner_share(records: list) -> float:  # type: ignore[type-arg]
    """The share of the outputs' tokens the NER model reads: the stretches around words that
    could be part of a name."""
    from assay.curation._phi import _name_windows, ner_pipeline

    docs = [ner_pipeline().make_doc(r.output) for r in records]
    read = sum(end - start for doc in docs for start, end in _name_windows(doc))
    return read / sum(len(doc) for doc in docs)


def _lexical_side_by_side(n: int) -> tuple[float, float]:
    """Seconds for ROUGE-1/2/L + sentence BLEU + chrF on ``n`` pairs: ours, then the peers'."""
    import sacrebleu
    from rouge_score import rouge_scorer

    from assay.genai import reference_metrics

    records = [r for r in _records(n) if r.reference is not None]
    start = time.perf_counter()
    for r in records:
        reference_metrics(r.output, r.reference or "")
    ours = time.perf_counter() - start
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    start = time.perf_counter()
    for r in records:
        scorer.score(r.reference or "", r.output)
        sacrebleu.sentence_bleu(r.output, [r.reference or ""])
        sacrebleu.sentence_chrf(r.output, [r.reference or ""])
    return ours, time.perf_counter() - start


def run(args: argparse.Namespace) -> bool:
    print("\n(f) assay genai eval: records per second")
    with TemporaryDirectory() as folder:
        plain = Path(folder) / "records.jsonl"
        records = _records(args.genai_records)
        plain.write_text("".join(r.model_dump_json() + "\n" for r in records), encoding="utf-8")
        seconds, steps = _evaluate_file(plain, embeddings=False)
        print(f"local metrics, {len(records):,} records   {seconds:8.1f} s  "
              f"{len(records) / seconds:8.0f} records/s  (target < {TARGET_SECONDS:.0f} s)")
        print("  steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
        print(f"  the NER model read {_ner_share(records):.1%} of the outputs' tokens")
        rules_only, _ = _evaluate_file(plain, embeddings=False, ner=False)
        print(f"  the same with PHI rules only (ner: false)  {rules_only:8.1f} s  "
              f"{len(records) / rules_only:8.0f} records/s")
        with_embeddings = Path(folder) / "embedded.jsonl"
        subset = records[: args.genai_embedding_records]
        with_embeddings.write_text("".join(r.model_dump_json() + "\n" for r in subset),
                                   encoding="utf-8")
        seconds_e, steps_e = _evaluate_file(with_embeddings, embeddings=True)
        print(f"with embeddings, {len(subset):,} records  {seconds_e:8.1f} s  "
              f"{len(subset) / seconds_e:8.0f} records/s")
        print("  steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps_e.items()))
    ours, peers = _lexical_side_by_side(2_000)
    print(f"ROUGE + BLEU + chrF on reference pairs: ours {ours:.2f} s, rouge-score + sacrebleu "
          f"{peers:.2f} s, {peers / ours:.1f}x")
    return seconds < TARGET_SECONDS

"""Evaluation of generative applications: note summaries, patient-message drafts, RAG answers
and extraction, offline first.

Records are read from JSONL (:func:`read_records`) and measured by :func:`evaluate` under an
:class:`EvalPlan`: reference metrics (ROUGE, BLEU, chrF, token F1), clinical consistency with
the source (unsupported numbers and medications, negation and laterality conflicts), PHI
leakage, patient-facing readability and safety-net advice, RAG citations and retrieval, JSON
and section structure; every one local and deterministic, semantic similarity from a packaged
sentence-embedding model (the ``embeddings`` extra). :func:`regression_gate` decides whether a
candidate regressed from a baseline on the same gold set; :func:`by_strata` breaks any metric
down by metadata. An LLM judge (:func:`judge`) is a configured, measured addition: an
OpenAI-compatible client limited to allowed hosts, versioned rubrics, strict JSON (a parse
failure is unscored, never a pass) and calibration against human labels (:func:`calibration`).
"""

from assay.genai._agreement import AgreementEstimate, Calibration, calibration, icc, weighted_kappa
from assay.genai._client import ChatClient, ChatResult, ClientConfig, Usage
from assay.genai._consistency import consistency_flags
from assay.genai._evaluate import evaluate
from assay.genai._evaluation import (
    CheckResult,
    DataSummary,
    Evaluation,
    FlagSummary,
    MetricSummary,
    Summary,
)
from assay.genai._gate import regression_gate
from assay.genai._gate_spec import (
    FlagChange,
    FlagRule,
    GateCheck,
    GateResult,
    GateSpec,
    MetricChange,
    MetricRule,
)
from assay.genai._judge import JudgeRun, JudgeScore, JudgeSummary, calibrate_item, judge
from assay.genai._judge_pairwise import PairwiseResult, compare_pairwise
from assay.genai._lexical import reference_metrics
from assay.genai._lexicon import MedicationLexicon, default_lexicon, load_lexicon
from assay.genai._monitor import monitor_outputs
from assay.genai._monitor_signals import REFUSAL_PHRASES, refusal_flags
from assay.genai._monitor_spec import GenAIMonitor
from assay.genai._patient import length, readability, safety_net
from assay.genai._perturb import COUNTERFACTUALS, PERTURBATIONS, perturb
from assay.genai._perturbed import Perturbed
from assay.genai._phi_leak import phi_leaks, phi_leaks_batch
from assay.genai._plan import EvalPlan, EvalSettings, FlagCheck, MetricCheck
from assay.genai._rag import (
    Score,
    answer_context_overlap,
    citation_validity,
    context_precision,
    context_recall,
)
from assay.genai._records import (
    TASKS,
    Context,
    Flag,
    ItemResult,
    Record,
    Span,
    Task,
    read_records,
    records_from,
)
from assay.genai._robustness import PromptTemplate, run_robustness
from assay.genai._robustness_report import PerturbationSummary, RobustnessItem, RobustnessReport
from assay.genai._rubrics import Rubric, RubricItem, list_rubrics, load_rubric
from assay.genai._strata import StrataTable, StratumRow, by_strata
from assay.genai._structure import json_validity, required_sections

__all__ = [
    "COUNTERFACTUALS",
    "PERTURBATIONS",
    "REFUSAL_PHRASES",
    "TASKS",
    "AgreementEstimate",
    "Calibration",
    "ChatClient",
    "ChatResult",
    "CheckResult",
    "ClientConfig",
    "Context",
    "DataSummary",
    "EvalPlan",
    "EvalSettings",
    "Evaluation",
    "Flag",
    "FlagChange",
    "FlagCheck",
    "FlagRule",
    "FlagSummary",
    "GateCheck",
    "GateResult",
    "GateSpec",
    "GenAIMonitor",
    "ItemResult",
    "JudgeRun",
    "JudgeScore",
    "JudgeSummary",
    "MedicationLexicon",
    "MetricChange",
    "MetricCheck",
    "MetricRule",
    "MetricSummary",
    "PairwiseResult",
    "PerturbationSummary",
    "Perturbed",
    "PromptTemplate",
    "Record",
    "RobustnessItem",
    "RobustnessReport",
    "Rubric",
    "RubricItem",
    "Score",
    "Span",
    "StrataTable",
    "StratumRow",
    "Summary",
    "Task",
    "Usage",
    "answer_context_overlap",
    "by_strata",
    "calibrate_item",
    "calibration",
    "citation_validity",
    "compare_pairwise",
    "consistency_flags",
    "context_precision",
    "context_recall",
    "default_lexicon",
    "evaluate",
    "icc",
    "json_validity",
    "judge",
    "length",
    "list_rubrics",
    "load_lexicon",
    "load_rubric",
    "monitor_outputs",
    "perturb",
    "phi_leaks",
    "phi_leaks_batch",
    "read_records",
    "readability",
    "records_from",
    "reference_metrics",
    "refusal_flags",
    "regression_gate",
    "required_sections",
    "run_robustness",
    "safety_net",
    "weighted_kappa",
]

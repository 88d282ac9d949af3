"""Reference-based text metrics against the peer packages, to 1e-9 on a 0–1 scale:
ROUGE against Google's rouge-score (default tokenizer, no stemming), BLEU and chrF against
sacrebleu's defaults divided by 100; token F1 and exact match against hand-worked values."""

from __future__ import annotations

import random

import numpy as np
import pytest
import sacrebleu
from rouge_score import rouge_scorer

from assay.errors import InputError
from assay.genai._lexical import (
    _matched_ngrams,
    _matched_ngrams_counted,
    bleu_tokens,
    corpus_bleu,
    corpus_chrf,
    exact_match,
    normalize_answer,
    reference_metrics,
    rouge,
    sentence_bleu,
    sentence_chrf,
    token_f1,
)

TOLERANCE = 1e-9
DRUGS = ("apixaban", "metformin", "furosemide", "amoxicillin", "paracetamol", "Ramipril")
UNITS = ("mg", "mcg", "µmol/L", "mmol/L", "°C", "mmHg", "%", "mL/min", "g/dL", "units")
PHRASES = (
    "Patient admitted with chest pain and shortness of breath.",
    "Troponin was elevated; ECG showed sinus rhythm.",
    "No known drug allergies.",
    "Discharged home with follow-up in 2 weeks (GP).",
    "Creatinine 88 µmol/L, eGFR >60, K+ 4.1 mmol/L.",
    "Temperature 38.5 °C on day-3; blood cultures [pending].",
    "BP 140/90 mmHg & HR 72 bpm - stable.",
    "He was seen by Dr. O'Brien, e.g. for the re-admission.",
    "Naïve to anticoagulation: café-au-lait spots noted, Ödem absent.",
    "“Feels better,” says the patient — pain 3/10.",
    "HbA1c 7.2% (was 8.1%), target <7%!",
    "Dose: 1,000 mg q.d. then 2.5mg... review?",
    "Warfarin stopped &amp; apixaban started &lt;today&gt; &quot;as planned&quot;.",
    "İstanbul straße ΣΊΣΥΦΟΣ — 東京 😀 ok",
)
SPECIAL = (
    "", " ", "\t", "\n", ".", "a", "A", "mg", "5", "5.", ".5", "5-", "-5", "5-10", "a.b,c",
    "the the the the", "mg mg mg", "x" * 40, "a b c d e f g h i j", "<skipped> done",
    "line broken by hy-\nphen", "tokenized period .", "tab\tand\u00a0nbsp",
    "trailing spaces   ", "  leading spaces", "(hi) [x] {y} ~z~", "1,000.50 3.14.15",
    "ＦＵＬＬＷＩＤＴＨ ａｂｃ", "K\u212a kelvin sign", "a\u0301 combining",
)


def _sentence(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return rng.choice(PHRASES)
    drug, unit = rng.choice(DRUGS), rng.choice(UNITS)
    dose = rng.choice(("5", "2.5", "500", "0.125", "1,000", "10-20", "-3"))
    return rng.choice((
        f"Started {drug} {dose} {unit} twice daily.",
        f"{drug.capitalize()} {dose}{unit} was given at 08:00, then stopped.",
        f"Continue {drug} {dose} {unit} once daily and review in {rng.randint(1, 14)} days",
        f"{drug}: {dose} {unit}; {drug} again; {drug}!",
    ))


def _perturbed(rng: random.Random, text: str) -> str:
    words = text.split()
    kind = rng.random()
    if kind < 0.15 or not words:
        return text
    if kind < 0.3:
        return text.upper() if rng.random() < 0.5 else text.lower()
    if kind < 0.5:
        return " ".join(w for w in words if rng.random() > 0.3)
    if kind < 0.65:
        rng.shuffle(words)
        return " ".join(words)
    if kind < 0.8:
        return " ".join(w if rng.random() > 0.3 else rng.choice(DRUGS + UNITS) for w in words)
    return " ".join(_sentence(rng) for _ in range(rng.randint(1, 3)))


def _pairs() -> list[tuple[str, str]]:
    rng = random.Random(20240607)
    pairs = []
    for _ in range(260):
        output = " ".join(_sentence(rng) for _ in range(rng.randint(1, 4)))
        pairs.append((output, _perturbed(rng, output)))
    for special in SPECIAL:
        pairs += [(special, special), (special, _sentence(rng)), (_sentence(rng), special)]
    return pairs


PAIRS = _pairs()


def test_rouge_matches_rouge_score() -> None:
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
    worst = 0.0
    for output, reference in PAIRS:
        expected = scorer.score(reference, output)  # rouge-score takes (target, prediction)
        ours = rouge(output, reference)
        for name, score in (("rouge1", ours.rouge1), ("rouge2", ours.rouge2),
                            ("rougeL", ours.rouge_l)):
            for field in ("precision", "recall", "fmeasure"):
                difference = abs(getattr(score, field) - getattr(expected[name], field))
                assert difference <= TOLERANCE, (name, field, output, reference)
                worst = max(worst, difference)
    print(f"\nROUGE-1/2/L P/R/F vs rouge-score on {len(PAIRS)} pairs: max |diff| {worst:.3g}")


def test_sentence_bleu_and_chrf_match_sacrebleu() -> None:
    worst = {"bleu": 0.0, "chrF": 0.0, "chrF++": 0.0}
    for output, reference in PAIRS:
        differences = {
            "bleu": sentence_bleu(output, reference)
            - sacrebleu.sentence_bleu(output, [reference]).score / 100,
            "chrF": sentence_chrf(output, reference)
            - sacrebleu.sentence_chrf(output, [reference]).score / 100,
            "chrF++": sentence_chrf(output, reference, word_order=2)
            - sacrebleu.sentence_chrf(output, [reference], word_order=2).score / 100,
        }
        for name, difference in differences.items():
            assert abs(difference) <= TOLERANCE, (name, output, reference)
            worst[name] = max(worst[name], abs(difference))
    print(f"\nsentence BLEU/chrF/chrF++ vs sacrebleu on {len(PAIRS)} pairs: max |diff| {worst}")


def test_corpus_bleu_and_chrf_match_sacrebleu() -> None:
    worst = 0.0
    for start in range(0, len(PAIRS), 37):
        chunk = PAIRS[start:start + 37] if start else PAIRS  # the whole set, then slices
        outputs, references = [o for o, _ in chunk], [r for _, r in chunk]
        for ours, theirs in (
            (corpus_bleu(outputs, references), sacrebleu.corpus_bleu(outputs, [references])),
            (corpus_chrf(outputs, references), sacrebleu.corpus_chrf(outputs, [references])),
            (corpus_chrf(outputs, references, word_order=2),
             sacrebleu.corpus_chrf(outputs, [references], word_order=2)),
        ):
            assert abs(ours - theirs.score / 100) <= TOLERANCE
            worst = max(worst, abs(ours - theirs.score / 100))
    print(f"\ncorpus BLEU/chrF/chrF++ vs sacrebleu: max |diff| {worst:.3g}")


def test_large_alphabets_take_the_unpacked_path_and_still_match() -> None:
    rng = random.Random(5)
    symbols = [chr(0x4E00 + i) for i in range(700)]  # 700 distinct characters
    output = "".join(rng.choice(symbols) + (" " if rng.random() < 0.2 else "") for _ in range(900))
    reference = "".join(rng.sample(output, len(output)))
    assert abs(sentence_chrf(output, reference)
               - sacrebleu.sentence_chrf(output, [reference]).score / 100) <= TOLERANCE
    words = [f"w{i}" for i in range(17_000)]  # 17,000 distinct words
    output, reference = " ".join(words), " ".join(words[:9000] + words[9500:])
    assert abs(sentence_bleu(output, reference)
               - sacrebleu.sentence_bleu(output, [reference]).score / 100) <= TOLERANCE
    rng_ids = np.random.default_rng(3)
    for length in range(50):
        first, second = rng_ids.integers(0, 6, size=40), rng_ids.integers(0, 6, size=length)
        assert _matched_ngrams(first, second, 6) == _matched_ngrams_counted(first, second, 6)


def test_reference_metrics_agree_with_the_single_functions() -> None:
    for output, reference in PAIRS[::7]:
        values = reference_metrics(output, reference)
        scores = rouge(output, reference)
        assert values == {
            "rouge1": scores.rouge1.fmeasure, "rouge2": scores.rouge2.fmeasure,
            "rougeL": scores.rouge_l.fmeasure, "bleu": sentence_bleu(output, reference),
            "chrf": sentence_chrf(output, reference), "token_f1": token_f1(output, reference),
            "exact_match": exact_match(output, reference),
        }
        assert all(0.0 <= value <= 1.0 for value in values.values())


def test_empty_texts_score_zero_on_overlap_metrics() -> None:
    for output, reference in (("", ""), ("", "Started apixaban."), ("Started apixaban.", ""),
                              ("...", "!!!")):
        scores = rouge(output, reference)
        assert (scores.rouge1.fmeasure, scores.rouge2.recall, scores.rouge_l.precision) == (0, 0, 0)
        assert sentence_chrf(output, reference) == 0.0
    assert sentence_bleu("", "") == sentence_bleu("", "x") == sentence_bleu("x", "") == 0.0
    assert sentence_bleu("Started apixaban .", "Started apixaban.") == pytest.approx(1.0)
    assert bleu_tokens("BP 140/90, HR 72. 1,000.5 mg 5-10") == [
        "BP", "140", "/", "90", ",", "HR", "72", ".", "1,000.5", "mg", "5", "-", "10"]


def test_token_f1_and_exact_match_follow_squad() -> None:
    assert normalize_answer("  The Apixaban, 5-mg  TABLET!") == "apixaban 5mg tablet"
    assert token_f1("The dose is 5 mg", "5 mg") == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert token_f1("mg mg mg", "mg") == pytest.approx(0.5)  # P 1/3, R 1
    assert token_f1("apixaban 5 mg", "5 mg apixaban") == 1.0  # order does not count
    assert token_f1("apixaban", "warfarin") == 0.0
    assert token_f1("5-10 mg", "510 mg") == 1.0  # punctuation is deleted, not spaced
    assert token_f1("", "") == token_f1("the", "a") == 1.0  # both normalise to nothing
    assert token_f1("an apple", "") == token_f1("", "apple") == 0.0
    assert exact_match("An  apple!", "apple") == 1.0
    assert exact_match("The Apixaban.", "apixaban") == 1.0
    assert exact_match("apixaban 5 mg", "apixaban 2.5 mg") == 0.0


def test_bad_input_is_refused_with_a_reason() -> None:
    with pytest.raises(InputError, match="2 outputs but 1 references"):
        corpus_bleu(["a", "b"], ["a"])
    with pytest.raises(InputError, match="at least one output"):
        corpus_chrf([], [])
    with pytest.raises(InputError, match="reference 2 must be text"):
        corpus_chrf(["a", "b"], ["a", None])  # type: ignore[list-item]
    with pytest.raises(InputError, match="not one text"):
        corpus_bleu("abc", "abc")
    with pytest.raises(InputError, match="output must be text"):
        rouge(None, "a")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="word_order"):
        sentence_chrf("a", "a", word_order=3)

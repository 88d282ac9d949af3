"""Reference-based text metrics: ROUGE-1/2/L, BLEU, chrF and chrF++, token F1 and exact match.

Every score is on a **0–1 scale**. ROUGE gives the same numbers as Google's ``rouge-score``
package with its default tokenizer and no stemming; BLEU and chrF give ``sacrebleu``'s numbers
with its defaults divided by 100 (sacrebleu reports 0–100). Token F1 and exact match follow
the SQuAD evaluation script. Arguments are always ``(output, reference)``: the text the
application produced first, the text written by a person second.

Empty texts score 0 on ROUGE, BLEU and chrF, as in the peer packages (an output with no words
cannot overlap a reference, and nothing can overlap an empty reference). Token F1 and exact
match follow SQuAD 2.0: when both texts normalise to nothing they agree (1.0); when only one
does they score 0.0. ROUGE has no stemming option: rouge-score's ``use_stemmer=True`` runs
NLTK's Porter stemmer, which cannot be matched exactly without depending on NLTK.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from assay.errors import InputError

__all__ = [
    "RougeScore", "RougeScores", "bleu_tokens", "corpus_bleu", "corpus_chrf",
    "exact_match", "normalize_answer", "reference_metrics", "rouge", "rouge_tokens",
    "sentence_bleu", "sentence_chrf", "token_f1",
]

_ALPHANUMERIC_RUN = re.compile(r"[a-z0-9]+")
# The mteval-v13a tokenizer used by WMT (sacrebleu's default '13a'): the symbols below become
# tokens of their own (13a also pads spaces, which changes nothing once the text is split),
# then periods, commas and dashes are split off by the rules below.
_13A_SYMBOLS = re.compile(r"([!-&(-+/:-@\[-`{-~])")
_13A_RULES = (
    # a period or comma after anything but a digit: "x." -> "x . "
    (re.compile(r"([^0-9])([\.,])"), lambda match: f"{match[1]} {match[2]} "),
    # a period or comma before anything but a digit: ".x" -> " . x"
    (re.compile(r"([\.,])([^0-9])"), lambda match: f" {match[1]} {match[2]}"),
    # a dash after a digit: "5-" -> "5 - "
    (re.compile(r"([0-9])(-)"), lambda match: f"{match[1]} {match[2]} "),
)
_BLEU_ORDER = 4
_Ids = npt.NDArray[np.int64]
_UNSEEN_LOG = -9999999999.0  # sacrebleu's floor for log(0)
_CHRF_PUNCTUATION = frozenset(string.punctuation)
_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


@dataclass(frozen=True, slots=True)
class RougeScore:
    """Precision (share of the output's n-grams found in the reference), recall (share of the
    reference's n-grams found in the output) and their harmonic mean, each 0–1."""

    precision: float
    recall: float
    fmeasure: float


@dataclass(frozen=True, slots=True)
class RougeScores:
    """ROUGE-1 (words), ROUGE-2 (word pairs) and ROUGE-L (longest common subsequence)."""

    rouge1: RougeScore
    rouge2: RougeScore
    rouge_l: RougeScore


def rouge_tokens(text: str) -> list[str]:
    """The words ROUGE compares: lower-cased runs of ASCII letters and digits (``µmol/L``
    gives ``mol`` and ``l``), as rouge-score's default tokenizer makes them."""
    return _ALPHANUMERIC_RUN.findall(text.lower())


def rouge(output: str, reference: str) -> RougeScores:
    """ROUGE-1, ROUGE-2 and sentence-level ROUGE-L of an output against its reference, each
    as precision, recall and F-measure on a 0–1 scale (rouge-score's numbers, no stemming).

    Examples
    --------
    >>> scores = rouge("Started apixaban 5 mg.", "Apixaban 5 mg twice daily was started.")
    >>> scores.rouge1.precision, scores.rouge1.recall
    (1.0, 0.5714285714285714)
    """
    _check_text(output, "output")
    _check_text(reference, "reference")
    return _rouge(rouge_tokens(output), rouge_tokens(reference))


def bleu_tokens(text: str) -> list[str]:
    """The tokens BLEU compares: sacrebleu's default '13a' tokenization (case kept,
    punctuation split off, except a period or comma inside a number)."""
    line = text.rstrip().replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = (line.replace("&quot;", '"').replace("&amp;", "&")
                .replace("&lt;", "<").replace("&gt;", ">"))
    line = " ".join(_13A_SYMBOLS.split(f" {line} "))  # the edges count as spaces
    for pattern, replacement in _13A_RULES:
        line = pattern.sub(replacement, line)
    return line.split()


def sentence_bleu(output: str, reference: str) -> float:
    """BLEU of one output against its reference, 0–1: sacrebleu's ``sentence_bleu`` with its
    defaults (13a tokens, n-grams up to 4, 'exp' smoothing, effective order) divided by 100
    (a perfect match's rounding error above 1 is cut to 1).

    Examples
    --------
    >>> round(sentence_bleu("Apixaban 5 mg twice daily.", "Apixaban 5 mg twice daily."), 6)
    1.0
    """
    _check_text(output, "output")
    _check_text(reference, "reference")
    return _bleu(_bleu_counts(bleu_tokens(output), bleu_tokens(reference)), effective_order=True)


def corpus_bleu(outputs: Sequence[str], references: Sequence[str]) -> float:
    """BLEU of a whole set of outputs, 0–1: n-gram matches and lengths are added up over the
    set first (sacrebleu's ``corpus_bleu`` with its defaults, divided by 100)."""
    _check_pairs(outputs, references)
    counts = [_bleu_counts(bleu_tokens(output), bleu_tokens(reference))
              for output, reference in zip(outputs, references, strict=True)]
    return _bleu(np.sum(counts, axis=0).tolist(), effective_order=False)


def sentence_chrf(output: str, reference: str, *, word_order: int = 0) -> float:
    """chrF of one output against its reference, 0–1: the F-score (recall weighted twice as
    much as precision) of character 1- to 6-grams, spaces ignored; ``word_order=2`` adds word
    1- and 2-grams (chrF++). sacrebleu's ``sentence_chrf`` with its defaults, divided by 100.

    Examples
    --------
    >>> sentence_chrf("Creatinine 88 µmol/L", "Creatinine 88 µmol/L")
    1.0
    """
    _check_text(output, "output")
    _check_text(reference, "reference")
    return _chrf(_chrf_counts(output, reference, word_order))


def corpus_chrf(outputs: Sequence[str], references: Sequence[str], *,
                word_order: int = 0) -> float:
    """chrF (or chrF++ with ``word_order=2``) of a whole set of outputs, 0–1, from n-gram counts
    added up over the set (sacrebleu's ``corpus_chrf`` divided by 100)."""
    _check_pairs(outputs, references)
    counts = [_chrf_counts(output, reference, word_order)
              for output, reference in zip(outputs, references, strict=True)]
    return _chrf(np.sum(counts, axis=0).tolist())


def normalize_answer(text: str) -> str:
    """The SQuAD normal form of an answer: lower case, punctuation deleted (``5-10`` becomes
    ``510``), the articles a/an/the removed and white space collapsed to single spaces."""
    text = _PUNCTUATION.sub("", text.lower())
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(output: str, reference: str) -> float:
    """Word-overlap F1 of a short answer against the reference answer, 0–1, after SQuAD
    normalisation (:func:`normalize_answer`); 1.0 when both normalise to nothing.

    Examples
    --------
    >>> token_f1("The dose is 5 mg", "5 mg")
    0.6666666666666666
    """
    _check_text(output, "output")
    _check_text(reference, "reference")
    return _token_f1(normalize_answer(output).split(), normalize_answer(reference).split())


def exact_match(output: str, reference: str) -> float:
    """1.0 when the output equals the reference after SQuAD normalisation, else 0.0."""
    _check_text(output, "output")
    _check_text(reference, "reference")
    return float(normalize_answer(output) == normalize_answer(reference))


def reference_metrics(output: str, reference: str) -> dict[str, float]:
    """Every reference-based metric of one output, by name, each 0–1: ``rouge1``,
    ``rouge2`` and ``rougeL`` (F-measures), ``bleu``, ``chrf``, ``token_f1`` and
    ``exact_match``; the texts are tokenized once."""
    _check_text(output, "output")
    _check_text(reference, "reference")
    scores = _rouge(rouge_tokens(output), rouge_tokens(reference))
    output_answer, reference_answer = normalize_answer(output), normalize_answer(reference)
    return {
        "rouge1": scores.rouge1.fmeasure,
        "rouge2": scores.rouge2.fmeasure,
        "rougeL": scores.rouge_l.fmeasure,
        "bleu": _bleu(_bleu_counts(bleu_tokens(output), bleu_tokens(reference)),
                      effective_order=True),
        "chrf": _chrf(_chrf_counts(output, reference, 0)),
        "token_f1": _token_f1(output_answer.split(), reference_answer.split()),
        "exact_match": float(output_answer == reference_answer),
    }


def _token_f1(output_words: list[str], reference_words: list[str]) -> float:
    if not output_words or not reference_words:
        return float(output_words == reference_words)
    shared = sum((Counter(output_words) & Counter(reference_words)).values())
    return _harmonic_mean(shared / len(output_words), shared / len(reference_words))


def _rouge(output: list[str], reference: list[str]) -> RougeScores:
    return RougeScores(
        rouge1=_ngram_score(Counter(output), Counter(reference)),
        rouge2=_ngram_score(Counter(pairwise(output)), Counter(pairwise(reference))),
        rouge_l=_lcs_score(output, reference),
    )


def _ngram_score(output: Counter[Hashable], reference: Counter[Hashable]) -> RougeScore:
    shared = sum(min(count, output[gram]) for gram, count in reference.items() if gram in output)
    precision = shared / max(output.total(), 1)
    recall = shared / max(reference.total(), 1)
    return RougeScore(precision, recall, _harmonic_mean(precision, recall))


def _lcs_score(output: list[str], reference: list[str]) -> RougeScore:
    if not output or not reference:
        return RougeScore(0.0, 0.0, 0.0)
    common = _lcs_length(reference, output)
    precision = common / len(output)
    recall = common / len(reference)
    return RougeScore(precision, recall, _harmonic_mean(precision, recall))


def _lcs_length(first: list[str], second: list[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Hyyrö 2004): one bit per word of
    ``second``, one pass of integer operations per word of ``first``."""
    where: dict[str, int] = {}
    for position, word in enumerate(second):
        where[word] = where.get(word, 0) | (1 << position)
    every = (1 << len(second)) - 1
    unmatched = every
    for word in first:
        matched = unmatched & where.get(word, 0)
        unmatched = ((unmatched + matched) | (unmatched - matched)) & every
    return len(second) - unmatched.bit_count()


def _harmonic_mean(precision: float, recall: float) -> float:
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


def _bleu_counts(output: list[str], reference: list[str]) -> list[int]:
    """[output length, reference length, matches by order 1-4, output n-grams by order 1-4]."""
    matched = _matched_ngrams(*_word_ids(output, reference), _BLEU_ORDER)
    total = [max(len(output) - n, 0) for n in range(_BLEU_ORDER)]
    return [len(output), len(reference), *matched, *total]


def _word_ids(output: list[str], reference: list[str]) -> tuple[_Ids, _Ids]:
    vocabulary: dict[str, int] = {}
    output_ids = [vocabulary.setdefault(word, len(vocabulary)) for word in output]
    reference_ids = [vocabulary.setdefault(word, len(vocabulary)) for word in reference]
    return np.array(output_ids, dtype=np.int64), np.array(reference_ids, dtype=np.int64)


def _char_ids(output: str, reference: str) -> tuple[_Ids, _Ids]:
    """Characters as small integers shared by both texts (white space removed, as chrF does)."""
    output, reference = "".join(output.split()), "".join(reference.split())
    points = np.frombuffer((output + reference).encode("utf-32-le", "surrogatepass"),
                           dtype=np.uint32)
    ids = np.unique(points, return_inverse=True)[1].astype(np.int64)
    return ids[:len(output)], ids[len(output):]


def _matched_ngrams(output: _Ids, reference: _Ids, max_order: int) -> list[int]:
    """Clipped n-gram matches of orders 1 to ``max_order`` between two sequences of small
    integers. Each n-gram is packed into one integer (its order above it, which text it comes
    from in the lowest bit); after one sort, each run of equal n-grams is counted."""
    if not len(output) or not len(reference):
        return [0] * max_order
    alphabet = int(max(output.max(), reference.max())) + 1
    bits = (alphabet - 1).bit_length() or 1
    shift = bits * max_order
    if shift + max_order.bit_length() + 1 > 63:
        return _matched_ngrams_counted(output, reference, max_order)
    tagged = np.sort(np.concatenate((_packed_ngrams(output, bits, max_order, shift) << 1,
                                     _packed_ngrams(reference, bits, max_order, shift) << 1 | 1)))
    grams = tagged >> 1
    starts = np.flatnonzero(np.concatenate(([True], grams[1:] != grams[:-1])))
    in_reference = np.add.reduceat(tagged & 1, starts)
    in_output = np.diff(starts, append=len(tagged)) - in_reference
    by_order = np.bincount(grams[starts] >> shift, weights=np.minimum(in_output, in_reference),
                           minlength=max_order + 1)
    return [int(count) for count in by_order[1:]]


def _packed_ngrams(ids: _Ids, bits: int, max_order: int, shift: int) -> _Ids:
    packed, gram = [], ids
    for n in range(1, max_order + 1):
        if n > 1:
            gram = gram[:-1] | (ids[n - 1:] << (bits * (n - 1)))
        packed.append(gram | (n << shift))
    return np.concatenate(packed)


def _matched_ngrams_counted(output: _Ids, reference: _Ids, max_order: int) -> list[int]:
    """As :func:`_matched_ngrams`, for alphabets too large to pack, with plain counters."""
    output_items, reference_items = output.tolist(), reference.tolist()
    return [sum((Counter(zip(*(output_items[i:] for i in range(n)), strict=False))
                 & Counter(zip(*(reference_items[i:] for i in range(n)), strict=False))).values())
            for n in range(1, max_order + 1)]


def _bleu(counts: list[int], *, effective_order: bool) -> float:
    output_length, reference_length = counts[0], counts[1]
    matched, total = counts[2:2 + _BLEU_ORDER], counts[2 + _BLEU_ORDER:]
    brevity = 1.0
    if output_length < reference_length:
        brevity = math.exp(1 - reference_length / output_length) if output_length > 0 else 0.0
    if not any(matched):
        return 0.0
    logs = [_UNSEEN_LOG] * _BLEU_ORDER
    halvings, orders = 1.0, _BLEU_ORDER
    for n in range(_BLEU_ORDER):
        if total[n] == 0:
            break
        if effective_order:
            orders = n + 1
        if matched[n] == 0:  # 'exp' smoothing: 1/2, 1/4... of a match for unmatched orders
            halvings *= 2
            logs[n] = math.log(100.0 / (halvings * total[n]))
        else:
            logs[n] = math.log(100.0 * matched[n] / total[n])
    # Rounding can put a perfect match a hair above 1 (sacrebleu: 100.00000000000004).
    return min(brevity * math.exp(sum(logs[:orders]) / orders) / 100.0, 1.0)


def _chrf_counts(output: str, reference: str, word_order: int) -> list[int]:
    """For each order (characters 1-6, then words): n-grams in the output, in the reference,
    and matched, as sacrebleu keeps them (corpus chrF adds them up)."""
    if isinstance(word_order, bool) or word_order not in (0, 1, 2):
        raise InputError(f"word_order must be 0 (chrF), 1 or 2 (chrF++), not {word_order!r}")
    output_ids, reference_ids = _char_ids(output, reference)
    lengths = [(len(output_ids), len(reference_ids), 6)]
    matched = _matched_ngrams(output_ids, reference_ids, 6)
    if word_order:
        output_words, reference_words = _chrf_words(output), _chrf_words(reference)
        lengths.append((len(output_words), len(reference_words), word_order))
        matched += _matched_ngrams(*_word_ids(output_words, reference_words), word_order)
    in_output, in_reference = [], []
    for output_length, reference_length, orders in lengths:
        for n in range(orders):
            in_reference.append(max(reference_length - n, 0))
            # An order the reference has no n-gram of does not count the output's either.
            in_output.append(max(output_length - n, 0) if in_reference[-1] else 0)
    return [count for order in zip(in_output, in_reference, matched, strict=True)
            for count in order]


def _chrf_words(text: str) -> list[str]:
    """Words for chrF++: a punctuation mark at the end (else at the start) of a word is split
    off, as in Popović's chrF++ and sacrebleu."""
    words: list[str] = []
    for word in text.split():
        if len(word) > 1 and word[-1] in _CHRF_PUNCTUATION:
            words += [word[:-1], word[-1]]
        elif len(word) > 1 and word[0] in _CHRF_PUNCTUATION:
            words += [word[0], word[1:]]
        else:
            words.append(word)
    return words


def _chrf(counts: list[int], beta: int = 2) -> float:
    """Average precision and recall over the orders both texts have n-grams of, then F-beta."""
    weight = beta ** 2
    precision_sum = recall_sum = 0.0
    orders = 0
    for n_output, n_reference, n_matched in zip(*[iter(counts)] * 3, strict=True):
        if n_output > 0 and n_reference > 0:
            precision_sum += n_matched / n_output
            recall_sum += n_matched / n_reference
            orders += 1
    if orders == 0:
        return 0.0
    precision, recall = precision_sum / orders, recall_sum / orders
    if not precision + recall:
        return 0.0
    return (1 + weight) * precision * recall / (weight * precision + recall)


def _check_text(value: object, name: str) -> None:
    if not isinstance(value, str):
        raise InputError(f"{name} must be text, not {type(value).__name__}")


def _check_pairs(outputs: Sequence[str], references: Sequence[str]) -> None:
    if isinstance(outputs, str) or isinstance(references, str):
        raise InputError("outputs and references must be sequences of texts, not one text")
    if len(outputs) != len(references):
        raise InputError(f"{len(outputs)} outputs but {len(references)} references; "
                         "give one reference per output")
    if not outputs:
        raise InputError("no outputs: a corpus score needs at least one output")
    for i, (output, reference) in enumerate(zip(outputs, references, strict=True), start=1):
        _check_text(output, f"output {i}")
        _check_text(reference, f"reference {i}")

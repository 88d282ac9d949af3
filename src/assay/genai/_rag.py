"""RAG answers judged against what was retrieved: citations, context precision and recall, and
how much of the answer's wording comes from the retrieved passages.

A citation is a bracketed passage id in the answer: ``[g12]``, ``[1]``, ``[1, 3]``, ``[1][2]``,
or a numeric range ``[2-4]``. An id is recognised when it is the id of a retrieved passage or
when it holds a digit, so ``[sic]`` and markdown links ``[text](url)`` are not citations while
``[7]`` is one even when no passage 7 was retrieved (that is what :func:`citation_validity`
flags). The sentence a citation belongs to runs to the next ``.``, ``!`` or ``?`` (citations
written just after the full stop still belong to it) or to the end of the line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, model_validator

from assay.genai._records import Flag, Record, Span

__all__ = [
    "Citation",
    "Score",
    "answer_context_overlap",
    "citation_validity",
    "citations",
    "context_precision",
    "context_recall",
]


class Score(BaseModel):
    """One metric on one record: its value, or None with the reason it does not apply, and the
    flags that point at what lowered it."""

    model_config = ConfigDict(frozen=True)

    value: float | None
    reason: str | None = None
    flags: tuple[Flag, ...] = ()

    @model_validator(mode="after")
    def _reason_when_undefined(self) -> Score:
        if self.value is None and not self.reason:
            raise ValueError("a Score without a value needs a reason")
        return self


class Citation(BaseModel):
    """One cited passage id: ``span`` is the id as written in the output (for a range such as
    ``2-4``, the whole range), ``sentence`` the sentence that cites it."""

    model_config = ConfigDict(frozen=True)

    passage_id: str
    span: Span
    sentence: Span


_GENERIC_ID = r"(?=[\w.:-]*\d)[A-Za-z0-9][\w.:-]*"
_RANGE = re.compile(r"(\d+)\s*[-–]\s*(\d+)")
_MAX_RANGE = 50
_QUOTE = re.compile(r"\"([^\"\n]+)\"|“([^”\n]+)”")
_ELLIPSIS = re.compile(r"\.\.\.|…")
_MIN_QUOTE_WORDS = 2
_FOLD = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
_STOPWORDS = frozenset(
    "a about above after again against all also am an and any are as at be because been before "
    "being below between both but by can could did do does doing down during each either few for "
    "from further had has have having he her here hers herself him himself his how i if in into "
    "is it its itself just may me might more most must my myself no nor not of off on once only "
    "or other our ours ourselves out over own per same shall she should so some such than that "
    "the their theirs them themselves then there these they this those through to too under "
    "until up upon us very via was we were what when where which while who whom why will with "
    "would you your yours yourself yourselves".split()
)


def _id_pattern(known_ids: list[str]) -> str:
    ordered = sorted((passage_id for passage_id in known_ids if passage_id.strip()), key=len)
    known = "|".join(re.escape(passage_id) for passage_id in ordered[::-1])
    return "|".join(filter(None, (known, _RANGE.pattern, _GENERIC_ID)))


def _citation_groups(output: str, known_ids: list[str]) -> Iterator[tuple[str, int]]:
    """(id as written, its start) for every id in every bracketed citation group."""
    token = _id_pattern(known_ids)
    group = re.compile(rf"\[\s*((?:{token})(?:\s*[,;]\s*(?:{token}))*)\s*\](?!\()")
    one = re.compile(rf"(?:{token})(?=\s*(?:[,;]|$))")
    for match in group.finditer(output):
        inner_start = match.start(1)
        for item in one.finditer(match.group(1)):
            yield item.group(0), inner_start + item.start()


def _quote_spans(output: str) -> list[tuple[int, int]]:
    """(start, end) of the text inside each pair of double quotes, quote marks excluded."""
    spans = []
    for match in _QUOTE.finditer(output):
        group = 1 if match.group(1) is not None else 2
        spans.append(match.span(group))
    return spans


def _sentences(output: str, quotes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(start, end) of each sentence; a full stop inside a quotation does not end one, unless
    the quotation closes right after it."""
    end_pattern = re.compile(
        r"[.!?]+[\"”’')]*(?:[ \t]*\[[^\[\]\n]{1,80}\](?!\())*(?=\s|$)|\n"
    )
    bounds, start = [], 0
    for match in end_pattern.finditer(output):
        if not any(q_start <= match.start() and match.end() <= q_end for q_start, q_end in quotes):
            bounds.append((start, match.end()))
            start = match.end()
    bounds.append((start, len(output)))
    sentences = []
    for start, end in bounds:
        text = output[start:end]
        if text.strip():
            start += len(text) - len(text.lstrip())
            end -= len(text) - len(text.rstrip())
            sentences.append((start, end))
    return sentences


def _span(output: str, start: int, end: int) -> Span:
    return Span(start=start, end=end, text=output[start:end])


def citations(record: Record) -> list[Citation]:
    """The passages the answer cites, in the order written, with where each citation is.

    Examples
    --------
    >>> record = Record(id="a", task="rag", output="Give 300 mg [1, 3].", contexts=["x", "y"])
    >>> [(c.passage_id, c.span.text) for c in citations(record)]
    [('1', '1'), ('3', '3')]
    """
    output = record.output
    known_ids = [context.id for context in record.contexts]
    sentences = _sentences(output, _quote_spans(output))
    found: list[Citation] = []
    for written, start in _citation_groups(output, known_ids):
        end = start + len(written)
        sentence = next(s for s in sentences if s[0] <= start < s[1])
        ids = [written]
        expanded = _RANGE.fullmatch(written)
        if written not in known_ids and expanded:
            first, last = int(expanded.group(1)), int(expanded.group(2))
            if first <= last <= first + _MAX_RANGE:
                ids = [str(number) for number in range(first, last + 1)]
        found.extend(
            Citation(passage_id=passage_id, span=_span(output, start, end),
                     sentence=_span(output, *sentence))
            for passage_id in ids
        )
    return found


def _normalised(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).translate(_FOLD).casefold().split())


def _quoted_in(quote: str, passage: str) -> bool:
    """Whether the quote's words occur in the passage, in order when an ellipsis skips some."""
    position = 0
    for part in _ELLIPSIS.split(quote):
        words = _normalised(part).strip(" .,;:!?'\"")
        if not words:
            continue
        found = passage.find(words, position)
        if found < 0:
            return False
        position = found + len(words)
    return True


def citation_validity(record: Record) -> Score:
    """The share of the answer's citations that point at a retrieved passage and, where the
    citing sentence quotes words in double quotes, whose sentence's quotes are all found in a
    passage it cites.

    Quotes are compared after folding case, white space and typographic quotes and dashes; an
    ellipsis inside a quote may skip words. Quotes of a single word (terms, scare quotes) are not
    checked. Flags ``invalid_citation`` (the span is the cited id) for a passage that was not
    retrieved, and ``unsupported_quote`` (the span is the quoted words) for a quote found in none
    of the retrieved passages its sentence cites; every citation of that sentence then counts as
    invalid. None when the record has no retrieved passages or the answer cites none.

    Examples
    --------
    >>> record = Record(id="a", task="rag", contexts=[{"id": "g1", "text": "Give aspirin."}],
    ...                 output="Aspirin [g1]. Heparin [g7].")
    >>> score = citation_validity(record)
    >>> score.value, [flag.type for flag in score.flags]
    (0.5, ['invalid_citation'])
    """
    if not record.contexts:
        return Score(value=None, reason="the record has no retrieved passages")
    found = citations(record)
    if not found:
        return Score(value=None, reason="the answer cites no passage")
    output = record.output
    passages: dict[str, list[str]] = {}
    for context in record.contexts:
        passages.setdefault(context.id, []).append(_normalised(context.text))
    quotes = [
        (start, end) for start, end in _quote_spans(output)
        if len(output[start:end].split()) >= _MIN_QUOTE_WORDS
    ]
    by_sentence: dict[tuple[int, int], list[Citation]] = {}
    for citation in found:
        by_sentence.setdefault((citation.sentence.start, citation.sentence.end), []).append(
            citation)
    flags: list[Flag] = []
    valid = 0
    for (sentence_start, sentence_end), cited in by_sentence.items():
        retrieved = [c for c in cited if c.passage_id in passages]
        for citation in cited:
            if citation.passage_id not in passages:
                flags.append(Flag(
                    type="invalid_citation", span=citation.span,
                    detail=f"cites passage '{citation.passage_id}', which is not among the "
                           f"{len(record.contexts)} retrieved passages"))
        texts = [text for c in retrieved for text in passages[c.passage_id]]
        unsupported = [
            (start, end) for start, end in quotes
            if sentence_start <= start < sentence_end
            and not any(_quoted_in(output[start:end], text) for text in texts)
        ]
        if texts:
            ids = ", ".join(dict.fromkeys(c.passage_id for c in retrieved))
            flags.extend(
                Flag(type="unsupported_quote", span=_span(output, start, end),
                     detail=f"the quoted words are not in the cited passage(s) {ids}")
                for start, end in unsupported
            )
        if not unsupported:
            valid += len(retrieved)
    flags.sort(key=lambda flag: flag.span.start if flag.span else -1)
    return Score(value=valid / len(found), flags=tuple(flags))


def context_precision(record: Record) -> Score:
    """How well the retriever ranked the passages that should have been retrieved: the average
    of precision@k over the ranks k that hold such a passage.

    This is the non-LLM context precision of Ragas with relevance read from the ids in
    ``reference_contexts`` (``v_k = 1`` when the passage at rank ``k`` is one of them)::

        context precision = sum_k (precision@k * v_k) / (number of relevant passages retrieved)
        precision@k       = (relevant passages in the top k) / k

    with ``k`` running over the retrieved passages in their order. It is 0 when no relevant
    passage was retrieved, and None when the record names no reference passages or nothing was
    retrieved.

    Examples
    --------
    >>> record = Record(id="a", task="rag", output="", contexts=["x", "y", "z"],
    ...                 reference_contexts=["2", "3"])
    >>> round(context_precision(record).value, 4)  # (1/2 + 2/3) / 2
    0.5833
    """
    if not record.reference_contexts:
        return Score(value=None, reason="the record names no reference_contexts")
    if not record.contexts:
        return Score(value=None, reason="the record has no retrieved passages")
    relevant = set(record.reference_contexts)
    hits, total = 0, 0.0
    for rank, context in enumerate(record.contexts, start=1):
        if context.id in relevant:
            hits += 1
            total += hits / rank
    return Score(value=total / hits if hits else 0.0)


def context_recall(record: Record) -> Score:
    """The share of the passages named in ``reference_contexts`` that were retrieved (0 when
    nothing was retrieved); None when the record names no reference passages.

    Examples
    --------
    >>> record = Record(id="a", task="rag", output="", contexts=["x", "y"],
    ...                 reference_contexts=["2", "5", "9"])
    >>> round(context_recall(record).value, 4)
    0.3333
    """
    if not record.reference_contexts:
        return Score(value=None, reason="the record names no reference_contexts")
    wanted = set(record.reference_contexts)
    retrieved = {context.id for context in record.contexts}
    return Score(value=len(wanted & retrieved) / len(wanted))


def _content_words(text: str) -> list[str]:
    words = (_normalised(match.group(0)) for match in _WORD.finditer(text))
    return [word for word in words if word not in _STOPWORDS and (len(word) > 1 or word.isdigit())]


def answer_context_overlap(record: Record) -> Score:
    """The share of the answer's content words that occur in the retrieved passages.

    Words are case-folded runs of letters and digits (``5``, ``mg``, ``q.d.``, ``warfarin's``);
    English function words and the citation brackets are left out, and every occurrence counts.
    A low share means the answer says much that the passages do not, a cheap screen for
    ungrounded text. None when nothing was retrieved or the answer has no content word.

    Examples
    --------
    >>> record = Record(id="a", task="rag", contexts=["Apixaban 5 mg twice daily."],
    ...                 output="Take apixaban 5 mg twice daily [1].")
    >>> round(answer_context_overlap(record).value, 4)  # 'take' is not in the passage
    0.8333
    """
    if not record.contexts:
        return Score(value=None, reason="the record has no retrieved passages")
    answer = list(record.output)
    for citation in citations(record):
        answer[citation.span.start:citation.span.end] = " " * len(citation.span.text)
    words = _content_words("".join(answer))
    if not words:
        return Score(value=None, reason="the answer has no content words")
    vocabulary = set(_content_words("\n".join(context.text for context in record.contexts)))
    return Score(value=sum(word in vocabulary for word in words) / len(words))

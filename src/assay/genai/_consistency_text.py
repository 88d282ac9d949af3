"""What the consistency checks share: the words of a text with their offsets, the names of the
two texts in a clinician's words, and the making of a flag."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assay.errors import InputError
from assay.genai._records import Flag, Record, Span

# Words (with inner hyphens, apostrophes and slashes: "non-tender", "r/o"), numbers (with
# decimals) and the punctuation that ends a clause. A full stop ends a clause only when a space
# or the end of the text follows it, so "2.5 mg" and "b.i.d." stay whole.
_TOKEN = re.compile(
    r"\d++(?:[.,]\d+)*+|[A-Za-z0-9]++(?:['’/-][A-Za-z0-9]++)*+|\.(?=\s|$)|[,;:!?()\[\]\n]"
)

_OUTPUT_NAMES = {
    "summarization": "the summary", "qa": "the answer", "rag": "the answer",
    "extraction": "the extraction", "patient_message": "the reply",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Words:
    """The tokens of a text: ``text[starts[i]:ends[i]]`` is token ``i``, ``lower[i]`` its
    lower-cased form."""

    text: str
    starts: list[int]
    ends: list[int]
    lower: list[str]

    def __len__(self) -> int:
        return len(self.lower)

    def original(self, i: int) -> str:
        return self.text[self.starts[i]:self.ends[i]]


_BRITISH = re.compile(
    r"oedem|oesoph|haem|anaem|aemia|rrhoea|pnoea|paed|ischaem|leukaem|melaen|faec|oestr|"
    r"(?<=[a-z]{3})our\b|(?<=[ai]l)is(?=ed|es|e|ing|ation)")
_AMERICAN = {
    "oedem": "edem", "oesoph": "esoph", "haem": "hem", "anaem": "anem", "aemia": "emia",
    "rrhoea": "rrhea", "pnoea": "pnea", "paed": "ped", "ischaem": "ischem", "leukaem": "leukem",
    "melaen": "melen", "faec": "fec", "oestr": "estr", "our": "or", "is": "iz",
}  # fmt: skip


@lru_cache(maxsize=8192)
def american(word: str) -> str:
    """A lower-case word in American spelling: ``oedema`` is ``edema``, ``haemoptysis`` is
    ``hemoptysis``, ``generalised`` is ``generalized``, ``rigours`` is ``rigors``."""
    return _BRITISH.sub(lambda match: _AMERICAN[match.group()], word)


@lru_cache(maxsize=16)
def words_of(text: str) -> Words:
    """The tokens of ``text`` with their character offsets (the last few texts are kept, so
    the checks of one record read each text once)."""
    spans = [match.span() for match in _TOKEN.finditer(text)]
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer: no shortcut
        return Words(text, [start for start, _ in spans], [end for _, end in spans],
                     [text[start:end].lower() for start, end in spans])
    return Words(text, [start for start, _ in spans], [end for _, end in spans],
                 [lowered[start:end] for start, end in spans])


def grounding_of(record: Record) -> str:
    """The text a record's output is checked against; an error when it has none."""
    if record.source is None and not record.contexts:
        raise InputError(
            f"record {record.id!r}: no 'source' or 'contexts' to check the output against")
    return record.grounding


def text_names(record: Record) -> tuple[str, str]:
    """How a flag names the output and the grounding: ("the summary", "the note")."""
    output = _OUTPUT_NAMES.get(record.task, "the output")
    if record.source is None:
        return output, "the retrieved passages"
    return output, ("the source" if record.task in ("qa", "rag") else "the note")


def quoted(text: str, limit: int = 80) -> str:
    """``text`` on one line, cut to ``limit`` characters, in single quotes."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[:limit - 1].rstrip() + "…"
    return f"'{flat}'"


def make_flag(kind: str, output: str, start: int, end: int, detail: str) -> Flag:
    """A flag of ``kind`` on ``output[start:end]``."""
    return Flag(type=kind, span=Span(start=start, end=end, text=output[start:end]), detail=detail)

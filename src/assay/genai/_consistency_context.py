"""A small ConText-style reader: which words of a clinical text are negated, uncertain or
affirmed.

Trigger phrases open a scope: negations before the finding (``no``, ``denies``, ``negative
for``, ``no evidence of``, ``without``) reach forward to the end of the clause; negations after it
(``was ruled out``, ``were negative``, ``not seen``) reach back over at most six words. A clause
ends at sentence punctuation, a colon (forward only), a terminator (``but``, ``however``,
``although``, ``except``, ``reports``) or an ``and``/``or`` that opens a new clause (``and the``,
``and she``, ``, small``). Pseudo-negations (``no increase in``, ``not only``, ``gram
negative``, ``without difficulty``) are read and skipped. Uncertain, hypothetical and family
mentions (``possible``, ``rule out``, ``return if``, ``mother``) are neither present nor absent;
a negation wins over an uncertainty (``was considered and ruled out``). Inside a negation's
scope, the words after a preposition only say where or how (``no pain in the calf``,
``no pneumothorax on chest X-ray``) and are neither.

Before reading, words are put in American spelling and synonyms of findings are replaced by the
finding (``SOB`` is ``shortness of breath``, ``feeling sick`` is ``nausea``), from the shipped
list ``assay/lexicons/findings.txt``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

from assay.genai._consistency_text import Words, american, words_of
from assay.genai._lexicon import PhraseIndex, finding_synonyms

__all__ = [
    "CLAUSE_ENDS", "CLAUSE_ENDS_OR_COMMA", "SENTENCE_ENDS", "Cover", "Role", "clinical_words",
    "is_content", "scopes", "stem",
]

Role = Literal["negation", "uncertain", "pseudo", "terminator"]


@dataclass(frozen=True, slots=True)
class _Trigger:
    role: Role
    forward: Literal["clause", "phrase", "none"]
    backward: bool


def _table(role: Role, forward: Literal["clause", "phrase", "none"], backward: bool,
           phrases: str) -> dict[tuple[str, ...], _Trigger]:
    trigger = _Trigger(role, forward, backward)
    return {tuple(phrase.split()): trigger for phrase in phrases.split(",")}


_TRIGGERS = PhraseIndex({
    **_table("negation", "clause", False,
             "no,not,denies,denied,deny,denying,without,w/o,never,nor,neither,negative for,"
             "neg for,no evidence of,no signs of,no sign of,no history of,no complaints of,"
             "no findings of,free of,absence of,fails to reveal,failed to reveal,"
             "did not reveal,does not reveal,rules out,ruled out for,no longer,resolution of"),
    **_table("negation", "phrase", True, "negative,neg,absent,ruled out,excluded"),
    **_table("negation", "none", True,
             "none,not seen,not present,not identified,not detected,not appreciated,not noted,"
             "not found,not visualized,not demonstrated,not elicited,resolved"),
    **_table("uncertain", "clause", False,
             "possible,possibly,probable,probably,likely,suspected,suspect,suspicious for,"
             "concern for,concerning for,question of,questionable,rule out,r/o,to rule out,"
             "evaluate for,evaluation for,evaluated for,workup for,may,might,could,if,should,"
             "unless,in case,watch for,monitor for,monitoring for,risk of,risk for,at risk,"
             "prophylaxis,family history,fhx,mother,father,brother,sister,grandmother,"
             "grandfather,aunt,uncle,versus,vs,differential,cannot rule out,can not rule out,"
             "cannot exclude,educated,counseled,counselled,instructed,advised,precautions,"
             "screen for,screening for,unlikely,presumed,presumptive"),
    **_table("uncertain", "none", True,
             "is likely,less likely,is unlikely,was unlikely,is possible,is suspected,"
             "was suspected,cannot be excluded,cannot be ruled out,can not be ruled out,"
             "not ruled out,not been ruled out,not excluded,not be excluded,was considered,"
             "is considered"),
    **_table("pseudo", "none", False,
             "no increase,no increased,no change,no significant change,no interval change,"
             "no definite change,no suspicious change,no further,no decrease,no worsening,"
             "no improvement,no relief,not improved,not relieved,not resolved,not only,"
             "not necessarily,not certain,not sure,not cause,not drain,not extend,"
             "gram negative,gram-negative,without difficulty,without incident,not worsened"),
    **_table("terminator", "none", False,
             "but,however,although,though,yet,except,aside from,apart from,other than,"
             "which,who,whereas,while,because,due to,secondary to,cause of,source of,"
             "etiology of,reason for,presents,presented,presenting,reports,reported,endorses,"
             "endorsed,complains,complained,complaining,admits,admitted to,has,had,now,still,"
             "remains,remained"),
})
CLAUSE_ENDS = frozenset(".;:!?()[]\n")
CLAUSE_ENDS_OR_COMMA = CLAUSE_ENDS | {","}
SENTENCE_ENDS = frozenset(".;!?\n")
# An "and", "or" or comma followed by these opens a new clause: "no fever and the cough ...",
# "no pneumothorax, small right effusion".
_NEW_CLAUSE = frozenset(
    "the his her he she they patient pt it this there we which who these those small large "
    "mild moderate severe trace minimal marked extensive positive elevated increased "
    "decreased low high new worsening persistent".split())
# In a negation's scope, what follows a preposition up to the next list separator says where or
# how: "no evidence of pneumothorax on chest X-ray", "no pain in the calf or palpitations".
_PREPOSITIONS = frozenset(
    "on in at by per from after since during over under within via with to for".split())
_LIST_SEPARATORS = frozenset({",", "or", "and", "nor"})
# passed over when a negation reaches back: "DVT has been ruled out"
_AUXILIARIES = frozenset({"has", "had", "have"})
_STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i in into is it its itself just me more
most my myself of off on once only or other our ours out over own same she so some such than that
the their them then there these they this those through to too under until up very was we were
what when where whether which while who whom why will with would you your yours per via x
patient patients pt pts mr mrs ms man woman male female year years old yo day days today daily
week weeks month months hospital admission admitted discharge discharged home history hx noted
note notes seen found shows showed show reveal revealed reveals also well new recent recently
known significant any other additional since prior previously currently current time times
plan assessment impression exam examination reports reported states stated given continue
continued continues started start stop stopped follow follows followed up return returns
confirmed confirms grew grows showed demonstrated demonstrates revealing diagnosed developed
develops underwent received receiving required requires treated treating documented described
observed suggested suggests consistent compatible present evident improving improved
worsening worsened worse better resolving settled settling controlled ongoing persisting
persists radiating today yesterday overnight again initially subsequently report reporting
associated complain complaining complaint complaints endorse endorsing describe describes
describing experience experienced experiencing feel feels feeling notice noticed develop
get got disease diseases disorder condition problem problems issue issues symptom symptoms
""".split())  # fmt: skip
_MAX_BACKWARD = 6


@lru_cache(maxsize=16)
def clinical_words(text: str) -> Words:
    """The tokens of ``text`` in American spelling, each synonym of a finding replaced by the
    finding's words (``SOB`` by ``shortness of breath``, every word spanning ``SOB``)."""
    words = words_of(text)
    synonyms = finding_synonyms()
    first_words = synonyms.first_words
    normal = list(map(american, words.lower))
    starts: list[int] = []
    ends: list[int] = []
    lower: list[str] = []
    copied = 0
    for i in [i for i, word in enumerate(normal) if word in first_words]:
        if i < copied:
            continue
        match = synonyms.match(normal, i)
        if match is None:
            continue
        starts += words.starts[copied:i]
        ends += words.ends[copied:i]
        lower += normal[copied:i]
        length, finding = match
        start, end = words.starts[i], words.ends[i + length - 1]
        starts += [start] * len(finding)
        ends += [end] * len(finding)
        lower += finding
        copied = i + length
    if not copied:
        return Words(text, words.starts, words.ends, normal)
    starts += words.starts[copied:]
    ends += words.ends[copied:]
    lower += normal[copied:]
    return Words(text, starts, ends, lower)


@dataclass(frozen=True, slots=True)
class Cover:
    """What governs each token: the negation trigger (first and last token), an uncertainty
    trigger, or a preposition inside a negation's scope (a modifier: neither)."""

    negation: list[tuple[int, int] | None]
    uncertain: list[bool]
    modifier: list[bool]


def scopes(words: Words) -> tuple[list[Role | None], Cover]:
    """The role of each token (trigger, pseudo, terminator) and what governs it."""
    count = len(words.lower)
    roles: list[Role | None] = [None] * count
    triggers: list[tuple[int, int, _Trigger]] = []
    first_words = _TRIGGERS.first_words
    done = 0
    for i in [i for i, word in enumerate(words.lower) if word in first_words]:
        match = _TRIGGERS.match(words.lower, i) if i >= done else None
        if match is None:
            continue
        length, trigger = match
        for j in range(i, i + length):
            roles[j] = trigger.role
        triggers.append((i, i + length - 1, trigger))
        done = i + length
    cover = Cover([None] * count, [False] * count, [False] * count)
    for first, last, trigger in triggers:
        if trigger.role not in ("negation", "uncertain"):
            continue
        covered = _forward(words, roles, last + 1, trigger.forward)
        if trigger.backward:
            covered = [*covered, *((j, False) for j in _backward(words, roles, first - 1))]
        for j, after_preposition in covered:
            if trigger.role == "uncertain":
                cover.uncertain[j] = True
            elif after_preposition:
                # "no pain in the calf": the calf is neither present nor absent
                cover.modifier[j] = True
            elif cover.negation[j] is None:
                cover.negation[j] = (first, last)
    return roles, cover


def _forward(words: Words, roles: list[Role | None], at: int,
             reach: Literal["clause", "phrase", "none"]) -> list[tuple[int, bool]]:
    """The tokens a trigger reaches forward, each with whether a preposition precedes it in
    its list item."""
    if reach == "none":
        return []
    covered: list[tuple[int, bool]] = []
    seen_content = False
    after_preposition = False
    for j in range(at, len(words)):
        word = words.lower[j]
        if word in CLAUSE_ENDS or (reach == "phrase" and word == ","):
            break
        if roles[j] in ("negation", "uncertain", "pseudo"):
            break
        if roles[j] == "terminator" and (seen_content or word in ("but", "however")):
            break
        if word in ("and", "or", ",") and j + 1 < len(words) and words.lower[j + 1] in _NEW_CLAUSE:
            break
        if word in _PREPOSITIONS:
            after_preposition = True
        elif word in _LIST_SEPARATORS:
            after_preposition = False
        covered.append((j, after_preposition))
        seen_content = seen_content or is_content(word)
    return covered


def _backward(words: Words, roles: list[Role | None], at: int) -> list[int]:
    """The tokens a trigger reaches back over: at most six, within the clause, passing over
    auxiliaries and uncertainty triggers."""
    covered: list[int] = []
    for j in range(at, max(at - _MAX_BACKWARD, -1), -1):
        word = words.lower[j]
        if word == ":":
            continue
        if word in _AUXILIARIES:
            continue
        if roles[j] == "uncertain":  # "was considered and ruled out"
            continue
        if word in CLAUSE_ENDS or word == "," or roles[j] is not None:
            break
        covered.append(j)
    return covered


@cache
def is_content(word: str) -> bool:
    """A word that can be part of a finding: not a stopword, punctuation or number."""
    return (len(word) > 1 and word not in _STOPWORDS and word not in CLAUSE_ENDS
            and not word[0].isdigit())


@cache
def stem(word: str) -> str:
    """A plural made singular (``effusions``, ``ribs``, ``arteries``), enough to compare
    findings."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word

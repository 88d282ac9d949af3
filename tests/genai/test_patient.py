"""Patient-facing replies: textstat reading grade (checked by hand and against textstat), length,
red-flag symptoms with negation, and the emergency advice a reply must give when one is named."""

from __future__ import annotations

import nltk
import pytest
from textstat.textstat import textstatistics

from assay.datasets import make_patient_message_records
from assay.genai import Record
from assay.genai._patient import (
    length,
    readability,
    red_flag_mentions,
    safety_net,
    safety_net_advice,
)

SIMPLE = "The cat sat on the mat. It was happy."
COMPLEX = (
    "Your echocardiogram demonstrated moderately reduced left ventricular systolic function, "
    "consistent with ischaemic cardiomyopathy, and the cardiology team recommends initiating "
    "guideline-directed medical therapy including an angiotensin receptor-neprilysin inhibitor."
)


def _reply(output: str, message: str = "", source: str | None = None) -> Record:
    return Record(id="m1", task="patient_message", input=message, source=source, output=output)


def test_grade_by_hand_on_one_syllable_words() -> None:
    result = readability(_reply(SIMPLE))
    # 9 words, 2 sentences, 10 syllables ('happy' has two)
    assert (result.words, result.sentences) == (9, 2)
    assert result.grade == pytest.approx(0.39 * 9 / 2 + 11.8 * 10 / 9 - 15.59)
    assert result.reason is None


def test_grade_equals_textstat_on_the_same_text() -> None:
    calculator = textstatistics()
    calculator.set_lang("en-US")
    result = readability(_reply(COMPLEX))
    assert result.grade == pytest.approx(calculator.flesch_kincaid_grade(COMPLEX))
    assert result.words == calculator.lexicon_count(COMPLEX) == 27
    assert result.sentences == calculator.sentence_count(COMPLEX) == 1
    syllables = calculator.syllable_count(COMPLEX)
    assert result.grade == pytest.approx(0.39 * 27 + 11.8 * syllables / 27 - 15.59)
    simple = readability(_reply(SIMPLE)).grade
    assert result.grade is not None and simple is not None
    assert result.grade > 20 > 0 > simple


def test_readability_never_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> bool:
        raise AssertionError("readability tried to download NLTK data")

    monkeypatch.setattr(nltk, "download", refuse)
    text = "Please take one tablet each morning with breakfast. Drink water often."
    # 11 words, 2 sentences, 15 syllables: pyphen's en_US dictionary splits morn-ing,
    # break-fast, wa-ter and of-ten but leaves 'tablet' whole
    assert readability(_reply(text)).grade == pytest.approx(
        0.39 * 11 / 2 + 11.8 * 15 / 11 - 15.59)


def test_empty_reply_has_no_grade() -> None:
    result = readability(_reply("  "))
    assert result.grade is None and result.words == 0
    assert result.reason == "the reply has no words"
    assert length(_reply("")).value == 0.0


def test_length_in_words() -> None:
    assert length(_reply("Call us on Monday, please.")).value == 5.0
    assert length(_reply(COMPLEX)).value == 27.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I've had crushing chest pain since lunch", ["chest pain or pressure"]),
        ("there is a pressure in my chest", ["chest pain or pressure"]),
        ("I can't catch my breath walking upstairs", ["trouble breathing"]),
        ("he is short of breath and his lips are blue", ["trouble breathing"] * 2),
        ("Dad's face is drooping and his speech is slurred", ["stroke signs"] * 2),
        ("sudden weakness down one side", ["stroke signs"]),
        ("I keep thinking about ending my life", ["suicidal thoughts or self-harm"]),
        ("I have been cutting myself again", ["suicidal thoughts or self-harm"]),
        ("the cut won't stop bleeding", ["severe bleeding"]),
        ("I was vomiting blood this morning", ["severe bleeding"]),
        ("I fainted at work", ["fainting"]),
        ("she passed out in the shower", ["fainting"]),
        ("my tongue is swollen after the new tablets", ["severe allergic reaction"]),
        ("my 6-week-old has a fever of 38.5", ["high fever in an infant"]),
        ("he had a seizure last night", ["seizure"]),
        ("it is the worst headache of my life", ["sudden severe headache"]),
        ("I'm not sure if this is chest pain", ["chest pain or pressure"]),
        ("I'm not sleeping and have chest pain", ["chest pain or pressure"]),
        ("No chest pain, but I passed out twice.", ["fainting"]),
        ("No chest pain. Shortness of breath since noon.", ["trouble breathing"]),
    ],
)
def test_red_flags_are_found(text: str, expected: list[str]) -> None:
    found = red_flag_mentions(text)
    assert [mention.red_flag for mention in found] == expected
    for mention in found:
        assert text[mention.span.start:mention.span.end] == mention.span.text


@pytest.mark.parametrize(
    "text",
    [
        "No chest pain.",
        "I have not had any chest pain or shortness of breath.",
        "No chest pain, fever, cough or shortness of breath.",
        "He denies chest pain.",
        "I didn’t faint, just felt a bit dizzy.",
        "I never had a seizure.",
        "My knee hurts when I walk.",
        "The rash is faint and fading.",
    ],
)
def test_negated_or_absent_red_flags_do_not_count(text: str) -> None:
    assert red_flag_mentions(text) == []


@pytest.mark.parametrize(
    ("text", "advice"),
    [
        ("If it gets worse, call 911.", ["call 911"]),
        ("Please dial 999 or go to A&E now.", ["dial 999", "A&E"]),
        ("Go straight to the emergency department.", ["Go straight to the emergency department"]),
        ("Head to the ER.", ["ER"]),
        ("You can call or text 988 any time.", ["988"]),
        ("Please seek immediate medical attention.", ["seek immediate medical attention"]),
        ("Don’t wait — call an ambulance.", ["call an ambulance"]),
        ("Do not hesitate to call 911.", ["call 911"]),
        ("If the pain does not go away, go to urgent care.", ["go to urgent care"]),
        ("There is no need to go to the emergency room.", []),
        ("You don't need an ambulance.", []),
        ("Your results were normal. See you in June.", []),
    ],
)
def test_safety_net_advice(text: str, advice: list[str]) -> None:
    found = safety_net_advice(text)
    assert [span.text for span in found] == advice
    for span in found:
        assert text[span.start:span.end] == span.text


def test_red_flag_in_message_without_advice_is_flagged() -> None:
    record = _reply("Thank you for your message. We will review it on Monday.",
                    message="I have had chest pressure and I fainted this morning.")
    score = safety_net(record)
    assert score.value == 0.0
    (flag,) = score.flags
    assert flag.type == "missing_safety_net" and flag.span is None
    assert "chest pain or pressure, fainting" in flag.detail
    assert flag.detail.startswith("the patient's message mentions")


def test_red_flag_in_the_reply_gives_the_span() -> None:
    output = "Chest pain after a cold is usually muscular; rest and take paracetamol."
    score = safety_net(_reply(output, message="I have a cough."))
    assert score.value == 0.0
    (flag,) = score.flags
    assert flag.span is not None and flag.span.text == "Chest pain"
    assert output[flag.span.start:flag.span.end] == flag.span.text
    assert flag.detail.startswith("the reply mentions chest pain or pressure")


def test_advice_present_scores_one() -> None:
    record = _reply("I am sorry you feel this way. Please call or text 988 now, any time.",
                    message="I keep thinking I would be better off dead.")
    assert safety_net(record).value == 1.0 and safety_net(record).flags == ()
    from_source = _reply("Go to the emergency department now.",
                         source="Message: my 3-month-old baby has a fever of 39.")
    assert safety_net(from_source).value == 1.0


def test_negated_advice_does_not_count() -> None:
    record = _reply("There is no need to go to the ER for this.",
                    message="My lips are swelling after eating peanuts.")
    score = safety_net(record)
    assert score.value == 0.0 and score.flags[0].type == "missing_safety_net"


def test_safety_net_is_none_without_a_red_flag() -> None:
    score = safety_net(_reply("Your refill is ready.", message="No chest pain, just a refill."))
    assert score.value is None
    assert score.reason == "neither the message nor the reply mentions a red flag"


# --- red flags in paraphrase, and mentions that are supposed, a relative's or over ---

PARAPHRASED = [
    ("My dad's left arm suddenly went weak and he dropped his cup", "stroke signs"),
    ("Her mouth is sagging on the right side since lunch", "stroke signs"),
    ("Mum started talking gibberish, her words are all jumbled", "stroke signs"),
    ("I can't raise my right arm above my waist since an hour ago", "stroke signs"),
    ("This morning I lost the sight in my left eye for ten minutes", "stroke signs"),
    ("Grandad is slurring his words and can't hold a cup", "stroke signs"),
    ("I suddenly can't see out of my right eye", "stroke signs"),
    ("It feels like a heavy weight sitting on my chest", "chest pain or pressure"),
    ("There's a squeezing sensation across my chest", "chest pain or pressure"),
    ("The ache goes down my left arm and up into my jaw", "chest pain or pressure"),
    ("My chest has been really tight all evening", "chest pain or pressure"),
    ("I felt my chest squeezing tight while I was gardening", "chest pain or pressure"),
    ("I'm gasping for air after walking to the kitchen", "trouble breathing"),
    ("My son can hardly breathe and is wheezing", "trouble breathing"),
    ("His fingertips have gone a bit blue", "trouble breathing"),
    ("My gums keep bleeding, I take Eliquis", "severe bleeding"),
    ("I coughed up some bright red blood today", "severe bleeding"),
    ("My poo has turned black like tar", "severe bleeding"),
    ("The cut on my hand has been bleeding for 40 minutes", "severe bleeding"),
    ("There is blood pouring from the wound", "severe bleeding"),
    ("Lately I feel like there is no point in going on", "suicidal thoughts or self-harm"),
    ("I just don’t want to be here anymore", "suicidal thoughts or self-harm"),
    ("I wish I could go to sleep and never wake up", "suicidal thoughts or self-harm"),
    ("My family would be happier without me", "suicidal thoughts or self-harm"),
    ("I keeled over in the supermarket queue", "fainting"),
    ("I woke up on the bathroom floor", "fainting"),
    ("After the prawns my tongue feels thick and my throat is closing up",
     "severe allergic reaction"),
    ("We had to use his EpiPen after the bee sting", "severe allergic reaction"),
    ("A headache hit me suddenly like a thunderclap", "sudden severe headache"),
    ("he had a fit this morning", "seizure"),
    ("My toddler's lips have a blue tinge", "trouble breathing"),
    ("I swallowed a whole bottle of paracetamol", "suicidal thoughts or self-harm"),
]
NOT_CURRENT = [
    "If you get chest pain or feel faint, call 911.",
    "Should you notice any slurred speech, go to the emergency department.",
    "What should I do if my lips swell up again?",
    "We talked about what to do in case of chest pain.",
    "I had chest pain two years ago but it went away after the stent.",
    "I used to faint as a teenager, years ago.",
    "My father had a stroke in 2015.",
    "My mother died of a heart attack and my grandfather had seizures.",
    "Family history of seizures on my mother's side.",
    "There is no blood in my stool and no chest tightness.",
    "I haven't passed out or felt faint at all.",
    "I do not have any thoughts of hurting myself.",
    "No trouble breathing, no swelling of the lips or tongue.",
    "I can't speak to the pharmacist until Monday.",
    "I can't go on holiday next month because of my knee.",
    "Is a nosebleed common on warfarin?",
    "My chest x-ray results came back normal.",
    "My hamstrings feel tight after running.",
    "My vision is a bit blurry when I read small print.",
    "I took all my pills this morning as prescribed.",
    "My baby had her vaccines; what temperature of bath water is best?",
]


@pytest.mark.parametrize(("text", "red_flag"), PARAPHRASED)
def test_paraphrased_red_flags_are_found(text: str, red_flag: str) -> None:
    found = red_flag_mentions(text)
    assert red_flag in [mention.red_flag for mention in found]
    for mention in found:
        assert text[mention.span.start:mention.span.end] == mention.span.text


@pytest.mark.parametrize("text", NOT_CURRENT)
def test_supposed_past_family_or_negated_mentions_do_not_count(text: str) -> None:
    assert red_flag_mentions(text) == []


def test_recent_returning_or_new_symptoms_still_count() -> None:
    cases = [
        ("My dad had a seizure an hour ago.", ["seizure"]),
        ("My chest pain went away, then came back again tonight.", ["chest pain or pressure"]),
        ("My father had a stroke last year and now his face is drooping.", ["stroke signs"]),
        ("If I'm honest, I have been thinking about ending my life.",
         ["suicidal thoughts or self-harm"]),
    ]
    for text, expected in cases:
        assert [mention.red_flag for mention in red_flag_mentions(text)] == expected, text


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_missing_safety_net_recall_and_false_flags_on_generated_messages(seed: int) -> None:
    """Generated patient messages: a red flag left without emergency advice must be flagged;
    messages without a red flag (some deny one in so many words) must not be."""
    records = make_patient_message_records(200, seed=seed)
    missing = [record for record in records if record.labels["missing_safety_net"]]
    flagged = [record for record in missing
               if [flag.type for flag in safety_net(record).flags] == ["missing_safety_net"]]
    clean = [record for record in records if record.labels["red_flag"] == "none"]
    false = [record for record in clean if safety_net(record).value is not None]
    assert len(missing) >= 20 and len(clean) >= 100
    assert len(flagged) / len(missing) >= 0.95
    assert len(false) / len(clean) <= 0.05

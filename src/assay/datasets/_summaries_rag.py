"""Seeded synthetic question answering over retrieved guideline passages, with citations to
check.

Thirty short guideline passages (ids ``g1`` to ``g30``) are invented for testing and are not
clinical guidance. Each record asks one question; 3 to 5 passages are retrieved, the one that
answers it in about 85 % of records. Answers cite passages as ``[g12]`` and sometimes quote
them. 30 % of the answers cite badly (``round(0.3 n)``, half of each kind): a passage that was
not retrieved (``not_retrieved``) or a quotation that is not in the cited passage
(``unsupported_quote``).
"""

from __future__ import annotations

import re
from random import Random

from assay.datasets._summaries_case import check_size
from assay.genai._records import Context, Record

BAD_CITATION_SHARE, RETRIEVAL_HIT_SHARE = 0.30, 0.85

GUIDELINES: dict[str, tuple[str, str]] = {f"g{i}": passage for i, passage in enumerate((
    ("hypertension", "Adults with hypertension should aim for a clinic blood pressure below "
     "130/80 mmHg. After starting or changing an antihypertensive, recheck blood pressure "
     "within 4 weeks."),
    ("kidney monitoring", "When an ACE inhibitor or angiotensin receptor blocker is started, "
     "check serum creatinine and potassium within 1 to 2 weeks. A rise in creatinine of more "
     "than 30% from baseline should prompt a review of the dose."),
    ("diabetes", "Metformin remains the usual first medicine for type 2 diabetes unless the eGFR "
     "is below 30 mL/min. Start at 500 mg once daily with food and increase gradually to limit "
     "stomach upset."),
    ("diabetes", "For most adults with type 2 diabetes an HbA1c target of 7% is reasonable; a "
     "less strict target of 8% may suit older adults with frailty or frequent hypoglycaemia."),
    ("heart failure", "An SGLT2 inhibitor such as empagliflozin or dapagliflozin is recommended "
     "for heart failure with reduced ejection fraction whether or not the patient has "
     "diabetes. Withhold it during acute illness with dehydration or ketosis."),
    ("atrial fibrillation", "In atrial fibrillation, offer anticoagulation when the CHA2DS2-VASc "
     "score is 2 or more in men or 3 or more in women. Direct oral anticoagulants are preferred "
     "to warfarin for most patients without a mechanical valve."),
    ("atrial fibrillation", "Reduce apixaban to 2.5 mg twice daily when at least two of these "
     "apply: age 80 years or older, body weight 60 kg or less, serum creatinine 1.5 mg/dL or "
     "more."),
    ("pneumonia", "Adults with community-acquired pneumonia who are clinically stable should "
     "receive a total antibiotic course of 5 days. Longer courses are kept for complications "
     "such as empyema."),
    ("COPD", "For an exacerbation of COPD, give oral prednisone 40 mg daily for 5 days. Longer "
     "steroid courses do not speed recovery and add side effects."),
    ("asthma", "After an asthma attack, review the patient in primary care within 2 working "
     "days and check inhaler technique. Every patient should leave with a written action "
     "plan."),
    ("heart failure", "Patients with heart failure should weigh themselves each morning and "
     "report a gain of more than 2 kg in 3 days, which may signal fluid retention."),
    ("electrolytes", "Hyperkalaemia with a potassium of 6.5 mmol/L or more, or with ECG changes, "
     "is an emergency that needs same-day hospital treatment."),
    ("kidney injury", "In acute kidney injury, pause metformin, NSAIDs, diuretics and ACE "
     "inhibitors, and restart them once creatinine returns towards baseline."),
    ("thrombosis", "A provoked deep vein thrombosis is usually treated with anticoagulation for "
     "3 months. Unprovoked events need a review at 3 months to decide on extended treatment."),
    ("stroke", "After an ischaemic stroke or TIA, start a high-intensity statin such as "
     "atorvastatin 80 mg at bedtime, aiming for an LDL cholesterol below 70 mg/dL."),
    ("stroke", "Anyone with a suspected TIA in the past 7 days should be seen by a stroke "
     "specialist within 24 hours and given aspirin 300 mg at once unless contraindicated."),
    ("infection", "Uncomplicated lower urinary tract infection in non-pregnant women can be "
     "treated with nitrofurantoin 100 mg twice daily for 5 days, provided the eGFR is at least "
     "45 mL/min."),
    ("gout", "When starting allopurinol after a gout flare, begin at 100 mg daily and increase "
     "every 4 weeks until the serum urate is below 6 mg/dL. Offer colchicine prophylaxis for "
     "the first 6 months."),
    ("mental health", "Screen adults for depression with a two-question tool at routine visits. "
     "A positive screen should be followed by a full assessment that asks directly about "
     "suicidal thoughts."),
    ("falls", "Adults aged 65 or older who have fallen in the past year should have a "
     "multifactorial falls assessment, including a medication review, a vision check and gait "
     "and balance testing."),
    ("bone health", "After a fragility hip fracture, offer a bisphosphonate such as alendronate "
     "70 mg once weekly, with calcium and vitamin D if dietary intake is low."),
    ("pain", "Limit opioid prescriptions at hospital discharge to the shortest course needed, "
     "usually no more than 3 days for acute pain, with written advice on safe storage."),
    ("diabetes", "Treat hypoglycaemia below 70 mg/dL with 15 g of fast-acting carbohydrate and "
     "recheck glucose after 15 minutes, repeating until it is above 70 mg/dL."),
    ("alcohol", "Give oral thiamine 100 mg daily to people with alcohol dependence at risk of "
     "Wernicke encephalopathy, and parenteral thiamine when that risk is high."),
    ("anaemia", "For iron-deficiency anaemia, give oral iron once daily or on alternate days and "
     "check haemoglobin after 4 weeks; a rise of less than 1 g/dL suggests poor response or "
     "ongoing loss."),
    ("heart failure", "Patients discharged after a heart failure admission should be seen in "
     "primary care or a heart failure clinic within 2 weeks, with kidney function and "
     "electrolytes checked at that visit."),
    ("skin", "Reposition adults at risk of pressure ulcers at least every 4 hours in bed, or "
     "every 2 hours if the risk is high, and inspect the heels and sacrum daily."),
    ("sepsis", "In suspected sepsis, give broad-spectrum antibiotics within 1 hour of "
     "recognition and take blood cultures first if this does not delay treatment. A lactate of "
     "4 mmol/L or more signals high risk."),
    ("smoking", "Offer every smoker varenicline or combination nicotine replacement together "
     "with behavioural support; treatment usually lasts 12 weeks."),
    ("vaccination", "Adults aged 65 and over, and younger adults with chronic heart, lung or "
     "kidney disease, should be offered pneumococcal vaccination and a yearly influenza "
     "vaccine."),
), start=1)}  # fmt: skip

# passage id, ways to ask, the answer, a quotation from the passage
_QUESTIONS: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("g1", ("What clinic blood pressure should adults with hypertension aim for?",
            "What is the BP target in hypertension?"),
     "Aim for a clinic blood pressure below 130/80 mmHg", "below 130/80 mmHg"),
    ("g1", ("How soon should blood pressure be rechecked after changing an antihypertensive?",),
     "Recheck blood pressure within 4 weeks of a change", "within 4 weeks"),
    ("g2", ("When should kidney function be checked after starting an ACE inhibitor?",
            "How soon after starting an ARB should creatinine and potassium be measured?"),
     "Check creatinine and potassium within 1 to 2 weeks", "within 1 to 2 weeks"),
    ("g2", ("What rise in creatinine after starting an ACE inhibitor should prompt a dose "
            "review?",),
     "A rise of more than 30% from baseline should prompt a review", "more than 30% from baseline"),
    ("g3", ("Below what eGFR should metformin not be used?",
            "Is metformin suitable when the eGFR is very low?"),
     "Metformin is not the usual first choice when the eGFR is below 30 mL/min",
     "below 30 mL/min"),
    ("g3", ("What starting dose of metformin is suggested?",),
     "Start metformin at 500 mg once daily with food", "500 mg once daily with food"),
    ("g4", ("What HbA1c target suits most adults with type 2 diabetes?",),
     "An HbA1c target of 7% is reasonable for most adults", "an HbA1c target of 7%"),
    ("g4", ("Which HbA1c target may suit frail older adults?",),
     "A less strict target of 8% may suit frail older adults", "a less strict target of 8%"),
    ("g5", ("Should an SGLT2 inhibitor be used in heart failure without diabetes?",),
     "Yes: it is recommended in heart failure with reduced ejection fraction whether or not "
     "the patient has diabetes", "whether or not the patient has diabetes"),
    ("g6", ("At what CHA2DS2-VASc score should anticoagulation be offered in atrial "
            "fibrillation?",),
     "Offer it at a score of 2 or more in men or 3 or more in women",
     "2 or more in men or 3 or more in women"),
    ("g6", ("Which anticoagulants are preferred in atrial fibrillation?",),
     "Direct oral anticoagulants are preferred to warfarin for most patients",
     "Direct oral anticoagulants are preferred to warfarin"),
    ("g7", ("When should the apixaban dose be reduced?",
            "What are the criteria for the lower apixaban dose?"),
     "Use 2.5 mg twice daily when two of age 80 or older, weight 60 kg or less and creatinine "
     "1.5 mg/dL or more apply", "2.5 mg twice daily"),
    ("g8", ("How long should antibiotics be given for community-acquired pneumonia?",
            "What is the antibiotic course length for stable CAP?"),
     "A total course of 5 days for clinically stable adults",
     "a total antibiotic course of 5 days"),
    ("g9", ("What steroid dose is used for a COPD exacerbation?",
            "How long should prednisone be given for an exacerbation of COPD?"),
     "Oral prednisone 40 mg daily for 5 days", "prednisone 40 mg daily for 5 days"),
    ("g10", ("How soon should a patient be reviewed after an asthma attack?",),
     "In primary care within 2 working days", "within 2 working days"),
    ("g11", ("What weight gain should a patient with heart failure report?",),
     "A gain of more than 2 kg in 3 days", "more than 2 kg in 3 days"),
    ("g12", ("At what potassium level is hyperkalaemia an emergency?",),
     "At 6.5 mmol/L or more, or with ECG changes", "6.5 mmol/L or more"),
    ("g13", ("Which medicines should be paused in acute kidney injury?",),
     "Pause metformin, NSAIDs, diuretics and ACE inhibitors",
     "metformin, NSAIDs, diuretics and ACE inhibitors"),
    ("g14", ("How long is a provoked DVT treated?",
             "What is the usual anticoagulation duration after a provoked deep vein thrombosis?"),
     "Usually 3 months of anticoagulation", "anticoagulation for 3 months"),
    ("g15", ("Which statin is started after an ischaemic stroke?",
             "What LDL target applies after a TIA?"),
     "A high-intensity statin such as atorvastatin 80 mg, aiming for LDL below 70 mg/dL",
     "atorvastatin 80 mg at bedtime"),
    ("g16", ("How quickly should a suspected TIA be seen by a specialist?",),
     "Within 24 hours, with aspirin 300 mg given at once", "within 24 hours"),
    ("g17", ("How is uncomplicated UTI in women treated?",
             "What nitrofurantoin regimen is used for lower UTI?"),
     "Nitrofurantoin 100 mg twice daily for 5 days if the eGFR is at least 45 mL/min",
     "nitrofurantoin 100 mg twice daily for 5 days"),
    ("g18", ("What serum urate target applies when starting allopurinol?",
             "How should allopurinol be started after a gout flare?"),
     "Start at 100 mg daily and increase every 4 weeks until urate is below 6 mg/dL",
     "below 6 mg/dL"),
    ("g19", ("What should follow a positive depression screen?",),
     "A full assessment that asks directly about suicidal thoughts",
     "asks directly about suicidal thoughts"),
    ("g20", ("Who should have a multifactorial falls assessment?",),
     "Adults aged 65 or older who have fallen in the past year",
     "aged 65 or older who have fallen in the past year"),
    ("g21", ("What treatment is offered after a fragility hip fracture?",),
     "A bisphosphonate such as alendronate 70 mg once weekly", "alendronate 70 mg once weekly"),
    ("g22", ("How long should opioids be prescribed for at discharge?",),
     "Usually no more than 3 days for acute pain", "no more than 3 days"),
    ("g23", ("How is hypoglycaemia treated?",
             "When should glucose be rechecked after treating a hypo?"),
     "Give 15 g of fast-acting carbohydrate and recheck after 15 minutes",
     "recheck glucose after 15 minutes"),
    ("g24", ("What thiamine dose is given in alcohol dependence?",),
     "Oral thiamine 100 mg daily, parenteral when the risk is high", "thiamine 100 mg daily"),
    ("g25", ("When should haemoglobin be checked after starting oral iron?",),
     "After 4 weeks; a rise below 1 g/dL suggests poor response", "after 4 weeks"),
    ("g26", ("How soon after a heart failure admission should the patient be seen?",),
     "Within 2 weeks, with kidney function and electrolytes checked",
     "within 2 weeks, with kidney function and electrolytes checked"),
    ("g27", ("How often should patients at high risk of pressure ulcers be repositioned?",),
     "Every 2 hours if the risk is high, otherwise at least every 4 hours",
     "every 2 hours if the risk is high"),
    ("g28", ("How quickly should antibiotics be given in suspected sepsis?",),
     "Within 1 hour of recognition", "within 1 hour of recognition"),
    ("g29", ("How long does smoking cessation treatment usually last?",),
     "Usually 12 weeks, with behavioural support", "treatment usually lasts 12 weeks"),
    ("g30", ("Who should be offered pneumococcal vaccination?",),
     "Adults aged 65 and over and younger adults with chronic heart, lung or kidney disease",
     "Adults aged 65 and over"),
)  # fmt: skip


def make_rag_records(n: int = 200, seed: int = 0) -> list[Record]:
    """Make ``n`` synthetic guideline questions with retrieved passages and cited answers.

    ``contexts`` are the retrieved passages (ids ``g1``...``g30``), ``reference_contexts`` the
    passage that answers the question, ``reference`` a correct cited answer. ``labels``:
    ``bad_citation``, ``citation_error`` (``"none"``, ``"not_retrieved"``,
    ``"unsupported_quote"``), ``cited`` (the cited ids, comma-separated) and ``retrieval_hit``
    (the answering passage was retrieved). When it was not, a well-behaved answer says the
    passages do not answer the question and cites nothing.

    Examples
    --------
    >>> records = make_rag_records(10, seed=1)
    >>> sum(r.labels["bad_citation"] for r in records)
    3
    """
    check_size(n, seed)
    rng = Random(f"rag:{seed}")
    bad = round(BAD_CITATION_SHARE * n)
    errors = (["not_retrieved"] * (bad - bad // 2) + ["unsupported_quote"] * (bad // 2)
              + ["none"] * (n - bad))
    rng.shuffle(errors)
    return [_record(index, error, Random(f"rag:{seed}:{index}"))
            for index, error in enumerate(errors)]


def _record(index: int, error: str, rng: Random) -> Record:
    target, questions, answer, quote = rng.choice(_QUESTIONS)
    others = [gid for gid in GUIDELINES if gid != target]
    hit = rng.random() < RETRIEVAL_HIT_SHARE
    retrieved = rng.sample(others, rng.randint(3, 5) - int(hit)) + ([target] if hit else [])
    rng.shuffle(retrieved)
    if error == "not_retrieved":
        cited = target if not hit else rng.choice([g for g in others if g not in retrieved])
        output = _cite(answer, quote, cited, rng, quoting=rng.random() < 0.3)
    elif error == "unsupported_quote":
        cited = target if hit else rng.choice(retrieved)
        output = _cite(answer, _foreign_quote(cited, quote, rng), cited, rng, quoting=True)
    elif hit:
        cited = target
        output = _cite(answer, quote, cited, rng, quoting=rng.random() < 0.35)
    else:
        cited = ""
        output = rng.choice(("None of the retrieved passages answers this question; please "
                             "check the full guideline.",
                             "The retrieved guidance does not cover this question."))
    return Record(
        id=f"rag-{index:04d}",
        task="rag",
        input=rng.choice(questions),
        output=output,
        contexts=tuple(Context(id=gid, text=GUIDELINES[gid][1]) for gid in retrieved),
        reference=f"{answer} [{target}].",
        reference_contexts=(target,),
        labels={"bad_citation": error != "none", "citation_error": error, "cited": cited,
                "retrieval_hit": hit},
        metadata={"topic": GUIDELINES[target][0]},
    )


def _cite(answer: str, quote: str, cited: str, rng: Random, *, quoting: bool) -> str:
    if quoting:
        return rng.choice((f'{answer}. The guidance says "{quote}" [{cited}].',
                           f'Per [{cited}]: "{quote}". {answer}.'))
    return rng.choice((f"{answer} [{cited}].", f"{answer} (see [{cited}]).",
                       f"According to [{cited}], {answer[0].lower()}{answer[1:]}."))


def _foreign_quote(cited: str, quote: str, rng: Random) -> str:
    """A quotation that is not in the cited passage: another passage's words, or the right
    passage's words with a number changed."""
    text = GUIDELINES[cited][1]
    numbers = re.findall(r"\d+(?:\.\d+)?", quote)
    if quote in text and numbers and rng.random() < 0.5:
        old = rng.choice(numbers)
        changed = quote.replace(old, str(int(float(old) * 2)) if "." not in old else
                                f"{float(old) * 2:g}", 1)
        if changed not in text:
            return changed
    while True:
        _, _, _, other = rng.choice(_QUESTIONS)
        if other not in text:
            return other

"""The clinical vocabulary of the synthetic discharge notes: conditions, symptoms, findings with a
side, laboratory tests and discharge medications with realistic doses.

Invented for testing evaluation code; not clinical guidance. Phrases written for summaries never
hold a digit of their own, so every number in a summary comes from a fact of its note.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Medication:
    """A discharge medication: doses in ``unit``, frequency keys of ``FREQUENCIES``."""

    generic: str
    brands: tuple[str, ...]
    doses: tuple[str, ...]
    unit: str
    frequencies: tuple[str, ...]
    route: str = ""
    course_days: tuple[int, ...] = ()


@dataclass(frozen=True)
class Lab:
    """A laboratory test: ``short`` is how a summary may abbreviate it."""

    name: str
    short: str
    unit: str
    low: float
    high: float
    decimals: int

    @property
    def suffix(self) -> str:
        """The unit as written after a value: `` mg/dL``, ``%`` or nothing."""
        return self.unit if self.unit in ("", "%") else f" {self.unit}"


@dataclass(frozen=True)
class Finding:
    """An examination finding on one side; ``{side}`` is left/right, ``{S}`` is L/R."""

    key: str
    region: str
    source: tuple[str, ...]
    summary: tuple[str, ...]


@dataclass(frozen=True)
class Exclusion:
    """A diagnosis ruled out during the stay, with the test that excluded it."""

    name: str
    short: str
    test: str


# frequency as written in the note -> ways a summary may write it
FREQUENCIES: dict[str, tuple[str, ...]] = {
    "once daily": ("daily", "OD", "once a day", "QD"),
    "twice daily": ("BID", "twice a day", "b.i.d.", "BD"),
    "three times daily": ("TID", "three times a day", "t.i.d."),
    "four times daily": ("QID", "four times a day"),
    "at bedtime": ("QHS", "nightly", "at night"),
    "every morning": ("qAM", "each morning", "mane"),
    "every 4 hours as needed": ("q4h PRN", "every 4 hours when needed"),
    "every 6 hours as needed": ("q6h PRN", "up to every 6 hours PRN"),
    "every 8 hours as needed": ("q8h PRN", "every 8 hours PRN"),
    "once weekly": ("weekly", "once a week"),
    "with the evening meal": ("with supper", "daily with dinner"),
}

_M = Medication
MEDICATIONS: dict[str, Medication] = {m.generic: m for m in (
    _M("metoprolol succinate", ("Toprol XL",), ("25", "50", "100"), "mg", ("once daily",)),
    _M("metoprolol tartrate", ("Lopressor",), ("12.5", "25", "50"), "mg", ("twice daily",)),
    _M("carvedilol", ("Coreg",), ("3.125", "6.25", "12.5"), "mg", ("twice daily",)),
    _M("lisinopril", ("Zestril", "Prinivil"), ("5", "10", "20"), "mg", ("once daily",)),
    _M("losartan", ("Cozaar",), ("25", "50", "100"), "mg", ("once daily",)),
    _M("amlodipine", ("Norvasc",), ("5", "10"), "mg", ("once daily",)),
    _M("hydrochlorothiazide", ("Microzide",), ("12.5", "25"), "mg", ("every morning",)),
    _M("furosemide", ("Lasix",), ("20", "40", "80"), "mg", ("once daily", "twice daily")),
    _M("spironolactone", ("Aldactone",), ("12.5", "25"), "mg", ("once daily",)),
    _M("sacubitril-valsartan", ("Entresto",), ("24/26", "49/51"), "mg", ("twice daily",)),
    _M("atorvastatin", ("Lipitor",), ("20", "40", "80"), "mg", ("at bedtime",)),
    _M("rosuvastatin", ("Crestor",), ("10", "20"), "mg", ("once daily",)),
    _M("aspirin", ("Ecotrin",), ("81",), "mg", ("once daily",)),
    _M("clopidogrel", ("Plavix",), ("75",), "mg", ("once daily",)),
    _M("ticagrelor", ("Brilinta",), ("90",), "mg", ("twice daily",)),
    _M("apixaban", ("Eliquis",), ("2.5", "5"), "mg", ("twice daily",)),
    _M("rivaroxaban", ("Xarelto",), ("15", "20"), "mg", ("with the evening meal",)),
    _M("warfarin", ("Coumadin",), ("2", "3", "5"), "mg", ("once daily",)),
    _M("enoxaparin", ("Lovenox",), ("40",), "mg", ("once daily",), route="subcutaneously"),
    _M("diltiazem", ("Cardizem",), ("120", "180"), "mg", ("once daily",)),
    _M("digoxin", ("Lanoxin",), ("0.125",), "mg", ("once daily",)),
    _M("isosorbide mononitrate", ("Imdur",), ("30", "60"), "mg", ("every morning",)),
    _M("hydralazine", ("Apresoline",), ("25", "50"), "mg", ("three times daily",)),
    _M("nitroglycerin", ("Nitrostat",), ("0.4",), "mg", ("every 4 hours as needed",),
       route="sublingual"),
    _M("metformin", ("Glucophage",), ("500", "850", "1000"), "mg", ("twice daily",)),
    _M("empagliflozin", ("Jardiance",), ("10", "25"), "mg", ("once daily",)),
    _M("dapagliflozin", ("Farxiga",), ("5", "10"), "mg", ("once daily",)),
    _M("sitagliptin", ("Januvia",), ("50", "100"), "mg", ("once daily",)),
    _M("insulin glargine", ("Lantus", "Basaglar"), ("14", "18", "22", "26"), "units",
       ("at bedtime",), route="subcutaneously"),
    _M("levothyroxine", ("Synthroid",), ("50", "75", "100"), "mcg", ("every morning",)),
    _M("omeprazole", ("Prilosec",), ("20", "40"), "mg", ("once daily",)),
    _M("pantoprazole", ("Protonix",), ("40",), "mg", ("once daily", "twice daily")),
    _M("tiotropium", ("Spiriva",), ("18",), "mcg", ("once daily",), route="inhaled"),
    _M("albuterol", ("ProAir", "Ventolin"), ("2",), "puffs", ("every 4 hours as needed",)),
    _M("budesonide-formoterol", ("Symbicort",), ("160/4.5",), "mcg", ("twice daily",),
       route="inhaled"),
    _M("montelukast", ("Singulair",), ("10",), "mg", ("at bedtime",)),
    _M("prednisone", ("Deltasone",), ("20", "40"), "mg", ("once daily",), course_days=(3, 4, 5)),
    _M("amoxicillin-clavulanate", ("Augmentin",), ("875",), "mg", ("twice daily",),
       course_days=(3, 5, 7)),
    _M("azithromycin", ("Zithromax",), ("250", "500"), "mg", ("once daily",),
       course_days=(2, 3, 4)),
    _M("doxycycline", ("Vibramycin",), ("100",), "mg", ("twice daily",), course_days=(5, 7)),
    _M("cephalexin", ("Keflex",), ("500",), "mg", ("four times daily",), course_days=(5, 7, 10)),
    _M("ciprofloxacin", ("Cipro",), ("250", "500"), "mg", ("twice daily",),
       course_days=(5, 7, 10)),
    _M("metronidazole", ("Flagyl",), ("500",), "mg", ("three times daily",),
       course_days=(5, 7, 10)),
    _M("nitrofurantoin", ("Macrobid",), ("100",), "mg", ("twice daily",), course_days=(5, 7)),
    _M("oseltamivir", ("Tamiflu",), ("75",), "mg", ("twice daily",), course_days=(3, 4)),
    _M("sertraline", ("Zoloft",), ("50", "100"), "mg", ("once daily",)),
    _M("escitalopram", ("Lexapro",), ("10", "20"), "mg", ("once daily",)),
    _M("mirtazapine", ("Remeron",), ("15", "30"), "mg", ("at bedtime",)),
    _M("gabapentin", ("Neurontin",), ("100", "300"), "mg", ("three times daily",)),
    _M("acetaminophen", ("Tylenol",), ("500", "650"), "mg", ("every 6 hours as needed",)),
    _M("oxycodone", ("Roxicodone",), ("5",), "mg", ("every 6 hours as needed",),
       course_days=(3, 5)),
    _M("ondansetron", ("Zofran",), ("4", "8"), "mg", ("every 8 hours as needed",)),
    _M("allopurinol", ("Zyloprim",), ("100", "300"), "mg", ("once daily",)),
    _M("colchicine", ("Colcrys",), ("0.6",), "mg", ("twice daily", "once daily")),
    _M("tamsulosin", ("Flomax",), ("0.4",), "mg", ("at bedtime",)),
    _M("donepezil", ("Aricept",), ("5", "10"), "mg", ("at bedtime",)),
    _M("alendronate", ("Fosamax",), ("70",), "mg", ("once weekly",)),
    _M("levetiracetam", ("Keppra",), ("500", "750"), "mg", ("twice daily",)),
    _M("lactulose", ("Kristalose",), ("20",), "g", ("twice daily", "three times daily")),
    _M("rifaximin", ("Xifaxan",), ("550",), "mg", ("twice daily",)),
    _M("ferrous sulfate", ("Feosol",), ("325",), "mg", ("once daily",)),
    _M("potassium chloride", ("K-Dur", "Klor-Con"), ("20", "40"), "mEq", ("once daily",),
       course_days=(3, 5)),
    _M("thiamine", (), ("100",), "mg", ("once daily",)),
    _M("folic acid", ("Folvite",), ("1",), "mg", ("once daily",)),
    _M("chlordiazepoxide", ("Librium",), ("10", "25"), "mg", ("three times daily",),
       course_days=(2, 3)),
    _M("ibuprofen", ("Advil", "Motrin"), ("400", "600"), "mg", ("three times daily",),
       course_days=(7, 10)),
    _M("senna", ("Senokot",), ("8.6", "17.2"), "mg", ("at bedtime",)),
    _M("sodium bicarbonate", (), ("650", "1300"), "mg", ("twice daily",)),
    _M("cholecalciferol", (), ("1000", "2000"), "units", ("once daily",)),
)}  # fmt: skip

# symptom as written in the note -> ways a summary may write it
SYMPTOMS: dict[str, tuple[str, ...]] = {
    "chest pain": ("chest pain", "CP"),
    "shortness of breath": ("shortness of breath", "SOB", "dyspnoea", "breathlessness"),
    "fever": ("fever", "fevers", "pyrexia"),
    "chills": ("chills", "rigors"),
    "productive cough": ("productive cough", "wet cough", "cough with sputum"),
    "palpitations": ("palpitations", "racing heart"),
    "dizziness": ("dizziness", "lightheadedness"),
    "syncope": ("syncope", "fainting", "blackout"),
    "nausea": ("nausea", "feeling sick"),
    "vomiting": ("vomiting", "emesis"),
    "diarrhea": ("diarrhea", "loose stools"),
    "abdominal pain": ("abdominal pain", "abdo pain", "belly pain"),
    "headache": ("headache", "HA"),
    "leg swelling": ("leg swelling", "swollen legs", "ankle oedema"),
    "orthopnea": ("orthopnea", "breathlessness lying flat"),
    "dysuria": ("dysuria", "painful urination", "burning on urination"),
    "urinary frequency": ("urinary frequency", "frequent urination"),
    "confusion": ("confusion", "acute confusion", "disorientation"),
    "generalized weakness": ("generalized weakness", "generalised weakness"),
    "fatigue": ("fatigue", "tiredness", "low energy"),
    "weight loss": ("weight loss", "losing weight"),
    "night sweats": ("night sweats", "sweating at night"),
    "hemoptysis": ("hemoptysis", "coughing up blood"),
    "melena": ("melena", "black stools", "tarry stools"),
    "joint pain": ("joint pain", "arthralgia"),
    "rash": ("rash", "skin rash"),
    "back pain": ("back pain", "low back pain"),
    "wheezing": ("wheezing", "wheeze"),
    "slurred speech": ("slurred speech", "dysarthria"),
    "blurred vision": ("blurred vision", "visual blurring"),
    "diaphoresis": ("diaphoresis", "sweating"),
    "tremor": ("tremor", "shakiness"),
    "myalgia": ("myalgia", "muscle aches"),
    "polyuria": ("polyuria", "passing a lot of urine"),
    "hip pain": ("hip pain", "pain in the hip"),
    "calf pain": ("calf pain", "pain in the calf"),
}

_E = Exclusion
EXCLUSIONS: dict[str, Exclusion] = {
    "pe": _E("pulmonary embolism", "PE", "CT pulmonary angiogram"),
    "dvt": _E("deep vein thrombosis", "DVT", "venous duplex ultrasound"),
    "mi": _E("myocardial infarction", "MI", "serial troponins"),
    "pneumonia": _E("pneumonia", "pneumonia", "chest X-ray"),
    "ich": _E("intracranial hemorrhage", "ICH", "CT head"),
    "dissection": _E("aortic dissection", "dissection", "CT angiogram"),
    "obstruction": _E("bowel obstruction", "obstruction", "CT abdomen"),
    "stone": _E("obstructing kidney stone", "obstructing stone", "CT urogram"),
    "abscess": _E("abscess", "abscess", "CT abdomen"),
    "soft tissue abscess": _E("abscess", "abscess", "soft-tissue ultrasound"),
    "meningitis": _E("meningitis", "meningitis", "lumbar puncture"),
    "uti": _E("urinary tract infection", "UTI", "urinalysis"),
    "fracture": _E("fracture", "fracture", "X-ray"),
    "sepsis": _E("sepsis", "sepsis", "blood cultures"),
    "gallstones": _E("gallstone disease", "gallstones", "abdominal ultrasound"),
    "arrhythmia": _E("sustained arrhythmia", "arrhythmia", "telemetry"),
    "septic arthritis": _E("septic arthritis", "septic arthritis", "joint aspiration"),
}

_F = Finding
FINDINGS: dict[str, Finding] = {f.key: f for f in (
    _F("knee effusion", "knee", ("{side} knee effusion", "effusion of the {side} knee"),
       ("{side} knee effusion", "effusion in the {side} knee", "{S} knee effusion")),
    _F("basal crackles", "lung", ("crackles at the {side} lung base", "{side} lower lobe crackles",
                                  "{S} lower lobe crackles"),
       ("{side} basal crackles", "crackles at the {side} base", "{S} base crackles")),
    _F("reduced air entry", "lung", ("decreased breath sounds on the {side}",
                                     "reduced air entry at the {side} base"),
       ("reduced breath sounds on the {side}", "decreased air entry {side} base")),
    _F("pleural effusion", "lung", ("small {side} pleural effusion on chest X-ray",
                                    "a small {side} pleural effusion on the chest X-ray"),
       ("small {side} pleural effusion", "{S} pleural effusion on CXR")),
    _F("consolidation", "lung", ("{side} lower lobe consolidation on chest X-ray",
                                 "{side} lower lobe infiltrate on chest X-ray"),
       ("{side} lower lobe consolidation", "{S}LL infiltrate on CXR")),
    _F("rhonchi", "lung", ("{side} upper lobe rhonchi", "rhonchi over the {side} upper lobe"),
       ("rhonchi over the {side} upper lobe", "{S} upper zone rhonchi")),
    _F("calf swelling", "leg", ("{side} calf swelling and tenderness",
                                "swelling of the {side} calf"),
       ("{side} calf swelling", "swollen {side} calf", "{S} calf swelling")),
    _F("leg edema", "leg", ("{side} lower extremity pitting edema",
                            "pitting edema of the {side} leg"),
       ("{side} leg oedema", "pitting edema {side} leg", "{S} leg swelling")),
    _F("leg erythema", "leg", ("erythema and warmth of the {side} lower leg",
                               "{side} shin erythema with warmth"),
       ("red, warm {side} lower leg", "erythema of the {side} shin", "{S} leg erythema")),
    _F("facial droop", "face", ("{side} facial droop", "{side}-sided facial droop"),
       ("{side} facial droop", "{side} facial weakness", "{S} facial droop")),
    _F("hemiparesis", "limbs", ("{side}-sided weakness of the arm and leg", "{side} hemiparesis"),
       ("{side} hemiparesis", "weakness of the {side} arm and leg", "{S} hemiparesis")),
    _F("arm numbness", "arm", ("reduced sensation in the {side} arm", "{side} arm numbness"),
       ("{side} arm numbness", "decreased sensation in the {side} arm")),
    _F("CVA tenderness", "flank", ("{side} costovertebral angle tenderness",
                                   "{side} CVA tenderness"),
       ("{side} CVA tenderness", "{side} flank tenderness", "{S} loin tenderness")),
    _F("quadrant tenderness", "abdomen", ("{side} lower quadrant tenderness",
                                          "tenderness in the {side} lower quadrant"),
       ("{S}LQ tenderness", "{side} lower quadrant tenderness", "tender {side} iliac fossa")),
    _F("hydronephrosis", "kidney", ("mild {side} hydronephrosis on ultrasound",),
       ("mild {side} hydronephrosis", "{S} hydronephrosis on US")),
    _F("carotid bruit", "neck", ("{side} carotid bruit", "a bruit over the {side} carotid"),
       ("{side} carotid bruit", "bruit over the {side} carotid")),
    _F("hip tenderness", "hip", ("tenderness over the {side} hip", "{side} hip tenderness"),
       ("{side} hip tenderness", "tender {side} hip", "{S} hip tenderness")),
    _F("hip wound", "hip", ("a clean, dry surgical wound over the {side} hip",),
       ("{side} hip wound clean and dry", "clean {side} hip incision")),
    _F("shoulder movement", "shoulder", ("reduced range of motion of the {side} shoulder",),
       ("limited {side} shoulder movement", "reduced ROM {side} shoulder")),
    _F("tympanic membrane", "ear", ("a bulging {side} tympanic membrane",),
       ("bulging {side} TM", "{side} tympanic membrane bulging")),
    _F("toe joint swelling", "toe", ("a red, swollen {side} first metatarsophalangeal joint",
                                     "swelling of the {side} big toe joint"),
       ("{side} first MTP swelling", "swollen {side} big toe joint")),
    _F("ankle swelling", "ankle", ("{side} ankle swelling", "a swollen {side} ankle"),
       ("swollen {side} ankle", "{side} ankle swelling", "{S} ankle swelling")),
    _F("heel ulcer", "heel", ("a shallow ulcer on the {side} heel", "{side} heel pressure ulcer"),
       ("{side} heel ulcer", "pressure sore on the {side} heel")),
    _F("axillary node", "axilla", ("a palpable {side} axillary lymph node",
                                   "{side} axillary lymphadenopathy"),
       ("{side} axillary node", "{side} axillary lymphadenopathy")),
    _F("inguinal nodes", "groin", ("tender {side} inguinal lymph nodes",),
       ("tender {side} inguinal nodes", "{S} inguinal lymphadenopathy")),
    _F("wrist swelling", "wrist", ("a swollen, warm {side} wrist",),
       ("{side} wrist swelling", "warm swollen {side} wrist")),
    _F("sluggish pupil", "eye", ("a sluggish {side} pupil",),
       ("sluggish {side} pupil", "{side} pupil slow to react")),
    _F("visual field cut", "eye", ("a {side} visual field cut",),
       ("{side} visual field deficit", "{side} field cut")),
    _F("flank bruising", "flank", ("ecchymosis over the {side} flank",),
       ("bruising over the {side} flank", "{side} flank bruise")),
    _F("elbow bursitis", "elbow", ("{side} olecranon bursitis", "swelling over the {side} elbow"),
       ("{side} elbow bursitis", "swollen {side} elbow")),
)}  # fmt: skip

# findings an unrelated exam may add to any note
INCIDENTAL_FINDINGS = (
    "knee effusion", "shoulder movement", "carotid bruit", "heel ulcer", "ankle swelling",
    "axillary node", "tympanic membrane", "elbow bursitis", "wrist swelling",
)  # fmt: skip

_L = Lab
LABS: dict[str, Lab] = {lab.name: lab for lab in (
    _L("creatinine", "Cr", "mg/dL", 0.6, 3.2, 1),
    _L("potassium", "K", "mmol/L", 3.1, 5.6, 1),
    _L("sodium", "Na", "mmol/L", 126, 146, 0),
    _L("hemoglobin", "Hb", "g/dL", 7.1, 15.8, 1),
    _L("WBC", "WCC", "K/uL", 3.2, 21.5, 1),
    _L("glucose", "BG", "mg/dL", 72, 390, 0),
    _L("HbA1c", "A1c", "%", 5.4, 11.8, 1),
    _L("troponin", "trop", "ng/L", 4, 880, 0),
    _L("BNP", "BNP", "pg/mL", 45, 2400, 0),
    _L("INR", "INR", "", 0.9, 3.8, 1),
    _L("CRP", "CRP", "mg/L", 3, 260, 0),
    _L("ALT", "ALT", "U/L", 11, 240, 0),
    _L("lactate", "lactate", "mmol/L", 0.7, 4.6, 1),
    _L("magnesium", "Mg", "mg/dL", 1.3, 2.6, 1),
    _L("TSH", "TSH", "mIU/L", 0.3, 9.8, 1),
    _L("platelets", "plt", "K/uL", 62, 430, 0),
    _L("albumin", "alb", "g/dL", 2.3, 4.6, 1),
    _L("bilirubin", "bili", "mg/dL", 0.3, 4.4, 1),
    _L("lipase", "lipase", "U/L", 18, 1900, 0),
    _L("BUN", "urea", "mg/dL", 8, 64, 0),
    _L("uric acid", "urate", "mg/dL", 4.1, 11.9, 1),
    _L("procalcitonin", "PCT", "ng/mL", 0.1, 8.9, 1),
    _L("ammonia", "ammonia", "umol/L", 18, 140, 0),
    _L("ferritin", "ferritin", "ng/mL", 6, 480, 0),
    _L("D-dimer", "D-dimer", "ng/mL", 180, 4200, 0),
)}  # fmt: skip

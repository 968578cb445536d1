"""Clinical knowledge the simulator draws from: plain data, no logic.

Weights in `(weight, ...)` tuples are relative frequencies for random choice.
"""

from __future__ import annotations

from dataclasses import dataclass

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

# SELENA-SLEDAI descriptors and their weights: specs/instruments.yaml (sdtm_lupus.specs.sledai_weights).
SEROLOGY = ("LOWCOMP", "DNABIND")

# BILAG-2004 systems in export order and the SLEDAI descriptors that drive them here.
BILAG_ITEMS: dict[str, tuple[str, ...]] = {
    "CONST": ("FEVER",),
    "MUCOCUT": ("RASH", "ALOPECIA", "MUCOSAL", "VASCULIT"),
    "NEURO": ("SEIZURE", "PSYCHOSIS", "ORGBRAIN", "CRANIAL", "LUPUSHA", "CVA"),
    "MUSCULO": ("ARTHRIT", "MYOSITIS"),
    "CARDRESP": ("PLEURISY", "PERICARD"),
    "GASTRO": (),
    "OPHTHAL": ("VISUAL",),
    "RENAL": ("UCASTS", "HEMATUR", "PROTEIN", "PYURIA"),
    "HAEM": ("THROMBO", "LEUKOPEN"),
}
SYSTEM_OF = {item: system for system, items in BILAG_ITEMS.items() for item in items}
# Probability that a system was involved before the study (graded D when inactive, else E).
BILAG_HISTORY = {"CONST": .25, "MUCOCUT": .6, "NEURO": .04, "MUSCULO": .6, "CARDRESP": .15,
                 "GASTRO": .03, "OPHTHAL": .02, "RENAL": .3, "HAEM": .35}

# Clinical descriptor sets at baseline: "low" (NCT04515719: SELENA-SLEDAI <= 6, no BILAG A,
# <= 1 B) and "active" (NCT04893161: typically 8-12 with serology).
BASELINE_PATTERNS: dict[str, tuple[tuple[int, tuple[str, ...]], ...]] = {
    "low": ((8, ()), (4, ("RASH",)), (3, ("ALOPECIA",)), (2, ("MUCOSAL",)), (3, ("ARTHRIT",)),
            (2, ("RASH", "ALOPECIA")), (1, ("RASH", "MUCOSAL")), (2, ("LEUKOPEN",)), (1, ("THROMBO",))),
    "active": ((5, ("ARTHRIT", "RASH")), (4, ("ARTHRIT", "RASH", "ALOPECIA")), (3, ("PROTEIN", "HEMATUR")),
               (2, ("PROTEIN",)), (3, ("ARTHRIT", "MUCOSAL")), (2, ("RASH", "ALOPECIA", "MUCOSAL")),
               (2, ("ARTHRIT", "RASH", "MUCOSAL", "ALOPECIA")), (2, ("PROTEIN", "PYURIA", "RASH")),
               (2, ("ARTHRIT", "PLEURISY")), (2, ("THROMBO", "RASH", "ARTHRIT")), (1, ("VASCULIT",)),
               (1, ("ARTHRIT", "LEUKOPEN", "ALOPECIA"))),
}
SEROLOGY_RATE = {"low": .45, "active": .75}   # per serology descriptor at baseline
# Descriptors that may appear spontaneously between visits (small, no flare by themselves).
MINOR_ITEMS = ("RASH", "ALOPECIA", "MUCOSAL", "LEUKOPEN", "THROMBO")


@dataclass(frozen=True)
class FlareType:
    weight: int
    items: tuple[str, ...]
    system_a: str | None        # BILAG system graded A while it lasts (severe flares)
    ae: str | None              # AE_TERMS key reported with it (SLE manifestation)


MILD_FLARES = (
    FlareType(5, ("ARTHRIT",), None, "arthralgia"),
    FlareType(4, ("RASH", "MUCOSAL"), None, "rash"),
    FlareType(2, ("ARTHRIT", "FEVER"), None, "arthralgia"),
    FlareType(2, ("PLEURISY", "RASH"), None, None),
    FlareType(2, ("ALOPECIA", "RASH", "MUCOSAL"), None, "oral_ulcer"),
)
SEVERE_FLARES = (
    FlareType(5, ("PROTEIN", "HEMATUR", "UCASTS"), "RENAL", "lupus_nephritis"),
    FlareType(2, ("VASCULIT", "RASH"), "MUCOCUT", "sle_flare"),
    FlareType(2, ("THROMBO", "ARTHRIT"), "HAEM", "thrombocytopenia"),
    FlareType(1, ("MYOSITIS", "ARTHRIT"), "MUSCULO", "sle_flare"),
    FlareType(1, ("LUPUSHA",), "NEURO", "sle_flare"),
    FlareType(1, ("PLEURISY", "PERICARD", "FEVER"), "CARDRESP", "sle_flare"),
)


@dataclass(frozen=True)
class Profile:
    """Course of one study's population (not in the study YAML: simulation only)."""
    activity: str                     # BASELINE_PATTERNS key
    sites: int | None                 # number of sites; None: about one per 40 subjects
    flare_rate: dict[str, float]      # probability of a flare per 28 days, by ARMCD
    resolve: dict[str, float]         # per-28-day chance an active clinical descriptor resolves
    serology_clears: dict[str, float]  # per-28-day chance a serology descriptor normalises
    taper: dict[str, float]           # chance of a glucocorticoid taper step at a quiet visit
    pred_start: tuple[float, ...]     # baseline prednisone-equivalent mg/day to choose from
    b_cell_fall: dict[str, float]     # fraction of CD19+ B cells lost by week 24


PROFILES = {
    "NCT04515719": Profile(
        activity="low", sites=None, flare_rate={"BEL2": .022, "PBO": .042},
        resolve={"BEL2": .3, "PBO": .2}, serology_clears={"BEL2": .06, "PBO": .02},
        taper={"BEL2": .3, "PBO": .2}, pred_start=(0, 2.5, 5, 5, 5, 7.5, 7.5, 10, 10, 12.5, 15, 20),
        b_cell_fall={"BEL2": .3, "PBO": 0}),
    "NCT04893161": Profile(
        activity="active", sites=1, flare_rate={"BEL10": .025}, resolve={"BEL10": .3},
        serology_clears={"BEL10": .08}, taper={"BEL10": .45},
        pred_start=(5, 7.5, 10, 10, 15, 15, 20, 20, 25, 30, 40), b_cell_fall={"BEL10": .5}),
}
DEFAULT_PROFILE = PROFILES["NCT04893161"]

# Glucocorticoid taper ladder (prednisone-equivalent mg/day); doses step down one rung.
PRED_LADDER = (0, 2.5, 5, 7.5, 10, 12.5, 15, 20, 25, 30, 40, 50, 60)

# Oral glucocorticoids: (weight, verbatim, prednisone factor, other-script verbatim).
GLUCOCORTICOIDS = (
    (5, "Prednisone", 1.0, "泼尼松"),
    (3, "泼尼松", 1.0, "Prednisone"),
    (2, "Prednisolone", 1.0, "Prednisolone"),
    (2, "Methylprednisolone", 1.25, "甲泼尼龙"),
    (2, "甲泼尼龙", 1.25, "Methylprednisolone"),
)
PULSE = ("Methylprednisolone", "甲泼尼龙")   # 500 mg IV ONCE, severe flares


@dataclass(frozen=True)
class Med:
    names: tuple[str, ...]        # verbatim spellings (English, Chinese)
    cmclass: str
    regimens: tuple[tuple[str, str, str], ...]   # (dose, frequency, route)


HCQ = Med(("Hydroxychloroquine", "羟氯喹"), "ANTIMALARIAL", (("200", "BID", "Oral"), ("200", "QD", "Oral")))
IMMUNOSUPPRESSANTS = (
    (4, Med(("Mycophenolate mofetil", "吗替麦考酚酯"), "IMMUNOSUPPRESSANT",
            (("500", "BID", "Oral"), ("750", "BID", "Oral"), ("1000", "BID", "Oral")))),
    (2, Med(("Azathioprine", "硫唑嘌呤"), "IMMUNOSUPPRESSANT", (("50", "QD", "Oral"), ("50", "BID", "Oral")))),
    (2, Med(("Tacrolimus", "他克莫司"), "IMMUNOSUPPRESSANT", (("1", "BID", "Oral"), ("1.5", "BID", "Oral")))),
    (1, Med(("Methotrexate", "甲氨蝶呤"), "IMMUNOSUPPRESSANT", (("10", "QW", "Oral"), ("15", "QW", "Oral")))),
)
MMF_NEPHRITIS = Med(("Mycophenolate mofetil", "吗替麦考酚酯"), "IMMUNOSUPPRESSANT", (("1000", "BID", "Oral"),))
NSAID_HEADACHE = Med(("Ibuprofen",), "NSAID", (("400", "TID", "Oral"), ("200", "BID", "Oral")))
NSAID_ARTHRITIS = Med(("Celecoxib",), "NSAID", (("200", "QD", "Oral"), ("200", "BID", "Oral")))
AMLODIPINE = Med(("Amlodipine",), "OTHER", (("5", "QD", "Oral"), ("10", "QD", "Oral")))


@dataclass(frozen=True)
class AeTerm:
    en: str
    zh: str
    llt: str
    pt: str
    hlt: str
    hlgt: str
    soc: str
    days: tuple[int, int]                 # duration range
    grades: tuple[int, int, int, int]     # relative weights of CTCAE grades 1..4
    rel: tuple[int, int, int, int, int]   # weights: Not/Unlikely/Possibly/Probably related/Related
    infection: bool = False


_INF = "Infections and infestations"
AE_TERMS: dict[str, AeTerm] = {
    "urti": AeTerm("Upper respiratory tract infection", "上呼吸道感染", "Upper respiratory tract infection",
                   "Upper respiratory tract infection", "Upper respiratory tract infections",
                   "Infections - pathogen unspecified", _INF, (4, 14), (60, 35, 5, 0), (2, 4, 4, 1, 0), True),
    "uti": AeTerm("Urinary tract infection", "尿路感染", "Urinary tract infection", "Urinary tract infection",
                  "Urinary tract infections", "Infections - pathogen unspecified", _INF, (5, 14),
                  (40, 50, 10, 0), (3, 4, 3, 0, 0), True),
    "pneumonia": AeTerm("Pneumonia", "肺炎", "Pneumonia", "Pneumonia", "Lower respiratory tract and lung infections",
                        "Infections - pathogen unspecified", _INF, (10, 28), (0, 20, 70, 10), (1, 3, 4, 1, 0), True),
    "zoster": AeTerm("Herpes zoster", "带状疱疹", "Herpes zoster", "Herpes zoster", "Herpes viral infections",
                     "Viral infectious disorders", _INF, (10, 30), (20, 60, 20, 0), (1, 2, 5, 2, 0), True),
    "headache": AeTerm("Headache", "头痛", "Headache", "Headache", "Headaches NEC", "Headaches",
                       "Nervous system disorders", (1, 5), (80, 20, 0, 0), (4, 4, 2, 0, 0)),
    "nausea": AeTerm("Nausea", "恶心", "Nausea", "Nausea", "Nausea and vomiting symptoms",
                     "Gastrointestinal signs and symptoms", "Gastrointestinal disorders", (1, 4), (85, 15, 0, 0),
                     (2, 3, 4, 1, 0)),
    "diarrhoea": AeTerm("Diarrhoea", "腹泻", "Diarrhea", "Diarrhoea", "Diarrhoea (excl infective)",
                        "Gastrointestinal motility and defaecation conditions", "Gastrointestinal disorders",
                        (2, 6), (75, 25, 0, 0), (2, 3, 4, 1, 0)),
    "infusion": AeTerm("Infusion related reaction", "输液反应", "Infusion related reaction",
                       "Infusion related reaction", "Infusion related reactions", "Administration site reactions",
                       "General disorders and administration site conditions", (1, 2), (70, 28, 2, 0),
                       (0, 0, 2, 4, 4)),
    "alt": AeTerm("ALT increased", "转氨酶升高", "ALT increased", "Alanine aminotransferase increased",
                  "Liver function analyses", "Hepatobiliary investigations", "Investigations", (14, 42),
                  (70, 25, 5, 0), (1, 3, 4, 1, 0)),
    "leukopenia": AeTerm("Leukopenia", "白细胞减少", "Leukopenia", "Leukopenia", "Leukopenias NEC",
                         "White blood cell disorders", "Blood and lymphatic system disorders", (7, 28),
                         (40, 50, 10, 0), (2, 3, 4, 1, 0)),
    "insomnia": AeTerm("Insomnia", "失眠", "Insomnia", "Insomnia", "Disturbances in initiating and maintaining sleep",
                       "Sleep disorders and disturbances", "Psychiatric disorders", (7, 60), (80, 20, 0, 0),
                       (4, 4, 2, 0, 0)),
    "hypertension": AeTerm("Hypertension", "高血压", "Hypertension", "Hypertension",
                           "Vascular hypertensive disorders NEC", "Vascular hypertensive disorders",
                           "Vascular disorders", (30, 120), (30, 60, 10, 0), (5, 4, 1, 0, 0)),
    # SLE manifestations (AESLE Yes when reported with a flare)
    "arthralgia": AeTerm("Arthralgia", "关节痛", "Arthralgia", "Arthralgia", "Joint related signs and symptoms",
                         "Joint disorders", "Musculoskeletal and connective tissue disorders", (7, 40),
                         (50, 45, 5, 0), (6, 3, 1, 0, 0)),
    "rash": AeTerm("Rash", "皮疹", "Rash", "Rash", "Rashes, eruptions and exanthems NEC",
                   "Epidermal and dermal conditions", "Skin and subcutaneous tissue disorders", (7, 40),
                   (55, 40, 5, 0), (6, 3, 1, 0, 0)),
    "oral_ulcer": AeTerm("Oral ulcer", "口腔溃疡", "Oral ulcer", "Mouth ulceration", "Stomatitis and ulceration",
                         "Oral soft tissue conditions", "Gastrointestinal disorders", (5, 21), (70, 30, 0, 0),
                         (6, 3, 1, 0, 0)),
    "lupus_nephritis": AeTerm("Lupus nephritis", "狼疮性肾炎", "Lupus nephritis", "Lupus nephritis",
                              "Lupus erythematosus and associated conditions",
                              "Connective tissue disorders (excl congenital)",
                              "Musculoskeletal and connective tissue disorders", (30, 120), (0, 20, 75, 5),
                              (7, 3, 0, 0, 0)),
    "sle_flare": AeTerm("SLE flare", "狼疮复发", "SLE flare", "Systemic lupus erythematosus",
                        "Lupus erythematosus and associated conditions",
                        "Connective tissue disorders (excl congenital)",
                        "Musculoskeletal and connective tissue disorders", (14, 60), (0, 30, 65, 5),
                        (7, 3, 0, 0, 0)),
    "thrombocytopenia": AeTerm("Thrombocytopenia", "血小板减少", "Thrombocytopenia", "Thrombocytopenia",
                               "Thrombocytopenias", "Platelet disorders", "Blood and lymphatic system disorders",
                               (14, 60), (10, 30, 50, 10), (7, 3, 0, 0, 0)),
    "sepsis": AeTerm("Sepsis", "脓毒症", "Sepsis", "Sepsis", "Sepsis, bacteraemia, viraemia and fungaemia NEC",
                     "Infections - pathogen unspecified", _INF, (3, 14), (0, 0, 0, 1), (1, 2, 3, 1, 0), True),
}
# Background adverse events (not linked to a flare): (weight, AE_TERMS key).
BACKGROUND_AES = ((20, "urti"), (8, "uti"), (10, "headache"), (6, "nausea"), (5, "diarrhoea"), (6, "infusion"),
                  (3, "zoster"), (2, "pneumonia"), (3, "leukopenia"), (3, "alt"), (2, "insomnia"),
                  (2, "hypertension"), (3, "arthralgia"), (2, "rash"))
DROPOUT_AES = ("zoster", "pneumonia", "alt", "leukopenia")
AEREL = ("Not related", "Unlikely related", "Possibly related", "Probably related", "Related")

# Discontinuation reasons after randomisation: (weight, DSDECOD_SITE, ET visit held?)
DROPOUT_REASONS = ((30, "Adverse event", True), (25, "Withdrawal by subject", True),
                   (15, "Lost to follow-up", False), (15, "Lack of efficacy", True),
                   (12, "Physician decision", True), (3, "Death", False))
REASONS_NOT_GIVEN = ("Subject did not attend infusion appointment", "Drug supply interruption at site",
                     "Investigator decision, elevated temperature on the day")

LAB_A = "Central Hospital Laboratory"
LAB_B = "Regional Reference Laboratory, Shanghai"   # the comma makes the CSV quote the field


@dataclass(frozen=True)
class LabUnit:
    """A unit as one lab reports it. Reported value = canonical value x scale / the spec's
    factor of `cdisc` (specs/lab-tests.yaml: multiplier to the standard unit, which is x1)."""
    unit: str
    lo: str
    hi: str
    scale: float           # assay scaling (anti-dsDNA: IU/mL per ULN); 1 otherwise
    decimals: int
    below: float | None = None   # detection limit: smaller values are reported "<below"
    above: float | None = None   # upper limit of the assay: larger values are reported ">above"
    cdisc: str | None = None     # the CDISC spelling of `unit` when it differs (g/24h -> g/day)


@dataclass(frozen=True)
class LabTest:
    name: str
    cat: str
    spec: str                                # definition id in specs/lab-tests.yaml
    units: tuple[LabUnit, LabUnit | None]   # (lab A, lab B); None: lab B does not run it
    unscheduled: bool = True                # also drawn at unscheduled visits


# Canonical units: IU/mL x ULN for anti-dsDNA (the labs use different assays), else lab A's.
LAB_TESTS = (
    LabTest("Anti-dsDNA antibody", "IMMUNOLOGY", "DDNAIGAB", (LabUnit("IU/mL", "0", "100", 100, 1, below=10, above=800),
                                                               LabUnit("IU/mL", "0", "30", 30, 1))),
    LabTest("Complement C3", "IMMUNOLOGY", "C3", (LabUnit("g/L", "0.90", "1.80", 1, 2),
                                                  LabUnit("mg/dL", "90", "180", 1, 0))),
    LabTest("Complement C4", "IMMUNOLOGY", "C4", (LabUnit("g/L", "0.10", "0.40", 1, 2),
                                                  LabUnit("mg/dL", "10", "40", 1, 1))),
    LabTest("Platelets", "HAEMATOLOGY", "PLAT", (LabUnit("10^9/L", "125", "350", 1, 0),
                                                 LabUnit("10^9/L", "100", "300", 1, 0))),
    LabTest("WBC", "HAEMATOLOGY", "WBC", (LabUnit("10^9/L", "3.5", "9.5", 1, 2), LabUnit("10^9/L", "4.0", "10.0", 1, 1))),
    LabTest("Haemoglobin", "HAEMATOLOGY", "HGB", (LabUnit("g/L", "115", "150", 1, 0), LabUnit("g/L", "110", "160", 1, 0))),
    LabTest("Creatinine", "CHEMISTRY", "CREAT", (LabUnit("umol/L", "41", "73", 1, 0),
                                                 LabUnit("mg/dL", "0.50", "1.10", 1, 2))),
    LabTest("ALT", "CHEMISTRY", "ALT", (LabUnit("U/L", "7", "40", 1, 0), LabUnit("U/L", "0", "35", 1, 0)),
            unscheduled=False),
    LabTest("AST", "CHEMISTRY", "AST", (LabUnit("U/L", "13", "35", 1, 0), LabUnit("U/L", "0", "40", 1, 0)),
            unscheduled=False),
    LabTest("24h urine protein", "URINALYSIS", "PROT", (LabUnit("g/24h", "0", "0.15", 1, 2, cdisc="g/day"),
                                                        LabUnit("mg/24h", "0", "150", 1, 0, cdisc="mg/day"))),
    LabTest("Urine protein", "URINALYSIS", "PROTDIP", (LabUnit("", "", "", 1, 0), LabUnit("", "", "", 1, 0))),
    LabTest("CRP", "INFLAMMATION", "CRP", (LabUnit("mg/L", "0", "8", 1, 1, below=0.5), LabUnit("mg/L", "0", "10", 1, 1))),
    LabTest("ESR", "INFLAMMATION", "ESR", (LabUnit("mm/h", "0", "20", 1, 0), LabUnit("mm/h", "0", "26", 1, 0)),
            unscheduled=False),
    LabTest("CD19+ B cells", "B CELL PHENOTYPE", "BLYCE", (LabUnit("%", "6.0", "19.0", 1, 1), None), unscheduled=False),
    LabTest("Non-switched memory B cells (CD27+IgD+)", "B CELL PHENOTYPE", "BLYMNSW",
            (LabUnit("%", "5.0", "20.0", 1, 1), None), unscheduled=False),
)
QUALITATIVE = "Urine protein"   # dipstick: NEG / TRACE / POS
B_CELL_FOLDERS = ("WEEK 0", "WEEK 12", "WEEK 24", "WEEK 36", "WEEK 48", "EARLY TERMINATION")

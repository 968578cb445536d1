"""Trial design datasets TS, TA, TE, TV, TI from the study configuration (no raw rows).

Only TS's ACTSUB and SSTDTC look at data (DM). Elements: the first epoch and the follow-up
epoch (the one that starts after the last dose) have one element common to all arms; any
other epoch is treatment, with one element per arm (ETCD = ARMCD, ELEMENT = ARM), since
arms with different treatments have different elements. TI is written only when the study
configuration lists criteria. TS parameters that neither the configuration nor PROJECT
knows (AGEMIN, AGEMAX, ...) are omitted, never guessed. INTTYPE and PCLASS come from the study
configuration (PCLASS TSVALCD only when it gives the MED-RT code); COMPTRT is PLACEBO when an arm is.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from sdtm_lupus.config.study import Epoch, Study
from sdtm_lupus.sdtm.builder_state import MapState
from sdtm_lupus.specs import Terminology

SDTMIG_VERSION, SDTM_VERSION = "3.4", "2.0"      # SDTMIG 3.4 implements SDTM v2.0
# Facts common to this project's studies that the study configuration does not hold:
# TSPARMCD -> (TSVAL, TSVALCD, TSVCDREF)
PROJECT = {
    "INDIC": ("Systemic Lupus Erythematosus", "55464009", "SNOMED"),
    "STYPE": ("INTERVENTIONAL", None, None),
    "ADDON": ("Y", None, None),                   # belimumab on top of standard SLE therapy
    "SDTIGVER": (SDTMIG_VERSION, None, None),
    "SDTMVER": (SDTM_VERSION, None, None),
}
# TSPARMCD -> CDISC codelist whose NCI code becomes TSVALCD
VALUE_CODELISTS = {"TPHASE": "TPHASE", "TBLIND": "TBLIND", "STYPE": "STYPE", "INTMODEL": "INTMODEL",
                   "TCNTRL": "TCNTRL", "RANDOM": "NY", "INTTYPE": "INTTYPE", "ADDON": "NY", "DOSU": "UNIT", "DOSFRM": "FRM",
                   "ROUTE": "ROUTE", "DOSFRQ": "FREQ"}
# most common interval between planned infusions (days) -> FREQ term
FREQUENCIES = {7: "EVERY WEEK", 14: "Q2W", 21: "Q3W", 28: "Q4W"}
PLACEBO = "PLACEBO"


def build(state: MapState) -> dict[str, pd.DataFrame]:
    study = state.study
    out = {"TS": build_ts(study, state.ctx.specs.terminology, state.dm),
           "TA": build_ta(study), "TE": build_te(study), "TV": build_tv(study)}
    if study.criteria:
        out["TI"] = _frame(study, "TI", [{"IETESTCD": c.ietestcd, "IETEST": c.ietest, "IECAT": c.iecat}
                                         for c in study.criteria])
    return out


def _frame(study: Study, domain: str, records: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"STUDYID": study.studyid, "DOMAIN": domain, **r} for r in records])


# ----------------------------------------------------------------------------- TS

def ts_parameters(study: Study, terminology: Terminology, dm: pd.DataFrame | None) -> list[tuple]:
    """(TSPARMCD, TSVAL, TSGRPID) in the order written."""
    investigational = [a for a in study.arms if a.treatment != PLACEBO]
    params = [("TITLE", study.title, None), ("TPHASE", study.phase, None), ("TBLIND", study.blinding, None),
              ("RANDOM", "Y" if study.randomised else "N", None),
              ("TCNTRL", PLACEBO if len(investigational) < len(study.arms) else "NONE", None),
              ("NARMS", str(len(study.arms)), None), ("PLANSUB", str(study.planned_subjects), None)]
    design = {part.strip() for part in study.design.split(",")}
    params += [("INTMODEL", term, None) for term in terminology.codelists["INTMODEL"].terms if term in design]
    params += [("TRT", t, None) for t in dict.fromkeys(a.treatment for a in investigational)]
    if study.intervention_type:
        params.append(("INTTYPE", study.intervention_type, None))
    if study.pharmacologic_class:
        params.append(("PCLASS", study.pharmacologic_class.term, None))
    params += [("COMPTRT", a.treatment, None) for a in study.arms if a.treatment == PLACEBO][:1]
    for arm in study.arms:
        params += [("DOSE", f"{arm.dose:g}", arm.armcd), ("DOSU", arm.dose_unit, arm.armcd),
                   ("DOSFRM", arm.dose_form, arm.armcd), ("ROUTE", arm.route, arm.armcd)]
    if frequency := dosing_frequency(study):
        params.append(("DOSFRQ", frequency, None))
    if study.studyid.startswith("NCT"):
        params.append(("REGID", study.studyid, None))
    if dm is not None:
        params.append(("ACTSUB", str(int(dm["ARMCD"].notna().sum())), None))
        consent = dm["RFICDTC"].dropna()
        if len(consent):
            params.append(("SSTDTC", min(consent)[:10], None))
    params += [(code, value, None) for code, (value, _, _) in PROJECT.items()]
    return params


def dosing_frequency(study: Study) -> str | None:
    """The FREQ term of the most common interval between planned infusions (loading doses aside)."""
    days = sorted(v.target_day for v in study.visits if v.folder in study.dosing_folders)
    gaps = Counter(b - a for a, b in zip(days, days[1:]))
    return FREQUENCIES.get(gaps.most_common(1)[0][0]) if gaps else None


def build_ts(study: Study, terminology: Terminology, dm: pd.DataFrame | None) -> pd.DataFrame:
    parm_code = terminology.codelists["TSPARMCD"].terms
    parm_name = {code: name for name, code in terminology.codelists["TSPARM"].terms.items()}
    seq: Counter = Counter()
    records = []
    for code, value, group in ts_parameters(study, terminology, dm):
        seq[code] += 1
        valcd, ref, ver = _value_code(code, value, terminology, study)
        records.append({"TSSEQ": seq[code], "TSGRPID": group, "TSPARMCD": code, "TSPARM": parm_name[parm_code[code]],
                        "TSVAL": value, "TSVALCD": valcd, "TSVCDREF": ref, "TSVCDVER": ver})
    return _frame(study, "TS", records)


def _value_code(code: str, value: str, terminology: Terminology, study: Study) -> tuple:
    """(TSVALCD, TSVCDREF, TSVCDVER) of a parameter value, where a reference terminology codes it."""
    if code in PROJECT and PROJECT[code][1]:
        return PROJECT[code][1], PROJECT[code][2], None
    if code == "PCLASS":       # MED-RT, when the study configuration gives the concept code
        pclass = study.pharmacologic_class
        return (pclass.code, "MED-RT", pclass.version) if pclass.code else (None, None, None)
    if code == "REGID":
        return value, "ClinicalTrials.gov", None
    if code == "SSTDTC":
        return None, "ISO 8601", None
    codelist = terminology.codelists.get(VALUE_CODELISTS.get(code, ""))
    nci = codelist.terms.get(value) if codelist else None
    return (nci, "CDISC", terminology.version) if nci else (None, None, None)


# ----------------------------------------------------------------------------- TA, TE

def _roles(study: Study) -> dict[str, str]:
    """epoch -> first / treatment / follow-up (as derive_epoch reads the configuration)."""
    return {e.epoch: "first" if i == 0 else "follow-up" if e.starts_days_after_last_dose is not None
            else "treatment" for i, e in enumerate(study.epochs)}


def _element(study: Study, epoch: Epoch, arm) -> tuple[str, str]:
    """(ETCD, ELEMENT) of an epoch in an arm."""
    if _roles(study)[epoch.epoch] == "treatment":
        return arm.armcd, arm.arm
    return epoch.element, epoch.epoch.capitalize()


def build_ta(study: Study) -> pd.DataFrame:
    records = []
    for arm in study.arms:
        for order, epoch in enumerate(study.epochs, start=1):
            etcd, element = _element(study, epoch, arm)
            branch = f"Randomized to {arm.arm}" if study.randomised and order == 1 else None
            records.append({"ARMCD": arm.armcd, "ARM": arm.arm, "TAETORD": order, "ETCD": etcd, "ELEMENT": element,
                            "TABRANCH": branch, "TATRANS": None, "EPOCH": epoch.epoch})
    return _frame(study, "TA", records)


def build_te(study: Study) -> pd.DataFrame:
    roles = _roles(study)
    follow = next((e for e in study.epochs if roles[e.epoch] == "follow-up"), None)
    after = f"Day {follow.starts_days_after_last_dose} after the last infusion" if follow else None
    dosing = sorted(v.target_day for v in study.visits if v.folder in study.dosing_folders)
    treat_days = dosing[-1] - dosing[0] + (follow.starts_days_after_last_dose if follow else 1) if dosing else None
    fu_days = None
    if follow and dosing:
        fu_visits = [v.target_day for v in study.visits if v.epoch == follow.epoch]
        fu_start = dosing[-1] + follow.starts_days_after_last_dose
        fu_days = max(fu_visits) - fu_start + 1 if fu_visits else None
    rules = {"first": ("Informed consent", "First infusion of study treatment, or screen failure", None),
             "treatment": (None, after or "End of study participation", treat_days),
             "follow-up": (after, "End of study participation", fu_days)}
    records = {}
    for arm in study.arms:
        for epoch in study.epochs:
            etcd, element = _element(study, epoch, arm)
            start, end, days = rules[roles[epoch.epoch]]
            records.setdefault(etcd, {"ETCD": etcd, "ELEMENT": element,
                                      "TESTRL": start or f"First infusion of {arm.arm}", "TEENRL": end,
                                      "TEDUR": f"P{days}D" if days and days > 0 else None})
    return _frame(study, "TE", list(records.values()))


# ----------------------------------------------------------------------------- TV

def build_tv(study: Study) -> pd.DataFrame:
    records = []
    for v in study.visits:
        lo, hi = v.target_day + v.window[0], v.target_day + v.window[1]
        records.append({"VISITNUM": v.visitnum, "VISIT": v.visit, "VISITDY": v.target_day, "ARMCD": None,
                        "TVSTRL": f"On or after study day {lo} (target study day {v.target_day})",
                        "TVENRL": f"On or before study day {hi}"})
    et = study.early_termination
    records.append({"VISITNUM": et.visitnum, "VISIT": et.visit, "VISITDY": None, "ARMCD": None,
                    "TVSTRL": "Early termination of study participation", "TVENRL": None})
    return _frame(study, "TV", records)

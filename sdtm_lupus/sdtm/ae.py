"""AE (+ SUPPAE): one record per adverse event row of the `ae` form, MedDRA coding as the site sent it.

The MedDRA codes (AELLTCD, AEPTCD, AEHLTCD, AEHLGTCD, AEBDSYCD, AESOCCD) come from the optional code
columns of the ae form; an export without them leaves the code variables empty.

CTCAE grade goes to AETOXGR only (no AESEV); the investigator's SLE-manifestation flag goes to
SUPPAE (QNAM AESLEACT). The timing helpers here (definitely_before, ongoing end) are shared with CM.
"""

from __future__ import annotations

import pandas as pd

from sdtm_lupus.findings import Finding
from sdtm_lupus.readers.forms import ROW, Form
from sdtm_lupus.sdtm.builder_state import MapState
from sdtm_lupus.sdtm.map_context import SRCROW, MapContext
from sdtm_lupus.sdtm.supp import Qualifier, build_supp
from sdtm_lupus.sdtm.timing import derive_seq, period_bounds

FORM = "ae"
ONGOING, END_OF_STUDY = "ONGOING", "END OF STUDY"
SUPPAE_QUALIFIERS = [Qualifier(qnam="AESLEACT", qlabel="SLE Disease Activity Manifestation", column="AESLE",
                               qeval="INVESTIGATOR")]
# AE variable <- cleaned ae column, taken as collected (codes already mapped through the mapping's value maps).
AE_COLUMNS = {"AESPID": "AESPID", "AETERM": "AETERM", "AELLT": "AELLT", "AEDECOD": "AEPT", "AEHLT": "AEHLT",
              "AEHLGT": "AEHLGT", "AEBODSYS": "AESOC", "AESOC": "AESOC", "AESER": "AESER", "AEACN": "AEACN",
              "AEREL": "AEREL", "AEOUT": "AEOUT", "AESHOSP": "AESHOSP", "AETOXGR": "AETOXGR",
              "AESTDTC": "AESTDAT", "AEENDTC": "AEENDAT",
              # MedDRA codes: optional columns of the ae form (specs/raw-forms.yaml), digits read as numbers
              "AELLTCD": "AELLTCD", "AEPTCD": "AEPTCD", "AEHLTCD": "AEHLTCD", "AEHLGTCD": "AEHLGTCD",
              "AEBDSYCD": "AESOCCD", "AESOCCD": "AESOCCD"}


def build(state: MapState) -> dict[str, pd.DataFrame]:
    if not state.has(FORM):
        return {}
    form, raw = state.forms[FORM], state.cleaned(FORM)
    report_meddra_versions(state)
    ae = build_ae(raw, state)
    check_ae(raw, ae, form, state)
    supp = build_supp(ae.assign(AESLE=raw["AESLE"]), "AE", SUPPAE_QUALIFIERS, "AESEQ")
    return {"AE": ae, "SUPPAE": supp} if len(supp) else {"AE": ae}


def build_ae(raw: pd.DataFrame, state: MapState) -> pd.DataFrame:
    ae = pd.DataFrame({"STUDYID": state.study.studyid, "DOMAIN": "AE", "USUBJID": raw["USUBJID"]}, index=raw.index)
    for variable, column in AE_COLUMNS.items():
        ae[variable] = raw[column]
    ongoing = raw["AEONGO"].eq("Y") & raw["AEENDAT"].isna()
    ae["AEENRTPT"], ae["AEENTPT"] = ongoing_end(ongoing)
    add_timing(ae, "AE", state)
    ae = ae.assign(**state.provenance(raw, FORM))
    ae["AESEQ"] = derive_seq(ae, ["AESTDTC", "AETERM", SRCROW])
    return ae


# ---------------------------------------------------------------- shared with CM

def ongoing_end(ongoing: pd.Series) -> tuple[pd.Series, pd.Series]:
    """--ENRTPT / --ENTPT of records still going on at the end of the study."""
    return (pd.Series(ONGOING, index=ongoing.index, dtype=object).where(ongoing, None),
            pd.Series(END_OF_STUDY, index=ongoing.index, dtype=object).where(ongoing, None))


def add_timing(df: pd.DataFrame, prefix: str, state: MapState) -> None:
    """EPOCH of the start (a partial start: the epoch its whole period falls in; none when the period
    may begin before informed consent, since no epoch precedes consent), --STDY and --ENDY (partial
    dates give none)."""
    start, end, usubjid = df[f"{prefix}STDTC"], df[f"{prefix}ENDTC"], df["USUBJID"]
    epoch = state.epoch(start, usubjid)
    earliest, _ = period_bounds(start)
    df["EPOCH"] = epoch.where(~definitely_before(earliest, state.ref(usubjid, "RFICDTC")), None)
    df[f"{prefix}STDY"] = state.study_day(start, usubjid)
    df[f"{prefix}ENDY"] = state.study_day(end, usubjid)


def definitely_before(a: pd.Series, b: pd.Series) -> pd.Series:
    """True where ISO date a (possibly partial) is surely earlier than b, compared at their common precision."""
    def before(x, y) -> bool:
        if not isinstance(x, str) or not isinstance(y, str):
            return False
        n = min(len(x), len(y), 10)
        return x[:n] < y[:n]
    return pd.Series([before(x, y) for x, y in zip(a, b)], index=a.index, dtype=bool)


def report_duplicates(df: pd.DataFrame, keys: list[str], rule: str, form: Form, column: str,
                      ctx: MapContext) -> None:
    """A notice per record repeating an earlier record's natural key (a possible double entry)."""
    repeated = df.duplicated(keys, keep="first") & df[keys].notna().all(axis=1)
    rows = form.data.loc[repeated[repeated].index, ["SUBJID", column, ROW]]
    what = ", ".join(keys[1:])
    ctx.report(rule, "notice", f"same {what} as an earlier record (possible double entry); both kept",
               form, column, rows)


# ---------------------------------------------------------------- checks and MedDRA

def check_ae(raw: pd.DataFrame, ae: pd.DataFrame, form: Form, state: MapState) -> None:
    """Row findings: dates in the wrong order, ongoing with an end date, seriousness, before consent."""
    consent = state.ref(ae["USUBJID"], "RFICDTC")
    checks = [
        ("AE-NOT-CODED", "warning", "AEPT", raw["AEPT"].isna(),
         "no MedDRA preferred term for {AETERM!r}: AEDECOD (required) is null"),
        ("AE-END-BEFORE-START", "warning", "AEENDAT",
         definitely_before(ae["AEENDTC"], ae["AESTDTC"]), "end date {value!r} is before start date {AESTDAT!r}"),
        ("AE-ONGOING-WITH-END", "warning", "AEONGO",
         raw["AEONGO"].eq("Y") & raw["AEENDAT"].notna(), "AEONGO {value!r} but end date {AEENDAT!r} given: end date kept"),
        ("AE-SER-NO-CRITERION", "notice", "AESER",
         raw["AESER"].eq("Y") & raw["AESHOSP"].ne("Y"),
         "serious event without a seriousness criterion (only AESHOSP is collected; AESHOSP {AESHOSP!r})"),
        ("AE-BEFORE-CONSENT", "warning", "AESTDAT",
         definitely_before(ae["AESTDTC"], consent),
         "start date {value!r} is before informed consent: medical history rather than an AE?"),
    ]
    for rule, severity, column, mask, message in checks:
        rows = form.data.loc[mask[mask].index]
        state.ctx.report(rule, severity, message, form, column, rows)
    report_duplicates(ae, ["USUBJID", "AEDECOD", "AESTDTC"], "AE-DUPLICATE", form, "AETERM", state.ctx)


def meddra_versions(state: MapState) -> set[str]:
    """MedDRA versions the site coded the AE form with."""
    return set(state.cleaned(FORM)["MEDDRA_VER"].dropna().str.strip()) - {""}


def report_meddra_versions(state: MapState) -> None:
    versions = sorted(meddra_versions(state))
    state.cache["meddra_versions"] = versions
    if not versions:
        return
    several = len(versions) > 1
    state.ctx.findings.append(Finding(
        rule="AE-MEDDRA-VERSIONS" if several else "AE-MEDDRA-VERSION", severity="warning" if several else "notice",
        dataset=FORM, variable="MEDDRA_VER", file=state.file(FORM), value=", ".join(versions),
        message=(f"AE coded with several MedDRA versions ({', '.join(versions)}): recode to one version"
                 if several else f"AE coded with MedDRA version {versions[0]}")))

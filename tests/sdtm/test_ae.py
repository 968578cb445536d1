"""AE + SUPPAE mapping: each rule with a literal example (subject dosed 05-MAR-2021, consent 01-MAR-2021)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sdtm_lupus.sdtm import map_sdtm
from sdtm_lupus.sdtm.ae import definitely_before
from tests.sdtm.builders import context, dose_row, enrol_row, form

SUBJ = "01-0001"


def ae_row(**kw) -> dict:
    row = {"SITEID": "01", "SUBJID": SUBJ, "AESPID": "1", "AETERM": "Headache", "AELLT": "Headache",
           "AEPT": "Headache", "AESOC": "Nervous system disorders", "AEHLT": "Headaches NEC", "AEHLGT": "Headaches",
           "MEDDRA_VER": "26.0", "AESTDAT": "10-MAR-2021", "AEENDAT": "12-MAR-2021", "AEONGO": "No",
           "AETOXGR": "1", "AESER": "No", "AESHOSP": "No", "AESLE": "No", "AEREL": "Not related",
           "AEACN": "Dose not changed", "AEOUT": "Recovered/resolved"}
    return row | kw


def run(ae_rows):
    ctx = context()
    forms = {"enrol": form("enrol", [enrol_row(SUBJ)]),
             "dosing": form("dosing", [dose_row(SUBJ, "WEEK 0", "05-MAR-2021"), dose_row(SUBJ, "WEEK 2", "19-MAR-2021")]),
             "ae": form("ae", ae_rows)}
    return map_sdtm(forms, ctx), ctx


def ae_findings(ctx):
    return [f for f in ctx.findings if f.rule.startswith("AE-") and f.rule != "AE-MEDDRA-VERSION"]


@pytest.mark.parametrize("case, row, expected", [
    ("coded as sent, timing", {"AETERM": "Diarrhea", "AEPT": "Diarrhoea", "AELLT": "Diarrhea",
                               "AESOC": "Gastrointestinal disorders", "AETOXGR": "2", "AEREL": "Possibly related"},
     {"AETERM": "Diarrhea", "AEDECOD": "Diarrhoea", "AELLT": "Diarrhea", "AEBODSYS": "Gastrointestinal disorders",
      "AESOC": "Gastrointestinal disorders", "AEHLT": "Headaches NEC", "AEHLGT": "Headaches", "AETOXGR": "2",
      "AEREL": "POSSIBLY RELATED", "AEACN": "DOSE NOT CHANGED", "AEOUT": "RECOVERED/RESOLVED", "AESER": "N",
      "AESHOSP": "N", "AESPID": "1", "AESTDTC": "2021-03-10", "AEENDTC": "2021-03-12", "AESTDY": 6.0,
      "AEENDY": 8.0, "EPOCH": "TREATMENT", "AEENRTPT": None, "AEENTPT": None}),
    ("ongoing", {"AEENDAT": "", "AEONGO": "Yes", "AEOUT": "Not recovered/not resolved"},
     {"AEENDTC": None, "AEENDY": None, "AEENRTPT": "ONGOING", "AEENTPT": "END OF STUDY",
      "AEOUT": "NOT RECOVERED/NOT RESOLVED"}),
    ("partial start spanning epochs: no study day, no epoch", {"AESTDAT": "UN-MAR-2021"},
     {"AESTDTC": "2021-03", "AESTDY": None, "EPOCH": None, "AEENDY": 8.0}),
    ("partial start in one epoch: its epoch (CORE-000701)", {"AESTDAT": "UN-APR-2021", "AEENDAT": ""},
     {"AESTDTC": "2021-04", "AESTDY": None, "EPOCH": "FOLLOW-UP"}),
    ("partial end kept partial", {"AEENDAT": "UN-APR-2021"}, {"AEENDTC": "2021-04", "AEENDY": None}),
    ("before first dose: negative day, screening", {"AESTDAT": "03-MAR-2021"},
     {"AESTDY": -2.0, "EPOCH": "SCREENING"}),
    ("Chinese verbatim kept, English PT", {"AETERM": "上呼吸道感染", "AEPT": "Upper respiratory tract infection"},
     {"AETERM": "上呼吸道感染", "AEDECOD": "Upper respiratory tract infection"}),
    ("serious, hospitalised, grade 3", {"AESER": "Yes", "AESHOSP": "Yes", "AETOXGR": "3", "AEACN": "Drug interrupted"},
     {"AESER": "Y", "AESHOSP": "Y", "AETOXGR": "3", "AEACN": "DRUG INTERRUPTED"}),
])
def test_ae_variables(case, row, expected):
    out, ctx = run([ae_row(**row)])
    rec = out["AE"].iloc[0]
    got = {k: (None if isinstance(rec[k], float) and math.isnan(rec[k]) else rec[k]) for k in expected}
    assert got == expected, case
    assert "AESEV" not in out["AE"].columns
    assert ae_findings(ctx) == [], case


@pytest.mark.parametrize("case, row, rule, severity, column", [
    ("end before start", {"AEENDAT": "08-MAR-2021"}, "AE-END-BEFORE-START", "warning", "AEENDAT"),
    ("partial end surely before start", {"AEENDAT": "UN-FEB-2021"}, "AE-END-BEFORE-START", "warning", "AEENDAT"),
    ("ongoing but end date given", {"AEONGO": "Yes"}, "AE-ONGOING-WITH-END", "warning", "AEONGO"),
    ("serious without criterion", {"AESER": "Yes"}, "AE-SER-NO-CRITERION", "notice", "AESER"),
    ("start before consent", {"AESTDAT": "20-FEB-2021"}, "AE-BEFORE-CONSENT", "warning", "AESTDAT"),
    ("partial start surely before consent", {"AESTDAT": "UN-FEB-2021"}, "AE-BEFORE-CONSENT", "warning", "AESTDAT"),
    ("no preferred term", {"AEPT": ""}, "AE-NOT-CODED", "warning", "AEPT"),
])
def test_ae_checks_name_file_row_column(case, row, rule, severity, column):
    out, ctx = run([ae_row(AETERM="Nausea", AEPT="Nausea"), ae_row(AESPID="2", **row)])
    found = [(f.rule, f.severity, f.file, f.row, f.variable) for f in ae_findings(ctx)]
    assert found == [(rule, severity, "ae.csv", 3, column)], case
    assert len(out["AE"]) == 2                     # a finding never drops the record


@pytest.mark.parametrize("case, row", [
    ("partial end in the start month is not before it", {"AEENDAT": "UN-MAR-2021"}),
    ("partial start in the consent month is not before it", {"AESTDAT": "UN-MAR-2021"}),
    ("ongoing without end", {"AEONGO": "Yes", "AEENDAT": ""}),
    ("serious with hospitalisation", {"AESER": "Yes", "AESHOSP": "Yes"}),
])
def test_ae_checks_stay_quiet(case, row):
    _, ctx = run([ae_row(**row)])
    assert ae_findings(ctx) == [], case


def test_aeseq_order_and_suppae_link():
    out, ctx = run([ae_row(AESPID="1", AETERM="Nausea", AEPT="Nausea", AESTDAT="20-MAR-2021", AEENDAT="21-MAR-2021"),
                    ae_row(AESPID="2", AETERM="Rash", AEPT="Rash", AESTDAT="UN-MAR-2021", AEENDAT="",
                           AEONGO="Yes", AESLE="Yes"),
                    ae_row(AESPID="3", AETERM="Arthralgia", AEPT="Arthralgia", AESTDAT="20-MAR-2021",
                           AEENDAT="22-MAR-2021", AESLE="")])
    ae, supp = out["AE"], out["SUPPAE"]
    assert list(zip(ae["_row"], ae["AESEQ"])) == [(3, 1.0), (4, 2.0), (2, 3.0)]   # AESTDTC, AETERM, row
    assert supp["QNAM"].unique().tolist() == ["AESLEACT"]
    assert supp["QLABEL"].iloc[0] == "SLE Disease Activity Manifestation" and len(supp["QLABEL"].iloc[0]) <= 40
    assert (supp["RDOMAIN"].unique().tolist(), supp["IDVAR"].unique().tolist()) == (["AE"], ["AESEQ"])
    linked = supp.merge(ae, on=["USUBJID", "_row"])
    assert (linked["IDVARVAL"] == linked["AESEQ"].map(lambda s: str(int(s)))).all()
    assert dict(zip(linked["AETERM"], linked["QVAL"])) == {"Rash": "Y", "Nausea": "N"}   # blank flag: no record
    assert not [f for f in ctx.findings if f.rule == "MAP-ROW-UNMAPPED"]
    assert ctx.reconciliation["ae"] == {"read": 3, "mapped": 3, "rejected": 0, "lost": 0}


def test_no_sle_flag_gives_no_suppae():
    out, _ = run([ae_row(AESLE="")])
    assert "SUPPAE" not in out and len(out["AE"]) == 1


@pytest.mark.parametrize("versions, rule, severity", [
    (["26.0", "26.0"], "AE-MEDDRA-VERSION", "notice"),
    (["26.0", "25.1"], "AE-MEDDRA-VERSIONS", "warning"),
])
def test_meddra_version_is_reported(versions, rule, severity):
    _, ctx = run([ae_row(AESPID=str(i), MEDDRA_VER=v, AESTDAT=f"1{i}-MAR-2021") for i, v in enumerate(versions)])
    found = [f for f in ctx.findings if f.rule.startswith("AE-MEDDRA")]
    assert [(f.rule, f.severity, f.file) for f in found] == [(rule, severity, "ae.csv")]
    assert all(v in found[0].message for v in set(versions))


def test_duplicate_natural_key_is_a_notice_and_both_kept():
    out, ctx = run([ae_row(), ae_row(AESPID="2")])
    assert out["AE"]["AESEQ"].tolist() == [1.0, 2.0]
    assert [(f.rule, f.severity, f.row) for f in ae_findings(ctx)] == [("AE-DUPLICATE", "notice", 3)]


@pytest.mark.parametrize("a, b, before", [
    ("2021-03-09", "2021-03-10", True),
    ("2021-03-10", "2021-03-10", False),
    ("2021-02", "2021-03-10", True),
    ("2021-03", "2021-03-10", False),
    ("2021", "2022-01-01", True),
    ("2021-03-10T08:00", "2021-03-10", False),
    (None, "2021-03-10", False),
])
def test_definitely_before(a, b, before):
    assert definitely_before(pd.Series([a]), pd.Series([b])).tolist() == [before]


# ---------------------------------------------------------------- MedDRA codes (optional columns, CORE-000024)

CODES = {"AELLTCD": "10019211", "AEPTCD": "10019211", "AEHLTCD": "10019233", "AEHLGTCD": "10019231",
         "AESOCCD": "10029205"}


def test_meddra_codes_fill_the_code_variables_as_numbers():
    out, ctx = run([ae_row(**CODES)])
    rec = out["AE"].iloc[0]
    assert {v: rec[v] for v in ("AELLTCD", "AEPTCD", "AEHLTCD", "AEHLGTCD", "AEBDSYCD", "AESOCCD")} == {
        "AELLTCD": 10019211.0, "AEPTCD": 10019211.0, "AEHLTCD": 10019233.0, "AEHLGTCD": 10019231.0,
        "AEBDSYCD": 10029205.0, "AESOCCD": 10029205.0}
    assert not [f for f in ctx.findings if f.severity == "error"]


def test_without_meddra_codes_the_code_variables_stay_empty():
    out, ctx = run([ae_row()])
    assert out["AE"][["AELLTCD", "AEPTCD", "AEHLTCD", "AEHLGTCD", "AEBDSYCD", "AESOCCD"]].isna().all().all()
    assert not [f for f in ctx.findings if f.severity == "error"]


@pytest.mark.parametrize("value", ["1001921A", "10019211.0", "１００１９２１１", "-10019211", "1" * 16])
def test_a_meddra_code_that_is_not_digits_is_an_error_naming_row_and_column(value):
    out, ctx = run([ae_row(**CODES), ae_row(**CODES | {"AESPID": "2", "AEPTCD": value})])
    bad = [f for f in ctx.findings if f.rule == "MAP-DIGITS"]
    assert [(f.severity, f.variable, f.row, f.file) for f in bad] == [("error", "AEPTCD", 3, "ae.csv")]
    assert out["AE"]["AEPTCD"].isna().tolist() == [False, True]

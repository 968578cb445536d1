"""CM mapping: each rule with a literal example (subject dosed 05-MAR-2021, consent 01-MAR-2021)."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from sdtm_lupus.config.mapping import Drug
from sdtm_lupus.sdtm import map_sdtm
from sdtm_lupus.sdtm.cm import code_drugs, period_end, period_start
from tests.sdtm.builders import context, dose_row, enrol_row, form

SUBJ = "01-0001"


def cm_row(**kw) -> dict:
    row = {"SITEID": "01", "SUBJID": SUBJ, "CMSPID": "1", "CMTRT": "Prednisone", "CMCLASS": "GLUCOCORTICOID",
           "CMDOSE": "10", "CMDOSU": "mg", "CMDOSFRQ": "QD", "CMROUTE": "Oral", "CMSTDAT": "10-MAR-2021",
           "CMENDAT": "20-MAR-2021", "CMINDC": "SLE"}
    return row | kw


def run(cm_rows):
    ctx = context()
    forms = {"enrol": form("enrol", [enrol_row(SUBJ)]),
             "dosing": form("dosing", [dose_row(SUBJ, "WEEK 0", "05-MAR-2021"), dose_row(SUBJ, "WEEK 2", "19-MAR-2021")]),
             "cm": form("cm", cm_rows)}
    return map_sdtm(forms, ctx), ctx


def cm_findings(ctx):
    return [(f.rule, f.severity, f.file, f.row, f.variable) for f in ctx.findings if f.rule.startswith("CM-")]


@pytest.mark.parametrize("case, row, expected", [
    ("coded, timing", {},
     {"CMTRT": "Prednisone", "CMDECOD": "PREDNISONE", "CMCLAS": "GLUCOCORTICOID", "CMINDC": "SLE", "CMDOSE": 10.0,
      "CMDOSU": "mg", "CMDOSFRQ": "QD", "CMROUTE": "ORAL", "CMSPID": "1", "CMSTDTC": "2021-03-10",
      "CMENDTC": "2021-03-20", "CMSTDY": 6.0, "CMENDY": 16.0, "EPOCH": "TREATMENT", "CMENRTPT": None, "CMENTPT": None}),
    ("Chinese verbatim coded", {"CMTRT": "泼尼松"}, {"CMTRT": "泼尼松", "CMDECOD": "PREDNISONE"}),
    ("Chinese methylprednisolone", {"CMTRT": "甲泼尼龙", "CMDOSE": "500", "CMDOSFRQ": "ONCE", "CMROUTE": "Intravenous"},
     {"CMDECOD": "METHYLPREDNISOLONE", "CMDOSE": 500.0, "CMDOSFRQ": "ONCE", "CMROUTE": "INTRAVENOUS"}),
    ("case and spaces ignored when coding", {"CMTRT": " HYDROXYCHLOROQUINE ", "CMCLASS": "ANTIMALARIAL"},
     {"CMDECOD": "HYDROXYCHLOROQUINE", "CMCLAS": "ANTIMALARIAL"}),
    ("QW is EVERY WEEK", {"CMTRT": "Methotrexate", "CMCLASS": "IMMUNOSUPPRESSANT", "CMDOSFRQ": "QW"},
     {"CMDECOD": "METHOTREXATE", "CMDOSFRQ": "EVERY WEEK"}),
    ("class from the dictionary when the site sent none", {"CMCLASS": ""}, {"CMCLAS": "GLUCOCORTICOID"}),
    ("ongoing", {"CMENDAT": ""}, {"CMENDTC": None, "CMENDY": None, "CMENRTPT": "ONGOING", "CMENTPT": "END OF STUDY"}),
    ("partial dates kept partial, no study days", {"CMSTDAT": "UN-MAR-2020", "CMENDAT": "UN-UNK-2021"},
     {"CMSTDTC": "2020-03", "CMENDTC": "2021", "CMSTDY": None, "CMENDY": None, "EPOCH": None, "CMENRTPT": None}),
    ("started before consent: no epoch", {"CMSTDAT": "13-NOV-2014"}, {"CMSTDY": -2304.0, "EPOCH": None}),
    ("started after consent, before dosing: screening", {"CMSTDAT": "02-MAR-2021"},
     {"CMSTDY": -3.0, "EPOCH": "SCREENING", "CMSTRTPT": None, "CMSTTPT": None}),
    # CORE-000701: a partial start whose whole period lies in one epoch gets it (last dose 19-MAR-2021)
    ("partial start, the month in follow-up", {"CMSTDAT": "UN-APR-2021", "CMENDAT": ""}, {"CMSTDTC": "2021-04", "EPOCH": "FOLLOW-UP"}),
    ("partial start, the month spans epochs", {"CMSTDAT": "UN-MAR-2021"}, {"CMSTDTC": "2021-03", "EPOCH": None}),
    ("partial start, the month before consent", {"CMSTDAT": "UN-FEB-2021"}, {"CMSTDTC": "2021-02", "EPOCH": None}),
    # CORE-000892: start unknown, taken before the study
    ("unknown start, ongoing", {"CMSTDAT": "UN-UNK-UNKN", "CMENDAT": ""},
     {"CMSTDTC": None, "CMSTRTPT": "BEFORE", "CMSTTPT": "INFORMED CONSENT", "CMENRTPT": "ONGOING", "EPOCH": None}),
    ("unknown start, ended before consent", {"CMSTDAT": "UN-UNK-UNKN", "CMENDAT": "10-JAN-2021"},
     {"CMSTDTC": None, "CMSTRTPT": "BEFORE", "CMSTTPT": "INFORMED CONSENT", "CMENRTPT": None}),
    ("unknown start, ended in the study: not known to be before", {"CMSTDAT": "UN-UNK-UNKN"},
     {"CMSTDTC": None, "CMSTRTPT": None, "CMSTTPT": None}),
])
def test_cm_variables(case, row, expected):
    out, ctx = run([cm_row(**row)])
    rec = out["CM"].iloc[0]
    got = {k: (None if isinstance(rec[k], float) and math.isnan(rec[k]) else rec[k]) for k in expected}
    assert got == expected, case
    assert cm_findings(ctx) == [], case


@pytest.mark.parametrize("case, row, rule, severity, column", [
    ("unknown drug", {"CMTRT": "雷公藤", "CMCLASS": "OTHER"}, "CM-DRUG-UNCODED", "warning", "CMTRT"),
    ("site class disagrees with dictionary", {"CMCLASS": "IMMUNOSUPPRESSANT"}, "CM-CLASS-DIFFERS", "notice", "CMCLASS"),
    ("end before start", {"CMENDAT": "01-MAR-2021"}, "CM-END-BEFORE-START", "warning", "CMENDAT"),
])
def test_cm_checks_name_file_row_column(case, row, rule, severity, column):
    out, ctx = run([cm_row(CMTRT="Hydroxychloroquine", CMCLASS="ANTIMALARIAL"), cm_row(CMSPID="2", **row)])
    assert cm_findings(ctx) == [(rule, severity, "cm.csv", 3, column)], case
    assert len(out["CM"]) == 2                     # a finding never drops the record


def test_unknown_drug_is_kept_uncoded_with_site_class():
    out, ctx = run([cm_row(CMTRT="雷公藤", CMCLASS="OTHER")])
    rec = out["CM"].iloc[0]
    assert (rec["CMTRT"], rec["CMDECOD"], rec["CMCLAS"]) == ("雷公藤", None, "OTHER")
    uncoded = [f for f in ctx.findings if f.rule == "CM-DRUG-UNCODED"]
    assert uncoded[0].value == "雷公藤" and "雷公藤" in uncoded[0].message


def test_dictionary_class_wins_over_site_class():
    out, _ = run([cm_row(CMCLASS="IMMUNOSUPPRESSANT")])
    assert out["CM"]["CMCLAS"].tolist() == ["GLUCOCORTICOID"]


@pytest.mark.parametrize("case, first, second, later_row", [   # the finding names the later-starting record
    ("taper entered twice (Chinese and English)", {"CMTRT": "泼尼松"}, {"CMSTDAT": "15-MAR-2021", "CMENDAT": ""}, 3),
    ("consecutive periods", {}, {"CMSTDAT": "21-MAR-2021", "CMENDAT": ""}, None),
    ("partial start (1 March) overlapping", {}, {"CMSTDAT": "UN-MAR-2021", "CMENDAT": "30-MAR-2021"}, 2),
    ("ongoing earlier record", {"CMENDAT": ""}, {"CMSTDAT": "01-JAN-2022", "CMENDAT": "05-JAN-2022"}, 3),
    ("other glucocorticoid", {}, {"CMTRT": "Methylprednisolone", "CMSTDAT": "15-MAR-2021"}, None),
    ("same non-glucocorticoid drug", {"CMTRT": "Hydroxychloroquine", "CMCLASS": "ANTIMALARIAL"},
     {"CMTRT": "Hydroxychloroquine", "CMCLASS": "ANTIMALARIAL", "CMSTDAT": "15-MAR-2021"}, None),
])
def test_overlapping_glucocorticoid_records_are_a_notice_per_pair(case, first, second, later_row):
    out, ctx = run([cm_row(**first), cm_row(CMSPID="2", **second)])
    expected = [("CM-OVERLAP", "notice", "cm.csv", later_row, "CMSTDAT")] if later_row else []
    assert cm_findings(ctx) == expected, case
    assert len(out["CM"]) == 2


def test_cmseq_by_start_date_and_reconciliation():
    out, ctx = run([cm_row(CMSPID="1", CMSTDAT="20-MAR-2021", CMENDAT=""),
                    cm_row(CMSPID="2", CMTRT="Hydroxychloroquine", CMCLASS="ANTIMALARIAL", CMSTDAT="UN-UNK-2019",
                           CMENDAT=""),
                    cm_row(CMSPID="3", CMSTDAT="01-MAR-2021", CMENDAT="19-MAR-2021")])
    cm = out["CM"]
    assert list(zip(cm["_row"], cm["CMSEQ"])) == [(3, 1.0), (4, 2.0), (2, 3.0)]
    assert not [f for f in ctx.findings if f.rule == "MAP-ROW-UNMAPPED"]
    assert ctx.reconciliation["cm"] == {"read": 3, "mapped": 3, "rejected": 0, "lost": 0}


def test_duplicate_natural_key_is_a_notice():
    _, ctx = run([cm_row(CMTRT="Hydroxychloroquine", CMCLASS="ANTIMALARIAL"),
                  cm_row(CMSPID="2", CMTRT="Hydroxychloroquine", CMCLASS="ANTIMALARIAL")])
    assert cm_findings(ctx) == [("CM-DUPLICATE", "notice", "cm.csv", 3, "CMTRT")]


def test_code_drugs_is_case_and_space_insensitive():
    drugs = {"Prednisone": Drug(decod="PREDNISONE"), "泼尼松": Drug(decod="PREDNISONE")}
    coded = code_drugs(pd.Series(["prednisone", " PREDNISONE", "泼尼松 ", "unknown", None]), drugs)
    assert [d.decod if d else None for d in coded] == ["PREDNISONE", "PREDNISONE", "PREDNISONE", None, None]


@pytest.mark.parametrize("iso, start, end", [
    ("2021-03-15", date(2021, 3, 15), date(2021, 3, 15)),
    ("2021-03", date(2021, 3, 1), date(2021, 3, 31)),         # lupus-endpoints case 35
    ("2021-02", date(2021, 2, 1), date(2021, 2, 28)),
    ("2021", date(2021, 1, 1), date(2021, 12, 31)),           # case 36
    ("2021-12", date(2021, 12, 1), date(2021, 12, 31)),
    (None, None, None),
])
def test_partial_date_periods(iso, start, end):
    assert (period_start(iso), period_end(iso)) == (start, end)

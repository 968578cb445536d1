"""R10 ADLB: parameters, standard units, qualifiers, DNAXULN, baseline, AVISIT/ANL01FL."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from sdtm_lupus.adam.adlb import build_adlb, text_only_tests
from sdtm_lupus.adam.rules.lab import compute_anrind, compute_lab_records, derive_param_dnaxuln, derive_param_lab, derive_var_ablfl_lab
from sdtm_lupus.specs import load_lab_tests

D = date
DAY1 = D(2021, 3, 15)
COLS = ["USUBJID", "LBSEQ", "LBTESTCD", "LBTEST", "LBORRES", "LBORRESU", "LBSTRESC", "LBSTRESN", "LBSTRESU",
        "LBSTNRLO", "LBSTNRHI", "LBMETHOD", "VISIT", "LBDTC"]


def lb(*rows):
    return pd.DataFrame([dict(zip(COLS, r)) for r in rows], columns=COLS)


def adsl(trtsdt=DAY1):
    return pd.DataFrame({"USUBJID": ["S1"], "TRTSDT": [trtsdt]})


def rec(seq, testcd, orres, oru, stresc, stresn, stresu, lo, hi, visit="WEEK 4", dtc="2021-04-12", method=None,
        subject="S1", test=None):
    return (subject, float(seq), testcd, test or testcd, orres, oru, stresc, stresn, stresu, lo, hi, method, visit, dtc)


# R10.2: AVAL is LBSTRESN (LB converted already, both ways: mg/dL -> g/L divides, mg/dL -> umol/L multiplies);
# ANRLO/ANRHI are LBSTNRLO/LBSTNRHI, converted with the same factor as the result.
@pytest.mark.parametrize("case, row, aval, anrlo, anrhi, anrind", [
    ("C3 in mg/dL -> g/L (/100)", rec(1, "C3", "85", "mg/dL", "0.85", 0.85, "g/L", 0.9, 1.8), 0.85, 0.9, 1.8, "LOW"),
    ("C3 already g/L", rec(1, "C3", "1.2", "g/L", "1.2", 1.2, "g/L", 0.9, 1.8), 1.2, 0.9, 1.8, "NORMAL"),
    ("CREAT mg/dL -> umol/L (x88.4)", rec(1, "CREAT", "1.5", "mg/dL", "132.6", 132.6, "umol/L", 44.2, 97.24),
     132.6, 44.2, 97.24, "HIGH"),
    ("PROT mg/day -> g/day (/1000)", rec(1, "PROT", "300", "mg/day", "0.3", 0.3, "g/day", 0.0, 0.15),
     0.3, 0.0, 0.15, "HIGH"),
    ("on the upper limit is NORMAL", rec(1, "CRP", "8", "mg/L", "8", 8.0, "mg/L", 0.0, 8.0), 8.0, 0.0, 8.0, "NORMAL"),
    ("no range: no ANRIND", rec(1, "ESR", "12", "mm/h", "12", 12.0, "mm/h", np.nan, np.nan), 12.0, None, None, None),
])
def test_standard_unit_and_range(case, row, aval, anrlo, anrhi, anrind):
    out = derive_param_lab(compute_lab_records(lb(row)))
    r = out.iloc[0]
    assert r["AVAL"] == pytest.approx(aval), case
    assert (r["ANRLO"], r["ANRHI"]) == (pytest.approx(anrlo), pytest.approx(anrhi)) if anrlo is not None \
        else (np.isnan(r["ANRLO"]) and np.isnan(r["ANRHI"])), case
    assert r["ANRIND"] == anrind, case
    assert r["PARAMCD"] == row[2] and r["AVALC"] is None and r["SRCDOM"] == "LB" and r["SRCSEQ"] == row[1]


def test_lb_conversion_matches_the_lab_tests_spec_both_ways():
    """The factors LB applied are the spec's: dividing (C3, PROT) and multiplying (CREAT, HGB)."""
    factors = {k: t.factors for k, t in load_lab_tests().tests.items()}
    assert factors["C3"]["mg/dL"] == pytest.approx(1 / 100) and factors["C4"]["mg/dL"] == pytest.approx(1 / 100)
    assert factors["CREAT"]["mg/dL"] == pytest.approx(88.4) and factors["PROT"]["mg/day"] == pytest.approx(1 / 1000)


@pytest.mark.parametrize("case, row, avalc", [
    ("qualifier <", rec(1, "CRP", "<0.5", "mg/L", "<0.5", np.nan, "mg/L", 0.0, 8.0), "<0.5"),
    ("qualifier > on anti-dsDNA", rec(1, "DDNAIGAB", ">800", "IU/mL", ">800", np.nan, "IU/mL", 0.0, 100.0), ">800"),
])
def test_qualified_result_has_avalc_and_no_aval(case, row, avalc):
    out = derive_param_lab(compute_lab_records(lb(row)))
    assert np.isnan(out["AVAL"].iloc[0]) and out["AVALC"].iloc[0] == avalc and out["ANRIND"].iloc[0] is None, case


def test_dipstick_protein_gets_no_parameter():
    rows = lb(rec(1, "PROT", "NEG", None, "NEGATIVE", np.nan, None, np.nan, np.nan, method="DIPSTICK"),
              rec(2, "PROT", "0.1", "g/day", "0.1", 0.1, "g/day", 0.0, 0.15))
    lab = compute_lab_records(rows, text_only_tests(load_lab_tests()))
    assert lab["LBSEQ"].tolist() == [2.0]


def test_dnaxuln_divides_by_each_records_own_upper_limit():
    rows = lb(rec(1, "DDNAIGAB", "150", "IU/mL", "150", 150.0, "IU/mL", 0.0, 100.0),     # lab A: ULN 100
              rec(2, "DDNAIGAB", "45", "IU/mL", "45", 45.0, "IU/mL", 0.0, 30.0),          # lab B: ULN 30
              rec(3, "DDNAIGAB", "20", "IU/mL", "20", 20.0, "IU/mL", 0.0, 25.0),
              rec(4, "DDNAIGAB", ">800", "IU/mL", ">800", np.nan, "IU/mL", 0.0, 100.0),   # qualifier: missing
              rec(5, "C3", "1.0", "g/L", "1.0", 1.0, "g/L", 0.9, 1.8))
    out = derive_param_dnaxuln(compute_lab_records(rows))
    assert out["SRCSEQ"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert out["AVAL"].iloc[:3].tolist() == pytest.approx([1.5, 1.5, 0.8]) and np.isnan(out["AVAL"].iloc[3])
    assert out["ANRIND"].tolist() == ["HIGH", "HIGH", "NORMAL", None]
    assert set(out["PARAMCD"]) == {"DNAXULN"}


def test_anrind_missing_when_aval_missing():
    assert compute_anrind(pd.Series([np.nan, 1.0]), pd.Series([0.5, 0.5]), pd.Series([2.0, 2.0])).tolist() == \
        [None, "NORMAL"]


@pytest.mark.parametrize("case, rows, expected", [
    ("baseline on day 1 (on or before)",
     [rec(1, "C3", "", "", "1.0", 1.0, "g/L", 0.9, 1.8, "SCREENING", "2021-03-01"),
      rec(2, "C3", "", "", "1.1", 1.1, "g/L", 0.9, 1.8, "WEEK 0", "2021-03-15")], [None, "Y"]),
    ("day 2 is not baseline: screening is",
     [rec(1, "C3", "", "", "1.0", 1.0, "g/L", 0.9, 1.8, "SCREENING", "2021-03-01"),
      rec(2, "C3", "", "", "1.1", 1.1, "g/L", 0.9, 1.8, "WEEK 0", "2021-03-16")], ["Y", None]),
    ("last non-missing AVAL: a qualified result is skipped",
     [rec(1, "C3", "", "", "1.0", 1.0, "g/L", 0.9, 1.8, "SCREENING", "2021-03-01"),
      rec(2, "C3", "", "", "<0.1", np.nan, "g/L", 0.9, 1.8, "WEEK 0", "2021-03-15")], ["Y", None]),
    ("same date: the later LB record",
     [rec(2, "C3", "", "", "1.0", 1.0, "g/L", 0.9, 1.8, "WEEK 0", "2021-03-15"),
      rec(1, "C3", "", "", "1.1", 1.1, "g/L", 0.9, 1.8, "WEEK 0", "2021-03-15")], ["Y", None]),
])
def test_baseline(case, rows, expected):
    out = derive_param_lab(compute_lab_records(lb(*rows)))
    assert derive_var_ablfl_lab(out, {"S1": DAY1}).tolist() == expected, case


def test_adlb_visits_base_chg_and_analysis_record():
    rows = lb(rec(1, "C3", "", "", "1.0", 1.0, "g/L", 0.9, 1.8, "SCREENING", "2021-03-01"),
              rec(2, "C3", "", "", "0.8", 0.8, "g/L", 0.9, 1.8, "WEEK 0", "2021-03-15"),
              rec(3, "C3", "", "", "1.0", 1.0, "g/L", 0.9, 1.8, "WEEK 4", "2021-04-10"),
              rec(4, "C3", "", "", "1.2", 1.2, "g/L", 0.9, 1.8, "WEEK 4", "2021-04-12"),     # later: analysis record
              rec(5, "C3", "", "", "0.6", 0.6, "g/L", 0.9, 1.8, "UNSCHEDULED 4.01", "2021-04-20"),
              rec(6, "C3", "", "", "0.0", 0.0, "g/L", 0.9, 1.8, "WEEK 0", "2021-03-10", subject="S2"),
              rec(7, "C3", "", "", "0.5", 0.5, "g/L", 0.9, 1.8, "WEEK 4", "2021-04-08", subject="S2"))
    subjects = pd.DataFrame({"USUBJID": ["S1", "S2"], "TRTSDT": [DAY1, D(2021, 3, 10)]})
    out = build_adlb(rows, subjects, load_lab_tests())
    c3 = out[out["PARAMCD"].eq("C3")].set_index("SRCSEQ")
    assert c3["AVISIT"].tolist() == [None, "Baseline", "Week 4", "Week 4", None, "Baseline", "Week 4"]
    assert c3["AVISITN"].tolist()[1:4] == [0.0, 4.0, 4.0]
    assert c3["ABLFL"].tolist() == [None, "Y", None, None, None, "Y", None]
    assert c3["ANL01FL"].tolist() == [None, "Y", None, "Y", None, "Y", "Y"]
    assert c3.loc[4.0, "BASE"] == pytest.approx(0.8) and c3.loc[4.0, "CHG"] == pytest.approx(0.4)
    assert c3.loc[4.0, "PCHG"] == pytest.approx(50.0)
    assert np.isnan(c3.loc[2.0, "CHG"])                  # the baseline record itself: no change
    assert c3.loc[7.0, "CHG"] == pytest.approx(0.5) and np.isnan(c3.loc[7.0, "PCHG"])   # BASE 0: no PCHG
    assert c3.loc[4.0, "ADY"] == 29.0 and c3.loc[1.0, "ADY"] == -14.0

"""R8 ADSL rule functions (sdtm_lupus/adam/rules/adsl.py): literal tables."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from sdtm_lupus.adam.rules.adsl import (
    derive_var_agegr1,
    derive_var_bpgagr1,
    derive_var_bpredgr,
    derive_var_bserofl,
    derive_var_bsledgr,
    derive_var_fasfl,
    derive_var_sledurgr,
    derive_var_sledury,
    derive_var_trtn,
)


def test_agegr1_cut_at_40():
    age = pd.Series([18.0, 39.0, 40.0, 41.0, None])
    assert derive_var_agegr1(age).tolist() == ["<40", "<40", ">=40", ">=40", None]


@pytest.mark.parametrize("fn, values, expected", [
    (derive_var_sledurgr, [4.9, 5.0, None], ["<5", ">=5", None]),
    (derive_var_bsledgr, [4.0, 5.0, 0.0], ["<=4", ">4", "<=4"]),
    (derive_var_bpredgr, [7.5, 7.6, 0.0], ["<=7.5", ">7.5", "<=7.5"]),
    (derive_var_bpgagr1, [0.9, 1.0, 2.5], ["<1.0", ">=1.0", ">=1.0"]),
])
def test_subgroup_cuts(fn, values, expected):
    assert fn(pd.Series(values, dtype="float64")).tolist() == expected


def test_fasfl_needs_a_sledai_after_day_1():
    subjects = pd.DataFrame({"USUBJID": ["A", "B", "C", "D"], "ITTFL": ["Y", "Y", "Y", "N"]})
    occasions = pd.DataFrame({
        "USUBJID": ["A", "A", "B", "B", "C", "D"],
        "ADY":     [-14,   1,   1,   2,  None, 30],
        "SLEDAI":  [6,     6,   4,   4,   4,    2]})
    # A: only screening and day 1 (day 1 is baseline, not post-baseline); B: day 2; C: undated; D: not ITT
    assert derive_var_fasfl(subjects, occasions).tolist() == ["N", "Y", "N", "N"]


@pytest.mark.parametrize("diag, consent, years", [
    ("2010-01-01", "2020-01-01", 10.0),     # 3652 days / 365.25 = 9.9986
    ("2010-01-01", "2020-01-19", 10.0),     # 3670 days: / 365.25 = 10.048 -> 10.0 (/ 365 would be 10.1)
    ("2010-01", "2020-01-19", 10.0),        # partial month -> the 1st
    ("2010", "2020-07-01", 10.0),           # year only -> 1 July
    (None, "2020-01-01", None),
])
def test_sledury_divides_by_365_25(diag, consent, years):
    out = derive_var_sledury(pd.Series([diag], dtype=object), pd.Series([consent], dtype=object))
    assert (None if pd.isna(out.iloc[0]) else out.iloc[0]) == years


def test_bserofl_counts_high_dsdna_and_low_complement_only():
    subjects = pd.DataFrame({"USUBJID": ["A", "B", "C", "D", "E"], "TRTSDT": [date(2021, 3, 1)] * 5}, dtype=object)
    lab = pd.DataFrame([
        ("A", "C3", "HIGH", "2021-02-20", 1),        # a HIGH C3 is not serologically active
        ("A", "DDNAIGAB", "LOW", "2021-02-20", 2),   # nor a LOW anti-dsDNA
        ("B", "C4", "LOW", "2021-02-20", 1),
        ("C", "DDNAIGAB", "HIGH", "2021-02-20", 1),
        ("C", "DDNAIGAB", "NORMAL", "2021-03-01", 2),  # the last result on or before day 1 stands
        ("D", "DDNAIGAB", "HIGH", "2021-03-02", 1),    # after day 1: not baseline
    ], columns=["USUBJID", "LBTESTCD", "LBNRIND", "LBDTC", "LBSEQ"])
    assert derive_var_bserofl(subjects, lab).tolist() == ["N", "Y", "N", None, None]


def test_trtn_follows_the_configured_arm_order():
    trt = pd.Series(["Placebo", "Belimumab 10 mg/kg", "Other"])
    assert derive_var_trtn(trt, ["Belimumab 10 mg/kg", "Placebo"]).tolist()[:2] == [2.0, 1.0]
    assert pd.isna(derive_var_trtn(trt, ["Belimumab 10 mg/kg", "Placebo"]).iloc[2])

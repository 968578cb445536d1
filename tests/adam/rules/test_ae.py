"""R11 ADAE: start-date imputation, treatment emergence, grade, relatedness; the TEAE summary."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from sdtm_lupus.adam.adae import build_adae, safety_summary
from sdtm_lupus.adam.rules.ae import (
    compute_start_date,
    derive_var_arel,
    derive_var_astdt,
    derive_var_atoxgr,
    derive_var_slehosfl,
    derive_var_trtemfl,
)
from sdtm_lupus.config.study import RuleParameters

D = date
TRTSDT, TRTEDT = D(2021, 3, 15), D(2022, 2, 1)


@pytest.mark.parametrize("case, aestdtc, astdt, astdtf", [
    ("complete date", "2021-04-02", D(2021, 4, 2), None),
    ("complete date/time", "2021-04-02T10:30", D(2021, 4, 2), None),
    ("month of TRTSDT, day unknown -> TRTSDT", "2021-03", TRTSDT, "D"),
    ("other month -> 1st of the month", "2021-05", D(2021, 5, 1), "D"),
    ("month before TRTSDT -> 1st", "2021-02", D(2021, 2, 1), "D"),
    ("year of TRTSDT only -> TRTSDT", "2021", TRTSDT, "M"),
    ("other year -> 1 January", "2022", D(2022, 1, 1), "M"),
    ("missing", None, None, None),
    ("fully unknown", "", None, None),
])
def test_start_date_imputation(case, aestdtc, astdt, astdtf):
    assert compute_start_date(aestdtc, TRTSDT) == (astdt, astdtf), case


def test_start_date_untreated_subject_first_of_period():
    assert compute_start_date("2021-03", None) == (D(2021, 3, 1), "D")


def test_derive_var_astdt_keeps_index():
    ae = pd.DataFrame({"USUBJID": ["S1", "S2"], "AESTDTC": ["2021-03", "2021-03"]}, index=[7, 3])
    astdt, flag = derive_var_astdt(ae, {"S1": TRTSDT, "S2": D(2021, 4, 1)})
    assert astdt.to_dict() == {7: TRTSDT, 3: D(2021, 3, 1)} and flag.tolist() == ["D", "D"]


@pytest.mark.parametrize("case, astdt, trtsdt, trtedt, window, expected", [
    ("on TRTSDT", TRTSDT, TRTSDT, TRTEDT, 28, "Y"),
    ("day before TRTSDT", D(2021, 3, 14), TRTSDT, TRTEDT, 28, None),
    ("TRTEDT + 28 days", D(2022, 3, 1), TRTSDT, TRTEDT, 28, "Y"),
    ("TRTEDT + 29 days", D(2022, 3, 2), TRTSDT, TRTEDT, 28, None),
    ("TRTEDT + 29 days with a 30-day window (rules:)", D(2022, 3, 2), TRTSDT, TRTEDT, 30, "Y"),
    ("missing start counts", None, TRTSDT, TRTEDT, 28, "Y"),
    ("never treated: no TRTEMFL", D(2021, 4, 1), None, None, 28, None),
    ("never treated, missing start", None, None, None, 28, None),
])
def test_trtemfl(case, astdt, trtsdt, trtedt, window, expected):
    out = derive_var_trtemfl(pd.Series([astdt], dtype=object), pd.Series([trtsdt], dtype=object),
                             pd.Series([trtedt], dtype=object), window)
    assert out.tolist() == [expected], case


def test_teae_window_default_is_28_days():
    assert RuleParameters().teae_window_days == 28


def test_arel_and_grade():
    rel = derive_var_arel(pd.Series(["Related", "PROBABLY RELATED", "possibly related", "Unlikely related",
                                     "NOT RELATED", None]))
    assert rel.tolist() == ["RELATED", "RELATED", "RELATED", "NOT RELATED", "NOT RELATED", None]
    grade, number = derive_var_atoxgr(pd.Series(["1", "3", None, "5"]))
    assert grade.tolist() == ["1", "3", None, "5"]
    assert number.tolist()[:2] == [1.0, 3.0] and np.isnan(number.iloc[2]) and number.iloc[3] == 5.0


def test_sle_hospitalisation():
    out = derive_var_slehosfl(pd.Series(["Y", "Y", "N", "Y", None]), pd.Series(["Y", "N", "Y", None, "Y"]))
    assert out.tolist() == ["Y", "N", "N", None, None]


AE_COLS = ["USUBJID", "AESEQ", "AETERM", "AEDECOD", "AESTDTC", "AEENDTC", "AESER", "AEACN", "AEREL", "AEOUT",
           "AESHOSP", "AETOXGR"]


def test_adae_and_teae_summary_by_arm():
    ae = pd.DataFrame([
        ("A1", 1.0, "Rash", "Rash", "2021-03", None, "N", "DOSE NOT CHANGED", "Possibly related", "RECOVERED/RESOLVED", "N", "1"),
        ("A1", 2.0, "Flare", "SLE", "2021-06-01", "2021-06-09", "Y", "DRUG WITHDRAWN", "Not related", "RECOVERED/RESOLVED", "Y", "3"),
        ("A2", 1.0, "Cold", "Nasopharyngitis", "2022-03-01", None, "N", "DOSE NOT CHANGED", "Not related", "RECOVERED/RESOLVED", "N", "2"),
        ("A2", 2.0, "Cough", "Cough", "2022-03-02", None, "N", "DOSE NOT CHANGED", "Related", "RECOVERED/RESOLVED", "N", "2"),
        ("P1", 1.0, "Sepsis", "Sepsis", "2021-05-05", "2021-05-20", "Y", "NOT APPLICABLE", "Not related", "FATAL", "Y", "5"),
        ("X9", 1.0, "Headache", "Headache", "2021-05-05", None, "N", None, "Not related", None, "N", "1"),   # not in ADSL
    ], columns=AE_COLS)
    supp = pd.DataFrame({"USUBJID": ["A1"], "IDVARVAL": ["2"], "QNAM": ["AESLEACT"], "QVAL": ["Y"]})
    adsl = pd.DataFrame({"USUBJID": ["A1", "A2", "P1", "P2"], "TRTSDT": [TRTSDT, TRTSDT, TRTSDT, None],
                         "TRTEDT": [TRTEDT, TRTEDT, TRTEDT, None], "SAFFL": ["Y", "Y", "Y", "N"],
                         "TRT01A": ["Bel", "Bel", "Pbo", "Pbo"]})
    adae = build_adae(ae, supp, adsl, RuleParameters())
    assert adae["USUBJID"].tolist() == ["A1", "A1", "A2", "A2", "P1"]
    assert adae["ASTDT"].tolist()[0] == TRTSDT and adae["ASTDTF"].tolist()[0] == "D"
    assert adae["TRTEMFL"].tolist() == ["Y", "Y", "Y", None, "Y"]          # A2: + 28 and + 29 days after TRTEDT
    assert adae["AREL"].tolist() == ["RELATED", "NOT RELATED", "NOT RELATED", "RELATED", "NOT RELATED"]
    assert adae["SLEHOSFL"].tolist() == ["N", "Y", "N", "N", None]
    assert adae["ASTDY"].tolist() == [1, 79, 352, 353, 52]
    summary = safety_summary(adsl, adae.assign(STUDYID="X"), 28)
    bel, pbo = summary["by_arm"]["Bel"], summary["by_arm"]["Pbo"]
    assert bel == {"safety": 2, "events": 3, "any_teae": 2, "worst_grade": {"1": 0, "2": 1, "3": 1, "4": 0, "5": 0,
                                                                              "missing": 0},
                   "related": 1, "serious": 1, "leading_to_discontinuation": 1, "fatal": 0, "sle_hospitalisation": 1}
    assert pbo["safety"] == 1 and pbo["any_teae"] == 1 and pbo["fatal"] == 1 and pbo["worst_grade"]["5"] == 1

"""BDS rule functions (sdtm_lupus/adam/rules/bds.py) and the constants they rely on: literal tables."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rule_tables import build_meds
from sdtm_lupus.adam.rules.bds import (
    derive_var_ady,
    derive_var_anl01fl_param,
    derive_var_aval_yn,
    derive_var_chg,
    derive_var_paramn,
    derive_var_pchg,
    derive_var_tte_source,
)
from sdtm_lupus.adam.rules.steroid_dose import compute_pred_dose
from sdtm_lupus.specs import load_lab_tests, load_specs


def nan_list(s: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in s]


def test_ady_has_no_day_0():
    rec = pd.DataFrame({"USUBJID": ["A", "A", "A", "A", "B"],
                        "ADT": [date(2021, 3, 1), date(2021, 3, 2), date(2021, 2, 28), None, date(2021, 3, 1)]})
    assert nan_list(derive_var_ady(rec, {"A": date(2021, 3, 1), "B": None})) == [1.0, 2.0, -1.0, None, None]


def test_aval_is_1_0_for_every_yn_parameter():
    rec = pd.DataFrame({"AVAL": [np.nan, np.nan, 7.0, np.nan], "AVALC": ["Y", "N", None, "SEVERE"]})
    assert nan_list(derive_var_aval_yn(rec)) == [1.0, 0.0, 7.0, None]


def test_chg_only_after_day_1_and_pchg_times_100():
    aval, base = pd.Series([10.0, 8.0, 6.0, 6.0, 4.0]), pd.Series([8.0, 8.0, 8.0, 0.0, np.nan])
    ady = pd.Series([-14.0, 1.0, 29.0, 29.0, 29.0])
    chg = derive_var_chg(aval, base, ady)
    assert nan_list(chg) == [None, None, -2.0, 6.0, None]     # no CHG on pre-baseline or baseline records
    assert nan_list(derive_var_pchg(chg, base)) == [None, None, -25.0, None, None]   # BASE 0: missing


def test_paramn_and_anl01fl_by_parameter():
    rec = pd.DataFrame({"PARAMCD": ["SLEDAI", "SLEDAI", "SRI4", "FLARE", "PFREE52", "SRI4PGA"],
                        "ANL01FL": ["Y", None, None, None, None, None]})
    assert derive_var_paramn(rec["PARAMCD"]).tolist() == [1.0, 1.0, 10.0, 15.0, 19.0, 9.0]
    assert derive_var_anl01fl_param(rec).tolist() == ["Y", None, "Y", "Y", "Y", "Y"]


def test_tte_source_traces_events_to_the_adeff_flare_record():
    adtte = pd.DataFrame({"USUBJID": ["A", "B", "C"], "CNSR": [0, 1, 1], "OCC": [3, 5, None]}, dtype=object)
    occ = pd.DataFrame({"USUBJID": ["A", "A", "B"], "OCC": [2, 3, 5], "QSSEQ": [20.0, 30.0, 50.0]})
    adeff = pd.DataFrame({"USUBJID": ["A", "A", "A"], "PARAMCD": ["SLEDAI", "FLARE", "FLARE"],
                          "SRCSEQ": [30.0, 20.0, 30.0], "ASEQ": [1.0, 7.0, 8.0]})
    out = derive_var_tte_source(adtte, occ, adeff)
    assert out["SRCDOM"].tolist() == ["ADEFF", "QS", "ADSL"]
    assert out["SRCVAR"].tolist() == ["ADT", "QSDTC", "TRTSDT"]
    assert nan_list(out["SRCSEQ"]) == [8.0, 50.0, None]


def test_methylprednisolone_counts_1_25_prednisone_mg():
    cm = pd.DataFrame({"USUBJID": ["A"], "CMSEQ": [1.0], "CMDECOD": ["METHYLPREDNISOLONE"], "CMCLAS": ["GLUCOCORTICOID"],
                       "CMINDC": ["SLE"], "CMDOSE": [8.0], "CMDOSFRQ": ["QD"], "CMSTDTC": ["2021-01-01"], "CMENDTC": [None]})
    meds = build_meds({"CM": cm}, load_specs().clinical.prednisone_equivalents)
    assert meds["PREDFACT"].tolist() == [1.25]
    dose = compute_pred_dose(meds, pd.DataFrame({"USUBJID": ["A"], "DATE": [date(2021, 2, 1)]}))
    assert dose.tolist() == [10.0]


def test_wbc_per_microlitre_factor():
    """5000 /uL = 5.0 x 10^9/L: the factor of /uL to the standard unit is 0.001."""
    wbc = load_lab_tests().tests["WBC"]
    assert wbc.unit == "10^9/L"
    assert 5000 * wbc.factors["/uL"] == 5.0
    assert wbc.factors["10^3/uL"] == 1

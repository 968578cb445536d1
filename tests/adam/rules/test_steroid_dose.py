"""R2.3, R3.3, R3.4: prednisone-equivalent daily dose and body weight (steroid_dose.py)."""

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sdtm_lupus.adam.rules.steroid_dose import (
    FREQUENCY_PER_DAY,
    compute_dose_unusable,
    compute_pred_dose,
    compute_weight,
    derive_var_bpred,
)
from sdtm_lupus.config.loading import ConfigError
from sdtm_lupus.specs import load_clinical_constants, load_specs, prednisone_equivalents
from tests.adam.rules.medication_tables import TRTSDT, day, med, meds


def dose_on(records, dates, usubjid="S1"):
    queries = pd.DataFrame({"USUBJID": usubjid, "DATE": dates})
    return compute_pred_dose(meds(*records), queries).tolist()


# ------------------------------------------------------------------ R3.3 daily dose
@pytest.mark.parametrize("record, expected", [
    (med(dose=10, frq="QD"), 10.0),
    (med(dose=10, frq="BID"), 20.0),
    (med(dose=5, frq="TID"), 15.0),
    (med(decod="PREDNISOLONE", dose=20, frq="QOD"), 10.0),                       # §8 case 34
    (med(decod="METHOTREXATE", dose=14, frq="EVERY WEEK", factor=1.0), 2.0),
    (med(dose=14, frq="QW"), 2.0),                                                # derivations spelling
    (med(decod="METHYLPREDNISOLONE", dose=8, frq="QD", factor=1.25), 10.0),
    (med(decod="DEXAMETHASONE", dose=0.75, frq="QD", factor=6.67), 5.0025),
    (med(decod="HYDROCORTISONE", dose=20, frq="BID", factor=0.25), 10.0),
    (med(dose=None), 0.0),                                                        # CMDOSE missing: nothing
    (med(frq=None), 0.0),                                                         # frequency missing: nothing
    (med(frq="QID"), 0.0),                                                        # not an R3.3 frequency
    (med(decod="HYDROXYCHLOROQUINE", klass="ANTIMALARIAL", dose=200, factor=None), 0.0),
    (med(decod=None, klass=None, dose=10, factor=None), 0.0),                     # §8 case 38 uncoded
])
def test_daily_dose_per_record(record, expected):
    assert dose_on([record], [day(10)]) == [expected]


def test_frequency_table_is_r33():
    assert FREQUENCY_PER_DAY["QOD"] == 0.5 and FREQUENCY_PER_DAY["EVERY WEEK"] * 7 == 1
    assert dose_on([med(dose=10, frq="EVERY WEEK")], [day(5)]) == [10 / 7]


def test_active_interval_start_and_end_inclusive_and_ongoing():
    record = med(start=day(10), end=day(20))
    assert dose_on([record], [day(9), day(10), day(20), day(21)]) == [0.0, 10.0, 10.0, 0.0]
    assert dose_on([med(start=day(10), end=None)], [day(9), day(10), day(400)]) == [0.0, 10.0, 10.0]
    assert dose_on([med(start=None, end=day(-3))], [date(1990, 1, 1), day(-3), day(-2)]) == [10.0, 10.0, 0.0]


def test_imputed_partial_dates_used_as_given():
    # §8 case 35: start UN-MAR-2021 -> 2021-03-01; case 36: end UN-UNK-2021 -> 2021-12-31 (imputed by the caller)
    record = med(start=date(2021, 3, 1), end=date(2021, 12, 31))
    got = dose_on([record], [date(2021, 2, 28), date(2021, 3, 1), date(2021, 12, 31), date(2022, 1, 1)])
    assert got == [0.0, 10.0, 10.0, 0.0]


def test_overlapping_records_summed():
    # §8 case 37: the taper entered twice overlaps 2021-05-10..15
    records = [med(dose=10, start=date(2021, 1, 1), end=date(2021, 5, 15)),
               med(dose=7.5, start=date(2021, 5, 10), end=None)]
    got = dose_on(records, [date(2021, 5, 9), date(2021, 5, 10), date(2021, 5, 15), date(2021, 5, 16)])
    assert got == [10.0, 17.5, 17.5, 7.5]


def test_pulse_once_counts_on_its_start_day_only():
    # §8 case 33: methylprednisolone 500 mg IV once = 625 mg prednisone on that day only
    records = [med(dose=5, start=date(2021, 1, 1)),
               med(decod="METHYLPREDNISOLONE", dose=500, frq="ONCE", factor=1.25,
                   start=date(2021, 8, 3), end=date(2021, 8, 10))]
    got = dose_on(records, [date(2021, 8, 2), date(2021, 8, 3), date(2021, 8, 4), date(2021, 8, 10)])
    assert got == [5.0, 630.0, 5.0, 5.0]
    assert dose_on([med(frq="ONCE", start=None)], [date(2000, 1, 1), day(1)]) == [0.0, 0.0]


def test_dose_sums_are_exact():
    records = [med(dose=0.1), med(dose=0.2)]
    assert dose_on(records, [day(1)]) == [0.3]                   # float 0.1 + 0.2 would be 0.30000000000000004
    taper = [med(dose=0.1, start=day(1), end=day(5)), med(dose=0.2, start=day(3), end=day(5))]
    assert dose_on(taper, [day(6)]) == [0.0]                     # exactly zero after the taper


def test_queries_aligned_to_index_and_not_resorted():
    records = meds(med("S1", dose=10), med("S2", dose=5, start=day(3)))
    queries = pd.DataFrame({"USUBJID": ["S2", "S9", "S1", "S2", "S1"],
                            "DATE": [day(5), day(5), None, day(2), day(1)]}, index=[50, 40, 30, 20, 10])
    out = compute_pred_dose(records, queries)
    assert out.index.tolist() == [50, 40, 30, 20, 10]
    assert out.tolist()[:2] == [5.0, 0.0] and np.isnan(out[30]) and out.tolist()[3:] == [0.0, 10.0]
    assert queries["USUBJID"].tolist() == ["S2", "S9", "S1", "S2", "S1"]


def test_missing_columns_rejected():
    with pytest.raises(ValueError, match="PREDFACT"):
        compute_pred_dose(meds(med()).drop(columns="PREDFACT"), pd.DataFrame({"USUBJID": ["S1"], "DATE": [day(1)]}))


def test_unusable_dose_records_named_for_the_caller():
    records = meds(med(dose=None), med(frq=None), med(frq="QID"), med(), med(dose=None, factor=None),
                   med(start=day(10), end=day(9)), med(frq="ONCE", start=day(10), end=day(9)))
    assert compute_dose_unusable(records).tolist() == [
        "CMDOSE MISSING", "CMDOSFRQ MISSING", "CMDOSFRQ NOT IN R3.3", None, None, "ENDDT BEFORE STARTDT", None]
    assert dose_on([med(start=day(10), end=day(9))], [day(9), day(10)]) == [0.0, 0.0]


def test_unusable_records_zero_or_missing_on_request():
    records = meds(med(dose=5, start=day(1)), med(dose=None, start=day(10), end=day(20)),
                   med(frq="QID", start=day(30), end=day(30)), med(frq=None, dose=None, start=day(40), end=day(30)))
    queries = pd.DataFrame({"USUBJID": "S1", "DATE": [day(9), day(10), day(20), day(21), day(30), day(35)]})
    assert compute_pred_dose(records, queries).tolist() == [5.0] * 6
    missing = compute_pred_dose(records, queries, unusable="missing")
    assert missing.isna().tolist() == [False, True, True, False, True, False]
    with pytest.raises(ValueError):
        compute_pred_dose(records, queries, unusable="zero")


def test_many_queries_vectorised():
    n_subj, n_days = 300, 365
    records = meds(*[med(f"S{i}", dose=i % 7 + 1, start=day(i % 50), end=day(200 + i % 30)) for i in range(n_subj)])
    queries = pd.DataFrame({"USUBJID": np.repeat([f"S{i}" for i in range(n_subj)], n_days),
                            "DATE": [day(d) for d in range(1, n_days + 1)] * n_subj})
    out = compute_pred_dose(records, queries).to_numpy().reshape(n_subj, n_days)
    for i in (0, 17, 299):
        start, end = (i % 50) or -1, 200 + i % 30
        days = np.arange(1, n_days + 1)
        expected = np.where((days >= start) & (days <= end), i % 7 + 1, 0)
        assert (out[i] == expected).all()


# ------------------------------------------------------------------ R2.3 baseline dose
def test_bpred_is_dose_on_day1():
    subjects = pd.DataFrame({"USUBJID": ["S1", "S2", "S3"], "TRTSDT": [TRTSDT, TRTSDT, None]})
    records = meds(med("S1", dose=10, end=day(1)), med("S1", dose=20, start=day(2)), med("S3"))
    out = derive_var_bpred(subjects, records)
    assert out.tolist()[:2] == [10.0, 0.0] and np.isnan(out.iloc[2])


# ------------------------------------------------------------------ R3.4 weight
def test_weight_latest_on_or_before():
    weights = pd.DataFrame({"USUBJID": ["S1", "S1", "S1", "S1", "S2"],
                            "DATE": [day(-14), day(1), day(29), day(29), day(1)],
                            "WEIGHT": [60.0, None, 55.0, 50.0, 80.0]})
    queries = pd.DataFrame({"USUBJID": ["S1", "S1", "S1", "S1", "S2", "S3"],
                            "DATE": [day(-20), day(10), day(29), day(100), None, day(1)]})
    out = compute_weight(weights, queries)
    assert np.isnan(out.iloc[0]) and out.iloc[1] == 60.0       # missing day-1 weight skipped (R3.4)
    assert out.iloc[2] == 50.0 and out.iloc[3] == 50.0        # same date: later row of WEIGHTS
    assert np.isnan(out.iloc[4]) and np.isnan(out.iloc[5])


# ------------------------------------------------------------------ R3.3 prednisone equivalents (specs)
DERIVATIONS = Path(__file__).resolve().parents[3] / ".." / "shared" / "docs" / "derivations.md"

# derivations.md R3.3, copied literally: "Prednisone equivalents per mg: prednisone 1, prednisolone 1,
# methylprednisolone 1.25, dexamethasone 6.67, hydrocortisone 0.25, cortisone 0.2."
R33_PREDNISONE_EQUIVALENTS = {"PREDNISONE": 1, "PREDNISOLONE": 1, "METHYLPREDNISOLONE": 1.25, "DEXAMETHASONE": 6.67,
                              "HYDROCORTISONE": 0.25, "CORTISONE": 0.2}


def _equivalents_from_text(text: str) -> dict[str, float]:
    text = " ".join(text.split())
    section = text[text.index("Prednisone equivalents per mg:") + len("Prednisone equivalents per mg:"):]
    section = section[:section.index("Daily multiplier")]
    return {name.upper(): float(value) for name, value in re.findall(r"([a-z]+) (\d+(?:\.\d+)?)", section)}


def test_prednisone_equivalents_in_specs_are_r33():
    assert dict(load_specs().clinical.prednisone_equivalents) == R33_PREDNISONE_EQUIVALENTS
    assert dict(prednisone_equivalents()) == R33_PREDNISONE_EQUIVALENTS


@pytest.mark.skipif(not DERIVATIONS.exists(), reason="shared docs not mounted")
def test_prednisone_equivalents_agree_with_derivations_md():
    doc = DERIVATIONS.read_text(encoding="utf-8")
    assert _equivalents_from_text(doc[doc.index("## R3 "):doc.index("## R4 ")]) == R33_PREDNISONE_EQUIVALENTS


@pytest.mark.parametrize("table, problem", [
    ("  prednisone: 1\n", "is not a CMDECOD"),
    ("  PREDNISONE: 0\n", "must be above 0"),
    ("  PREDNISONE: one\n", "valid number"),
])
def test_prednisone_equivalents_validated(tmp_path, table, problem):
    (tmp_path / "clinical-constants.yaml").write_text(f"prednisone_equivalents:\n{table}", encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        load_clinical_constants(tmp_path)

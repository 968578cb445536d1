"""R2.3, R3.3, R3.4, R4.6: prednisone-equivalent dose, weight, treatment failure (steroids.py)."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from sdtm_lupus.adam.rules.steroids import (
    FREQUENCY_PER_DAY,
    compute_dose_unusable,
    compute_pred_dose,
    compute_treatment_failure_date,
    compute_weight,
    derive_var_bpred,
    is_sle_indication,
)
from sdtm_lupus.config.study import RuleParameters

TRTSDT = date(2021, 6, 1)


def day(n: int) -> date:
    """Study day n (no day 0) as a date."""
    return TRTSDT + timedelta(days=n - 1 if n > 0 else n)


def med(usubjid="S1", decod="PREDNISONE", klass="GLUCOCORTICOID", indc="SLE", dose=10.0, frq="QD",
        factor=1.0, start=None, end=None):
    return {"USUBJID": usubjid, "CMSEQ": None, "CMDECOD": decod, "CMCLAS": klass, "CMINDC": indc,
            "CMDOSE": dose, "CMDOSFRQ": frq, "PREDFACT": factor, "STARTDT": start, "ENDDT": end}


def meds(*records) -> pd.DataFrame:
    frame = pd.DataFrame(list(records), columns=list(med().keys()))
    frame["CMSEQ"] = np.arange(1, len(frame) + 1, dtype=float)
    return frame


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


# ------------------------------------------------------------------ R4.6 treatment failure
PARAMS = RuleParameters()


def subject_frame(**kw):
    row = {"USUBJID": "S1", "TRTSDT": TRTSDT, "DSDECOD": None, "DSSTDT": None}
    row.update(kw)
    return pd.DataFrame([row])


def tf(records, until_day=365, params=PARAMS, **subject):
    return compute_treatment_failure_date(subject_frame(**subject), meds(*records), params, until_day).iloc[0]


def steroid_rise(baseline, new, on_day=30):
    return [med(dose=baseline, start=date(2021, 1, 1), end=day(on_day - 1)), med(dose=new, start=day(on_day))]


@pytest.mark.parametrize("baseline, new, failure", [
    (10, 12.5, False),   # = 1.25 x 10 = 10 + 2.5: equal is not "exceeds"
    (10, 13, True),
    (20, 24, False),     # above 20 + 2.5 but not above 1.25 x 20 = 25
    (20, 25, False),
    (20, 25.5, True),
    (4, 6, False),       # above 1.25 x 4 = 5 but not above 4 + 2.5 = 6.5
    (4, 6.5, False),
    (4, 7, True),
    (0, 2.5, False),
    (0, 5, True),
    (7.5, 9.375, False),  # 1.25 x 7.5 = 9.375 exactly; 7.5 + 2.5 = 10 is the larger
    (7.5, 10, False),
    (7.5, 10.5, True),
])
def test_tf_dose_increase_threshold(baseline, new, failure):
    assert tf(steroid_rise(baseline, new)) == (day(30) if failure else None)


def test_tf_dose_threshold_from_params():
    params = RuleParameters(tf_pred_factor=1.1, tf_pred_increment=1.0)
    assert tf(steroid_rise(10, 11), params=params) is None
    assert tf(steroid_rise(10, 11.5), params=params) == day(30)


def test_tf_dose_on_day1_is_baseline_and_pulse_after_day1_fails():
    assert tf([med(dose=5, start=date(2021, 1, 1)), med(dose=30, start=day(1))]) is None
    pulse = [med(dose=5, start=date(2021, 1, 1)),
             med(decod="METHYLPREDNISOLONE", dose=500, frq="ONCE", factor=1.25, start=day(2), end=day(2))]
    assert tf(pulse) == day(2)
    # a dose that exceeds from day 2 on (started before day 1 at an overlapping record)
    assert tf([med(dose=10, start=date(2021, 1, 1)), med(dose=10, start=date(2021, 1, 1), end=day(1)),
               med(dose=15, start=day(2))]) is None
    assert tf([med(dose=10, start=date(2021, 1, 1), end=day(1)), med(dose=30, start=day(2))]) == day(2)


def test_tf_dose_horizon():
    assert tf(steroid_rise(10, 20, on_day=365)) == day(365)
    assert tf(steroid_rise(10, 20, on_day=366)) is None
    assert tf(steroid_rise(10, 20, on_day=366), until_day=None) == day(366)
    assert tf(steroid_rise(10, 20, on_day=366), until_day=400) == day(366)


def test_tf_dose_first_day_above_after_temporary_rise():
    records = [med(dose=10, start=date(2021, 1, 1)), med(dose=10, start=day(40), end=day(50)),
               med(dose=1, start=day(20), end=day(25))]
    assert tf(records) == day(40)


MMF = dict(decod="MYCOPHENOLATE MOFETIL", klass="IMMUNOSUPPRESSANT", dose=1000, frq="BID", factor=None)


@pytest.mark.parametrize("records, expected", [
    ([med(**MMF, indc="SLE", start=day(30))], day(30)),
    ([med(**MMF, indc="lupus nephritis", start=day(30))], day(30)),
    ([med(**MMF, indc="Hypertension", start=day(30))], None),
    ([med(**MMF, indc="SLE", start=day(1))], None),                                  # not after day 1
    ([med(**MMF, indc="SLE", start=None)], None),                                    # before the study
    ([med(**MMF, indc="SLE", start=date(2020, 1, 1)), med(**MMF, indc="SLE", start=day(30))], None),   # active on day 1
    ([med(**MMF, indc="SLE", start=date(2020, 1, 1), end=day(-5)),                    # stopped before day 1
      med(**MMF, indc="SLE", start=day(30))], day(30)),
    ([med(**{**MMF, "decod": "AZATHIOPRINE"}, indc="SLE", start=date(2020, 1, 1)),     # other drug active
      med(**MMF, indc="SLE", start=day(30))], day(30)),
    ([med(decod="RITUXIMAB", klass="OTHER", dose=1000, frq="ONCE", factor=None, indc="SLE", start=day(60))], day(60)),
    ([med(decod="CYCLOPHOSPHAMIDE", klass="OTHER", dose=500, frq="ONCE", factor=None, indc="Lupus", start=day(61))],
     day(61)),
    ([med(decod="BELIMUMAB", klass="OTHER", dose=200, frq="EVERY WEEK", factor=None, indc="SLE", start=day(62))],
     day(62)),
    ([med(decod="HYDROXYCHLOROQUINE", klass="ANTIMALARIAL", dose=200, factor=None, indc="SLE", start=day(30))], None),
    ([med(**{**MMF, "decod": None}, indc="SLE", start=day(30))], None),               # uncoded: not matchable
    ([med(**MMF, indc="SLE", start=day(90)), med(**MMF, indc="SLE", start=day(45))], day(45)),
])
def test_tf_new_immunosuppressant(records, expected):
    assert tf(records) == expected


@pytest.mark.parametrize("decod, dsstdt, expected", [
    ("COMPLETED", day(340), None),
    ("Completed", day(340), None),
    ("WITHDRAWAL BY SUBJECT", day(141), day(141)),
    ("ADVERSE EVENT", None, None),
    (None, None, None),
])
def test_tf_disposition(decod, dsstdt, expected):
    assert tf([], DSDECOD=decod, DSSTDT=dsstdt) == expected


def test_tf_earliest_and_per_subject_alignment():
    subjects = pd.DataFrame({"USUBJID": ["S3", "S1", "S2", "S4"], "TRTSDT": [TRTSDT, TRTSDT, TRTSDT, None],
                             "DSDECOD": ["LOST TO FOLLOW-UP", None, "COMPLETED", "WITHDRAWAL BY SUBJECT"],
                             "DSSTDT": [day(200), None, day(340), day(-3)]}, index=[7, 8, 9, 10])
    records = meds(*steroid_rise(10, 20, on_day=250), med("S3", **MMF, indc="SLE", start=day(100)),
                   *[{**r, "USUBJID": "S3"} for r in steroid_rise(5, 20, on_day=150)],
                   *[{**r, "USUBJID": "S2"} for r in steroid_rise(5, 20, on_day=300)])
    out = compute_treatment_failure_date(subjects, records, PARAMS)
    assert out.index.tolist() == [7, 8, 9, 10]
    assert out.tolist() == [day(100), day(250), day(300), day(-3)]


@pytest.mark.parametrize("text, expected", [
    ("SLE", True), ("sle flare", True), ("SLE-related arthritis", True), ("Active SLE", True),
    ("Systemic Lupus Erythematosus", True), ("LUPUS NEPHRITIS", True), ("系统性红斑狼疮 SLE", True),
    ("Sleep disorder", False), ("Measles", False), ("Hypertension", False), (None, False), ("", False),
])
def test_is_sle_indication(text, expected):
    assert is_sle_indication(text) is expected

"""R4.6: treatment failure, and R4.6a's new immunosuppressant (treatment_failure.py)."""

from datetime import date

import pandas as pd
import pytest

from sdtm_lupus.adam.rules.medication_days import is_sle_indication
from sdtm_lupus.adam.rules.treatment_failure import compute_treatment_failure_date
from sdtm_lupus.config.study import RuleParameters
from tests.adam.rules.medication_tables import TRTSDT, day, med, meds

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

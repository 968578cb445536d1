import pandas as pd
import pytest

from sdtm_lupus.config.study import load_study
from sdtm_lupus.sdtm.timing import derive_epoch, derive_seq, derive_study_day, period_bounds
from sdtm_lupus.sdtm.visits import VisitNumbering
from tests.paths import STUDIES


@pytest.fixture(scope="module")
def study():
    return load_study(STUDIES / "NCT04515719.yaml")


def test_study_day_has_no_day_zero():
    dtc = pd.Series(["2021-03-01", "2021-03-02", "2021-02-28T10:00", "2021-03", None])
    ref = pd.Series(["2021-03-01T09:00"] * 5)
    assert derive_study_day(dtc, ref).tolist()[:3] == [1.0, 2.0, -1.0]
    assert derive_study_day(dtc, ref).isna().tolist()[3:] == [True, True]


def test_epoch_by_dose_dates(study):
    dtc = pd.Series(["2021-02-20", "2021-03-01", "2022-02-01", "2022-02-02", None])
    first = pd.Series(["2021-03-01T09:00"] * 5)
    last = pd.Series(["2022-02-01T10:00"] * 5)
    assert derive_epoch(dtc, first, last, study).tolist() == [
        "SCREENING", "TREATMENT", "TREATMENT", "FOLLOW-UP", None]


@pytest.mark.parametrize("dtc, epoch", [
    ("2021-02", "SCREENING"),         # the whole month before the first dose (2021-03-01)
    ("2021-03", "TREATMENT"),         # 1..31 March: on or after the first dose
    ("2021-06", "TREATMENT"),
    ("2021", None),                   # January-February screening, then treatment: not one epoch
    ("2022-02", None),                # the last dose 2022-02-01, follow-up from 2022-02-02
    ("2022-03", "FOLLOW-UP"),
    ("2023", "FOLLOW-UP"),
])
def test_epoch_of_a_partial_date_when_its_whole_period_is_in_one_epoch(study, dtc, epoch):
    """CORE-000701: a partial date gets the epoch its first and last possible day share."""
    first, last = pd.Series(["2021-03-01T09:00"]), pd.Series(["2022-02-01T10:00"])
    assert derive_epoch(pd.Series([dtc]), first, last, study).tolist() == [epoch]


def test_period_bounds_of_partial_dates():
    lo, hi = period_bounds(pd.Series(["2024-02", "2023", "2021-03-05T10:00", None, "2021-12"]))
    assert lo.tolist() == ["2024-02-01", "2023-01-01", "2021-03-05", None, "2021-12-01"]
    assert hi.tolist() == ["2024-02-29", "2023-12-31", "2021-03-05", None, "2021-12-31"]


def test_epoch_never_dosed_is_screening(study):
    assert derive_epoch(pd.Series(["2021-05-01"]), pd.Series([None]), pd.Series([None]), study).tolist() == [
        "SCREENING"]


def test_seq_orders_within_subject_and_keeps_input_order():
    df = pd.DataFrame({"USUBJID": ["B", "A", "B", "A"], "DTC": ["2021-02", "2021-05", "2021-01", "2021-01"]})
    seq = derive_seq(df, ["DTC"])
    assert seq.tolist() == [2.0, 2.0, 1.0, 1.0]
    assert df["USUBJID"].tolist() == ["B", "A", "B", "A"]


def test_visitnum_scheduled_unscheduled_and_early_termination(study):
    numbering = VisitNumbering(study)
    subj = pd.Series(["S1", "S1", "S1", "S1", "S2"])
    folder = pd.Series(["WEEK 4", "UNSCHEDULED", "UNSCHEDULED", "EARLY TERMINATION", "UNSCHEDULED"])
    dtc = pd.Series(["2021-03-29", "2021-04-05", "2021-04-09T10:00", "2021-06-01", "2021-04-05"])
    day = pd.Series([29.0, 36.0, 40.0, 93.0, 2.0])
    numbering.register(subj, folder, day, dtc)
    numbering.finish()
    visitnum, visit = numbering.assign(subj, folder, dtc)
    assert visitnum.tolist() == [4.0, 4.01, 4.02, 900.0, 0.01]
    assert visit.tolist() == ["WEEK 4", "UNSCHEDULED 4.01", "UNSCHEDULED 4.02", "EARLY TERMINATION",
                              "UNSCHEDULED 0.01"]


def test_lobxfl_last_result_on_or_before_first_dose_per_test():
    from sdtm_lupus.sdtm.timing import derive_lobxfl

    df = pd.DataFrame({"USUBJID": ["A", "A", "A", "A", "B", "B"],
                       "TESTCD": ["C3", "C3", "C3", "C4", "C3", "C3"],
                       "DTC": ["2021-02-20", "2021-03-01T08:00", "2021-03-10", "2021-02", "2021-03-01", "2021-02-01"]})
    ref = pd.Series(["2021-03-01T09:00"] * 4 + ["2021-03-01", "2021-03-01"])
    flag = derive_lobxfl(df, "DTC", ref, ["USUBJID", "TESTCD"])
    assert flag.tolist() == [None, "Y", None, None, "Y", None]
    not_done = pd.Series([True, False, True, True, True, True])
    assert derive_lobxfl(df, "DTC", ref, ["USUBJID", "TESTCD"], valid=not_done).tolist() == [
        "Y", None, None, None, "Y", None]

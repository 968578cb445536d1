import numpy as np
import pandas as pd

from sdtm_lupus.validate.cross_checks import (
    build_reviewer_expectations,
    in_participation,
    visit_in_sv,
    visit_in_tv,
)


def exp(dataset, kind):
    return next(e for e in build_reviewer_expectations([dataset, "DM"]) if e.kind == kind and e.dataset == dataset)


DM = pd.DataFrame({"USUBJID": ["A", "B"], "RFICDTC": ["2021-03-01", "2021-03-01"],
                   "RFPENDTC": ["2022-03-01", None]})


def test_dates_outside_participation_fail_partial_dates_at_their_precision():
    ex = pd.DataFrame({"USUBJID": ["A"] * 6 + ["B"],
                       "EXSTDTC": ["2021-02-28", "2021-03-01T08:00", "2022-03-01", "2022-03-02", "2021-02",
                                   "2021", "2030-01-01"]})
    e = next(x for x in build_reviewer_expectations(["EX"]) if x.variables == ("USUBJID", "EXSTDTC"))
    mask = in_participation(e, ex, {"DM": DM, "EX": ex})
    # 2021-02 cannot be on/after 2021-03-01; 2021 can; B has no end of participation
    assert mask.tolist() == [True, False, False, True, True, False, False]


def test_participation_not_run_without_dm_dates():
    e = next(x for x in build_reviewer_expectations(["EX"]) if x.kind == "in_participation")
    assert isinstance(in_participation(e, pd.DataFrame({"USUBJID": []}), {}), str)


def test_visit_pairs_agree_with_tv_and_each_other():
    tv = pd.DataFrame({"VISITNUM": [0.0, 2.0], "VISIT": ["WEEK 0", "WEEK 2"]})
    ex = pd.DataFrame({"USUBJID": ["A", "A", "A"], "VISITNUM": [0.0, 2.0, 2.01],
                       "VISIT": ["WEEK 0", "WEEK 02", "UNSCHEDULED 2.01"]})
    qs = pd.DataFrame({"USUBJID": ["A"], "VISITNUM": [2.01], "VISIT": ["UNSCHEDULED 2.01"]})
    mask = visit_in_tv(exp("EX", "visit_in_tv"), ex, {"TV": tv, "EX": ex, "QS": qs})
    assert mask.tolist() == [False, True, False]
    qs.loc[0, "VISIT"] = "UNSCHEDULED"
    assert visit_in_tv(exp("EX", "visit_in_tv"), ex, {"TV": tv, "EX": ex, "QS": qs}).tolist() == [False, True, True]


def test_every_subject_visit_is_in_sv():
    sv = pd.DataFrame({"USUBJID": ["A", "A"], "VISITNUM": [0.0, 2.0]})
    lb = pd.DataFrame({"USUBJID": ["A", "A", "B", "A"], "VISITNUM": [0.0, 4.0, 0.0, np.nan]})
    assert visit_in_sv(exp("LB", "visit_in_sv"), lb, {"SV": sv}).tolist() == [False, True, True, False]
    assert visit_in_sv(exp("LB", "visit_in_sv"), lb, {}) == "SV is absent"


def test_gate_reports_cross_check_with_examples():
    from sdtm_lupus.specs import load_specs
    from sdtm_lupus.validate.gate import run_gate

    dm = pd.DataFrame({"USUBJID": ["A"], "RFICDTC": ["2021-03-01"], "RFPENDTC": ["2021-06-01"]})
    ex = pd.DataFrame({"USUBJID": ["A", "A"], "EXSTDTC": ["2021-03-05", "2021-07-01"], "EXENDTC": [None, None],
                       "VISITNUM": [0.0, 2.0], "VISIT": ["WEEK 0", "WEEK 2"], "_file": "dosing.csv", "_row": [2, 3]})
    result = run_gate({"DM": dm, "EX": ex}, load_specs())
    by_id = {r.expectation.id: r for r in result.results}
    r = by_id["X.EX.EXSTDTC.IN_PARTICIPATION"]
    assert (r.status, r.unexpected_count, r.expectation.severity) == ("failed", 1, "warning")
    assert r.examples[0] == {"USUBJID": "A", "value": "2021-07-01", "file": "dosing.csv", "row": 3}
    assert by_id["X.EX.VISIT.SV"].status == "not run"


def test_partial_end_of_participation_compared_at_its_precision():
    dm = pd.DataFrame({"USUBJID": ["A"], "RFICDTC": ["2021-02"], "RFPENDTC": ["2021"]})
    ex = pd.DataFrame({"USUBJID": ["A"] * 3, "EXSTDTC": ["2021-12-31", "2022-01-01", "2021-02-01"]})
    e = next(x for x in build_reviewer_expectations(["EX"]) if x.variables == ("USUBJID", "EXSTDTC"))
    assert in_participation(e, ex, {"DM": dm}).tolist() == [False, True, False]

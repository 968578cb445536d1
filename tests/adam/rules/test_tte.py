"""R6 time to first flare (derivations.md R6; lupus-endpoints.md §7.8, §8 cases 45, 46)."""

from datetime import date

import pandas as pd
import pytest

from sdtm_lupus.adam.rules.tte import derive_param_tte
from sdtm_lupus.config.study import RuleParameters
from tests.adam.rules.test_flares import D1, day

PARAMS = RuleParameters()


def flares(*rows: tuple) -> pd.DataFrame:
    """(usubjid, occ, occasion day, AVALC, onset day | None) -> derive_param_flare-like rows."""
    return pd.DataFrame([{"USUBJID": u, "OCC": occ, "ADT": day(d), "AVALC": cat,
                          "ONSETDT": day(onset) if onset is not None else None} for u, occ, d, cat, onset in rows],
                        columns=["USUBJID", "OCC", "ADT", "AVALC", "ONSETDT"]).astype(object)


def occasions(*rows: tuple) -> pd.DataFrame:
    """(usubjid, occ, day) -> OCCASIONS rows."""
    return pd.DataFrame([{"USUBJID": u, "OCC": occ, "ADT": day(d)} for u, occ, d in rows],
                        columns=["USUBJID", "OCC", "ADT"]).astype(object)


def subjects(*ids: str, trtsdt: date | None = D1) -> pd.DataFrame:
    return pd.DataFrame({"USUBJID": list(ids), "TRTSDT": [trtsdt] * len(ids)}, dtype=object)


def tte(fl, occ, subj, kind="TTFLANY", params=PARAMS):
    return derive_param_tte(fl, occ, subj, params, kind)


def summary(out: pd.DataFrame) -> list[tuple]:
    return [(r.ADT, r.AVAL, r.CNSR, r.EVNTDESC, r.CNSDTDSC, r.OCC) for r in out.itertuples()]


VISITS = [("S1", 1, 1), ("S1", 2, 102), ("S1", 3, 200), ("S1", 4, 365), ("S1", 5, 379)]
EVENT_MM = ("MILD/MODERATE SFI FLARE", None)
LAST = ("LAST DISEASE ACTIVITY ASSESSMENT", "LAST OCCASION ON OR BEFORE DAY 365")

# (id, flare rows, kind, expected (ADT, AVAL, CNSR, EVNTDESC, CNSDTDSC, OCC))
CASES = [
    ("event at onset", [("S1", 2, 102, "MILD/MODERATE", 102)], "TTFLANY",
     (day(102), 102.0, 0, *EVENT_MM, 2)),
    ("event onset before occasion", [("S1", 2, 102, "MILD/MODERATE", 90)], "TTFLANY",
     (day(90), 90.0, 0, *EVENT_MM, 2)),
    ("severe flare not MM", [("S1", 2, 102, "SEVERE", 102)], "TTFLMM", (day(365), 365.0, 1, *LAST, 4)),
    ("severe counts for any", [("S1", 2, 102, "SEVERE", 102)], "TTFLANY",
     (day(102), 102.0, 0, "SEVERE SFI FLARE", None, 2)),
    ("mild not severe", [("S1", 2, 102, "MILD/MODERATE", 102)], "TTFLSEV", (day(365), 365.0, 1, *LAST, 4)),
    ("MM after severe", [("S1", 2, 102, "SEVERE", 102), ("S1", 3, 200, "MILD/MODERATE", 190)], "TTFLMM",
     (day(190), 190.0, 0, *EVENT_MM, 3)),
    ("severe after MM", [("S1", 2, 102, "MILD/MODERATE", 102), ("S1", 3, 200, "SEVERE", 190)], "TTFLSEV",
     (day(190), 190.0, 0, "SEVERE SFI FLARE", None, 3)),
    ("first by onset", [("S1", 3, 200, "SEVERE", 150), ("S1", 2, 102, "MILD/MODERATE", 102)], "TTFLANY",
     (day(102), 102.0, 0, *EVENT_MM, 2)),
    ("NONE rows ignored", [("S1", 2, 102, "NONE", None)], "TTFLANY", (day(365), 365.0, 1, *LAST, 4)),
    ("onset on day 365", [("S1", 5, 379, "MILD/MODERATE", 365)], "TTFLANY", (day(365), 365.0, 0, *EVENT_MM, 5)),
    ("c45 onset on day 366", [("S1", 5, 379, "MILD/MODERATE", 366)], "TTFLANY", (day(365), 365.0, 1, *LAST, 4)),
]


@pytest.mark.parametrize("rows, kind, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_tte_table(rows, kind, expected):
    assert summary(tte(flares(*rows), occasions(*VISITS), subjects("S1"), kind)) == [expected]


def test_c45_censored_at_last_occasion_on_or_before_day_365():
    occ = occasions(("S1", 1, 1), ("S1", 2, 200), ("S1", 3, 340), ("S1", 4, 366))
    out = tte(flares(("S1", 4, 366, "SEVERE", 366)), occ, subjects("S1"), "TTFLSEV")
    assert summary(out) == [(day(340), 340.0, 1, *LAST, 3)]


def test_c46_no_post_baseline_occasion_censored_at_trtsdt():
    occ = occasions(("S1", 1, -14), ("S1", 2, 1))      # day 1 is not "after day 1"
    out = tte(flares(), occ, subjects("S1"))
    assert summary(out) == [(D1, 1.0, 1, "NO POST-BASELINE ASSESSMENT", "TREATMENT START DATE", None)]
    assert out["STARTDT"].tolist() == [D1]


def test_one_row_per_subject_aligned_to_subjects_input():
    subj = subjects("B", "A", "C")
    subj.index = [7, 3, 5]
    occ = occasions(("A", 1, 1), ("A", 2, 29), ("B", 1, 1), ("B", 2, 57))
    out = tte(flares(("B", 2, 57, "SEVERE", 50)), occ, subj)
    assert out.index.tolist() == [7, 3, 5]
    assert out["USUBJID"].tolist() == ["B", "A", "C"]
    assert out["CNSR"].tolist() == [0, 1, 1]
    assert out["AVAL"].tolist() == [50.0, 29.0, 1.0]
    assert out["PARAMCD"].tolist() == ["TTFLANY"] * 3


def test_horizon_parameter():
    out = tte(flares(("S1", 4, 365, "MILD/MODERATE", 300)), occasions(*VISITS), subjects("S1"),
              params=RuleParameters(flare_horizon_day=280))
    assert summary(out) == [(day(200), 200.0, 1, "LAST DISEASE ACTIVITY ASSESSMENT",
                             "LAST OCCASION ON OR BEFORE DAY 280", 3)]


def test_param_texts_and_columns():
    out = tte(flares(), occasions(*VISITS), subjects("S1"), "TTFLSEV")
    assert list(out.columns) == ["USUBJID", "PARAMCD", "PARAM", "STARTDT", "ADT", "AVAL", "CNSR", "EVNTDESC",
                                 "CNSDTDSC", "OCC", "FLCAT"]
    assert out["PARAM"].tolist() == ["Time to First Severe SFI Flare (days)"]


def test_subject_without_trtsdt_has_missing_values():
    out = tte(flares(), occasions(*VISITS), subjects("S1", trtsdt=None))
    assert out["AVAL"].isna().all() and out["CNSR"].isna().all() and out["ADT"].tolist() == [None]


def test_unknown_kind_raises():
    with pytest.raises(ValueError, match="kind"):
        tte(flares(), occasions(*VISITS), subjects("S1"), "TTFLX")

"""R2.1 baseline per instrument."""

from datetime import date

import pandas as pd
import pytest

from sdtm_lupus.adam.rules.baseline import compute_baseline_values, derive_var_ablfl, derive_var_base
from sdtm_lupus.adam.rules.bilag import BILAG_SYSTEMS, compute_bilag_new

D = date
DAY1 = D(2021, 3, 15)
ALL_C = dict.fromkeys(BILAG_SYSTEMS, "C")
NO_BILAG = dict.fromkeys(BILAG_SYSTEMS)


def occ(*rows, index=None):
    """rows: (USUBJID, OCC, FOLDER, ADT, SLEDAI, PGA10, bilag grades dict)."""
    return pd.DataFrame([{"USUBJID": r[0], "OCC": r[1], "FOLDER": r[2], "ADT": r[3], "SLEDAI": r[4],
                          "PGA10": r[5], **r[6]} for r in rows], index=index).astype({"PGA10": "Int64", "SLEDAI": "Int64"})


def ablfl(frame, instrument, trtsdt=None):
    return derive_var_ablfl(frame, {"S1": DAY1} if trtsdt is None else trtsdt, instrument).tolist()


@pytest.mark.parametrize("case, rows, instrument, expected", [
    ("2: only screening before day 1",
     [("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, ALL_C), ("S1", 2, "WEEK 4", D(2021, 4, 12), 4, 10, ALL_C)],
     "SLEDAI", ["Y", None]),
    ("3: screening and WEEK 0 both pre-dose -> latest",
     [("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, ALL_C), ("S1", 2, "WEEK 0", D(2021, 3, 14), 6, 12, ALL_C)],
     "SLEDAI", [None, "Y"]),
    ("WEEK 0 on day 1 counts (on or before)",
     [("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, ALL_C), ("S1", 2, "WEEK 0", DAY1, 6, 12, ALL_C)],
     "SLEDAI", [None, "Y"]),
    ("4: WEEK 0 dated day 2 -> screening",
     [("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, ALL_C), ("S1", 2, "WEEK 0", D(2021, 3, 16), 6, 12, ALL_C)],
     "SLEDAI", ["Y", None]),
    ("1: nothing on or before day 1",
     [("S1", 1, "WEEK 0", D(2021, 3, 16), 6, 12, ALL_C), ("S1", 2, "WEEK 4", D(2021, 4, 12), 4, 10, ALL_C)],
     "SLEDAI", [None, None]),
    ("unscheduled pre-dose occasion counts too",
     [("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, ALL_C), ("S1", 2, "UNSCHEDULED", D(2021, 3, 10), 6, 12, ALL_C)],
     "SLEDAI", [None, "Y"]),
    ("5: PGA missing at WEEK 0 -> last non-missing PGA (screening)",
     [("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, ALL_C), ("S1", 2, "WEEK 0", DAY1, 6, None, ALL_C)],
     "PGA", ["Y", None]),
    ("5: no PGA on or before day 1 -> no PGA baseline",
     [("S1", 1, "SCREENING", D(2021, 3, 1), 8, None, ALL_C), ("S1", 2, "WEEK 0", DAY1, 6, None, ALL_C),
      ("S1", 3, "WEEK 4", D(2021, 4, 12), 4, 10, ALL_C)],
     "PGA", [None, None, None]),
    ("7: BILAG with one system blank is missing -> screening",
     [("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, ALL_C), ("S1", 2, "WEEK 0", DAY1, 6, 12, {**ALL_C, "HAEM": None})],
     "BILAG", ["Y", None]),
    ("BILAG never assessed",
     [("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, NO_BILAG)],
     "BILAG", [None]),
    ("instruments independent: SLEDAI from WEEK 0 while PGA/BILAG missing there",
     [("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, ALL_C), ("S1", 2, "WEEK 0", DAY1, 6, None, NO_BILAG)],
     "SLEDAI", [None, "Y"]),
])
def test_ablfl(case, rows, instrument, expected):
    assert ablfl(occ(*rows), instrument) == expected, case


def test_missing_sledai_total_is_not_baseline():
    frame = occ(("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, ALL_C), ("S1", 2, "WEEK 0", DAY1, None, 12, ALL_C))
    assert ablfl(frame, "SLEDAI") == ["Y", None]


def test_one_flag_per_subject_and_index_kept():
    frame = occ(("S2", 2, "WEEK 0", D(2021, 5, 2), 4, 10, ALL_C),
                ("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, ALL_C),
                ("S2", 1, "SCREENING", D(2021, 4, 20), 6, 12, ALL_C),
                ("S1", 2, "WEEK 0", DAY1, 6, 12, ALL_C),
                index=[40, 10, 30, 20])
    trtsdt = pd.Series({"S1": DAY1, "S2": D(2021, 5, 2)})
    flag = derive_var_ablfl(frame, trtsdt, "SLEDAI")
    assert flag.to_dict() == {40: "Y", 10: None, 30: None, 20: "Y"}


def test_same_date_two_occasions_later_occ_wins():
    frame = occ(("S1", 2, "UNSCHEDULED", D(2021, 3, 1), 6, 12, ALL_C), ("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, ALL_C))
    assert ablfl(frame, "SLEDAI") == ["Y", None]


def test_never_dosed_subject_has_no_baseline():
    frame = occ(("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, ALL_C))
    assert ablfl(frame, "SLEDAI", trtsdt={"S1": None}) == [None]
    assert ablfl(frame, "SLEDAI", trtsdt={}) == [None]


def test_unknown_instrument_is_refused():
    with pytest.raises(ValueError, match="instrument"):
        derive_var_ablfl(occ(("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, ALL_C)), {"S1": DAY1}, "BICLA")


def test_baseline_values_missing_baseline_stays_visible():
    frame = occ(("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, ALL_C),
                ("S2", 1, "WEEK 0", D(2021, 5, 9), 6, 12, ALL_C),      # after S2's day 1: no baseline
                ("S1", 2, "WEEK 4", D(2021, 4, 12), 4, 10, ALL_C))
    flag = derive_var_ablfl(frame, {"S1": DAY1, "S2": D(2021, 5, 2)}, "SLEDAI")
    values = compute_baseline_values(frame, flag, ["SLEDAI", "PGA10"])
    assert values.index.tolist() == ["S1", "S2"]
    assert values.loc["S1", "SLEDAI"] == 8 and pd.isna(values.loc["S2", "SLEDAI"])
    assert values["SLEDAI"].dtype == "Int64" and values["PGA10"].dtype == "Int64"
    assert values["BASEDT"].tolist() == [D(2021, 3, 1), None] and values.loc["S1", "BASEOCC"] == 1
    base = derive_var_base(frame, flag, ["SLEDAI"])
    assert base.index.tolist() == frame.index.tolist()
    assert base["SLEDAI"].tolist()[0::2] == [8, 8] and pd.isna(base["SLEDAI"].iloc[1])


def test_baseline_bilag_grades_feed_new_a_new_b():
    frame = occ(("S1", 1, "SCREENING", D(2021, 3, 1), 8, 15, {**ALL_C, "RENAL": "B"}),
                ("S1", 2, "WEEK 0", DAY1, 6, 12, {**ALL_C, "HAEM": None}),
                ("S1", 3, "WEEK 4", D(2021, 4, 12), 4, 10, {**ALL_C, "RENAL": "A", "CONST": "B"}))
    flag = derive_var_ablfl(frame, {"S1": DAY1}, "BILAG")
    base = derive_var_base(frame, flag, list(BILAG_SYSTEMS))
    new = compute_bilag_new(frame[list(BILAG_SYSTEMS)], base)
    assert new.iloc[2].tolist() == [1, 1, True]
    assert new.iloc[1]["BILEVAL"] == False  # noqa: E712 - blank HAEM at the occasion

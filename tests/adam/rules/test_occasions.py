"""R1 occasions, AVISIT, ANL01FL, ADY."""

from datetime import date

import pandas as pd
import pytest

from sdtm_lupus.adam.rules.bilag import BILAG_SYSTEMS
from sdtm_lupus.adam.rules.occasions import (
    UNMATCHED_COLUMNS,
    derive_occasions,
    derive_var_ady,
    derive_var_anl01fl,
    derive_var_avisit,
)
from sdtm_lupus.adam.rules.sledai import SLEDAI_DESCRIPTORS

D = date
SCHEDULED = {"SCREENING", "WEEK 0", "WEEK 4", "WEEK 48"}
FLARE_COLS = ["USUBJID", "FOLDER", "ADT", "ORDER", "FLCRF", "MM_NEWWORSE", "SV_NEWWORSE", "SV_HOSP", "FLAREDT"]


def sledai(*rows, index=None):
    """rows: (USUBJID, FOLDER, ADT, ORDER, marked descriptors[, SITETOT])."""
    out = []
    for i, row in enumerate(rows):
        subj, folder, adt, order, marked, *site = row
        out.append({"USUBJID": subj, "FOLDER": folder, "ADT": adt, "ORDER": order,
                    **{c: c in marked for c in SLEDAI_DESCRIPTORS},
                    "SITETOT": site[0] if site else None, "QSSEQ": float(i + 1)})
    return pd.DataFrame(out, index=index)


def pga(*rows):
    return pd.DataFrame({"USUBJID": [r[0] for r in rows], "FOLDER": [r[1] for r in rows],
                         "ADT": [r[2] for r in rows], "ORDER": [r[3] for r in rows],
                         "PGA10": pd.array([r[4] for r in rows], dtype="Int64")})


def bilag(*rows):
    """rows: (USUBJID, FOLDER, ADT, ORDER, {system: grade}) - unlisted systems D."""
    return pd.DataFrame([{"USUBJID": r[0], "FOLDER": r[1], "ADT": r[2], "ORDER": r[3],
                          **{s: "D" for s in BILAG_SYSTEMS}, **r[4]} for r in rows])


def flare(*rows):
    return pd.DataFrame(list(rows), columns=FLARE_COLS)


EMPTY_PGA, EMPTY_BILAG, EMPTY_FLARE = pga(), bilag(), pd.DataFrame()


def occasions(sl, pg=EMPTY_PGA, bl=EMPTY_BILAG, fl=EMPTY_FLARE, scheduled=SCHEDULED):
    return derive_occasions(sl, pg, bl, fl, scheduled)


def unmatched(out2):
    return [(r.FORM, r.USUBJID, r.FOLDER, r.ADT, r.ORDER, r.REASON) for r in out2.itertuples()]


# ---------------------------------------------------------------- R1.1 occasions


def test_one_occasion_per_sledai_row_with_contract_columns():
    sl = sledai(("S1", "SCREENING", D(2021, 3, 1), 1, ("RASH",), 2),
                ("S1", "WEEK 0", D(2021, 3, 15), 2, ("ARTHRIT", "FEVER"), 5))
    occ, out2 = occasions(sl)
    for col in ["USUBJID", "OCC", "FOLDER", "SCHEDULED", "ADT", "QSSEQ", *SLEDAI_DESCRIPTORS, "SLEDAI", "PGA10",
                *BILAG_SYSTEMS, "FLCRF", "MM_NEWWORSE", "SV_NEWWORSE", "SV_HOSP", "FLAREDT"]:
        assert col in occ.columns, col
    assert occ["SLEDAI"].tolist() == [2, 5]
    assert occ["OCC"].tolist() == [1, 2]
    assert occ["QSSEQ"].tolist() == [1.0, 2.0]
    assert occ["PGA10"].isna().all() and occ["CONST"].tolist() == [None, None]
    assert occ["FLCRF"].tolist() == [None, None] and occ["FLAREDT"].tolist() == [None, None]
    assert out2.empty and list(out2.columns) == list(UNMATCHED_COLUMNS)


def test_edge_20_same_identity_is_one_occasion_later_row_stands():
    # the later row (ORDER 9) comes first in the frame: ORDER decides, not frame position
    sl = sledai(("S1", "WEEK 48", D(2022, 2, 1), 9, ("RASH",)),
                ("S1", "WEEK 48", D(2022, 2, 1), 4, ("SEIZURE",)),
                index=[100, 200])
    occ, out2 = occasions(sl)
    assert occ.index.tolist() == [100]
    assert occ["SLEDAI"].tolist() == [2] and occ["ORDER"].tolist() == [9] and occ["QSSEQ"].tolist() == [1.0]
    assert unmatched(out2) == [("sledai", "S1", "WEEK 48", D(2022, 2, 1), 4, "SUPERSEDED")]
    assert out2["SRCROW"].tolist() == [200]


def test_edge_19_same_folder_different_dates_are_two_occasions():
    sl = sledai(("S1", "WEEK 48", D(2022, 2, 8), 2, ()),
                ("S1", "WEEK 48", D(2022, 2, 1), 1, ("RASH",)))
    occ, out2 = occasions(sl)
    assert len(occ) == 2 and out2.empty
    assert occ["OCC"].tolist() == [2, 1]
    assert derive_var_anl01fl(occ).tolist() == ["Y", None]


def test_same_date_other_folder_or_subject_is_another_occasion():
    sl = sledai(("S1", "WEEK 4", D(2021, 4, 1), 1, ()),
                ("S1", "UNSCHEDULED", D(2021, 4, 1), 2, ("RASH",)),
                ("S2", "WEEK 4", D(2021, 4, 1), 3, ()))
    occ, out2 = occasions(sl)
    assert len(occ) == 3 and out2.empty
    assert occ["OCC"].tolist() == [1, 2, 1]   # same date: the later file row is the later occasion


def test_occ_is_date_order_and_input_order_is_kept():
    sl = sledai(("S1", "WEEK 4", D(2021, 4, 1), 3, ()),
                ("S2", "SCREENING", D(2021, 2, 1), 1, ()),
                ("S1", "SCREENING", D(2021, 2, 20), 2, ()),
                ("S1", "UNSCHEDULED", D(2021, 3, 10), 4, ()),
                index=[13, 11, 12, 14])
    before = sl.copy()
    occ, _ = occasions(sl)
    assert occ.index.tolist() == [13, 11, 12, 14]
    assert occ["OCC"].tolist() == [3, 1, 1, 2]
    pd.testing.assert_frame_equal(sl, before)


def test_scheduled_comes_from_the_caller():
    sl = sledai(("S1", "WEEK 4", D(2021, 4, 1), 1, ()),
                ("S1", "UNSCHEDULED", D(2021, 4, 9), 2, ()),
                ("S1", "EARLY TERMINATION", D(2021, 5, 1), 3, ()),
                ("S1", "WEEK 52", D(2021, 5, 2), 4, ()))     # edge 51: not in this study's schedule
    occ, _ = occasions(sl)
    assert occ["SCHEDULED"].tolist() == [True, False, False, False]


def test_sledai_total_is_derived_not_the_site_total():
    # edge case 22
    occ, _ = occasions(sledai(("S1", "WEEK 4", D(2021, 4, 1), 1, ("SEIZURE", "RASH"), 8)))
    assert occ["SLEDAI"].tolist() == [10] and occ["SITETOT"].tolist() == [8.0]


def test_sledai_row_without_date_is_reported():
    sl = sledai(("S1", "WEEK 4", None, 1, ()), ("S1", "WEEK 8", D(2021, 5, 1), 2, ()))
    occ, out2 = occasions(sl)
    assert occ["FOLDER"].tolist() == ["WEEK 8"]
    assert unmatched(out2) == [("sledai", "S1", "WEEK 4", None, 1, "DATE MISSING")]


def test_timestamps_are_taken_as_dates():
    sl = sledai(("S1", "WEEK 4", pd.Timestamp("2021-04-01"), 1, ()))
    pg = pga(("S1", "WEEK 4", D(2021, 4, 1), 1, 12))
    occ, out2 = occasions(sl, pg)
    assert occ["ADT"].tolist() == [D(2021, 4, 1)] and occ["PGA10"].tolist() == [12] and out2.empty


# ---------------------------------------------------------------- R1.1 pga / bilag / flare rows


def test_pga_joins_by_subject_folder_and_date():
    sl = sledai(("S1", "WEEK 4", D(2021, 4, 1), 1, ()), ("S2", "WEEK 4", D(2021, 4, 1), 2, ()))
    pg = pga(("S2", "WEEK 4", D(2021, 4, 1), 1, 8),
             ("S1", "WEEK 4", D(2021, 4, 1), 2, 15))
    occ, out2 = occasions(sl, pg)
    assert occ["PGA10"].tolist() == [15, 8] and occ["PGA10"].dtype == "Int64"
    assert out2.empty


def test_edge_21_pga_row_matching_no_occasion_is_reported_not_attached():
    sl = sledai(("S1", "WEEK 4", D(2021, 4, 1), 1, ()))
    pg = pga(("S1", "WEEK 4", D(2021, 4, 2), 1, 15),       # other date
             ("S1", "UNSCHEDULED", D(2021, 4, 1), 2, 20),  # same date, other folder
             ("S9", "WEEK 4", D(2021, 4, 1), 3, 5),        # other subject
             ("S1", "WEEK 8", None, 4, 7))                 # no date
    occ, out2 = occasions(sl, pg)
    assert occ["PGA10"].isna().all()
    assert unmatched(out2) == [
        ("pga", "S1", "WEEK 4", D(2021, 4, 2), 1, "NO OCCASION"),
        ("pga", "S1", "UNSCHEDULED", D(2021, 4, 1), 2, "NO OCCASION"),
        ("pga", "S9", "WEEK 4", D(2021, 4, 1), 3, "NO OCCASION"),
        ("pga", "S1", "WEEK 8", None, 4, "DATE MISSING"),
    ]


def test_two_pga_rows_for_one_occasion_the_later_row_stands():
    sl = sledai(("S1", "WEEK 4", D(2021, 4, 1), 1, ()))
    pg = pga(("S1", "WEEK 4", D(2021, 4, 1), 7, 12), ("S1", "WEEK 4", D(2021, 4, 1), 3, 20))
    occ, out2 = occasions(sl, pg)
    assert occ["PGA10"].tolist() == [12]
    assert unmatched(out2) == [("pga", "S1", "WEEK 4", D(2021, 4, 1), 3, "SUPERSEDED")]


def test_pga_joins_the_standing_occasion_of_a_duplicated_sledai():
    sl = sledai(("S1", "WEEK 4", D(2021, 4, 1), 1, ()), ("S1", "WEEK 4", D(2021, 4, 1), 2, ("RASH",)))
    occ, _ = occasions(sl, pga(("S1", "WEEK 4", D(2021, 4, 1), 1, 9)))
    assert occ["SLEDAI"].tolist() == [2] and occ["PGA10"].tolist() == [9]


def test_bilag_grades_attached_blank_is_none():
    sl = sledai(("S1", "WEEK 4", D(2021, 4, 1), 1, ()), ("S1", "WEEK 8", D(2021, 5, 1), 2, ()))
    bl = bilag(("S1", "WEEK 4", D(2021, 4, 1), 1, {"RENAL": "B", "HAEM": ""}),
               ("S1", "WEEK 12", D(2021, 6, 1), 2, {}))
    occ, out2 = occasions(sl, bl=bl)
    assert occ["RENAL"].tolist() == ["B", None]
    assert occ["HAEM"].tolist() == [None, None] and occ["CONST"].tolist() == ["D", None]
    assert unmatched(out2) == [("bilag", "S1", "WEEK 12", D(2021, 6, 1), 2, "NO OCCASION")]


def test_flare_attached_and_empty_flare_frame_allowed():
    sl = sledai(("S1", "WEEK 4", D(2021, 4, 1), 1, ()), ("S1", "WEEK 8", D(2021, 5, 1), 2, ()))
    fl = flare(("S1", "WEEK 8", D(2021, 5, 1), 1, "SEVERE", False, True, False, D(2021, 4, 20)))
    occ, out2 = occasions(sl, fl=fl)
    assert occ["FLCRF"].tolist() == [None, "SEVERE"]
    assert occ["SV_NEWWORSE"].tolist() == [None, True] and occ["MM_NEWWORSE"].tolist() == [None, False]
    assert occ["FLAREDT"].tolist() == [None, D(2021, 4, 20)]
    assert out2.empty
    occ2, _ = occasions(sl, fl=pd.DataFrame(columns=FLARE_COLS))
    assert occ2["SV_HOSP"].tolist() == [None, None]


def test_missing_columns_are_refused():
    with pytest.raises(ValueError, match="QSSEQ"):
        occasions(sledai(("S1", "WEEK 4", D(2021, 4, 1), 1, ())).drop(columns="QSSEQ"))
    with pytest.raises(ValueError, match="PGA10"):
        occasions(sledai(("S1", "WEEK 4", D(2021, 4, 1), 1, ())),
                  pga(("S1", "WEEK 4", D(2021, 4, 1), 1, 3)).drop(columns="PGA10"))


# ---------------------------------------------------------------- R1.3 ANL01FL


def _occ(rows, index=None):
    return pd.DataFrame(rows, columns=["USUBJID", "FOLDER", "SCHEDULED", "ADT", "ORDER"], index=index)


@pytest.mark.parametrize("rows, expected", [
    ([("S1", "WEEK 4", True, D(2021, 4, 1), 1)], ["Y"]),
    ([("S1", "WEEK 48", True, D(2022, 2, 8), 1), ("S1", "WEEK 48", True, D(2022, 2, 1), 2)], ["Y", None]),
    ([("S1", "WEEK 48", True, D(2022, 2, 1), 5), ("S1", "WEEK 48", True, D(2022, 2, 1), 2)], ["Y", None]),
    ([("S1", "WEEK 48", True, D(2022, 2, 1), 1), ("S2", "WEEK 48", True, D(2022, 1, 1), 2)], ["Y", "Y"]),
    ([("S1", "UNSCHEDULED", False, D(2021, 4, 1), 1), ("S1", "UNSCHEDULED", False, D(2021, 4, 9), 2),
      ("S1", "EARLY TERMINATION", False, D(2021, 5, 1), 3)], [None, None, None]),
    ([("S1", "SCREENING", True, D(2021, 1, 1), 1), ("S1", "SCREENING", True, D(2021, 1, 9), 2)], [None, "Y"]),
])
def test_anl01fl(rows, expected):
    assert derive_var_anl01fl(_occ(rows)).tolist() == expected


def test_anl01fl_aligns_to_index():
    flag = derive_var_anl01fl(_occ([("S1", "WEEK 4", True, D(2021, 4, 9), 1),
                                    ("S1", "WEEK 4", True, D(2021, 4, 1), 2)], index=["b", "a"]))
    assert flag.to_dict() == {"b": "Y", "a": None}


# ---------------------------------------------------------------- R1.2 AVISIT


@pytest.mark.parametrize("folder, scheduled, avisit, avisitn", [
    ("WEEK 4", True, "Week 4", 4.0),
    ("WEEK 48", True, "Week 48", 48.0),
    ("WEEK 0", True, None, None),        # Baseline is the ABLFL record (R2), named at ADEFF assembly
    ("SCREENING", True, None, None),
    ("UNSCHEDULED", False, None, None),
    ("EARLY TERMINATION", False, None, None),
    ("WEEK 52", False, None, None),      # edge 51: folder the study does not schedule
])
def test_avisit(folder, scheduled, avisit, avisitn):
    av, avn = derive_var_avisit(pd.DataFrame({"FOLDER": [folder], "SCHEDULED": [scheduled]}))
    assert av.tolist() == [avisit]
    assert (pd.isna(avn.iloc[0]) if avisitn is None else avn.iloc[0] == avisitn)


# ---------------------------------------------------------------- ADY


@pytest.mark.parametrize("adt, trtsdt, ady", [
    (D(2021, 3, 15), D(2021, 3, 15), 1),
    (D(2021, 3, 16), D(2021, 3, 15), 2),      # edge 4: WEEK 0 the day after the first infusion
    (D(2021, 3, 14), D(2021, 3, 15), -1),     # no day 0
    (D(2021, 3, 1), D(2021, 3, 15), -14),
    (D(2022, 3, 14), D(2021, 3, 15), 365),    # "day 365" is TRTSDT + 364
    (None, D(2021, 3, 15), None),
    (D(2021, 3, 15), None, None),
])
def test_ady(adt, trtsdt, ady):
    got = derive_var_ady(pd.Series([adt], dtype=object), pd.Series([trtsdt], dtype=object))
    assert got.dtype == "Int64"
    assert (pd.isna(got.iloc[0]) if ady is None else got.iloc[0] == ady)

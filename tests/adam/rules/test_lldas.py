"""R9 LLDAS and the R8 BLLDASFL variant."""

from datetime import date

import pandas as pd
import pytest

from sdtm_lupus.adam.rules.lldas import (
    LLDAS_MAJOR_DESCRIPTORS,
    PREV_COLUMNS,
    derive_prev_descriptors,
    derive_screening_descriptors,
    derive_var_blldasfl,
    derive_var_lldas,
)
from sdtm_lupus.adam.rules.sledai import SLEDAI_DESCRIPTORS, compute_sledai_total

D = date


def one(marked=("RASH",), prev=("RASH",), pga10=10, pred=7.5, sledai=None):
    """One occasion: `prev` None = no previous occasion."""
    row = {c: c in marked for c in SLEDAI_DESCRIPTORS}
    row.update({f"PREV_{c}": (None if prev is None else c in prev) for c in SLEDAI_DESCRIPTORS})
    frame = pd.DataFrame([row])
    frame["SLEDAI"] = compute_sledai_total(frame) if sledai is None else sledai
    frame["PGA10"] = pd.array([pga10], dtype="Int64")
    frame["PRED"] = [pred]
    frame[list(PREV_COLUMNS)] = frame[list(PREV_COLUMNS)].astype("boolean")
    return frame


@pytest.mark.parametrize("case, kwargs, expected", [
    ("all criteria met at their limits", {}, "Y"),
    ("SLEDAI 4", {"marked": ("ARTHRIT",), "prev": ("ARTHRIT",)}, "Y"),
    ("SLEDAI 5", {"marked": ("ARTHRIT", "THROMBO"), "prev": ("ARTHRIT", "THROMBO")}, "N"),
    ("SLEDAI 6 (serology + rash) too high", {"marked": ("RASH", "LOWCOMP", "DNABIND"),
                                              "prev": ("RASH", "LOWCOMP", "DNABIND")}, "N"),
    ("fever: major although total 1", {"marked": ("FEVER",), "prev": ("FEVER",)}, "N"),
    ("pleurisy: major", {"marked": ("PLEURISY",), "prev": ("PLEURISY",)}, "N"),
    ("thrombocytopenia is not major", {"marked": ("THROMBO",), "prev": ("THROMBO",)}, "Y"),
    ("a descriptor newly marked", {"marked": ("RASH",), "prev": ()}, "N"),
    ("a descriptor that resolved is fine", {"marked": (), "prev": ("RASH", "ARTHRIT")}, "Y"),
    ("PGA 1.1", {"pga10": 11}, "N"),
    ("PGA 0.0", {"pga10": 0}, "Y"),
    ("PGA missing", {"pga10": None}, "N"),
    ("prednisone 7.6", {"pred": 7.6}, "N"),
    ("prednisone 7.5 reached through float sums", {"pred": 6.0 * 1.25 + 1e-12}, "Y"),
    ("prednisone 0", {"pred": 0.0}, "Y"),
    ("prednisone missing", {"pred": None}, "N"),
    ("SLEDAI missing", {"sledai": pd.array([pd.NA], dtype="Int64")}, "N"),
    ("no previous occasion: not met", {"prev": None}, "N"),
])
def test_lldas(case, kwargs, expected):
    assert derive_var_lldas(one(**kwargs)).tolist() == [expected], case


def test_no_previous_none_new_variant():
    assert derive_var_lldas(one(prev=None), no_previous="none_new").tolist() == ["Y"]
    assert derive_var_lldas(one(prev=()), no_previous="none_new").tolist() == ["N"]
    with pytest.raises(ValueError):
        derive_var_lldas(one(), no_previous="maybe")


def test_major_list_is_r9():
    assert set(LLDAS_MAJOR_DESCRIPTORS) == {"SEIZURE", "PSYCHOSIS", "ORGBRAIN", "VISUAL", "CRANIAL", "LUPUSHA", "CVA",
                                            "VASCULIT", "UCASTS", "HEMATUR", "PROTEIN", "PYURIA", "PLEURISY",
                                            "PERICARD", "FEVER"}


def occasions(*rows, index=None):
    """rows: (USUBJID, OCC, FOLDER, marked descriptors)."""
    frame = pd.DataFrame([{"USUBJID": r[0], "OCC": r[1], "FOLDER": r[2], **{c: c in r[3] for c in SLEDAI_DESCRIPTORS}}
                          for r in rows], index=index)
    frame["SLEDAI"] = compute_sledai_total(frame)
    frame["PGA10"] = pd.array([5] * len(frame), dtype="Int64")
    frame["PRED"] = 5.0
    return frame


def test_previous_occasion_in_occ_order_not_frame_order():
    frame = occasions(("S1", 3, "WEEK 4", ("RASH",)), ("S1", 1, "SCREENING", ("ARTHRIT",)),
                      ("S2", 1, "SCREENING", ()), ("S1", 2, "WEEK 0", ("RASH",)), index=[3, 1, 9, 2])
    prev = derive_prev_descriptors(frame)
    assert prev.index.tolist() == [3, 1, 9, 2]
    assert prev["PREV_RASH"].tolist()[0] == True  # noqa: E712
    assert prev.loc[2, "PREV_ARTHRIT"] == True and prev.loc[2, "PREV_RASH"] == False  # noqa: E712
    assert prev.loc[[1, 9]].isna().all().all()
    lldas = derive_var_lldas(frame.join(prev))
    assert lldas.to_dict() == {3: "Y", 1: "N", 9: "N", 2: "N"}


def test_screening_descriptors_are_the_latest_screening_before():
    frame = occasions(("S1", 1, "SCREENING", ("ARTHRIT",)), ("S1", 2, "UNSCHEDULED", ("RASH",)),
                      ("S1", 3, "WEEK 0", ("RASH",)))
    prev = derive_screening_descriptors(frame)
    assert prev.loc[0].isna().all()
    assert prev.loc[1, "PREV_ARTHRIT"] == True and prev.loc[2, "PREV_ARTHRIT"] == True  # noqa: E712
    assert prev.loc[2, "PREV_RASH"] == False  # noqa: E712


@pytest.mark.parametrize("case, rows, base_index, expected", [
    ("baseline WEEK 0, same descriptors as screening",
     [("S1", 1, "SCREENING", ("RASH",)), ("S1", 2, "WEEK 0", ("RASH",))], 1, "Y"),
    ("baseline WEEK 0, descriptor new since screening",
     [("S1", 1, "SCREENING", ()), ("S1", 2, "WEEK 0", ("RASH",))], 1, "N"),
    ("previous occasion is screening, not an unscheduled visit in between",
     [("S1", 1, "SCREENING", ()), ("S1", 2, "UNSCHEDULED", ("RASH",)), ("S1", 3, "WEEK 0", ("RASH",))], 2, "N"),
    ("baseline is the screening itself: no descriptor counts as new",
     [("S1", 1, "SCREENING", ("RASH",)), ("S1", 2, "WEEK 0", ("RASH",))], 0, "Y"),
    ("baseline without any screening: no descriptor counts as new",
     [("S1", 1, "WEEK 0", ("RASH", "ARTHRIT"))], 0, "N"),     # SLEDAI 6 > 4
    ("baseline without any screening, low activity",
     [("S1", 1, "WEEK 0", ("RASH",))], 0, "Y"),
])
def test_blldasfl(case, rows, base_index, expected):
    frame = occasions(*rows)
    flag = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    flag.iloc[base_index] = "Y"
    got = derive_var_blldasfl(frame, flag)
    assert got.iloc[base_index] == expected, case
    assert all(v is None for i, v in enumerate(got) if i != base_index)


def test_blldasfl_ignores_prev_columns_already_present():
    frame = occasions(("S1", 1, "SCREENING", ("RASH",)), ("S1", 2, "WEEK 0", ("RASH",)))
    # stale PREV_ columns saying "nothing marked before" (RASH would be new): BLLDASFL uses screening instead
    for c in PREV_COLUMNS:
        frame[c] = pd.array([False, False], dtype="boolean")
    flag = pd.Series([None, "Y"], dtype=object)
    assert derive_var_blldasfl(frame, flag).tolist() == [None, "Y"]


def test_missing_input_columns_refused():
    with pytest.raises(ValueError, match="PRED"):
        derive_var_lldas(one().drop(columns="PRED"))
    with pytest.raises(ValueError, match="PREV_RASH"):
        derive_var_lldas(one().drop(columns="PREV_RASH"))

"""R3.2 BILAG new A / new B and numeric scores."""

import pandas as pd
import pytest

from sdtm_lupus.adam.rules.bilag import (
    BILAG_SYSTEMS,
    compute_bilag_complete,
    compute_bilag_global,
    compute_bilag_new,
    compute_bilag_numeric,
    normalise_grade,
)

ALL_D = dict.fromkeys(BILAG_SYSTEMS, "D")


def _grades(rows, index=None):
    return pd.DataFrame([{**ALL_D, **r} for r in rows], index=index, columns=list(BILAG_SYSTEMS))


def _new(base: dict, now: dict):
    out = compute_bilag_new(_grades([now]), _grades([base]))
    row = out.iloc[0]
    return (None if pd.isna(row["BILNEWA"]) else int(row["BILNEWA"]),
            None if pd.isna(row["BILNEWB"]) else int(row["BILNEWB"]),
            bool(row["BILEVAL"]))


@pytest.mark.parametrize("case, base, now, expected", [
    ("no change", {}, {}, (0, 0, True)),
    ("13: C -> B is one new B", {"MUSCULO": "C"}, {"MUSCULO": "B"}, (0, 1, True)),
    ("14: D -> B and E -> B", {"RENAL": "D", "HAEM": "E"}, {"RENAL": "B", "HAEM": "B"}, (0, 2, True)),
    ("15: A -> B is improvement", {"CONST": "A"}, {"CONST": "B"}, (0, 0, True)),
    ("16: B -> A is new A", {"NEURO": "B"}, {"NEURO": "A"}, (1, 0, True)),
    ("C/D/E -> A is new A", {"CONST": "C", "RENAL": "E"}, {"CONST": "A", "RENAL": "A"}, (2, 0, True)),
    ("A -> A is not new", {"RENAL": "A"}, {"RENAL": "A"}, (0, 0, True)),
    ("B -> B is not new", {"RENAL": "B"}, {"RENAL": "B"}, (0, 0, True)),
    ("any -> C/D/E", {"RENAL": "A", "HAEM": "B"}, {"RENAL": "C", "HAEM": "E"}, (0, 0, True)),
    ("52: E -> D is no new grade", {"GASTRO": "E"}, {"GASTRO": "D"}, (0, 0, True)),
    ("7: one system blank now", {}, {"HAEM": None}, (None, None, False)),
    ("blank at baseline", {"OPHTHAL": ""}, {}, (None, None, False)),
    ("blank elsewhere still not evaluable", {}, {"RENAL": "A", "HAEM": None}, (None, None, False)),
])
def test_new_a_new_b(case, base, now, expected):
    assert _new(base, now) == expected, case


def test_no_baseline_at_all_is_not_evaluable():
    base = pd.DataFrame({s: [None] for s in BILAG_SYSTEMS}, dtype=object)
    out = compute_bilag_new(_grades([{}]), base)
    assert out["BILEVAL"].tolist() == [False] and out["BILNEWA"].isna().all() and out["BILNEWB"].isna().all()


def test_aligned_to_input_index():
    now = _grades([{"RENAL": "B"}, {"RENAL": "A"}], index=[7, 3])
    base = _grades([{"RENAL": "C"}, {"RENAL": "C"}], index=[7, 3])
    out = compute_bilag_new(now, base)
    assert out.index.tolist() == [7, 3]
    assert out["BILNEWA"].tolist() == [0, 1] and out["BILNEWB"].tolist() == [1, 0]
    with pytest.raises(ValueError, match="index"):
        compute_bilag_new(now, base.reset_index(drop=True))


def test_complete_only_when_all_nine_graded():
    assert compute_bilag_complete(_grades([{}, {"CONST": None}, {"HAEM": " "}])).tolist() == [True, False, False]


def test_numeric_and_global():
    grades = _grades([{"CONST": "A", "MUCOCUT": "B", "NEURO": "C", "MUSCULO": "D", "CARDRESP": "E"},
                      {"RENAL": None}])
    numeric = compute_bilag_numeric(grades)
    assert numeric.iloc[0, :5].tolist() == [12, 8, 1, 0, 0]
    assert pd.isna(numeric.loc[1, "RENAL"])
    glob = compute_bilag_global(grades)
    assert glob.iloc[0] == 21 and pd.isna(glob.iloc[1])


@pytest.mark.parametrize("value, grade", [("A", "A"), (" b ", "B"), ("", None), (None, None), (float("nan"), None)])
def test_normalise_grade(value, grade):
    assert normalise_grade(value) == grade


def test_unknown_grade_is_refused():
    with pytest.raises(ValueError, match="F"):
        normalise_grade("F")

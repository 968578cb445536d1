"""R12 response-prediction table: one row per FAS subject, analysis records, no imputation; CSV + dictionary."""

import json

import numpy as np
import pandas as pd

from sdtm_lupus.adam.prediction import build_prediction, missing_shares, prediction_csv, prediction_json
from sdtm_lupus.specs import load_lab_tests

ADSL = pd.DataFrame({"USUBJID": ["S2", "S1", "S3"], "FASFL": ["Y", "Y", "N"], "AGE": [40.0, 31.0, 50.0],
                     "SEX": ["F", "M", "F"], "SLEDURY": [2.5, None, 1.0]})
BDS = ["USUBJID", "PARAMCD", "AVISIT", "AVAL", "AVALC", "CHG", "ABLFL", "ANL01FL"]
ADEFF = pd.DataFrame([
    ("S1", "SLEDAI", "Baseline", 10.0, None, np.nan, "Y", "Y"),
    ("S1", "SLEDAI", "Week 4", 8.0, None, -2.0, None, None),          # not the analysis record
    ("S1", "SLEDAI", "Week 4", 6.0, None, -4.0, None, "Y"),
    ("S1", "SLEDAI", "Week 12", 4.0, None, -6.0, None, "Y"),
    ("S1", "SRI4", "Week 48", 1.0, "Y", np.nan, None, None),
    ("S2", "SLEDAI", "Baseline", 8.0, None, np.nan, "Y", "Y"),
    ("S2", "SLEDAI", "Week 4", 8.0, None, 0.0, None, "Y"),             # S2: no week-12 data at all
    ("S2", "SRI4", "Week 48", 0.0, "N", np.nan, None, None),
    ("S3", "SLEDAI", "Baseline", 6.0, None, np.nan, "Y", "Y"),         # not FAS
], columns=BDS)
ADLB = pd.DataFrame([
    ("S1", "DNAXULN", "Baseline", 2.5, None, np.nan, "Y", "Y"),
    ("S1", "DNAXULN", "Week 12", 1.25, None, -1.25, None, "Y"),
    ("S1", "C3", "Week 4", np.nan, "<0.1", np.nan, None, "Y"),        # qualified result: missing stays missing
    ("S2", "C3", "Baseline", 0.7, None, np.nan, "Y", "Y"),
], columns=BDS)


def test_one_row_per_fas_subject_sorted_and_analysis_records():
    table, dictionary = build_prediction(ADSL, ADEFF, ADLB, load_lab_tests())
    assert table["USUBJID"].tolist() == ["S1", "S2"]
    assert [d["name"] for d in dictionary] == list(table.columns)
    assert len(table.columns) == 5 + 10 * 5
    s1, s2 = table.iloc[0], table.iloc[1]
    assert (s1["SRI4W48"], s2["SRI4W48"]) == ("Y", "N")
    assert (s1["SLEDAI_BL"], s1["SLEDAI_W4"], s1["SLEDAI_CHG_W4"], s1["SLEDAI_W12"], s1["SLEDAI_CHG_W12"]) == \
        (10.0, 6.0, -4.0, 4.0, -6.0)
    assert (s1["DNAXULN_BL"], s1["DNAXULN_W12"], s1["DNAXULN_CHG_W12"]) == (2.5, 1.25, -1.25)
    assert np.isnan(s1["C3_W4"]) and s2["C3_BL"] == 0.7
    # a subject with no week-12 data: every _W12 / _CHG_W12 cell is missing, nothing imputed
    w12 = [c for c in table.columns if c.endswith("W12")]
    assert table.loc[1, w12].isna().all()
    assert (s2["SLEDAI_W4"], s2["SLEDAI_CHG_W4"]) == (8.0, 0.0)
    assert np.isnan(s1["SLEDURY"]) and s2["AGE"] == 40.0


def test_dictionary_entries():
    _, dictionary = build_prediction(ADSL, ADEFF, ADLB, load_lab_tests())
    by_name = {d["name"]: d for d in dictionary}
    assert by_name["C3_CHG_W12"] == {"name": "C3_CHG_W12", "label": "Complement C3 change from Baseline to Week 12",
                                     "source": "ADLB", "parameter": "C3", "visit": "Week 12", "unit": "g/L",
                                     "type": "number"}
    assert by_name["SLEDAI_BL"]["source"] == "ADEFF" and by_name["SLEDAI_BL"]["visit"] == "Baseline"
    assert by_name["SRI4W48"]["parameter"] == "SRI4" and by_name["CRP_W4"]["unit"] == "mg/L"
    assert by_name["BLYCE_BL"]["unit"] == "%" and by_name["DNAXULN_W4"]["unit"] == "ULN"


def test_csv_bytes_are_deterministic_and_missing_is_empty():
    table, dictionary = build_prediction(ADSL, ADEFF, ADLB, load_lab_tests())
    text = prediction_csv(table).decode("utf-8")
    lines = text.split("\n")
    assert lines[0].startswith("USUBJID,SRI4W48,AGE,SEX,SLEDURY,SLEDAI_BL,SLEDAI_W4,SLEDAI_W12,")
    assert lines[1].startswith("S1,Y,31,M,,10,6,4,-4,-6,")
    assert lines[2].startswith("S2,N,40,F,2.5,8,8,,0,,") and text.endswith("\n") and len(lines) == 4
    assert prediction_csv(table) == prediction_csv(build_prediction(ADSL, ADEFF, ADLB, load_lab_tests())[0])
    meta = json.loads(prediction_json(table, dictionary, "STUDY1"))
    assert meta["rows"] == 2 and meta["study"] == "STUDY1" and [c["name"] for c in meta["columns"]] == list(table.columns)


def test_missing_shares():
    table, _ = build_prediction(ADSL, ADEFF, ADLB, load_lab_tests())
    shares = missing_shares(table)
    assert shares["USUBJID"] == 0.0 and shares["SLEDAI_W12"] == 0.5 and shares["CRP_BL"] == 1.0


def test_no_lab_data_gives_missing_lab_columns():
    table, _ = build_prediction(ADSL, ADEFF, pd.DataFrame(), load_lab_tests())
    assert table["C3_BL"].isna().all() and table["SLEDAI_BL"].tolist() == [10.0, 8.0]

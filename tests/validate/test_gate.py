import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sdtm_lupus.specs import Codelist, DatasetSpec, Specs, VariableSpec, load_specs
from sdtm_lupus.validate.gate import run_gate
from sdtm_lupus.validate.results import Expectation

SPECS = load_specs().with_codelists({
    "ARMCD": Codelist(name="Planned Arm Code", extensible=False, terms={"ANI": None, "PBO": None}),
    "ARM": Codelist(name="Description of Planned Arm", extensible=False,
                    terms={"Anifrolumab 300 mg": None, "Placebo": None}),
})

DM_ROWS = [
    dict(STUDYID="NCT1", DOMAIN="DM", USUBJID="NCT1-001", SUBJID="001", RFSTDTC="2021-03-05",
         RFENDTC="2021-09", RFXSTDTC="2021-03-05T10:30", RFXENDTC="2021-08-30T10:30:15.5", RFICDTC="2021-02-20",
         RFPENDTC="2021", SITEID="01", BRTHDTC="1980", AGE=41.0, AGEU="YEARS", SEX="F", RACE="ASIAN",
         ETHNIC="NOT HISPANIC OR LATINO", ARMCD="ANI", ARM="Anifrolumab 300 mg", ACTARMCD="ANI",
         ACTARM="Anifrolumab 300 mg", COUNTRY="CHN"),
    dict(STUDYID="NCT1", DOMAIN="DM", USUBJID="NCT1-002", SUBJID="002", RFSTDTC="2021-04-01", SITEID="02",
         AGE=35.0, AGEU="YEARS", SEX="M", RACE="WHITE", ARMCD="PBO", ARM="Placebo", ACTARMCD="PBO",
         ACTARM="Placebo", COUNTRY="USA", DTHFL="Y", DTHDTC="2021-05", ACTARMUD=""),
]
EX_ROWS = [
    dict(STUDYID="NCT1", DOMAIN="EX", USUBJID="NCT1-001", EXSEQ=1.0, EXTRT="ANIFROLUMAB", EXDOSE=300.0,
         EXDOSU="mg", EXDOSFRM="INJECTION, SOLUTION", EXROUTE="INTRAVENOUS", VISITNUM=1.0, VISIT="DAY 1",
         EPOCH="TREATMENT", EXSTDTC="2021-03-05T10:30", EXENDTC="2021-03-05T11:00", EXSTDY=1.0, EXENDY=1.0),
    dict(STUDYID="NCT1", DOMAIN="EX", USUBJID="NCT1-001", EXSEQ=2.0, EXTRT="ANIFROLUMAB", EXDOSE=300.0,
         EXDOSU="mg", EXDOSFRM="INJECTION, SOLUTION", EXROUTE="INTRAVENOUS", VISITNUM=2.0, VISIT="WEEK 4",
         EPOCH="TREATMENT", EXSTDTC="2021-04-02", EXSTDY=29.0),
    dict(STUDYID="NCT1", DOMAIN="EX", USUBJID="NCT1-002", EXSEQ=1.0, EXTRT="PLACEBO", EXDOSE=0.0,
         EXDOSU="mL", EXROUTE="INTRAVENOUS", EXSTDTC="2021-04-01"),
]


def frame(ds, rows, file, char_dtype=object):
    cols = {v.name: pd.Series([r.get(v.name) for r in rows], dtype=float if v.type == "Num" else char_dtype)
            for v in SPECS.dataset(ds).variables}
    df = pd.DataFrame(cols)
    df["_file"] = file
    df["_row"] = np.arange(2, len(rows) + 2)
    return df


def dm():
    return frame("DM", DM_ROWS, "dm.csv")


def ex():
    return frame("EX", EX_ROWS, "ex.csv")


def gate(dm_df=None, ex_df=None, specs=SPECS, **kw):
    return run_gate({"DM": dm() if dm_df is None else dm_df, "EX": ex() if ex_df is None else ex_df}, specs, **kw)


def get(g, id_):
    return next(r for r in g.results if r.expectation.id == id_)


def failed_ids(g):
    return sorted(r.expectation.id for r in g.failed)


@pytest.mark.parametrize("char_dtype", [object, "str"])
def test_clean_dm_ex_pass_everything(char_dtype):
    g = run_gate({"DM": frame("DM", DM_ROWS, "dm.csv", char_dtype),
                  "EX": frame("EX", EX_ROWS, "ex.csv", char_dtype)}, SPECS)
    checked = [r for r in g.results if r.expectation.kind != "visit_in_sv"]  # needs SV, absent here
    assert {r.status for r in checked} == {"passed"}, [(r.expectation.id, r.status, r.note) for r in checked
                                                      if r.status != "passed"]
    assert g.failed == [] and g.blocking("warning") == [] and g.to_findings() == []
    assert get(g, "EX.EXSTDTC.ISO8601").element_count == 3
    assert "X.EX.USUBJID.IN_DM" in {r.expectation.id for r in g.results}


@pytest.mark.parametrize("column,null", [("USUBJID", None), ("USUBJID", ""), ("EXSEQ", np.nan)])
def test_required_null(column, null):
    e = ex()
    e.loc[1, column] = null
    g = gate(ex_df=e)
    assert failed_ids(g) == [f"EX.{column}.REQ"]
    r = get(g, f"EX.{column}.REQ")
    assert (r.expectation.severity, r.unexpected_count, r.element_count) == ("error", 1, 3)
    ex0 = r.examples[0]
    assert (ex0["file"], ex0["row"]) == ("ex.csv", 3)
    assert ex0["USUBJID"] == ("NCT1-001" if column == "EXSEQ" else null)
    assert ex0["EXSEQ"] == (None if column == "EXSEQ" else 2)


def test_each_dataset_is_checked_on_its_own_frame():
    # one GE asset serves every batch: a metric of DM's USUBJID must never answer for EX's
    d = dm()
    d.loc[1, "USUBJID"] = None
    g = gate(dm_df=d)
    assert "DM.USUBJID.REQ" in failed_ids(g) and "EX.USUBJID.REQ" not in failed_ids(g)
    assert get(g, "EX.USUBJID.REQ").element_count == 3


def test_sex_not_in_codelist():
    d = dm()
    d.loc[1, "SEX"] = "X"
    g = gate(dm_df=d)
    assert failed_ids(g) == ["DM.SEX.CT"]
    r = get(g, "DM.SEX.CT")
    assert r.expectation.severity == "error" and r.unexpected_count == 1
    assert r.examples == [{"USUBJID": "NCT1-002", "value": "X", "file": "dm.csv", "row": 3}]


def test_extensible_codelist_is_warning_and_blocking_levels():
    e = ex()
    e.loc[2, "EXDOSU"] = "MG"
    g = gate(ex_df=e)
    assert failed_ids(g) == ["EX.EXDOSU.CT"]
    assert get(g, "EX.EXDOSU.CT").expectation.severity == "warning"
    assert g.blocking("error") == []
    assert [r.expectation.id for r in g.blocking("warning")] == ["EX.EXDOSU.CT"]
    d = dm()
    d.loc[0, "SEX"] = "X"
    g = gate(dm_df=d, ex_df=e)
    assert [r.expectation.id for r in g.blocking("error")] == ["DM.SEX.CT"]
    assert [r.expectation.id for r in g.blocking("warning")] == ["DM.SEX.CT", "EX.EXDOSU.CT"]
    with pytest.raises(ValueError):
        g.blocking("fatal")


@pytest.mark.parametrize("bad", ["2021-02-31T", "05-MAR-2021"])
def test_bad_date(bad):
    e = ex()
    e.loc[2, "EXSTDTC"] = bad
    g = gate(ex_df=e)
    assert failed_ids(g) == ["EX.EXSTDTC.ISO8601"]
    r = get(g, "EX.EXSTDTC.ISO8601")
    assert r.unexpected_count == 1 and r.element_count == 3
    assert r.examples == [{"USUBJID": "NCT1-002", "EXSEQ": 1, "value": bad, "file": "ex.csv", "row": 4}]


def test_duplicate_keys():
    e = pd.concat([ex(), ex().iloc[[1]]], ignore_index=True)
    e.loc[3, ["EXSEQ", "_row"]] = [3.0, 5]
    g = gate(ex_df=e)
    assert failed_ids(g) == ["EX.KEYS.UNIQUE"]
    r = get(g, "EX.KEYS.UNIQUE")
    assert r.expectation.severity == "error" and r.unexpected_count == 2
    assert [(x["USUBJID"], x["EXSEQ"], x["row"]) for x in r.examples] == [("NCT1-001", 2, 3), ("NCT1-001", 3, 5)]
    assert r.examples[0]["value"] == "STUDYID=NCT1, USUBJID=NCT1-001, EXTRT=ANIFROLUMAB, EXSTDTC=2021-04-02"


def test_duplicate_seq_within_subject():
    e = ex()
    e.loc[1, "EXSEQ"] = 1.0        # subject 002 also has EXSEQ 1: fine, it is per subject
    g = gate(ex_df=e)
    assert failed_ids(g) == ["EX.EXSEQ.UNIQUE"]
    r = get(g, "EX.EXSEQ.UNIQUE")
    assert r.unexpected_count == 2
    assert [(x["USUBJID"], x["EXSEQ"], x["file"], x["row"]) for x in r.examples] == [
        ("NCT1-001", 1, "ex.csv", 2), ("NCT1-001", 1, "ex.csv", 3)]


@pytest.mark.parametrize("value,fails", [
    ("A" * 200, False), ("A" * 201, True),
    ("é" * 100, False),            # 100 characters, 200 bytes
    ("é" * 101, True),             # 101 characters, 202 bytes
    ("€" * 67, True),              # 67 characters, 201 bytes
])
def test_char_value_at_most_200_bytes(value, fails):
    e = ex()
    e.loc[1, "VISIT"] = value
    g = gate(ex_df=e)
    assert failed_ids(g) == (["EX.VISIT.LEN200"] if fails else [])
    if fails:
        r = get(g, "EX.VISIT.LEN200")
        assert r.unexpected_count == 1
        assert r.examples == [{"USUBJID": "NCT1-001", "EXSEQ": 2, "value": value, "file": "ex.csv", "row": 3}]


def test_spec_max_length_counts_bytes():
    e = ex()
    e.loc[0, "DOMAIN"] = "ÉX"       # 2 characters, 3 bytes: over DOMAIN's max_length 2
    g = gate(ex_df=e)
    assert failed_ids(g) == ["EX.DOMAIN.LEN2", "EX.DOMAIN.VALUE"]
    assert get(g, "EX.DOMAIN.LEN2").examples[0]["value"] == "ÉX"


def test_domain_wrong():
    e = ex()
    e.loc[2, "DOMAIN"] = "DM"
    g = gate(ex_df=e)
    assert failed_ids(g) == ["EX.DOMAIN.VALUE"]
    r = get(g, "EX.DOMAIN.VALUE")
    assert r.unexpected_count == 1 and r.examples[0] == {"USUBJID": "NCT1-002", "EXSEQ": 1, "value": "DM",
                                                         "file": "ex.csv", "row": 4}


def test_missing_exp_column():
    d = dm().drop(columns="RACE")
    g = gate(dm_df=d)
    assert failed_ids(g) == ["DM.META.COLUMNS", "DM.RACE.EXP"]
    assert get(g, "DM.RACE.EXP").examples == [{"value": "RACE"}]
    assert get(g, "DM.META.COLUMNS").unexpected_count == 1
    for id_ in ("DM.RACE.CT", "DM.RACE.LEN200"):
        assert get(g, id_).status == "not run"


def test_extra_column_but_provenance_is_fine():
    d = dm()
    d["FOO"] = "x"
    g = gate(dm_df=d)
    assert failed_ids(g) == ["DM.META.EXTRA"]
    r = get(g, "DM.META.EXTRA")
    assert r.unexpected_count == 1 and r.examples == [{"value": "FOO"}]


def test_metadata_names_and_labels():
    bad = DatasetSpec.model_construct(
        dataset="BADDATASET", label="Ä" * 21, class_="FINDINGS", structure="x", keys=("USUBJID",),
        variables=(
            VariableSpec.model_construct(name="USUBJID", label="Unique Subject Identifier", type="Char",
                                         core="Req", codelist=None, format=None, max_length=None),
            VariableSpec.model_construct(name="lowercase", label="L" * 41, type="Char", core="Perm",
                                         codelist=None, format=None, max_length=None),
            VariableSpec.model_construct(name="TOOLONGVAR", label="ok", type="Num", core="Perm",
                                         codelist=None, format=None, max_length=None),
        ))
    specs = Specs.model_construct(datasets={**SPECS.datasets, "BADDATASET": bad}, terminology=SPECS.terminology)
    df = pd.DataFrame({"USUBJID": ["NCT1-001"], "lowercase": ["a"], "TOOLONGVAR": [1.0]})
    g = run_gate({"BADDATASET": df}, specs)
    assert failed_ids(g) == ["BADDATASET.META.LABEL40", "BADDATASET.META.NAME8", "BADDATASET.META.VARNAME8"]
    assert get(g, "BADDATASET.META.NAME8").examples == [{"value": "BADDATASET"}]
    assert get(g, "BADDATASET.META.VARNAME8").examples == [{"value": "lowercase"}, {"value": "TOOLONGVAR"}]
    labels = get(g, "BADDATASET.META.LABEL40")     # 21 x "Ä" = 42 bytes; 41 x "L"
    assert (labels.element_count, labels.unexpected_count) == (4, 2)
    assert [x["name"] for x in labels.examples] == ["BADDATASET", "lowercase"]
    assert all(r.expectation.severity == "error" for r in g.failed)


def test_ex_subject_not_in_dm():
    e = ex()
    e.loc[2, "USUBJID"] = "NCT1-999"
    g = gate(ex_df=e)
    assert failed_ids(g) == ["X.EX.USUBJID.IN_DM"]
    r = get(g, "X.EX.USUBJID.IN_DM")
    assert (r.expectation.dataset, r.expectation.severity, r.unexpected_count) == ("EX", "error", 1)
    assert r.examples == [{"USUBJID": "NCT1-999", "EXSEQ": 1, "value": "NCT1-999", "file": "ex.csv", "row": 4}]


def test_without_dm_cross_check_not_run():
    g = run_gate({"EX": ex()}, SPECS)
    assert get(g, "X.EX.USUBJID.IN_DM").status == "not run"
    assert g.failed == []


def test_study_codelist_not_supplied_is_not_run():
    g = gate(specs=load_specs())
    assert get(g, "DM.ARMCD.CT").status == "not run" and g.failed == []


def test_extra_expectations():
    extra = [Expectation(id="DM.AGE.ADULT", severity="warning", dataset="DM", variables=("AGE",),
                         rule="AGE >= 18", message="subject younger than 18", kind="gx",
                         params={"gx": "ExpectColumnValuesToBeBetween", "column": "AGE", "min_value": 18})]
    d = dm()
    d.loc[1, "AGE"] = 16.0
    g = gate(dm_df=d, extra=extra)
    r = get(g, "DM.AGE.ADULT")
    assert (r.status, r.unexpected_count, r.examples[0]["value"], r.examples[0]["row"]) == ("failed", 1, 16, 3)
    assert g.blocking("error") == []


def test_findings():
    d = dm()
    d.loc[1, "SEX"] = "X"
    (f,) = gate(dm_df=d).to_findings()
    assert (f.rule, f.severity, f.dataset, f.variable, f.file, f.row, f.usubjid, f.value) == (
        "DM.SEX.CT", "error", "DM", "SEX", "dm.csv", 3, "NCT1-002", "X")
    assert "1 of 2" in f.message


def test_to_dict_json_and_deterministic():
    d, e = dm(), ex()
    d.loc[1, "SEX"] = "X"
    e.loc[2, "EXDOSU"] = "MG"
    one = json.dumps(run_gate({"DM": d, "EX": e}, SPECS).to_dict())
    two = json.dumps(run_gate({"EX": e, "DM": d}, SPECS).to_dict())
    assert one == two
    out = json.loads(one)
    s = out["summary"]
    assert s["failed"] == 2 and s["failed_by_severity"] == {"error": 1, "warning": 1, "notice": 0}
    assert s["passed"] + s["failed"] + s["not run"] == s["expectations"] == len(out["expectations"])
    keys = [(x["dataset"], x["id"]) for x in out["expectations"]]
    assert keys == sorted(keys)


def test_caller_frames_unchanged():
    d, e = dm(), ex()
    e.loc[1, "VISIT"] = "é" * 101
    e.loc[2, "EXENDTC"] = ""
    before_d, before_e = d.copy(), e.copy()
    gate(dm_df=d, ex_df=e)
    pd.testing.assert_frame_equal(d, before_d)
    pd.testing.assert_frame_equal(e, before_e)
    assert e.loc[2, "EXENDTC"] == ""


def test_quiet(capfd):
    gate()
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_importing_gate_does_not_import_great_expectations():
    code = "import sys, sdtm_lupus.validate.gate; assert 'great_expectations' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dataset_without_spec_fails_instead_of_crashing():
    g = run_gate({"DM": dm(), "ZZ": pd.DataFrame({"USUBJID": ["NCT1-001"]})}, SPECS)
    assert failed_ids(g) == ["ZZ.META.SPEC"]
    assert get(g, "ZZ.META.SPEC").examples == [{"value": "ZZ"}]

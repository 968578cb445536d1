import math

import pytest
import yaml

from sdtm_lupus.config.loading import ConfigError
from sdtm_lupus.sdtm import map_sdtm
from sdtm_lupus.simulate import knowledge
from sdtm_lupus.specs import load_lab_tests, load_specs
from tests.sdtm.builders import context, dose_row, enrol_row, form

SUBJ = "01-0001"


def lab_row(test, result, unit="", lo="", hi="", folder="WEEK 0", day="05-MAR-2021", time="08:00", **kw):
    return {"SITEID": "01", "SUBJID": SUBJ, "FOLDER": folder, "LBDAT": day, "LBTIM": time, "LBCAT": "IMMUNOLOGY",
            "LBTEST": test, "LBORRES": result, "LBORRESU": unit, "LBORNRLO": lo, "LBORNRHI": hi,
            "LBNAM": "Central Hospital Laboratory"} | kw


def run(labs):
    ctx = context()
    forms = {"enrol": form("enrol", [enrol_row(SUBJ)]), "dosing": form("dosing", [dose_row(SUBJ, "WEEK 0", "05-MAR-2021")]),
             "lab": form("lab", labs)}
    return map_sdtm(forms, ctx)["LB"], ctx


def one(row):
    lb, ctx = run([row])
    assert len(lb) == 1
    return lb.iloc[0], [f for f in ctx.findings if f.dataset == "lab"]


def same(a, b):
    return (a is None and b is None) or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and
                                         math.isnan(b)) or a == b


NAN = float("nan")


@pytest.mark.parametrize("row, expected", [
    # (LBTEST, LBORRES, unit, lo, hi) -> LBORRESU, LBSTRESC, LBSTRESN, LBSTRESU, LBSTNRLO, LBSTNRHI
    (("Complement C3", "58", "mg/dL", "90", "180"), ("mg/dL", "0.58", 0.58, "g/L", 0.9, 1.8)),
    (("Complement C3", "1.29", "g/L", "0.90", "1.80"), ("g/L", "1.29", 1.29, "g/L", 0.9, 1.8)),
    (("Complement C4", "11.5", "mg/dL", "10", "40"), ("mg/dL", "0.115", 0.115, "g/L", 0.1, 0.4)),
    (("Creatinine", "0.64", "mg/dL", "0.50", "1.10"), ("mg/dL", "56.576", 56.576, "umol/L", 44.2, 97.24)),
    (("Creatinine", "60", "µmol/L", "41", "73"), ("umol/L", "60", 60.0, "umol/L", 41.0, 73.0)),
    (("Haemoglobin", "12.5", "g/dL", "11.5", "15"), ("g/dL", "125", 125.0, "g/L", 115.0, 150.0)),
    (("Platelets", "248", "10^3/uL", "125", "350"), ("10^3/uL", "248", 248.0, "10^9/L", 125.0, 350.0)),
    (("24h urine protein", "286", "mg/24h", "0", "150"), ("mg/day", "0.286", 0.286, "g/day", 0.0, 0.15)),
    (("24h urine protein", "0.3", "g/24h", "0", "0.15"), ("g/day", "0.3", 0.3, "g/day", 0.0, 0.15)),
    # qualifiers: kept, number converted, no LBSTRESN
    (("Anti-dsDNA antibody", "<10", "IU/mL", "0", "100"), ("IU/mL", "<10", NAN, "IU/mL", 0.0, 100.0)),
    (("Complement C3", "<5", "mg/dL", "90", "180"), ("mg/dL", "<0.05", NAN, "g/L", 0.9, 1.8)),
    (("CRP", "<0.5", "mg/L", "0", "8"), ("mg/L", "<0.5", NAN, "mg/L", 0.0, 8.0)),
    (("Anti-dsDNA antibody", ">800", "IU/mL", "0", "100"), ("IU/mL", ">800", NAN, "IU/mL", 0.0, 100.0)),
    # qualitative: standard text, no numeric result, no standard unit
    (("Urine protein", "NEG", "", "", ""), (None, "NEGATIVE", NAN, None, NAN, NAN)),
    (("Urine protein", "TRACE", "", "", ""), (None, "TRACE", NAN, None, NAN, NAN)),
    (("Urine protein", "pos", "", "", ""), (None, "POSITIVE", NAN, None, NAN, NAN)),
    (("Anti-dsDNA antibody", "POS", "IU/mL", "0", "30"), ("IU/mL", "POSITIVE", NAN, None, 0.0, 30.0)),
])
def test_results_are_standardised(row, expected):
    test, result, unit, lo, hi = row
    rec, findings = one(lab_row(test, result, unit, lo, hi))
    got = tuple(rec[v] for v in ("LBORRESU", "LBSTRESC", "LBSTRESN", "LBSTRESU", "LBSTNRLO", "LBSTNRHI"))
    assert all(same(g, e) for g, e in zip(got, expected)), got
    assert rec["LBORRES"] == result and findings == []


def test_test_definitions_give_codes_specimen_method_and_category():
    lb, ctx = run([lab_row("Complement C3", "1.2", "g/L", LBCAT=""), lab_row("24h urine protein", "0.1", "g/24h"),
                   lab_row("Urine protein", "NEG", LBCAT="URINALYSIS"), lab_row("platelets ", "200", "10^9/L")])
    got = lb[["LBTESTCD", "LBTEST", "LBSPEC", "LBMETHOD", "LBCAT"]].values.tolist()
    assert sorted(map(tuple, got), key=str) == sorted([
        ("C3", "Complement C3", "SERUM", None, "IMMUNOLOGY"),       # LBCAT not collected: the default
        ("PROT", "Protein", "URINE", None, "IMMUNOLOGY"),
        ("PROT", "Protein", "URINE", "DIPSTICK", "URINALYSIS"),
        ("PLAT", "Platelets", "BLOOD", None, "IMMUNOLOGY")], key=str)   # name matched ignoring case and spaces
    rec = lb.iloc[0]
    assert (rec["LBDTC"], rec["LBDY"], rec["VISITNUM"], rec["VISIT"]) == ("2021-03-05T08:00", 1.0, 0.0, "WEEK 0")
    assert lb["LBSEQ"].tolist() == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("result, lo, hi, expected", [
    ("50", "20", "100", "NORMAL"),
    ("20", "20", "100", "NORMAL"),      # limits are inclusive
    ("10", "20", "100", "LOW"),
    ("150", "20", "100", "HIGH"),
    ("10", "20", "", "LOW"),
    ("50", "20", "", None),             # NORMAL needs both limits
    ("<10", "20", "100", "LOW"),        # true value < 10 < 20
    ("<20", "20", "100", "LOW"),
    ("<=20", "20", "100", None),
    ("<10", "0", "100", "NORMAL"),      # 0 <= true value < 10 <= 100
    ("<150", "0", "100", None),
    (">800", "0", "100", "HIGH"),
    (">100", "0", "100", "HIGH"),
    (">=100", "0", "100", None),
    (">50", "0", "100", None),
    ("50", "", "", None),
])
def test_reference_range_indicator(result, lo, hi, expected):
    rec, _ = one(lab_row("Anti-dsDNA antibody", result, "IU/mL", lo, hi))
    assert rec["LBNRIND"] == expected


def test_indicator_uses_the_converted_range():
    rec, _ = one(lab_row("Complement C3", "85", "mg/dL", "90", "180"))
    assert (rec["LBSTRESN"], rec["LBSTNRLO"], rec["LBNRIND"]) == (0.85, 0.9, "LOW")
    rec, _ = one(lab_row("Urine protein", "POS"))
    assert rec["LBNRIND"] is None


@pytest.mark.parametrize("unit, problem", [
    ("mmol/L", "not in the mapping's units"),
    ("U/L", "no conversion from unit 'U/L' to g/L for C3"),
    ("", "no conversion from unit '' to g/L for C3"),
])
def test_unknown_unit_is_a_finding_and_no_standard_result(unit, problem):
    rec, findings = one(lab_row("Complement C3", "1.1", unit, "0.9", "1.8"))
    assert [(f.rule, f.severity, f.file, f.row, f.variable, f.value) for f in findings] == [
        ("LB-UNIT-UNKNOWN", "warning", "lab.csv", 2, "LBORRESU", unit)]
    assert problem in findings[0].message
    assert rec["LBORRES"] == "1.1" and rec["LBORRESU"] == (unit or None)
    assert rec["LBSTRESC"] is None and rec["LBSTRESU"] is None and rec["LBNRIND"] is None
    assert math.isnan(rec["LBSTRESN"]) and math.isnan(rec["LBSTNRLO"]) and math.isnan(rec["LBSTNRHI"])


def test_unknown_test_is_an_error_and_the_row_is_accounted_for():
    lb, ctx = run([lab_row("Complement C3", "1.1", "g/L"), lab_row("Ferritin", "80", "ug/L")])
    assert lb["LBTESTCD"].tolist() == ["C3"]
    hits = [f for f in ctx.findings if f.rule == "LB-TEST-UNKNOWN"]
    assert [(f.severity, f.row, f.variable, f.value) for f in hits] == [("error", 3, "LBTEST", "Ferritin")]
    assert ctx.reconciliation["lab"] == {"read": 2, "mapped": 1, "rejected": 1, "lost": 0}


@pytest.mark.parametrize("result, rule", [("1+", "LB-RESULT-UNKNOWN"), ("", "LB-RESULT-MISSING"),
                                          ("12", "LB-RESULT-UNKNOWN")])
def test_results_that_cannot_be_standardised_are_kept_with_a_warning(result, rule):
    rec, findings = one(lab_row("Urine protein", result))
    assert [(f.rule, f.severity, f.variable) for f in findings] == [(rule, "warning", "LBORRES")]
    assert rec["LBSTRESC"] is None and rec["LBORRES"] == (result or None)


def test_lobxfl_on_the_last_pre_dose_result_per_test():
    lb, _ = run([
        lab_row("Complement C3", "1.0", "g/L", folder="SCREENING", day="20-FEB-2021"),
        lab_row("Complement C3", "1.1", "g/L", time="08:00"),                      # dose at 09:00 that day
        lab_row("Complement C3", "1.2", "g/L", folder="WEEK 2", day="19-MAR-2021"),
        lab_row("Complement C4", "0.2", "g/L", folder="SCREENING", day="20-FEB-2021"),
        lab_row("Complement C4", "", "g/L"),                                       # no result: not a candidate
        lab_row("Urine protein", "NEG", folder="SCREENING", day="20-FEB-2021"),
        lab_row("24h urine protein", "0.1", "g/24h", folder="SCREENING", day="20-FEB-2021"),
    ])
    flagged = lb.loc[lb["LBLOBXFL"].eq("Y"), ["LBTESTCD", "LBMETHOD", "LBORRES"]].values.tolist()
    assert sorted(map(tuple, flagged), key=str) == sorted(
        [("C3", None, "1.1"), ("C4", None, "0.2"), ("PROT", "DIPSTICK", "NEG"), ("PROT", None, "0.1")], key=str)


def test_definitions_agree_with_terminology_mapping_and_simulator():
    defs = load_lab_tests()
    ct = load_specs().terminology.codelists
    for t in defs.tests.values():
        assert t.testcd in ct["LBTESTCD"].terms and t.test in ct["LBTEST"].terms
        assert t.specimen in ct["SPECTYPE"].terms and (t.method is None or t.method in ct["METHOD"].terms)
        assert all(u in ct["LBUNIT"].terms for u in t.all_factors())
    mapping = context().mapping
    assert set(mapping.lab_tests.values()) <= set(defs.tests)
    assert {t.name for t in knowledge.LAB_TESTS} <= set(mapping.lab_tests)
    units = {u.unit for t in knowledge.LAB_TESTS for u in t.units if u and u.unit}
    assert units <= set(mapping.units)


GOOD = {"testcd": "C3", "test": "Complement C3", "category": "IMMUNOLOGY", "specimen": "SERUM", "unit": "g/L"}


@pytest.mark.parametrize("tests, problem", [
    ({"C3": GOOD | {"qualitative": True}}, "qualitative test has no unit"),
    ({"C3": {k: v for k, v in GOOD.items() if k != "unit"}}, "needs its standard unit"),
    ({"C3": GOOD | {"factors": {"mg/dL": -0.01}}}, "must be positive"),
    ({"C3": GOOD | {"factors": {"g/L": 2}}}, "must be positive"),
    ({"c3": {k: v for k, v in GOOD.items() if k != "testcd"}}, "testcd"),
    ({"C3": GOOD | {"testcd": "COMPLEMENT3"}}, "testcd"),
    ({"C3": GOOD | {"test": "X" * 41}}, "test"),
    ({"C3": GOOD, "C3B": GOOD | {"test": "Complement Component 3", "specimen": "PLASMA"}}, "one to one"),
    ({"C3": GOOD, "C3B": GOOD | {"unit": "mg/dL"}}, "share LBTESTCD, LBSPEC and LBMETHOD"),
    ({"C3": GOOD | {"units": "g/L"}}, "units"),
])
def test_loader_rejects_a_bad_definition(tmp_path, tests, problem):
    path = tmp_path / "lab-tests.yaml"
    path.write_text(yaml.safe_dump({"result_terms": {"NEG": "NEGATIVE"}, "tests": tests}), encoding="utf-8")
    with pytest.raises(ConfigError, match="problem") as err:
        load_lab_tests(path)
    assert problem in str(err.value)

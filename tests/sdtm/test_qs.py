"""QS from sledai, pga, bilag and flare: mapping rules, not-done rows, timing flags and QC findings."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from sdtm_lupus.config.loading import ConfigError
from sdtm_lupus.readers.export import read_export
from sdtm_lupus.sdtm import map_sdtm
from sdtm_lupus.sdtm.map_context import MapContext
from sdtm_lupus.specs import load_specs
from sdtm_lupus.specs.instruments import INSTRUMENTS_PATH, load_instruments
from tests.paths import FIXTURES
from tests.sdtm.builders import context, dose_row, enrol_row, form

S = "01-0001"
USUBJID = f"NCT04515719-{S}"
DOSES = [dose_row(S, "WEEK 0", "05-MAR-2021"), dose_row(S, "WEEK 2", "19-MAR-2021")]
DESCRIPTORS = [i.column for i in load_instruments().instruments[0].items if i.kind == "checkbox"]
BILAG_SYSTEMS = ["CONST", "MUCOCUT", "NEURO", "MUSCULO", "CARDRESP", "GASTRO", "OPHTHAL", "RENAL", "HAEM"]


def sledai(folder, day, ticked=(), sitetot=None, blank=False, subjid=S):
    boxes = {c: "" if blank else ("1" if c in ticked else "0") for c in DESCRIPTORS}
    weights = {i.column: i.weight for i in load_instruments().instruments[0].items if i.kind == "checkbox"}
    total = sum(weights[c] for c in ticked) if sitetot is None else sitetot
    return {"SUBJID": subjid, "SITEID": "01", "FOLDER": folder, "ASSESSDAT": day, **boxes, "SITETOT": str(total)}


def pga(folder, day, value="1.0"):
    return {"SUBJID": S, "SITEID": "01", "FOLDER": folder, "ASSESSDAT": day, "PGA": value}


def bilag(folder, day, grades="DDEEEEEEE", **kw):
    return {"SUBJID": S, "SITEID": "01", "FOLDER": folder, "ASSESSDAT": day,
            **dict(zip(BILAG_SYSTEMS, grades)), **kw}


def flare(folder, day, call="None", mm="0", sv="0", hosp="0", onset=""):
    return {"SUBJID": S, "SITEID": "01", "FOLDER": folder, "ASSESSDAT": day, "FLARE": call, "MM_NEWWORSE": mm,
            "SV_NEWWORSE": sv, "SV_HOSP": hosp, "FLAREDAT": onset}


def run(sledai_rows=(), pga_rows=(), bilag_rows=(), flare_rows=None, study="NCT04515719"):
    ctx = context(study)
    sid = ctx.study.studyid
    arm = "BEL2" if study == "NCT04515719" else "BEL10"
    doses = [d | {"DOSE_MGKG": "2" if arm == "BEL2" else "10"} for d in DOSES]
    forms = {"enrol": form("enrol", [enrol_row(S, ARMCD_RAND=arm)], sid), "dosing": form("dosing", doses, sid),
             "disp": form("disp", [], sid), "sledai": form("sledai", list(sledai_rows), sid),
             "pga": form("pga", list(pga_rows), sid), "bilag": form("bilag", list(bilag_rows), sid)}
    if flare_rows is not None:
        forms["flare"] = form("flare", list(flare_rows), sid)
    return map_sdtm(forms, ctx), ctx.findings


def rec(qs, testcd, grpid=None):
    hit = qs[(qs["QSTESTCD"] == testcd) & ((qs["QSGRPID"] == grpid) if grpid else True)]
    assert len(hit) == 1, hit
    return hit.iloc[0]


def found(findings, rule):
    return [f for f in findings if f.rule == rule]


# ------------------------------------------------------------------ mapping rules
def test_sledai_row_gives_one_record_per_item_with_weights_organ_system_and_timing():
    out, findings = run([sledai("WEEK 0", "05-MAR-2021", ticked=("ARTHRIT", "RASH", "LOWCOMP"))])
    qs = out["QS"]
    assert len(qs) == 25 and set(qs["_file"]) == {"sledai.csv"} and set(qs["_row"]) == {2}
    arth, seiz, tot = rec(qs, "SSLD0109"), rec(qs, "SSLD0101"), rec(qs, "SSLD0126")
    assert (arth["QSTEST"], arth["QSORRES"], arth["QSSTRESC"], arth["QSSTRESN"], arth["QSSCAT"]) == (
        "SSLD01-Arthritis", "PRESENT", "4", 4.0, "MUSCULOSKELETAL")
    assert (seiz["QSORRES"], seiz["QSSTRESC"], seiz["QSSTRESN"], seiz["QSSCAT"]) == ("ABSENT", "0", 0.0, "CNS")
    assert (tot["QSORRES"], tot["QSSTRESC"], tot["QSSTRESN"], tot["QSDRVFL"]) == ("8", "8", 8.0, None)
    assert set(qs["QSCAT"]) == {"SELENA-SLEDAI"} and "QSEVAL" not in qs     # CORE-000031
    assert set(qs["QSEVLINT"]) == {"-P10D"} and qs["QSSTAT"].isna().all()
    assert set(qs["QSDTC"]) == {"2021-03-05"} and set(qs["QSDY"]) == {1.0} and set(qs["EPOCH"]) == {"TREATMENT"}
    assert set(qs["VISITNUM"]) == {0.0} and set(qs["VISIT"]) == {"WEEK 0"} and set(qs["QSGRPID"]) == {"WEEK 0/2021-03-05"}
    assert qs["QSSEQ"].tolist() == list(map(float, range(1, 26)))
    assert qs["QSTESTCD"].tolist()[:3] == ["SSLD0101", "SSLD0102", "SSLD0103"]
    assert [f for f in findings if f.rule.startswith("QC-") or f.severity == "error"] == []


@pytest.mark.parametrize("raw, stresc, stresn", [("1.5", "1.5", 1.5), ("0", "0", 0.0), ("2.50", "2.5", 2.5)])
def test_pga_is_ssld0125_under_selena_sledai(raw, stresc, stresn):
    out, findings = run([sledai("WEEK 0", "05-MAR-2021")], [pga("WEEK 0", "05-MAR-2021", raw)])
    p = rec(out["QS"], "SSLD0125")
    assert (p["QSCAT"], p["QSTEST"], p["QSORRES"], p["QSSTRESC"], p["QSSTRESN"], p["QSEVLINT"]) == (
        "SELENA-SLEDAI", "SSLD01-Physician Global Assessment", raw, stresc, stresn, None)
    assert (p["_file"], p["QSGRPID"]) == ("pga.csv", rec(out["QS"], "SSLD0101")["QSGRPID"])
    assert found(findings, "QC-PGA-RANGE") == []


def test_bilag_letters_with_null_numeric_and_a_blank_system_not_done():
    out, _ = run([sledai("WEEK 0", "05-MAR-2021")], bilag_rows=[bilag("WEEK 0", "05-MAR-2021", "ABCDE", RENAL="")])
    qs = out["QS"][out["QS"]["QSCAT"] == "BILAG-2004"]
    assert len(qs) == 9
    assert qs["QSSTRESC"].tolist()[:5] == ["A", "B", "C", "D", "E"] and qs["QSSTRESN"].isna().all()
    const = rec(qs, "BILG0101")
    assert (const["QSTEST"], const["QSORRES"], const["QSSCAT"], const["QSEVLINT"]) == (
        "BILG01-Constitutional", "A", "CONSTITUTIONAL", "-P4W")
    renal = rec(qs, "BILG0108")
    assert (renal["QSORRES"], renal["QSSTRESC"], renal["QSSTAT"], renal["QSLOBXFL"]) == (None, None, "NOT DONE", None)


def test_flare_crf_items_onset_date_and_call_as_collected():
    out, findings = run([sledai("WEEK 0", "05-MAR-2021"), sledai("WEEK 2", "19-MAR-2021")],
                        flare_rows=[flare("WEEK 0", "05-MAR-2021"),
                                    flare("WEEK 2", "19-MAR-2021", "Mild/Moderate", mm="1", onset="15-MAR-2021")])
    sfi = out["QS"][out["QS"]["QSCAT"] == "SELENA-SLEDAI FLARE INDEX"]
    assert len(sfi) == 4 + 5      # no onset date record when FLARE is None
    call = rec(sfi, "SFI0101", "WEEK 2/2021-03-19")
    assert (call["QSTEST"], call["QSORRES"], call["QSSTRESC"]) == (
        "SFI01-Overall Flare Category", "Mild/Moderate", "MILD/MODERATE") and pd.isna(call["QSSTRESN"])
    assert rec(sfi, "SFI0102", "WEEK 2/2021-03-19")["QSORRES"] == "Y"
    assert rec(sfi, "SFI0103", "WEEK 2/2021-03-19")["QSSTRESC"] == "N"
    onset = rec(sfi, "SFI0105")
    assert (onset["QSTEST"], onset["QSORRES"], onset["QSSTRESC"], onset["QSDTC"]) == (
        "SFI01-Flare Onset Date", "2021-03-15", "2021-03-15", "2021-03-19")
    assert rec(sfi, "SFI0101", "WEEK 0/2021-03-05")["QSORRES"] == "None"
    assert found(findings, "QC-FLARE-CRF") == []


def test_study_without_flare_form_has_no_sfi_records():
    out, _ = run([sledai("WEEK 0", "05-MAR-2021")], study="NCT04893161")
    assert set(out["QS"]["QSCAT"]) == {"SELENA-SLEDAI"}


# ------------------------------------------------------------------ not done
@pytest.mark.parametrize("rows, expected", [
    # (form, row) -> records (QSTESTCD, QSCAT, QSSTAT)
    ({"bilag": [bilag("WEEK 0", "05-MAR-2021", "")]}, [("QSALL", "BILAG-2004", "NOT DONE")]),
    ({"pga": [pga("WEEK 0", "05-MAR-2021", "")]}, [("SSLD0125", "SELENA-SLEDAI", "NOT DONE")]),
    ({"flare": [flare("WEEK 0", "05-MAR-2021", "", "", "", "")]},
     [("QSALL", "SELENA-SLEDAI FLARE INDEX", "NOT DONE")]),
])
def test_row_with_no_data_at_all_is_not_done(rows, expected):
    out, _ = run(rows.get("sledai", ()), rows.get("pga", ()), rows.get("bilag", ()), rows.get("flare"))
    qs = out["QS"]
    assert list(zip(qs["QSTESTCD"], qs["QSCAT"], qs["QSSTAT"])) == expected
    assert qs["QSORRES"].isna().all() and qs["QSLOBXFL"].isna().all()
    if expected[0][0] == "QSALL":
        assert qs["QSTEST"].iloc[0] == "Questionnaire"


def test_sledai_row_with_no_data_at_all_reads_by_the_checkbox_convention():
    # lupus-endpoints §1.4: all boxes empty on an existing row = total 0, with a QC warning
    out, findings = run([sledai("WEEK 0", "05-MAR-2021", blank=True, sitetot="")])
    qs = out["QS"]
    assert "QSALL" not in set(qs["QSTESTCD"]) and len(qs) == 25
    assert (qs["QSORRES"].iloc[:24] == "ABSENT").all() and (qs["QSSTRESN"].iloc[:24] == 0).all()
    assert tuple(rec(qs, "SSLD0126")[["QSORRES", "QSSTAT"]]) == (None, "NOT DONE")
    [f] = found(findings, "QC-SLEDAI-EMPTY")
    assert "total of 0" in f.message


def test_sledai_row_with_no_data_at_all_is_an_analysis_total_of_0():
    from sdtm_lupus.adam import derive_adam

    ctx = context("NCT04515719")
    rows = [sledai("SCREENING", "01-MAR-2021", ticked=("RASH",)), sledai("WEEK 0", "05-MAR-2021", blank=True, sitetot="")]
    out, _ = run(rows)
    adeff = derive_adam(out, ctx.study, ctx.specs).datasets["ADEFF"]
    sledai_recs = adeff[adeff["PARAMCD"].eq("SLEDAI")].sort_values("ADT")
    assert sledai_recs["AVAL"].tolist() == [2.0, 0.0]
    assert sledai_recs["ABLFL"].tolist() == [None, "Y"]       # the empty row is the baseline: total 0


def test_empty_checkboxes_with_a_site_total_are_absent_not_a_not_done_row():
    out, findings = run([sledai("WEEK 0", "05-MAR-2021", blank=True, sitetot="0")])
    qs = out["QS"]
    assert len(qs) == 25 and (qs["QSORRES"].iloc[:24] == "ABSENT").all() and qs["QSSTAT"].isna().all()
    assert found(findings, "QC-SLEDAI-EMPTY") == []


# ------------------------------------------------------------------ visits, groups, flags
def test_unscheduled_visit_number_and_group():
    out, _ = run([sledai("WEEK 0", "05-MAR-2021"), sledai("UNSCHEDULED", "24-MAR-2021"),
                  sledai("WEEK 2", "19-MAR-2021")], [pga("UNSCHEDULED", "24-MAR-2021")])
    uns = out["QS"][out["QS"]["QSDTC"] == "2021-03-24"]
    assert set(uns["VISITNUM"]) == {2.01} and set(uns["VISIT"]) == {"UNSCHEDULED 2.01"}
    assert set(uns["QSGRPID"]) == {"UNSCHEDULED/2021-03-24"} and len(uns) == 26


def test_reassessments_in_one_folder_are_both_kept_with_distinct_groups():
    out, findings = run(
        [sledai("WEEK 2", "19-MAR-2021"), sledai("WEEK 2", "20-MAR-2021", ticked=("RASH",)),
         sledai("WEEK 4", "02-APR-2021"), sledai("WEEK 4", "02-APR-2021", ticked=("ALOPECIA",))],
        [pga("WEEK 4", "02-APR-2021", "0.5"), pga("WEEK 4", "02-APR-2021", "0.7")])
    qs = out["QS"]
    assert len(qs) == 4 * 25 + 2
    rash = qs[qs["QSTESTCD"] == "SSLD0115"]
    assert rash["QSORRES"].tolist() == ["ABSENT", "PRESENT", "ABSENT", "ABSENT"]
    # the later row of one identity stands for the occasion; the earlier gets /1 (R1.1)
    assert rash["QSGRPID"].tolist() == ["WEEK 2/2021-03-19", "WEEK 2/2021-03-20", "WEEK 4/2021-04-02/1",
                                        "WEEK 4/2021-04-02"]
    pgas = qs[qs["QSTESTCD"] == "SSLD0125"]
    assert list(zip(pgas["QSGRPID"], pgas["QSORRES"])) == [("WEEK 4/2021-04-02/1", "0.5"), ("WEEK 4/2021-04-02", "0.7")]
    spec = load_specs().dataset("QS")
    assert not qs.duplicated(list(spec.keys)).any()
    assert qs["QSSEQ"].tolist() == list(map(float, range(1, len(qs) + 1)))
    notes = found(findings, "QC-REASSESSMENT")
    assert [(f.file, f.row, f.severity, f.variable) for f in notes] == [
        ("sledai.csv", 3, "notice", "ASSESSDAT"), ("sledai.csv", 5, "notice", "ASSESSDAT"),
        ("pga.csv", 3, "notice", "ASSESSDAT")]
    assert "first at row 2" in notes[0].message


def test_lobxfl_on_the_last_pre_dose_occasion_per_item_only():
    out, _ = run([sledai("SCREENING", "20-FEB-2021"), sledai("WEEK 0", "05-MAR-2021"),
                  sledai("WEEK 2", "19-MAR-2021")],
                 [pga("SCREENING", "20-FEB-2021", "1.2"), pga("WEEK 0", "05-MAR-2021", ""),
                  pga("WEEK 2", "19-MAR-2021", "0.8")])
    qs = out["QS"]
    flagged = qs[qs["QSLOBXFL"] == "Y"]
    assert len(flagged) == 25 + 1
    assert set(flagged.loc[flagged["QSTESTCD"] != "SSLD0125", "VISIT"]) == {"WEEK 0"}
    # PGA not done at WEEK 0: the flag falls back to screening
    assert flagged.loc[flagged["QSTESTCD"] == "SSLD0125", "VISIT"].tolist() == ["SCREENING"]
    assert set(qs.loc[qs["VISIT"] == "SCREENING", "EPOCH"]) == {"SCREENING"}
    assert set(qs.loc[qs["VISIT"] == "SCREENING", "QSDY"]) == {-13.0}


# ------------------------------------------------------------------ QC findings
def test_site_total_off_by_four_is_a_finding_never_an_override():
    out, findings = run([sledai("WEEK 0", "05-MAR-2021", ticked=("RASH", "FEVER"), sitetot="7")])
    tot = rec(out["QS"], "SSLD0126")
    assert (tot["QSORRES"], tot["QSSTRESN"]) == ("7", 7.0)
    [f] = found(findings, "QC-SLEDAI-SITETOT")
    assert (f.severity, f.file, f.row, f.variable, f.value, f.usubjid) == (
        "warning", "sledai.csv", 2, "SITETOT", "7", USUBJID)
    assert "7" in f.message and "(3)" in f.message


def test_empty_sledai_row_warns():
    _, findings = run([sledai("WEEK 0", "05-MAR-2021", blank=True, sitetot="")])
    [f] = found(findings, "QC-SLEDAI-EMPTY")
    assert (f.severity, f.row, f.variable) == ("warning", 2, "SITETOT")


@pytest.mark.parametrize("grades, flagged_rows", [
    (["E", "E", "D"], [4]),            # E at screening and baseline, then D
    (["E", "D", "D"], [3]),            # only the first D after E
    (["E", "A", "D"], []),             # involved in between: a possible course
    (["D", "E", "D"], []),             # D first: E later is another matter
    (["C", "D", "D"], []),
])
def test_bilag_e_then_d_is_reported(grades, flagged_rows):
    days = [("SCREENING", "20-FEB-2021"), ("WEEK 0", "05-MAR-2021"), ("WEEK 2", "19-MAR-2021")]
    rows = [bilag(f, d, "DDEEEEEEE", CONST=g) for (f, d), g in zip(days, grades)]
    _, findings = run([sledai(f, d) for f, d in days], bilag_rows=rows)
    hits = found(findings, "QC-BILAG-E-TO-D")
    assert [(f.row, f.variable, f.value, f.severity) for f in hits] == [(r, "CONST", "D", "notice") for r in flagged_rows]


def test_row_matching_no_sledai_occasion_is_mapped_and_reported():
    out, findings = run([sledai("WEEK 0", "05-MAR-2021")],
                        [pga("WEEK 0", "05-MAR-2021"), pga("WEEK 0", "06-MAR-2021"), pga("WEEK 2", "19-MAR-2021")],
                        [bilag("WEEK 0", "05-MAR-2021")])
    assert len(out["QS"][out["QS"]["QSTESTCD"] == "SSLD0125"]) == 3
    assert [(f.file, f.row, f.severity) for f in found(findings, "QC-OCCASION-UNMATCHED")] == [
        ("pga.csv", 3, "notice"), ("pga.csv", 4, "notice")]


@pytest.mark.parametrize("row, bad", [
    (flare("WEEK 0", "05-MAR-2021", "Severe", onset="01-MAR-2021"), True),              # no severe box
    (flare("WEEK 0", "05-MAR-2021", "Severe", sv="1", onset="01-MAR-2021"), False),
    (flare("WEEK 0", "05-MAR-2021", "Severe", hosp="1", onset="01-MAR-2021"), False),
    (flare("WEEK 0", "05-MAR-2021", "Severe", sv="1"), True),                           # no onset date
    (flare("WEEK 0", "05-MAR-2021", "None", mm="1"), True),
    (flare("WEEK 0", "05-MAR-2021", "None"), False),
    (flare("WEEK 0", "05-MAR-2021", "Mild/Moderate", mm="1", onset="01-MAR-2021"), False),
    (flare("WEEK 0", "05-MAR-2021", "Mild/Moderate", mm="1", hosp="1", onset="01-MAR-2021"), True),
])
def test_flare_call_disagreeing_with_its_own_boxes(row, bad):
    _, findings = run([sledai("WEEK 0", "05-MAR-2021")], flare_rows=[row])
    hits = found(findings, "QC-FLARE-CRF")
    assert bool(hits) == bad
    assert all((f.severity, f.file, f.row, f.variable) == ("warning", "flare.csv", 2, "FLARE") for f in hits)


@pytest.mark.parametrize("value, bad", [("1.5", False), ("3.0", False), ("0", False), ("3.5", True),
                                        ("-0.1", True), ("1.25", True)])
def test_pga_range_and_precision(value, bad):
    out, findings = run([sledai("WEEK 0", "05-MAR-2021")], [pga("WEEK 0", "05-MAR-2021", value)])
    assert rec(out["QS"], "SSLD0125")["QSORRES"] == value           # kept as collected
    assert [(f.severity, f.row, f.variable, f.value) for f in found(findings, "QC-PGA-RANGE")] == (
        [("warning", 2, "PGA", value)] if bad else [])


def test_every_raw_row_is_in_some_record():
    _, findings = run([sledai("WEEK 0", "05-MAR-2021"), sledai("WEEK 2", "19-MAR-2021", blank=True, sitetot="")],
                      [pga("WEEK 0", "05-MAR-2021", "")], [bilag("WEEK 0", "05-MAR-2021", "")],
                      [flare("WEEK 0", "05-MAR-2021", "", "", "", "")])
    assert found(findings, "MAP-ROW-UNMAPPED") == [] and found(findings, "MAP-FORM-NOT-MAPPED") == []


# ------------------------------------------------------------------ definitions and terminology
def _write(tmp_path, mutate):
    data = yaml.safe_load(INSTRUMENTS_PATH.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "instruments.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _item(data, instrument, k):
    return data["instruments"][instrument]["items"][k]


@pytest.mark.parametrize("mutate, message", [
    (lambda d: _item(d, 0, 0).pop("weight"), "weight is required"),
    (lambda d: _item(d, 0, 0).update(testcd="SSLD01011"), "testcd"),
    (lambda d: _item(d, 0, 0).update(test="SSLD01-" + "x" * 40), "test"),
    (lambda d: _item(d, 0, 1).update(testcd="SSLD0101", test="SSLD01-Seizure"), "QSTESTCD used twice"),
    (lambda d: _item(d, 0, 0).update(column="SEIZURES"), "not a column"),
    (lambda d: _item(d, 2, 0).update(kind="checkbox", weight=1), "not usable as a checkbox"),
    (lambda d: _item(d, 0, 0).update(test="BILG01-Seizure"), "must start with SSLD01-"),
    (lambda d: _item(d, 0, 0).update(evlint="10 days"), "evlint"),
    (lambda d: d["instruments"][3]["call_checks"]["rules"]["NONE"].append({"any_of": ["NOPE"]}), "call_checks"),
    (lambda d: _item(d, 0, 0).update(kind="gauge"), "kind"),
])
def test_instrument_loader_rejects_a_bad_definition(tmp_path, mutate, message):
    with pytest.raises(ConfigError, match=message):
        load_instruments(_write(tmp_path, mutate))


def test_shipped_definitions_match_the_sponsor_codelists():
    defs = load_instruments()
    items = [item for inst in defs.instruments for item in inst.items]
    ct = load_specs().terminology.codelists
    assert set(ct["QSTESTCD"].terms) == {i.testcd for i in items} | {"QSALL"}
    assert set(ct["QSTEST"].terms) == {i.test for i in items} | {"Questionnaire"}
    assert set(ct["QSCAT"].terms) == {inst.qscat for inst in defs.instruments}
    sledai_items = [i for i in defs.instruments[0].items if i.kind == "checkbox"]
    assert [i.testcd for i in sledai_items] == [f"SSLD01{k:02d}" for k in range(1, 25)]
    assert sum(i.weight for i in sledai_items) == 105


def test_fixture_csv_and_odm_give_the_same_qs():
    from sdtm_lupus.api import load_configuration, study_specs
    from tests.paths import STUDIES

    frames = []
    for transport in ("csv", "odm"):
        study, mapping = load_configuration(STUDIES / "NCT04515719.yaml", None)
        forms, findings = read_export(FIXTURES / "NCT04515719" / transport, mapping, study.forms)
        ctx = MapContext(study=study, mapping=mapping, specs=study_specs(study), findings=findings)
        qs = map_sdtm(forms, ctx)["QS"]
        frames.append(qs.drop(columns=["_file", "_row"]))
        assert [f for f in ctx.findings if f.severity == "error"] == []
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert len(frames[0]) == 4256

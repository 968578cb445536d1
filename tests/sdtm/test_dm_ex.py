import pytest

from sdtm_lupus.sdtm import map_sdtm
from sdtm_lupus.sdtm.dm import derive_age_range
from tests.sdtm.builders import context, dose_row, enrol_row, form


def run(enrol, dosing, disp=(), study="NCT04515719"):
    ctx = context(study)
    forms = {"enrol": form("enrol", enrol, ctx.study.studyid), "dosing": form("dosing", dosing, ctx.study.studyid),
             "disp": form("disp", list(disp), ctx.study.studyid)}
    return map_sdtm(forms, ctx), ctx.findings


def rules(findings):
    return sorted(f.rule for f in findings)


def test_dm_treated_subject_reference_dates_and_arms():
    out, findings = run(
        [enrol_row("01-0001")],
        [dose_row("01-0001", "WEEK 0", "05-MAR-2021"), dose_row("01-0001", "WEEK 2", "19-MAR-2021",
                                                                 EXSTTIM="14:00", EXENTIM="15:10")],
        [{"SUBJID": "01-0001", "DSSTDAT": "01-MAR-2022", "DSDECOD_SITE": "Completed", "LASTDOSE": "19-MAR-2021"}],
    )
    dm = out["DM"].iloc[0]
    assert dm["USUBJID"] == "NCT04515719-01-0001"
    assert (dm["RFSTDTC"], dm["RFXSTDTC"], dm["RFXENDTC"]) == ("2021-03-05T09:00", "2021-03-05T09:00",
                                                                "2021-03-19T15:10")
    assert (dm["RFENDTC"], dm["RFPENDTC"], dm["RFICDTC"]) == ("2022-03-01", "2022-03-01", "2021-03-01")
    assert (dm["ARMCD"], dm["ARM"], dm["ACTARMCD"], dm["ACTARM"]) == ("BEL2", "Belimumab 2 mg/kg", "BEL2",
                                                                      "Belimumab 2 mg/kg")
    assert dm["ARMNRS"] is None and dm["DTHFL"] is None
    assert (dm["SEX"], dm["RACE"], dm["ETHNIC"], dm["AGE"], dm["AGEU"]) == (
        "F", "ASIAN", "NOT HISPANIC OR LATINO", 35.0, "YEARS")
    assert list(out["DM"].columns[:4]) == ["STUDYID", "DOMAIN", "USUBJID", "SUBJID"]
    assert [f for f in findings if f.severity != "notice"] == []


def test_dm_screen_failure_and_not_treated():
    out, _ = run(
        [enrol_row("01-0001", ELIGIBLE="No"), enrol_row("01-0002", ARMCD_RAND="PBO")],
        [],
        [{"SUBJID": "01-0001", "DSSTDAT": "10-MAR-2021", "DSDECOD_SITE": "Screen failure"}],
    )
    sf, nt = out["DM"].iloc[0], out["DM"].iloc[1]
    assert (sf["ARMCD"], sf["ARM"], sf["ACTARMCD"], sf["ARMNRS"]) == (None, None, None, "SCREEN FAILURE")
    assert sf["RFSTDTC"] is None and sf["RFENDTC"] is None and sf["RFPENDTC"] == "2021-03-10"
    assert (nt["ARMCD"], nt["ACTARMCD"], nt["ARMNRS"]) == ("PBO", None, "ASSIGNED, NOT TREATED")


def test_dm_death_and_unplanned_treatment():
    out, findings = run(
        [enrol_row("01-0003", ARMCD_RAND="PBO")],
        [dose_row("01-0003", "WEEK 0", "05-MAR-2021", DOSE_MGKG="0", DOSE_MG="0"),
         dose_row("01-0003", "WEEK 2", "19-MAR-2021")],
        [{"SUBJID": "01-0003", "DSSTDAT": "20-APR-2021", "DSDECOD_SITE": "Death"}],
    )
    dm = out["DM"].iloc[0]
    assert (dm["DTHFL"], dm["DTHDTC"]) == ("Y", "2021-04-20")
    assert (dm["ARMCD"], dm["ACTARMCD"], dm["ARMNRS"]) == ("PBO", None, "UNPLANNED TREATMENT")
    assert dm["ACTARMUD"] == "Belimumab 2 mg/kg; Placebo"
    assert out["EX"]["EXTRT"].tolist() == ["PLACEBO", "BELIMUMAB"]


def test_ex_records_days_visits_epoch_seq():
    out, findings = run(
        [enrol_row("01-0001", ARMCD_RAND="PBO")],
        [dose_row("01-0001", "WEEK 2", "19-MAR-2021", DOSE_MGKG="0", DOSE_MG="0"),
         dose_row("01-0001", "WEEK 0", "05-MAR-2021", DOSE_MGKG="0", DOSE_MG="0"),
         dose_row("01-0001", "UNSCHEDULED", "24-MAR-2021", DOSE_MGKG="0", DOSE_MG="0"),
         dose_row("01-0001", "WEEK 4", "02-APR-2021", DOSE_MGKG="0", DOSE_MG="0", GIVEN="No", REASNG="Fever")],
    )
    ex = out["EX"]
    assert ex["EXSEQ"].tolist() == [1.0, 2.0, 3.0]
    assert ex["EXSTDTC"].tolist() == ["2021-03-05T09:00", "2021-03-19T09:00", "2021-03-24T09:00"]
    assert ex["EXENDTC"].tolist()[0] == "2021-03-05T10:05"
    assert ex["EXSTDY"].tolist() == [1.0, 15.0, 20.0]
    assert ex["VISITNUM"].tolist() == [0.0, 2.0, 2.01]
    assert ex["VISIT"].tolist() == ["WEEK 0", "WEEK 2", "UNSCHEDULED 2.01"]
    assert set(ex["EPOCH"]) == {"TREATMENT"}
    assert (ex["EXTRT"].iloc[0], ex["EXDOSE"].iloc[0], ex["EXDOSU"].iloc[0], ex["EXROUTE"].iloc[0]) == (
        "PLACEBO", 0.0, "mg/kg", "INTRAVENOUS")
    assert ex["_row"].tolist() == [3, 2, 4]
    not_given = [f for f in findings if f.rule == "EX-NOT-GIVEN"]
    assert len(not_given) == 1 and not_given[0].row == 5 and not_given[0].file == "dosing.csv"


def test_subject_on_dosing_not_on_enrol_is_an_error_naming_file_row_column():
    _, findings = run([enrol_row("01-0001")], [dose_row("01-0001", "WEEK 0", "05-MAR-2021"),
                                               dose_row("01-0099", "WEEK 0", "05-MAR-2021")])
    orphan = [f for f in findings if f.rule == "MAP-SUBJECT-NOT-ENROLLED"]
    assert len(orphan) == 1
    assert (orphan[0].severity, orphan[0].file, orphan[0].row, orphan[0].variable) == (
        "error", "dosing.csv", 3, "SUBJID")
    assert "01-0099" in orphan[0].message


def test_impossible_date_is_an_error_naming_file_row_column():
    _, findings = run([enrol_row("01-0001")], [dose_row("01-0001", "WEEK 0", "31-FEB-2021")])
    bad = [f for f in findings if f.rule == "MAP-DATE"]
    assert [(b.severity, b.file, b.row, b.variable, b.value) for b in bad] == [
        ("error", "dosing.csv", 2, "EXSTDAT", "31-FEB-2021")]
    assert "day 31 does not exist in Feb 2021" in bad[0].message


def test_unmapped_code_is_an_error():
    _, findings = run([enrol_row("01-0001", SEX="Unknown")], [])
    assert [(f.rule, f.variable, f.value) for f in findings if f.severity == "error"] == [
        ("MAP-CODE", "SEX", "Unknown")]


def test_unknown_folder_is_kept_as_unscheduled_with_warning():
    out, findings = run([enrol_row("01-0001", ARMCD_RAND="BEL10")],
                        [dose_row("01-0001", "WEEK 0", "05-MAR-2021", DOSE_MGKG="10"),
                         dose_row("01-0001", "WEEK 52", "04-MAR-2022", DOSE_MGKG="10")], study="NCT04893161")
    assert out["EX"]["VISITNUM"].tolist() == [0.0, 48.01]
    assert [f.rule for f in findings if f.severity == "warning"] == ["MAP-FOLDER-UNKNOWN"]


def test_age_disagreeing_with_birth_date_is_a_warning():
    _, findings = run([enrol_row("01-0001", AGE="40"), enrol_row("01-0002", BRTHDAT="UN-UNK-1985", AGE="35"),
                       enrol_row("01-0003", BRTHDAT="UN-UNK-1985", AGE="37")], [])
    bad = [f for f in findings if f.rule == "DM-AGE-BRTHDTC"]
    assert [(f.row, f.value) for f in bad] == [(2, "40"), (4, "37")]


@pytest.mark.parametrize("birth, on, span", [
    ("1985-06-15", "2021-03-01", (35, 35)),
    ("1985-06-15", "2021-06-15", (36, 36)),
    ("1985-06", "2021-06-15", (35, 36)),
    ("1985-02", "2021-06-15", (36, 36)),
    ("1985", "2021-06-15", (35, 36)),
    (None, "2021-06-15", None),
])
def test_derive_age_range(birth, on, span):
    from datetime import date

    assert derive_age_range(birth, date.fromisoformat(on)) == span

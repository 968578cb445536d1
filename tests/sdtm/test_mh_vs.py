"""MH, VS, SUPPDM and SUPPEX from enrol and dosing."""

import pytest

from sdtm_lupus.sdtm import ex, mh, suppdm, suppex, sv, vs
from tests.sdtm.builders import dose_row, enrol_row
from tests.sdtm.test_ds_sv_design import mapped, run

S1, S2 = "NCT04515719-01-0001", "NCT04515719-01-0002"


def export():
    """01-0001 treated (dosing rows out of date order, one not given); 01-0002 screen failure."""
    return {"enrol": [enrol_row("01-0001", DIAGDAT="UN-JUN-2015", HEIGHT_CM="162.5", WEIGHT_KG="60.0", RANDNO="R001"),
                      enrol_row("01-0002", DIAGDAT="03-FEB-2019", HEIGHT_CM="158", WEIGHT_KG="", ELIGIBLE="No",
                                ARMCD_RAND="", RANDNO="")],
            "dosing": [dose_row("01-0001", "WEEK 2", "19-MAR-2021", WEIGHT_KG="60.4", DOSE_MG="121", VOLUME_ML="100"),
                       dose_row("01-0001", "WEEK 0", "05-MAR-2021", WEIGHT_KG="60.2", DOSE_MG="120.4",
                                VOLUME_ML="100"),
                       dose_row("01-0001", "WEEK 4", "02-APR-2021", WEIGHT_KG="59.9", GIVEN="No", REASNG="Fever",
                                DOSE_MG="", VOLUME_ML="")]}


@pytest.fixture()
def state():
    return mapped(export())


def test_mh_one_sle_diagnosis_per_subject_partial_date_kept(state):
    out = run(mh.build, state)["MH"]
    assert out[["USUBJID", "MHSEQ", "MHTERM", "MHDECOD", "MHSTDTC"]].values.tolist() == [
        [S1, 1.0, "SYSTEMIC LUPUS ERYTHEMATOSUS", "Systemic lupus erythematosus", "2015-06"],
        [S2, 1.0, "SYSTEMIC LUPUS ERYTHEMATOSUS", "Systemic lupus erythematosus", "2019-02-03"]]
    assert "MHCAT" not in out      # CORE-000365: one kind of history, no category
    assert out["MHSTDY"].isna().all()          # partial date; screen failure has no RFSTDTC
    assert out["_row"].tolist() == [2, 3] and set(out["_file"]) == {"enrol.csv"}


def test_vs_screening_height_weight_and_dosing_weights(state):
    out = run(vs.build, state)["VS"]
    got = out[["USUBJID", "VSTESTCD", "VSORRES", "VSORRESU", "VSSTRESC", "VSSTRESN", "VISITNUM", "VISIT", "EPOCH",
               "VSDTC", "VSDY", "VSLOBXFL", "_file", "_row"]]
    assert got.astype(object).where(got.notna(), None).values.tolist() == [
        [S1, "HEIGHT", "162.5", "cm", "162.5", 162.5, -1.0, "SCREENING", "SCREENING", None, None, "Y", "enrol.csv", 2],
        [S1, "WEIGHT", "60.0", "kg", "60", 60.0, -1.0, "SCREENING", "SCREENING", None, None, None, "enrol.csv", 2],
        [S1, "WEIGHT", "60.2", "kg", "60.2", 60.2, 0.0, "WEEK 0", "TREATMENT", "2021-03-05", 1.0, "Y", "dosing.csv", 3],
        [S1, "WEIGHT", "60.4", "kg", "60.4", 60.4, 2.0, "WEEK 2", "TREATMENT", "2021-03-19", 15.0, None, "dosing.csv",
         2],
        [S1, "WEIGHT", "59.9", "kg", "59.9", 59.9, 4.0, "WEEK 4", "FOLLOW-UP", "2021-04-02", 29.0, None, "dosing.csv",
         4],                                    # weighed, infusion not given
        [S2, "HEIGHT", "158", "cm", "158", 158.0, -1.0, "SCREENING", "SCREENING", None, None, None, "enrol.csv", 3]]
    assert out["VSSEQ"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 1.0]
    assert set(out["VSTEST"]) == {"Height", "Weight"} and out["VSSTRESU"].tolist() == out["VSORRESU"].tolist()


def test_vs_screening_weight_is_baseline_when_week0_weight_missing():
    forms = export()
    forms["dosing"][1]["WEIGHT_KG"] = ""
    out = run(vs.build, mapped(forms))["VS"]
    flagged = out[out["VSLOBXFL"] == "Y"]
    assert flagged[["VSTESTCD", "VISIT"]].values.tolist() == [["HEIGHT", "SCREENING"], ["WEIGHT", "SCREENING"]]


def test_suppdm_randomisation_number_for_subjects_who_have_one(state):
    out = run(suppdm.build, state)["SUPPDM"]
    assert out[["USUBJID", "RDOMAIN", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG"]].values.tolist() == [
        [S1, "DM", None, None, "RANDNO", "Randomization Number", "R001", "CRF"]]
    assert (out["_file"].iloc[0], out["_row"].iloc[0]) == ("enrol.csv", 2)


def test_suppdm_absent_when_nothing_collected():
    forms = export()
    forms["enrol"][0]["RANDNO"] = ""
    assert run(suppdm.build, mapped(forms)) == {}


def test_suppex_links_each_ex_record_by_its_dosing_row(state):
    exseq = ex.build(state)["EX"].set_index("_row")["EXSEQ"]       # WEEK 0 (row 3) is EXSEQ 1
    out = run(suppex.build, state)["SUPPEX"]
    assert out[["IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "_row"]].values.tolist() == [
        ["EXSEQ", "1", "DOSE_MG", "Dose Given in mg", "120.4", 3],
        ["EXSEQ", "1", "VOLUMEML", "Infused Volume (mL)", "100", 3],
        ["EXSEQ", "2", "DOSE_MG", "Dose Given in mg", "121", 2],
        ["EXSEQ", "2", "VOLUMEML", "Infused Volume (mL)", "100", 2]]
    assert {int(exseq[r]) for r in out["_row"]} == {int(v) for v in out["IDVARVAL"]}


def test_suppex_uses_the_ex_frame_the_pipeline_cached(state):
    cached = ex.build(state)["EX"].assign(EXSEQ=lambda d: d["EXSEQ"] + 10)
    state.cache["EX"] = cached
    assert set(run(suppex.build, state)["SUPPEX"]["IDVARVAL"]) == {"11", "12"}


def test_nothing_collected_writes_no_empty_datasets():
    state = mapped({"enrol": [enrol_row("01-0001", ELIGIBLE="No", ARMCD_RAND="")]})
    assert run(vs.build, state) == {} and run(suppex.build, state) == {}
    assert run(sv.build, state) == {}

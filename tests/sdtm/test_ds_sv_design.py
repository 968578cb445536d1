"""DS, SV and the trial design datasets (TS, TA, TE, TV, TI) on tiny literal exports."""

import pandas as pd
import pytest

from sdtm_lupus.config.study import PharmacologicClass
from sdtm_lupus.sdtm import dm, ds, finish_dataset, number_visits, sv, trial_design
from sdtm_lupus.sdtm.builder_state import MapState
from sdtm_lupus.sdtm.subjects import check_folders, check_subjects
from sdtm_lupus.specs import load_specs
from tests.sdtm.builders import context, dose_row, enrol_row, form

S1 = "NCT04515719-01-0001"


def mapped(forms: dict[str, list[dict]], study="NCT04515719") -> MapState:
    """MapState as map_sdtm leaves it after DM: checks run, DM built, visits numbered."""
    ctx = context(study)
    forms = {"enrol": [], "dosing": [], "disp": [], **forms}
    state = MapState(ctx=ctx, forms={name: form(name, rows, ctx.study.studyid) for name, rows in forms.items()})
    check_subjects(state.forms, ctx)
    check_folders(state.forms, ctx)
    state.dm = dm.build(state)["DM"]
    state.visits = number_visits(state)
    return state


def run(builder, state: MapState) -> dict:
    return {name: finish_dataset(name, df, state.ctx) for name, df in builder(state).items()}


def findings(state: MapState, rule: str) -> list:
    return [f for f in state.ctx.findings if f.rule == rule]


def treated(**disp) -> dict[str, list[dict]]:
    """Subject 01-0001: consent 01-MAR-2021, infusions WEEK 0 (05-MAR) and WEEK 2 (19-MAR)."""
    return {"enrol": [enrol_row("01-0001")],
            "dosing": [dose_row("01-0001", "WEEK 0", "05-MAR-2021"), dose_row("01-0001", "WEEK 2", "19-MAR-2021")],
            "disp": [{"SUBJID": "01-0001", **disp}] if disp else []}


# ----------------------------------------------------------------------------- DS

@pytest.mark.parametrize("site, date, decod, epoch, day", [
    ("Completed", "2022-03-01", "COMPLETED", "FOLLOW-UP", 362.0),
    ("Death", "2021-03-10", "DEATH", "TREATMENT", 6.0),
    ("Withdrawal by subject", "2021-03-20", "WITHDRAWAL BY SUBJECT", "FOLLOW-UP", 16.0),   # day after last dose
    ("Lost to follow-up", "2021-03-19", "LOST TO FOLLOW-UP", "TREATMENT", 15.0),
])
def test_ds_disposition_event_of_a_treated_subject(site, date, decod, epoch, day):
    raw = pd.Timestamp(date).strftime("%d-%b-%Y").upper()
    out = run(ds.build, mapped(treated(DSSTDAT=raw, DSDECOD_SITE=site)))["DS"]
    assert out["DSCAT"].tolist() == ["PROTOCOL MILESTONE", "DISPOSITION EVENT"]
    event = out.iloc[1]
    assert (event["DSTERM"], event["DSDECOD"], event["DSSTDTC"], event["EPOCH"], event["DSSTDY"]) == (
        site, decod, date, epoch, day)
    assert (event["_file"], event["_row"], event["DSSEQ"]) == ("disp.csv", 2, 2.0)


def test_ds_screen_failure_has_consent_milestone_and_disposition_in_screening():
    state = mapped({"enrol": [enrol_row("01-0001", ELIGIBLE="No", ARMCD_RAND="")],
                    "disp": [{"SUBJID": "01-0001", "DSSTDAT": "10-MAR-2021", "DSDECOD_SITE": "Screen failure"}]})
    out = run(ds.build, state)["DS"]
    assert out[["DSSEQ", "DSCAT", "DSTERM", "DSDECOD", "EPOCH", "DSSTDTC"]].values.tolist() == [
        [1.0, "PROTOCOL MILESTONE", "INFORMED CONSENT OBTAINED", "INFORMED CONSENT OBTAINED", "SCREENING",
         "2021-03-01"],
        [2.0, "DISPOSITION EVENT", "Screen failure", "SCREEN FAILURE", "SCREENING", "2021-03-10"]]
    assert out["DSSTDY"].isna().all()                   # never dosed: no study day
    assert out["_file"].tolist() == ["enrol.csv", "disp.csv"]
    assert findings(state, "DS-NO-RANDOMIZATION-DATE") == []     # nobody randomised


def test_ds_consent_milestone_has_study_day_and_no_randomized_milestone():
    state = mapped(treated(DSSTDAT="01-MAR-2022", DSDECOD_SITE="Completed"))
    out = run(ds.build, state)["DS"]
    consent = out.iloc[0]
    assert (consent["DSDECOD"], consent["DSSTDY"], consent["_file"], consent["_row"]) == (
        "INFORMED CONSENT OBTAINED", -4.0, "enrol.csv", 2)
    assert "RANDOMIZED" not in set(out["DSDECOD"])
    [notice] = findings(state, "DS-NO-RANDOMIZATION-DATE")
    assert notice.severity == "notice" and "1 randomised subjects" in notice.message


def test_ds_open_label_study_has_no_randomization_notice():
    state = mapped({"enrol": [enrol_row("01-0001", ARMCD_RAND="BEL10")]}, study="NCT04893161")
    run(ds.build, state)
    assert findings(state, "DS-NO-RANDOMIZATION-DATE") == []


def test_ds_disp_row_without_status_is_a_warning_not_a_record():
    state = mapped(treated(DSSTDAT="01-MAR-2022", DSDECOD_SITE=""))
    out = run(ds.build, state)["DS"]
    assert out["DSCAT"].tolist() == ["PROTOCOL MILESTONE"]
    [warning] = findings(state, "DS-NO-STATUS")
    assert (warning.severity, warning.file, warning.row, warning.variable) == ("warning", "disp.csv", 2, "DSDECOD_SITE")


# ----------------------------------------------------------------------------- SV

def visits_state(**extra):
    forms = treated()
    forms["dosing"].append(dose_row("01-0001", "UNSCHEDULED", "24-MAR-2021"))
    forms["sledai"] = [{"SUBJID": "01-0001", "SITEID": "01", "FOLDER": "WEEK 2", "ASSESSDAT": "20-MAR-2021"},
                       {"SUBJID": "01-0001", "SITEID": "01", "FOLDER": "SCREENING", "ASSESSDAT": "15-FEB-2021"}]
    forms["lab"] = [{"SUBJID": "01-0001", "SITEID": "01", "FOLDER": "WEEK 2", "LBDAT": "18-MAR-2021", "LBTEST": "WBC"},
                    {"SUBJID": "01-0001", "SITEID": "01", "FOLDER": "EARLY TERMINATION", "LBDAT": "02-APR-2021",
                     "LBTEST": "WBC"}]
    forms.update(extra)
    return mapped(forms)


def test_sv_one_record_per_visit_start_and_end_across_forms():
    state = visits_state()
    out = run(sv.build, state)["SV"]
    got = out[["VISITNUM", "VISIT", "SVPRESP", "SVOCCUR", "VISITDY", "SVSTDTC", "SVENDTC", "SVSTDY", "SVENDY",
               "SVUPDES"]]
    assert got.astype(object).where(got.notna(), None).values.tolist() == [
        [-1.0, "SCREENING", "Y", "Y", -14.0, "2021-02-15", "2021-02-15", -18.0, -18.0, None],
        [0.0, "WEEK 0", "Y", "Y", 1.0, "2021-03-05", "2021-03-05", 1.0, 1.0, None],
        [2.0, "WEEK 2", "Y", "Y", 15.0, "2021-03-18", "2021-03-20", 14.0, 16.0, None],      # lab, dosing, sledai
        [2.01, "UNSCHEDULED 2.01", None, "Y", None, "2021-03-24", "2021-03-24", 20.0, 20.0, "UNSCHEDULED VISIT"],
        [900.0, "EARLY TERMINATION", "Y", "Y", None, "2021-04-02", "2021-04-02", 29.0, 29.0, None]]
    assert "EPOCH" not in out and "EPOCH" not in load_specs().dataset("SV").names     # SDTMIG 3.4: SV has no EPOCH
    assert set(out["USUBJID"]) == {S1} and "_row" not in out      # summary records: no provenance
    assert findings(state, "QC-VISIT-WINDOW") == []


def test_sv_visit_numbers_agree_with_the_other_domains():
    state = visits_state()
    ex_visits = set(state.visit(state.cleaned("dosing")["USUBJID"], state.cleaned("dosing")["FOLDER"],
                                state.cleaned("dosing")["EXSTDAT"])[0])
    assert ex_visits <= set(run(sv.build, state)["SV"]["VISITNUM"])


@pytest.mark.parametrize("folder, date, span", [
    ("WEEK 4", "30-MAR-2021", None),              # study day 26: window 26..32
    ("WEEK 4", "29-MAR-2021", "25"),
    ("WEEK 4", "12-APR-2021", "39"),
    ("WEEK 0", "04-MAR-2021", "-1 to 1"),         # assessed the day before the first dose: window 1..1
    ("SCREENING", "01-MAR-2021", "-18 to -4"),    # window -42..-15; the sledai row is on day -18
])
def test_sv_window_finding(folder, date, span):
    state = visits_state(pga=[{"SUBJID": "01-0001", "SITEID": "01", "FOLDER": folder, "ASSESSDAT": date, "PGA": "1"}])
    run(sv.build, state)
    hits = findings(state, "QC-VISIT-WINDOW")
    if span is None:
        assert hits == []
        return
    [hit] = hits
    assert (hit.severity, hit.file, hit.row, hit.variable, hit.usubjid) == ("warning", "pga.csv", 2, "ASSESSDAT", S1)
    assert f"{folder} done on study day {span}," in hit.message


def test_sv_window_finding_once_per_subject_visit_naming_the_first_row():
    late = [{"SUBJID": "01-0001", "SITEID": "01", "FOLDER": "WEEK 4", "ASSESSDAT": d, "PGA": "1"}
            for d in ("14-APR-2021", "12-APR-2021")]
    state = visits_state(pga=late)
    run(sv.build, state)
    [hit] = findings(state, "QC-VISIT-WINDOW")
    assert (hit.row, hit.value) == (3, "2021-04-12") and "study day 39 to 41" in hit.message


# ----------------------------------------------------------------------------- trial design

@pytest.fixture(scope="module")
def design():
    out = {}
    for study in ("NCT04515719", "NCT04893161"):
        state = mapped({"enrol": [enrol_row("01-0001", ARMCD_RAND="BEL2" if study == "NCT04515719" else "BEL10"),
                                  enrol_row("01-0002", CONSDAT="15-FEB-2021", ELIGIBLE="No", ARMCD_RAND="")]},
                       study=study)
        out[study] = run(trial_design.build, state)
    return out


def test_tv_rows_are_the_schedule_plus_early_termination(design):
    for study, datasets in design.items():
        schedule = context(study).study.visits
        tv = datasets["TV"]
        assert tv["VISITNUM"].tolist() == [v.visitnum for v in schedule] + [900.0]
        assert tv["VISITDY"].tolist()[:-1] == [float(v.target_day) for v in schedule]
        assert tv["ARMCD"].isna().all()
    week2 = design["NCT04515719"]["TV"].set_index("VISIT").loc["WEEK 2"]
    assert (week2["TVSTRL"], week2["TVENRL"]) == ("On or after study day 12 (target study day 15)",
                                                  "On or before study day 18")


@pytest.mark.parametrize("study, parmcd, values, code", [
    ("NCT04515719", "TITLE", ["Low-dose belimumab for maintenance of low disease activity in systemic lupus "
                              "erythematosus: a randomised, placebo-controlled trial"], None),
    ("NCT04515719", "TPHASE", ["PHASE IV TRIAL"], "C15603"),
    ("NCT04515719", "RANDOM", ["Y"], "C49488"),
    ("NCT04893161", "RANDOM", ["N"], "C49487"),
    ("NCT04515719", "TBLIND", ["QUADRUPLE BLIND"], None),
    ("NCT04893161", "TBLIND", ["OPEN LABEL"], "C49659"),
    ("NCT04515719", "INTMODEL", ["PARALLEL"], "C82639"),
    ("NCT04893161", "INTMODEL", ["SINGLE GROUP"], "C82640"),
    ("NCT04515719", "TCNTRL", ["PLACEBO"], "C49648"),
    ("NCT04893161", "TCNTRL", ["NONE"], "C41132"),
    ("NCT04515719", "PLANSUB", ["334"], None),
    ("NCT04515719", "NARMS", ["2"], None),
    ("NCT04515719", "TRT", ["BELIMUMAB"], None),                  # placebo is not investigational
    ("NCT04515719", "DOSE", ["2", "0"], None),                    # one per arm (TSGRPID = ARMCD)
    ("NCT04515719", "DOSU", ["mg/kg", "mg/kg"], "C67401"),
    ("NCT04515719", "ROUTE", ["INTRAVENOUS", "INTRAVENOUS"], "C38276"),
    ("NCT04515719", "DOSFRQ", ["Q4W"], None),
    ("NCT04515719", "INDIC", ["Systemic Lupus Erythematosus"], "55464009"),
    ("NCT04515719", "SDTIGVER", ["3.4"], None),
    ("NCT04515719", "SDTMVER", ["2.0"], None),
    ("NCT04515719", "ADDON", ["Y"], "C49488"),
    ("NCT04515719", "STYPE", ["INTERVENTIONAL"], "C98388"),
    ("NCT04515719", "REGID", ["NCT04515719"], "NCT04515719"),
    ("NCT04515719", "SSTDTC", ["2021-02-15"], None),              # earliest consent, screen failures too
    ("NCT04515719", "ACTSUB", ["1"], None),                       # subjects with an ARMCD
    ("NCT04515719", "AGEMIN", [], None),                          # unknown: omitted
    ("NCT04515719", "INTTYPE", ["BIOLOGIC"], "C307"),              # CORE-000741
    ("NCT04893161", "INTTYPE", ["BIOLOGIC"], "C307"),
    ("NCT04515719", "PCLASS", ["B Lymphocyte Stimulator-specific Inhibitor [EPC]"], None),   # MED-RT code not given
    ("NCT04893161", "PCLASS", ["B Lymphocyte Stimulator-specific Inhibitor [EPC]"], None),
    ("NCT04515719", "COMPTRT", ["PLACEBO"], None),                # placebo-controlled
    ("NCT04893161", "COMPTRT", [], None),                         # single arm: no comparator
    ("NCT04893161", "TCNTRL", ["NONE"], "C41132"),
])
def test_ts_parameters(design, study, parmcd, values, code):
    ts = design[study]["TS"]
    rows = ts[ts["TSPARMCD"] == parmcd]
    assert rows["TSVAL"].tolist() == values
    assert rows["TSSEQ"].tolist() == [float(i) for i in range(1, len(values) + 1)]
    if values:
        assert rows["TSVALCD"].iloc[0] == code
        assert rows["TSVCDVER"].iloc[0] == ("2025-03-28" if code and code.startswith("C") else None)


def test_ts_pclass_with_a_med_rt_code_from_the_study():
    ctx = context()
    pclass = PharmacologicClass(term="Some Class [EPC]", code="N0000000001", version="2025-01")
    ts = trial_design.build_ts(ctx.study.model_copy(update={"pharmacologic_class": pclass}), ctx.specs.terminology, None)
    row = ts[ts["TSPARMCD"] == "PCLASS"].iloc[0]
    assert (row["TSVAL"], row["TSVALCD"], row["TSVCDREF"], row["TSVCDVER"]) == \
        ("Some Class [EPC]", "N0000000001", "MED-RT", "2025-01")
    assert row["TSPARM"] == "Pharmacological Class of Invest. Therapy"


def test_ts_parameter_names_come_from_ct(design):
    ts = design["NCT04515719"]["TS"].set_index("TSPARMCD")["TSPARM"].drop_duplicates()
    assert ts["ACTSUB"] == "Actual Number of Subjects" and ts["TRT"] == "Investigational Therapy or Treatment"
    assert ts["SSTDTC"] == "Study Start Date"


def test_ta_is_arms_by_epochs_with_an_element_per_treatment(design):
    ta = design["NCT04515719"]["TA"]
    assert ta[["ARMCD", "TAETORD", "ETCD", "EPOCH"]].values.tolist() == [
        ["BEL2", 1.0, "SCRN", "SCREENING"], ["BEL2", 2.0, "BEL2", "TREATMENT"], ["BEL2", 3.0, "FU", "FOLLOW-UP"],
        ["PBO", 1.0, "SCRN", "SCREENING"], ["PBO", 2.0, "PBO", "TREATMENT"], ["PBO", 3.0, "FU", "FOLLOW-UP"]]
    assert ta["TABRANCH"].tolist() == ["Randomized to Belimumab 2 mg/kg", None, None, "Randomized to Placebo", None,
                                       None]
    single = design["NCT04893161"]["TA"]
    assert single["ETCD"].tolist() == ["SCRN", "BEL10", "FU"] and single["TABRANCH"].isna().all()


def test_te_one_record_per_element_with_rules_and_durations(design):
    te = design["NCT04515719"]["TE"].set_index("ETCD")
    assert sorted(te.index) == ["BEL2", "FU", "PBO", "SCRN"]
    assert set(te.index) == set(design["NCT04515719"]["TA"]["ETCD"])
    assert (te.loc["SCRN", "TESTRL"], te.loc["PBO", "TESTRL"]) == ("Informed consent", "First infusion of Placebo")
    assert te.loc["BEL2", "TEDUR"] == "P337D"          # day 1 to the day after the week 48 infusion
    assert te.loc["FU", "TEDUR"] == "P28D"             # to the week 52 follow-up visit
    assert design["NCT04893161"]["TE"].set_index("ETCD").loc["FU", "TEDUR"] is None   # no follow-up visit


def test_ti_only_when_the_study_lists_criteria(design):
    ti = design["NCT04515719"]["TI"]
    assert ti["IETESTCD"].tolist() == ["INCL01", "INCL02", "INCL03"] and set(ti["IECAT"]) == {"INCLUSION"}
    assert "<= 6" in ti["IETEST"].iloc[0]
    assert "TI" not in design["NCT04893161"]

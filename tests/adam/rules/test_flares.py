"""R5 modified SELENA-SLEDAI Flare Index (derivations.md R5; lupus-endpoints.md §5, §8 cases 23-33, 39-44)."""

from datetime import date, timedelta

import pandas as pd
import pytest

from sdtm_lupus.adam.rules.flares import (
    compute_intervals,
    compute_post_baseline,
    compute_prebaseline_crf_flare,
    derive_param_flare,
)
from sdtm_lupus.config.study import RuleParameters

PARAMS = RuleParameters()
D1 = date(2021, 6, 1)   # TRTSDT: day 1


def day(n: int) -> date:
    """Study day n (no day 0) -> date."""
    return D1 + timedelta(days=n - 1 if n > 0 else n)


def at(d: int, **values) -> dict:
    """One occasion on study day d; values override SLEDAI, PGA10, PRED, WEIGHT, CRF columns, FOLDER ..."""
    return {"ADT": day(d), **values}


def occasions(*rows: dict, usubjid: str = "S1", baseline: bool = True) -> pd.DataFrame:
    """OCCASIONS rows (+ ABLFL_SLEDAI, PRED, WEIGHT): the first row is the baseline occasion unless baseline=False."""
    out = []
    for k, row in enumerate(rows, 1):
        out.append({"USUBJID": usubjid, "OCC": k, "FOLDER": f"WEEK {k}", "SLEDAI": 6, "PGA10": 10,
                    "ABLFL_SLEDAI": "Y" if baseline and k == 1 else None, "PRED": 10.0, "WEIGHT": 60.0,
                    "FLCRF": None, "MM_NEWWORSE": None, "SV_NEWWORSE": None, "SV_HOSP": None, "FLAREDT": None,
                    **row})
    df = pd.DataFrame(out)
    df["PGA10"] = df["PGA10"].astype("Int64")
    for c in ("ADT", "FLAREDT", "ABLFL_SLEDAI", "FLCRF", "MM_NEWWORSE", "SV_NEWWORSE", "SV_HOSP", "WEIGHT"):
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def subjects(*usubjids: str, trtsdt: date | None = D1) -> pd.DataFrame:
    ids = usubjids or ("S1",)
    return pd.DataFrame({"USUBJID": list(ids), "TRTSDT": [trtsdt] * len(ids)}, dtype=object)


def med(decod: str, clas: str, start: date | None, end: date | None = None, indc: str | None = "SLE",
        fact: float | None = None, freq: str = "QD", usubjid: str = "S1") -> dict:
    return {"USUBJID": usubjid, "CMSEQ": 1.0, "CMDECOD": decod, "CMCLAS": clas, "CMINDC": indc, "CMDOSE": 10.0,
            "CMDOSFRQ": freq, "PREDFACT": fact, "STARTDT": start, "ENDDT": end}


def meds(*rows: dict) -> pd.DataFrame:
    cols = ["USUBJID", "CMSEQ", "CMDECOD", "CMCLAS", "CMINDC", "CMDOSE", "CMDOSFRQ", "PREDFACT", "STARTDT", "ENDDT"]
    return pd.DataFrame(list(rows), columns=cols).astype(object)


def ae(start: date, hosp: str | None = "Y", sle: str | None = "Y", usubjid: str = "S1") -> dict:
    return {"USUBJID": usubjid, "AESEQ": 1.0, "AESTDT": start, "AESHOSP": hosp, "AESLE": sle}


def events(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=["USUBJID", "AESEQ", "AESTDT", "AESHOSP", "AESLE"]).astype(object)


def flare(occ: pd.DataFrame, cm: pd.DataFrame | None = None, ev: pd.DataFrame | None = None,
          subj: pd.DataFrame | None = None, params: RuleParameters = PARAMS) -> pd.DataFrame:
    return derive_param_flare(occ, subjects() if subj is None else subj, meds() if cm is None else cm,
                              events() if ev is None else ev, params)


def last(result: pd.DataFrame) -> tuple:
    row = result.iloc[-1]
    return row["AVALC"], row["FLCRIT"]


HCQ, NSAID, MMF, PRED = "HYDROXYCHLOROQUINE", "IBUPROFEN", "MYCOPHENOLATE MOFETIL", "PREDNISONE"

# (id, occasions, meds, events, expected AVALC of the last occasion, expected criteria fired)
CASES = [
    # R5.1a SLEDAI rise >= 3 (case 23), 2 is not enough
    ("c23 rise exactly 3", [at(1, SLEDAI=6), at(29, SLEDAI=9)], [], [], "MILD/MODERATE", "M1a"),
    ("rise 2", [at(1, SLEDAI=6), at(29, SLEDAI=8)], [], [], "NONE", None),
    # R5.3 modification: a total rising above 12 is not severe by itself (cases 24, 25)
    ("c24 10->13 modified", [at(1, SLEDAI=10), at(29, SLEDAI=13)], [], [], "MILD/MODERATE", "M1a"),
    ("c25 11->13", [at(1, SLEDAI=11), at(29, SLEDAI=13)], [], [], "NONE", None),
    ("4->20 still only M1a", [at(1, SLEDAI=4), at(29, SLEDAI=20)], [], [], "MILD/MODERATE", "M1a"),
    # R5.1b / R5.2a flare CRF
    ("M1b MM_NEWWORSE", [at(1), at(29, MM_NEWWORSE=True)], [], [], "MILD/MODERATE", "M1b"),
    ("MM_NEWWORSE false", [at(1), at(29, MM_NEWWORSE=False)], [], [], "NONE", None),
    ("S2a SV_NEWWORSE", [at(1), at(29, SV_NEWWORSE=True)], [], [], "SEVERE", "S2a"),
    ("S2a SV_HOSP", [at(1), at(29, SV_HOSP=True)], [], [], "SEVERE", "S2a"),
    # R5.1c / R5.2c dose vs 0.5 mg/kg/day (cases 29, 30, 32)
    ("c29 10->30 at 60 kg", [at(1, PRED=10.0), at(29, PRED=30.0)], [], [], "MILD/MODERATE", "M1c"),
    ("c30 10->31 at 60 kg", [at(1, PRED=10.0), at(29, PRED=31.0)], [], [], "SEVERE", "S2c"),
    ("dose unchanged", [at(1, PRED=20.0), at(29, PRED=20.0)], [], [], "NONE", None),
    ("dose decreased", [at(1, PRED=20.0), at(29, PRED=10.0)], [], [], "NONE", None),
    ("already above before", [at(1, PRED=35.0), at(29, PRED=40.0)], [], [], "NONE", None),
    ("c32 26 mg at 60 kg", [at(1, PRED=25.0), at(29, PRED=26.0, WEIGHT=60.0)], [], [], "MILD/MODERATE", "M1c"),
    ("c32 26 mg at 50 kg", [at(1, PRED=25.0), at(29, PRED=26.0, WEIGHT=50.0)], [], [], "SEVERE", "S2c"),
    ("c32 same dose, weight fell", [at(1, PRED=26.0, WEIGHT=60.0), at(29, PRED=26.0, WEIGHT=50.0)], [], [],
     "SEVERE", "S2c"),
    ("c31 no weight", [at(1, PRED=10.0, WEIGHT=None), at(29, PRED=31.0, WEIGHT=None)], [], [], "NONE", None),
    # R5.1d NSAID / antimalarial with SLE indication (cases 39, 40)
    ("M1d HCQ started", [at(1), at(29)], [med(HCQ, "ANTIMALARIAL", day(15))], [], "MILD/MODERATE", "M1d"),
    ("M1d lupus indication", [at(1), at(29)], [med(NSAID, "NSAID", day(15), indc="Lupus arthritis")], [],
     "MILD/MODERATE", "M1d"),
    ("M1d start on occasion date", [at(1), at(29)], [med(HCQ, "ANTIMALARIAL", day(29))], [], "MILD/MODERATE", "M1d"),
    ("start on previous occasion date", [at(1), at(29)], [med(HCQ, "ANTIMALARIAL", day(1))], [], "NONE", None),
    ("start after occasion", [at(1), at(29)], [med(HCQ, "ANTIMALARIAL", day(30))], [], "NONE", None),
    ("c39 HCQ restarted after gap", [at(1), at(29)],
     [med(HCQ, "ANTIMALARIAL", None, day(-30)), med(HCQ, "ANTIMALARIAL", day(15))], [], "MILD/MODERATE", "M1d"),
    ("HCQ new record while active", [at(1), at(29)],
     [med(HCQ, "ANTIMALARIAL", None, day(20)), med(HCQ, "ANTIMALARIAL", day(15))], [], "NONE", None),
    ("c40 NSAID for headache", [at(1), at(29)], [med(NSAID, "NSAID", day(15), indc="Headache")], [], "NONE", None),
    ("sleep is not SLE", [at(1), at(29)], [med(NSAID, "NSAID", day(15), indc="sleep problems")], [], "NONE", None),
    ("no indication", [at(1), at(29)], [med(NSAID, "NSAID", day(15), indc=None)], [], "NONE", None),
    ("other class", [at(1), at(29)], [med("AMLODIPINE", "OTHER", day(15))], [], "NONE", None),
    # R5.1e / R5.2e PGA in tenths (cases 26, 27, 28)
    ("c26 PGA 1.5->2.5", [at(1, PGA10=15), at(29, PGA10=25)], [], [], "MILD/MODERATE", "M1e"),
    ("PGA 1.5->2.4", [at(1, PGA10=15), at(29, PGA10=24)], [], [], "NONE", None),
    ("c27 PGA 1.5->2.6", [at(1, PGA10=15), at(29, PGA10=26)], [], [], "SEVERE", "S2e"),
    ("c28 PGA 2.6->2.8", [at(1, PGA10=26), at(29, PGA10=28)], [], [], "NONE", None),
    ("PGA 2.5->2.6", [at(1, PGA10=25), at(29, PGA10=26)], [], [], "SEVERE", "S2e"),
    ("PGA missing now", [at(1, PGA10=15), at(29, PGA10=pd.NA)], [], [], "NONE", None),
    ("PGA missing before", [at(1, PGA10=pd.NA), at(29, PGA10=30)], [], [], "NONE", None),
    # R5.2b AE hospitalisation for SLE (case 41)
    ("S2b SLE hospitalisation", [at(1), at(29)], [], [ae(day(15))], "SEVERE", "S2b"),
    ("c41 not SLE", [at(1), at(29)], [], [ae(day(15), sle="N")], "NONE", None),
    ("not hospitalised", [at(1), at(29)], [], [ae(day(15), hosp="N")], "NONE", None),
    ("AESLE missing", [at(1), at(29)], [], [ae(day(15), sle=None)], "NONE", None),
    ("AE on previous occasion date", [at(1), at(29)], [], [ae(day(1))], "NONE", None),
    # R5.2d new immunosuppressant as R4.6a
    ("S2d new MMF", [at(1), at(29)], [med(MMF, "IMMUNOSUPPRESSANT", day(15), indc="Lupus nephritis")], [],
     "SEVERE", "S2d"),
    ("S2d rituximab any class", [at(1), at(29)], [med("RITUXIMAB", "OTHER", day(15))], [], "SEVERE", "S2d"),
    ("MMF active on day 1", [at(1), at(29)],
     [med(MMF, "IMMUNOSUPPRESSANT", None), med(MMF, "IMMUNOSUPPRESSANT", day(15))], [], "NONE", None),
    ("MMF not for SLE", [at(1), at(29)], [med(MMF, "IMMUNOSUPPRESSANT", day(15), indc="Transplant")], [], "NONE", None),
    ("MMF without CMDECOD", [at(1), at(29)], [med(None, "IMMUNOSUPPRESSANT", day(15))], [], "NONE", None),
    # R5.4: severe wins; criteria listed
    ("severe overrides mild", [at(1, SLEDAI=6, PRED=10.0), at(29, SLEDAI=10, PRED=40.0)], [], [], "SEVERE", "M1a;S2c"),
    # R5.1 vs the previous occasion, not the baseline
    ("compared with previous occasion", [at(1, SLEDAI=6), at(29, SLEDAI=8), at(57, SLEDAI=10)], [], [], "NONE", None),
    ("c33 pulse between occasions missed", [at(1, PRED=10.0), at(29, PRED=10.0)],
     [med("METHYLPREDNISOLONE", "GLUCOCORTICOID", day(15), day(15), fact=1.25, freq="ONCE")], [], "NONE", None),
]


@pytest.mark.parametrize("rows, cm, ev, avalc, fired", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_criteria_table(rows, cm, ev, avalc, fired):
    assert last(flare(occasions(*rows), meds(*cm), events(*ev))) == (avalc, fired)


def test_params_override_sledai_rise():
    occ = occasions(at(1, SLEDAI=6), at(29, SLEDAI=9))
    assert last(flare(occ, params=RuleParameters(flare_sledai_rise=4)))[0] == "NONE"


def test_params_override_mgkg():
    occ = occasions(at(1, PRED=10.0), at(29, PRED=31.0))
    assert last(flare(occ, params=RuleParameters(flare_pred_mgkg=0.6))) == ("MILD/MODERATE", "M1c")


def test_c31_weight_missing_reported_not_evaluable():
    out = flare(occasions(at(1, PRED=10.0, WEIGHT=None), at(29, PRED=31.0, WEIGHT=None)))
    assert out["FLCRITNE"].tolist() == ["M1c;S2c"]
    ok = flare(occasions(at(1, PRED=10.0), at(29, PRED=31.0)))
    assert ok["FLCRITNE"].tolist() == [None]


def test_c31_no_weight_but_no_dose_is_evaluable():
    out = flare(occasions(at(1, PRED=0.0, WEIGHT=None), at(29, PRED=0.0, WEIGHT=None)))
    assert out["FLCRITNE"].tolist() == [None]
    assert out["AVALC"].tolist() == ["NONE"]


def test_onset_is_earliest_trigger_inside_interval():
    occ = occasions(at(1, SLEDAI=6), at(57, SLEDAI=10))
    out = flare(occ, ev=events(ae(day(40))))
    assert (out["AVALC"].iloc[0], out["FLCRIT"].iloc[0], out["ONSETDT"].iloc[0]) == ("SEVERE", "M1a;S2b", day(40))


def test_onset_sledai_pga_give_occasion_date():
    out = flare(occasions(at(1, SLEDAI=6, PGA10=10), at(57, SLEDAI=10, PGA10=20)))
    assert out["ONSETDT"].tolist() == [day(57)]


def test_onset_crf_flaredat_inside_interval():
    out = flare(occasions(at(1), at(57, MM_NEWWORSE=True, FLAREDT=day(50))))
    assert out["ONSETDT"].tolist() == [day(50)]
    assert out["FLDTOUFL"].tolist() == [None]


def test_c44_flaredat_before_previous_occasion_falls_back_to_occasion_date():
    out = flare(occasions(at(1), at(29), at(57, MM_NEWWORSE=True, FLAREDT=day(20))))
    row = out.iloc[-1]
    assert (row["AVALC"], row["ONSETDT"], row["FLDTOUFL"]) == ("MILD/MODERATE", day(57), "Y")


def test_onset_dose_criterion_from_glucocorticoid_start_in_interval():
    cm = meds(med(PRED, "GLUCOCORTICOID", None, day(39), fact=1.0),
              med(PRED, "GLUCOCORTICOID", day(40), fact=1.0))
    out = flare(occasions(at(1, PRED=10.0), at(57, PRED=20.0)), cm)
    assert (out["FLCRIT"].iloc[0], out["ONSETDT"].iloc[0]) == ("M1c", day(40))


def test_onset_dose_criterion_record_started_before_interval_gives_occasion_date():
    cm = meds(med(PRED, "GLUCOCORTICOID", day(-100), fact=1.0))
    out = flare(occasions(at(1, PRED=10.0), at(57, PRED=20.0)), cm)
    assert out["ONSETDT"].tolist() == [day(57)]


def test_onset_dose_criterion_ignores_record_not_active_on_occasion_date():
    cm = meds(med(PRED, "GLUCOCORTICOID", day(30), day(35), fact=1.0))
    out = flare(occasions(at(1, PRED=10.0), at(57, PRED=20.0)), cm)
    assert out["ONSETDT"].tolist() == [day(57)]


def test_onset_none_without_flare():
    assert flare(occasions(at(1), at(29)))["ONSETDT"].tolist() == [None]


def test_c42_crf_severe_derived_none_is_disagreement():
    out = flare(occasions(at(1), at(29, FLCRF="SEVERE"), at(57, FLCRF="NONE"), at(85, FLCRF=None)))
    assert out["AVALC"].tolist() == ["NONE", "NONE", "NONE"]
    assert out["CRFDISFL"].tolist() == ["Y", None, None]
    assert out["FLCRF"].tolist() == ["SEVERE", "NONE", None]


def test_crf_columns_optional():
    occ = occasions(at(1, SLEDAI=6), at(29, SLEDAI=9)).drop(columns=["FLCRF", "MM_NEWWORSE", "SV_NEWWORSE",
                                                                   "SV_HOSP", "FLAREDT"])
    out = flare(occ)
    assert (out["AVALC"].tolist(), out["CRFDISFL"].tolist()) == (["MILD/MODERATE"], [None])


def test_c43_flare_on_baseline_date_is_not_a_study_flare():
    occ = occasions(at(1, SLEDAI=6, FLCRF="SEVERE"), at(1, SLEDAI=12, FOLDER="UNSCHEDULED", FLCRF="SEVERE"),
                    at(29, SLEDAI=6))
    out = flare(occ)
    assert out["OCC"].tolist() == [3]
    assert out["PREVOCC"].tolist() == [1]      # compared with the baseline occasion
    assert compute_prebaseline_crf_flare(occ, subjects()).tolist() == [True, True, False]


def test_c43_trigger_before_first_dose_is_not_a_study_flare():
    occ = occasions(at(-14, SLEDAI=6), at(29, SLEDAI=6))           # baseline at screening
    assert last(flare(occ, ev=events(ae(day(-5))))) == ("NONE", None)
    assert last(flare(occ, ev=events(ae(day(1))))) == ("SEVERE", "S2b")


def test_unscheduled_occasion_flares_and_becomes_previous():
    occ = occasions(at(1, SLEDAI=6), at(20, SLEDAI=10, FOLDER="UNSCHEDULED"), at(29, SLEDAI=10))
    out = flare(occ)
    assert out["AVALC"].tolist() == ["MILD/MODERATE", "NONE"]
    assert out["OCC"].tolist() == [2, 3]
    assert out["PREVOCC"].tolist() == [1, 2]


def test_without_baseline_flag_previous_is_last_occasion_on_or_before_day1():
    occ = occasions(at(-14, SLEDAI=4), at(1, SLEDAI=6), at(29, SLEDAI=9), baseline=False)
    out = flare(occ)
    assert (out["OCC"].tolist(), out["PREVOCC"].tolist(), out["AVALC"].tolist()) == ([3], [2], ["MILD/MODERATE"])


def test_baseline_flag_is_the_anchor_even_if_not_last_before_day1():
    occ = occasions(at(-14, SLEDAI=4), at(1, SLEDAI=6), at(29, SLEDAI=7), baseline=False)
    occ.loc[0, "ABLFL_SLEDAI"] = "Y"
    out = flare(occ)
    assert (out["OCC"].tolist(), out["PREVOCC"].tolist(), out["AVALC"].tolist()) == ([3], [1], ["MILD/MODERATE"])


def test_no_occasion_before_day1_interval_starts_on_day1():
    occ = occasions(at(29, SLEDAI=20, PGA10=30, PRED=40.0, MM_NEWWORSE=True), at(57, SLEDAI=20), baseline=False)
    out = flare(occ, ev=events(ae(day(1)), ae(day(-1), usubjid="S1")))
    first = out.iloc[0]
    # needs-a-previous-value criteria cannot fire; CRF and trigger records (AE on day 1) do
    assert (first["FLCRIT"], first["PREVOCC"], first["ONSETDT"]) == ("M1b;S2b", None, day(1))
    assert first["FLCRITNE"] is None
    assert out["PREVOCC"].tolist() == [None, 1]


def test_no_baseline_no_trtsdt_no_rows():
    occ = occasions(at(29), at(57), baseline=False)
    assert flare(occ, subj=subjects(trtsdt=None)).empty


def test_input_not_resorted_and_results_align_to_input_index():
    a = occasions(at(1, SLEDAI=6), at(29, SLEDAI=9), at(57, SLEDAI=9), usubjid="A")
    b = occasions(at(1, PGA10=10), at(29, PGA10=30), usubjid="B")
    occ = pd.concat([a, b]).iloc[[4, 2, 0, 3, 1]]
    occ.index = ["b2", "a3", "a1", "b1", "a2"]
    before = occ.copy()
    out = flare(occ, subj=subjects("A", "B"))
    pd.testing.assert_frame_equal(occ, before)
    assert out.index.tolist() == ["b2", "a3", "a2"]
    assert out["AVALC"].to_dict() == {"b2": "SEVERE", "a3": "NONE", "a2": "MILD/MODERATE"}
    assert out["PREVOCC"].to_dict() == {"b2": 1, "a3": 2, "a2": 1}


def test_compute_post_baseline_aligned():
    occ = occasions(at(-14), at(1), at(29), baseline=False)
    occ.index = [10, 11, 12]
    assert compute_post_baseline(occ, subjects()).to_dict() == {10: False, 11: False, 12: True}


def test_intervals_carry_previous_values():
    iv = compute_intervals(occasions(at(1, SLEDAI=6, PGA10=12, PRED=5.0), at(29, SLEDAI=8, PGA10=14, PRED=7.5)),
                           subjects())
    row = iv.iloc[0]
    assert (row["PREV_SLEDAI"], row["PREV_PGA10"], row["PREV_PRED"], row["PREVDT"], row["LO"]) == (
        6, 12, 5.0, day(1), day(1))


def test_output_columns_and_param():
    out = flare(occasions(at(1), at(29)))
    assert list(out.columns) == ["USUBJID", "OCC", "ADT", "PARAMCD", "PARAM", "AVALC", "ONSETDT", "FLCRIT",
                                 "FLCRITNE", "FLCRF", "CRFDISFL", "FLDTOUFL", "PREVOCC", "PREVDT"]
    assert out["PARAMCD"].tolist() == ["FLARE"]


def test_missing_columns_raise():
    with pytest.raises(ValueError, match="PRED"):
        flare(occasions(at(1), at(29)).drop(columns=["PRED"]))
    with pytest.raises(ValueError, match="CMDOSFRQ"):
        flare(occasions(at(1), at(29)), cm=meds().drop(columns=["CMDOSFRQ"]))


def test_s2d_drug_active_on_day1_is_not_new_even_after_a_gap():
    cm = meds(med(MMF, "IMMUNOSUPPRESSANT", None, day(10)), med(MMF, "IMMUNOSUPPRESSANT", day(40)))
    out = flare(occasions(at(1), at(29), at(57)), cm)
    assert out["AVALC"].tolist() == ["NONE", "NONE"]


def test_s2d_restart_after_day1_is_not_new():
    """R5.2d (clarified): only the first start after day 1 of the drug; a restart is not new."""
    cm = meds(med(MMF, "IMMUNOSUPPRESSANT", day(5), day(10)), med(MMF, "IMMUNOSUPPRESSANT", day(40)))
    out = flare(occasions(at(1), at(29), at(57)), cm)
    assert out["FLCRIT"].tolist() == ["S2d", None]
    assert out["ONSETDT"].tolist() == [day(5), None]


def test_once_record_is_active_on_its_start_day_only():
    cm = meds(med("METHYLPREDNISOLONE", "GLUCOCORTICOID", day(40), None, fact=1.25, freq="ONCE"))
    out = flare(occasions(at(1, PRED=10.0), at(57, PRED=20.0)), cm)
    assert (out["FLCRIT"].iloc[0], out["ONSETDT"].iloc[0]) == ("M1c", day(57))


def test_same_date_as_baseline_is_not_post_baseline_without_trtsdt():
    occ = occasions(at(-14, SLEDAI=6), at(-14, SLEDAI=12), at(29, SLEDAI=6))
    out = flare(occ, subj=subjects(trtsdt=None))
    assert (out["OCC"].tolist(), out["PREVOCC"].tolist()) == ([3], [1])


CYC = "CYCLOPHOSPHAMIDE"


@pytest.mark.parametrize("pulses, occ_days, expected", [
    # monthly IV pulse regimen (ONCE records) between four-weekly occasions: only the first pulse is new
    ((10, 38, 66, 94), (1, 29, 57, 85, 113), ["S2d", None, None, None]),
    # a pulse on the previous occasion's date (day 29) after the first one: still not new
    ((10, 29, 57), (1, 29, 57, 85), ["S2d", None, None]),
    # the first pulse falls in the second interval: it is the new start there
    ((40, 68), (1, 29, 57, 85), [None, "S2d", None]),
    # first pulse on an occasion date (day 29): in the interval ending that day, never again
    ((29, 57, 85), (1, 29, 57, 85, 113), ["S2d", None, None, None]),
])
def test_s2d_monthly_cyclophosphamide_pulses_count_the_first_start_only(pulses, occ_days, expected):
    """R5.2d (clarified): the first start after day 1 of a qualifying drug; another pulse is not new."""
    cm = meds(*(med(CYC, "IMMUNOSUPPRESSANT", day(p), None, freq="ONCE") for p in pulses))
    out = flare(occasions(*(at(d) for d in occ_days)), cm)
    assert out["FLCRIT"].tolist() == expected

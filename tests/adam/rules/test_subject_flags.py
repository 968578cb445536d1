"""R7 per-subject parameters FLANY52, FLSEV52, FLMM52, PFREE52 (derivations.md R7)."""

import pandas as pd
import pytest

from sdtm_lupus.adam.rules.subject_flags import derive_param_flare52, derive_param_pfree52
from sdtm_lupus.config.study import RuleParameters
from tests.adam.rules.test_flares import day
from tests.adam.rules.test_tte import flares, occasions, subjects

PARAMS = RuleParameters()


def flags(fl: pd.DataFrame, subj: pd.DataFrame) -> dict:
    out = derive_param_flare52(fl, subj, PARAMS)
    return {(r.USUBJID, r.PARAMCD): r.AVALC for r in out.itertuples()}


def test_flare52_any_severe_mild_moderate():
    fl = flares(("A", 2, 100, "MILD/MODERATE", 100), ("A", 3, 200, "SEVERE", 200),
                ("B", 2, 100, "SEVERE", 95),
                ("C", 5, 379, "MILD/MODERATE", 366),
                ("D", 5, 379, "MILD/MODERATE", 365),
                ("E", 2, 100, "NONE", None))
    got = flags(fl, subjects("A", "B", "C", "D", "E"))
    assert got == {
        ("A", "FLANY52"): "Y", ("A", "FLSEV52"): "Y", ("A", "FLMM52"): "Y",
        ("B", "FLANY52"): "Y", ("B", "FLSEV52"): "Y", ("B", "FLMM52"): "N",    # severe is not mild/moderate
        ("C", "FLANY52"): "N", ("C", "FLSEV52"): "N", ("C", "FLMM52"): "N",    # onset day 366
        ("D", "FLANY52"): "Y", ("D", "FLSEV52"): "N", ("D", "FLMM52"): "Y",    # onset day 365
        ("E", "FLANY52"): "N", ("E", "FLSEV52"): "N", ("E", "FLMM52"): "N",
    }


def test_flare52_rows_in_subject_order_with_onset():
    subj = subjects("B", "A")
    subj.index = [9, 4]
    out = derive_param_flare52(flares(("A", 2, 100, "SEVERE", 90)), subj, PARAMS)
    assert out["USUBJID"].tolist() == ["B"] * 3 + ["A"] * 3
    assert out["PARAMCD"].tolist() == ["FLANY52", "FLSEV52", "FLMM52"] * 2
    assert out["SUBJIDX"].tolist() == [9] * 3 + [4] * 3
    assert out["ADT"].tolist() == [None, None, None, day(90), day(90), None]


def test_flare52_without_trtsdt_is_n():
    out = derive_param_flare52(flares(("A", 2, 100, "SEVERE", 90)), subjects("A", trtsdt=None), PARAMS)
    assert out["AVALC"].tolist() == ["N", "N", "N"]


def dose_table(doses: dict[tuple[str, int], float | None]):
    """A fake dose_on: {(usubjid, study day): dose}, 0 elsewhere; records the calls."""
    calls = []

    def dose_on(queries: pd.DataFrame) -> pd.Series:
        calls.append(len(queries))
        values = [doses.get((u, (d - day(1)).days + 1), 0.0) for u, d in zip(queries["USUBJID"], queries["DATE"])]
        return pd.Series(values, index=queries.index, dtype=float).iloc[::-1]   # any order: aligned by index
    dose_on.calls = calls
    return dose_on


def pfree(occ_days=(1, 29, 281, 337, 350, 379), doses=None, fl=(), params=PARAMS, trtsdt=day(1)):
    occ = occasions(*[("S1", k, d) for k, d in enumerate(occ_days, 1)])
    out = derive_param_pfree52(occ, flares(*fl), subjects("S1", trtsdt=trtsdt), dose_table(doses or {}), params)
    return out["AVALC"].iloc[0], out["REASON"].iloc[0]


NO_OCC = "NO OCCASION FROM DAY 337 TO DAY 365"
PFREE_CASES = [
    ("dose 0 throughout", {}, {}, (), ("Y", None)),
    ("dose 5 on day 300", {}, {("S1", 300): 5.0}, (), ("N", "GLUCOCORTICOID DOSE ABOVE 0")),
    ("dose on day 281", {}, {("S1", 281): 2.5}, (), ("N", "GLUCOCORTICOID DOSE ABOVE 0")),
    ("dose on day 280 only", {}, {("S1", 280): 2.5}, (), ("Y", None)),
    ("dose on last occasion day", {}, {("S1", 350): 2.5}, (), ("N", "GLUCOCORTICOID DOSE ABOVE 0")),
    ("dose after last occasion", {}, {("S1", 351): 2.5}, (), ("Y", None)),
    ("dose missing on a day", {}, {("S1", 310): None}, (), ("N", "DOSE MISSING")),
    ("last occasion day 330", {"occ_days": (1, 29, 281, 330, 379)}, {}, (), ("N", NO_OCC)),
    ("last occasion day 337", {"occ_days": (1, 29, 281, 337)}, {}, (), ("Y", None)),
    ("only occasion after 365", {"occ_days": (1, 29, 281, 366)}, {}, (), ("N", NO_OCC)),
    ("severe flare in span", {}, {}, [("S1", 4, 337, "SEVERE", 300)], ("N", "SEVERE FLARE")),
    ("severe flare on day 281", {}, {}, [("S1", 4, 337, "SEVERE", 281)], ("N", "SEVERE FLARE")),
    ("severe flare before span", {}, {}, [("S1", 3, 281, "SEVERE", 280)], ("Y", None)),
    ("severe flare after last occasion", {}, {}, [("S1", 6, 379, "SEVERE", 360)], ("Y", None)),
    ("mild flare in span", {}, {}, [("S1", 4, 337, "MILD/MODERATE", 300)], ("Y", None)),
    ("no TRTSDT", {"trtsdt": None}, {}, (), ("N", "NO TREATMENT START DATE")),
]


@pytest.mark.parametrize("kw, doses, fl, expected", [c[1:] for c in PFREE_CASES], ids=[c[0] for c in PFREE_CASES])
def test_pfree52_table(kw, doses, fl, expected):
    assert pfree(doses=doses, fl=fl, **kw) == expected


def test_pfree52_parameters():
    params = RuleParameters(pfree_from_day=301, pfree_last_occasion_min_day=351)
    assert pfree(doses={("S1", 300): 5.0}, params=params, occ_days=(1, 352)) == ("Y", None)
    assert pfree(params=params, occ_days=(1, 350)) == ("N", "NO OCCASION FROM DAY 351 TO DAY 365")


def test_pfree52_one_row_per_subject_aligned_and_one_dose_call():
    occ = occasions(("A", 1, 1), ("A", 2, 340), ("B", 1, 1), ("B", 2, 345), ("C", 1, 1))
    subj = subjects("C", "B", "A")
    subj.index = ["c", "b", "a"]
    dose_on = dose_table({("B", 290): 5.0})
    out = derive_param_pfree52(occ, flares(), subj, dose_on, PARAMS)
    assert out.index.tolist() == ["c", "b", "a"]
    assert out["AVALC"].tolist() == ["N", "N", "Y"]
    assert out["ADT"].tolist() == [day(1), day(345), day(340)]
    assert out["PARAMCD"].tolist() == ["PFREE52"] * 3
    assert dose_on.calls == [(340 - 281 + 1) + (345 - 281 + 1)]


def _gc(dose, start, end=None, freq="QD"):
    return {"USUBJID": "S1", "CMSEQ": 1.0, "CMDECOD": "PREDNISONE", "CMCLAS": "GLUCOCORTICOID", "CMINDC": "SLE",
            "CMDOSE": dose, "CMDOSFRQ": freq, "PREDFACT": 1.0, "STARTDT": start, "ENDDT": end}


@pytest.mark.parametrize("records, expected", [
    ([], ("Y", None)),
    ([_gc(5.0, day(-30), day(200))], ("Y", None)),                        # stopped before day 281
    ([_gc(None, day(-30), None)], ("N", "DOSE MISSING")),                 # prednisone of unrecorded dose, ongoing
    ([_gc(None, day(300), day(300))], ("N", "DOSE MISSING")),             # one day of unknown dose in the span
    ([_gc(5.0, day(300), day(300), freq="PRN")], ("N", "DOSE MISSING")),  # frequency outside R3.3
    ([_gc(None, day(351), None)], ("Y", None)),                           # after the last occasion
])
def test_pfree52_unknown_dose_is_never_a_zero_dose_day(records, expected):
    """R3.3 (clarified): a glucocorticoid record with no dose adds 0 mg but its days are not zero-dose days."""
    from sdtm_lupus.adam.adeff import pfree_dose_on
    from tests.adam.rules.test_flares import meds

    occ = occasions(*[("S1", k, d) for k, d in enumerate((1, 29, 281, 337, 350, 379), 1)])
    out = derive_param_pfree52(occ, flares(), subjects("S1", trtsdt=day(1)), pfree_dose_on(meds(*records)), PARAMS)
    assert (out["AVALC"].iloc[0], out["REASON"].iloc[0]) == expected

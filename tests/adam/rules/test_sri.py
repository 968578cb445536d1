"""R4 (SRI-4 ... SRI-8) and the SRI parameters of R7 (sri.py)."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from sdtm_lupus.adam.rules.sri import (
    SRI_ROW_COLUMNS,
    compute_sri_components,
    compute_sri_reason,
    derive_param_sri,
    derive_param_sri_component,
)
from sdtm_lupus.config.study import RuleParameters

TRTSDT = date(2021, 6, 1)
PARAMS = RuleParameters()


def day(n: int) -> date:
    return TRTSDT + timedelta(days=n - 1 if n > 0 else n)


def target(week: int) -> date:
    return day(7 * week + 1)


def row(week=48, visit=True, **kw):
    """One SRI row: by default a responder (SLEDAI 10 -> 6, PGA 1.2 -> 1.2, no new BILAG A/B)."""
    r = {"USUBJID": "S1", "AVISIT": f"Week {week}", "AVISITN": float(week), "TARGETDT": target(week),
         "ADT": target(week), "SLEDAI": 6, "PGA10": 12, "BILNEWA": 0, "BILNEWB": 0, "BILEVAL": True,
         "BASE_SLEDAI": 10, "BASE_PGA10": 12, "BASE_BILAG_OK": True,
         "TFDT": None, "DSDECOD": None, "DSSTDT": None}
    if not visit:
        r.update(ADT=None, SLEDAI=None, PGA10=None, BILNEWA=None, BILNEWB=None, BILEVAL=None)
    r.update(kw)
    return r


def frame(*rows, index=None):
    df = pd.DataFrame(list(rows), columns=list(SRI_ROW_COLUMNS), index=index)
    df["PGA10"] = df["PGA10"].astype("Int64")
    df["BASE_PGA10"] = df["BASE_PGA10"].astype("Int64")
    return df


def sri(r, k=4, params=PARAMS):
    out = derive_param_sri(frame(r), k, params).iloc[0]
    return out["AVALC"], out["NRREAS"], out["DTYPE"]


def components(r, k=4, params=PARAMS):
    return compute_sri_components(frame(r), k, params).iloc[0].to_dict()


# ------------------------------------------------------------------ components R4.1-R4.3
@pytest.mark.parametrize("base, now, k, met", [
    (10, 6, 4, "Y"),    # §8 case 8: drop exactly 4 -> met
    (10, 7, 4, "N"),    # §8 case 9: drop 3
    (10, 7, 5, "N"), (10, 7, 8, "N"),
    (10, 5, 5, "Y"), (10, 4, 6, "Y"), (10, 3, 7, "Y"), (10, 3, 8, "N"), (10, 2, 8, "Y"),
    (2, 0, 4, "N"),     # §8 case 10: baseline 2, structurally impossible
    (10, None, 4, "N"),
    (None, 0, 4, "N"),
])
def test_sledai_component(base, now, k, met):
    assert components(row(BASE_SLEDAI=base, SLEDAI=now), k)["SLED"] == met


@pytest.mark.parametrize("base, now, met", [
    (12, 14, "Y"),      # §8 case 12: +0.2 not worsening
    (12, 15, "N"),      # §8 case 11: 1.2 -> 1.5 = +0.3 exactly (tenths) is worsening
    (12, 16, "N"),
    (15, 0, "Y"),
    (12, None, "N"),    # §8 case 6: not evaluable
    (None, 12, "N"),    # §8 case 5
])
def test_pga_component_in_tenths(base, now, met):
    assert components(row(BASE_PGA10=base, PGA10=now))["PGA"] == met


def test_pga_worsening_parameter_converted_to_tenths():
    params = RuleParameters(sri_pga_worsening=0.5)
    assert components(row(BASE_PGA10=12, PGA10=16), params=params)["PGA"] == "Y"
    assert components(row(BASE_PGA10=12, PGA10=17), params=params)["PGA"] == "N"


def test_pga_not_in_tenths_rejected():
    with pytest.raises(ValueError, match="tenths"):
        compute_sri_components(frame(row()).assign(PGA10=[1.5]), 4, PARAMS)


@pytest.mark.parametrize("new_a, new_b, evaluable, base_ok, met", [
    (0, 0, True, True, "Y"),
    (0, 1, True, True, "Y"),      # one new B allowed (§8 case 13)
    (0, 2, True, True, "N"),      # §8 case 14
    (1, 0, True, True, "N"),      # §8 case 16
    (0, 0, False, True, "N"),     # §8 case 7: a system blank at the visit
    (0, 0, True, False, "N"),     # no complete baseline BILAG
    (None, None, None, True, "N"),
])
def test_bilag_component(new_a, new_b, evaluable, base_ok, met):
    assert components(row(BILNEWA=new_a, BILNEWB=new_b, BILEVAL=evaluable, BASE_BILAG_OK=base_ok))["BILG"] == met


# ------------------------------------------------------------------ response and reasons R4.4, R4.5
@pytest.mark.parametrize("r, expected", [
    (row(), ("Y", None, None)),
    (row(SLEDAI=7), ("N", None, None)),                                            # §8 case 9: plain non-response
    (row(BASE_SLEDAI=2, SLEDAI=0), ("N", None, None)),                             # §8 case 10
    (row(PGA10=15), ("N", None, None)),                                            # §8 case 11
    (row(PGA10=14), ("Y", None, None)),                                            # §8 case 12
    (row(BILNEWB=2), ("N", None, None)),
    (row(BASE_SLEDAI=None), ("N", "BASELINE MISSING", None)),                      # §8 case 1
    (row(BASE_SLEDAI=None, visit=False), ("N", "BASELINE MISSING", "NRI")),
    (row(BASE_PGA10=None), ("N", "BASELINE MISSING", None)),                       # §8 case 5
    (row(BASE_BILAG_OK=False), ("N", "BASELINE MISSING", None)),
    (row(PGA10=None), ("N", "COMPONENT MISSING", None)),                           # §8 case 6
    (row(SLEDAI=None), ("N", "COMPONENT MISSING", None)),
    (row(BILEVAL=False), ("N", "COMPONENT MISSING", None)),                        # §8 case 7
    (row(visit=False), ("N", "VISIT MISSING", "NRI")),
])
def test_sri4_outcome(r, expected):
    assert sri(r) == expected


def test_case6_component_parameters_still_computed():
    rows = frame(row(PGA10=None))
    assert derive_param_sri_component(rows, "SRI4SLED", PARAMS)["AVALC"].tolist() == ["Y"]
    assert derive_param_sri_component(rows, "SRI4PGA", PARAMS)["AVALC"].tolist() == ["N"]
    assert derive_param_sri_component(rows, "SRI4BILG", PARAMS)["AVALC"].tolist() == ["Y"]


def test_case5_baseline_pga_missing_sled_component_still_met():
    rows = frame(row(BASE_PGA10=None))
    assert derive_param_sri_component(rows, "SRI4SLED", PARAMS)["AVALC"].tolist() == ["Y"]
    assert derive_param_sri(rows, 4, PARAMS)["NRREAS"].tolist() == ["BASELINE MISSING"]


@pytest.mark.parametrize("drop, results", [
    (3, ["N", "N", "N", "N", "N"]),
    (4, ["Y", "N", "N", "N", "N"]),
    (5, ["Y", "Y", "N", "N", "N"]),
    (7, ["Y", "Y", "Y", "Y", "N"]),
    (8, ["Y", "Y", "Y", "Y", "Y"]),
])
def test_sri_k_variants(drop, results):
    r = row(BASE_SLEDAI=10, SLEDAI=10 - drop)
    got = [derive_param_sri(frame(r), k, PARAMS).iloc[0] for k in (4, 5, 6, 7, 8)]
    assert [g["AVALC"] for g in got] == results
    assert [g["PARAMCD"] for g in got] == ["SRI4", "SRI5", "SRI6", "SRI7", "SRI8"]
    assert [g["AVAL"] for g in got] == [1.0 if x == "Y" else 0.0 for x in results]


def test_sri_k_out_of_range_rejected():
    with pytest.raises(ValueError):
        derive_param_sri(frame(row()), 3, PARAMS)


def test_case17_withdrawn_at_week20():
    withdrawn = dict(DSDECOD="WITHDRAWAL BY SUBJECT", DSSTDT=day(145), TFDT=day(145))
    rows = frame(row(20, ADT=day(141), **withdrawn), row(24, visit=False, **withdrawn),
                 row(36, visit=False, **withdrawn), row(48, visit=False, **withdrawn))
    out = derive_param_sri(rows, 4, PARAMS)
    assert out["AVALC"].tolist() == ["Y", "N", "N", "N"]
    assert out["NRREAS"].tolist() == [None, "DISCONTINUED", "DISCONTINUED", "DISCONTINUED"]
    assert out["DTYPE"].tolist() == [None, "NRI", "NRI", "NRI"]
    assert out["ADT"].tolist() == [day(141), None, None, None]


def test_discontinued_even_with_an_assessment_after_withdrawal_date():
    # R4.4: disposition not Completed dated before the target day -> N even without (or with) an assessment
    assert sri(row(24, DSDECOD="ADVERSE EVENT", DSSTDT=day(160))) == ("N", "DISCONTINUED", None)
    assert sri(row(24, DSDECOD="ADVERSE EVENT", DSSTDT=target(24), TFDT=None)) == ("Y", None, None)  # not before
    assert sri(row(24, DSDECOD="COMPLETED", DSSTDT=day(160))) == ("Y", None, None)
    assert sri(row(24, DSDECOD="Completed", DSSTDT=day(160))) == ("Y", None, None)
    assert sri(row(24, DSDECOD="ADVERSE EVENT", DSSTDT=None)) == ("Y", None, None)                   # no date


def test_withdrawal_on_the_visit_date_is_a_treatment_failure_at_that_visit():
    # R4.6c puts TFDT at DSSTDT; R4.4 fails a visit whose occasion date is on or after it
    assert sri(row(20, ADT=day(141), DSDECOD="WITHDRAWAL BY SUBJECT", DSSTDT=day(141), TFDT=day(141))) == (
        "N", "TREATMENT FAILURE", None)


def test_case18_week48_out_of_window_uses_occasion_date():
    late = day(360)      # Week 48 target day is 337
    assert sri(row(48, ADT=late)) == ("Y", None, None)
    assert sri(row(48, ADT=late, TFDT=day(350))) == ("N", "TREATMENT FAILURE", None)   # on or before ADT
    assert sri(row(48, ADT=late, TFDT=late)) == ("N", "TREATMENT FAILURE", None)
    assert sri(row(48, ADT=late, TFDT=day(361))) == ("Y", None, None)


@pytest.mark.parametrize("tf_day, expected", [
    (300, ("N", "TREATMENT FAILURE", "NRI")),
    (337, ("N", "TREATMENT FAILURE", "NRI")),      # the target day itself
    (338, ("N", "VISIT MISSING", "NRI")),
])
def test_treatment_failure_with_visit_missing_uses_target_day(tf_day, expected):
    assert sri(row(48, visit=False, TFDT=day(tf_day))) == expected


def test_treatment_failure_overrides_met_components():
    assert sri(row(TFDT=day(30))) == ("N", "TREATMENT FAILURE", None)
    assert components(row(TFDT=day(30))) == {"SLED": "Y", "BILG": "Y", "PGA": "Y"}


@pytest.mark.parametrize("r, reason", [
    (row(visit=False, BASE_PGA10=None, DSDECOD="DEATH", DSSTDT=day(100), TFDT=day(50)), "BASELINE MISSING"),
    (row(visit=False, DSDECOD="DEATH", DSSTDT=day(100), TFDT=day(50)), "DISCONTINUED"),
    (row(visit=False, TFDT=day(50)), "TREATMENT FAILURE"),
    (row(PGA10=None, TFDT=day(50)), "TREATMENT FAILURE"),
    (row(visit=False), "VISIT MISSING"),
    (row(PGA10=None), "COMPONENT MISSING"),
])
def test_reason_precedence(r, reason):
    assert compute_sri_reason(frame(r)).tolist() == [reason]


def test_output_aligned_to_input_index_and_not_resorted():
    rows = frame(row(48, USUBJID="S2", visit=False), row(24, USUBJID="S1"), row(4, USUBJID="S2", SLEDAI=9),
                 index=[30, 10, 20])
    out = derive_param_sri(rows, 4, PARAMS)
    assert out.index.tolist() == [30, 10, 20]
    assert out["USUBJID"].tolist() == ["S2", "S1", "S2"]
    assert out["AVISITN"].tolist() == [48.0, 24.0, 4.0]
    assert out["AVALC"].tolist() == ["N", "Y", "N"]
    assert rows["AVISITN"].tolist() == [48.0, 24.0, 4.0]
    comp = derive_param_sri_component(rows, "SRI4SLED", PARAMS)
    assert comp.index.tolist() == [10, 20]             # no component record for the missing visit
    assert comp["AVALC"].tolist() == ["Y", "N"]
    assert comp["AVAL"].isna().all() and (comp["PARAMCD"] == "SRI4SLED").all()


def test_missing_columns_rejected():
    with pytest.raises(ValueError, match="TFDT"):
        derive_param_sri(frame(row()).drop(columns="TFDT"), 4, PARAMS)


def test_pga10_nullable_and_float_inputs_equivalent():
    rows = frame(row(PGA10=15), row(PGA10=14))
    as_float = rows.assign(PGA10=rows["PGA10"].astype(float), BASE_PGA10=np.array([12.0, 12.0]))
    assert derive_param_sri(rows, 4, PARAMS)["AVALC"].tolist() == ["N", "Y"]
    assert derive_param_sri(as_float, 4, PARAMS)["AVALC"].tolist() == ["N", "Y"]

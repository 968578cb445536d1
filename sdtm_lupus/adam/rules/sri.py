"""SRI-4 and SRI-5 ... SRI-8 and the SRI-4 component parameters (derivations.md R4, R7).

Input: SRI ROWS - one row per subject in the full analysis set x scheduled post-baseline
analysis visit (R4.5: the record exists whether or not the visit took place), built by the
caller from OCCASIONS (ANL01FL = Y record of the visit's FOLDER), the baselines (R2) and
SUBJECTS:

  USUBJID str; AVISIT str ("Week 24"); AVISITN float (24);
  TARGETDT date            - the Week N target date, TRTSDT + 7N (study day 7N + 1);
  -- the visit's occasion (all missing when the visit has no occasion):
  ADT date|None            - occasion date; None = visit missing;
  SLEDAI int|NaN           - R3.1 total;
  PGA10 Int64|<NA>         - PGA in integer tenths (1.5 -> 15), as in OCCASIONS;
  BILNEWA, BILNEWB num|NaN - number of systems with new A / new B against the baseline
                             BILAG (R3.2);
  BILEVAL bool|None        - all nine BILAG systems graded at this occasion;
  -- the subject:
  BASE_SLEDAI num|NaN      - R2.1 baseline SLEDAI total;
  BASE_PGA10 Int64|<NA>    - R2.1 baseline PGA, integer tenths;
  BASE_BILAG_OK bool       - a complete (nine systems graded) baseline BILAG exists (R2.1);
  TFDT date|None           - treatment-failure date (R4.6, treatment_failure.compute_treatment_failure_date);
  DSDECOD str|None         - disposition ("COMPLETED", ...; None = no disposition yet);
  DSSTDT date|None         - disposition date.

Outcome of one row (R4.4, R4.5): a responder (AVALC Y, AVAL 1, NRREAS None) when the
three components are met and no reason applies. Otherwise a non-responder (N, 0) with
NRREAS, the first that applies in this precedence:
  1. BASELINE MISSING  - baseline SLEDAI, baseline PGA or complete baseline BILAG missing (R2.2);
  2. DISCONTINUED      - DSDECOD not COMPLETED and DSSTDT before TARGETDT (R4.4);
  3. TREATMENT FAILURE - TFDT on or before ADT (TARGETDT when the visit is missing) (R4.4);
  4. VISIT MISSING     - no occasion for the visit;
  5. COMPONENT MISSING - SLEDAI or PGA missing, or the BILAG component not evaluable;
  none                 - all evaluated, at least one component not met (a plain
                         non-response, including baseline SLEDAI < k, §4.2).
DISCONTINUED comes before TREATMENT FAILURE because a non-completer's disposition date is
itself a treatment failure (R4.6c): §8 case 17 (withdrawn at Week 20 -> Weeks 24-48
DISCONTINUED) needs it. DTYPE = "NRI" on every row whose visit had no occasion (the result
is created by non-responder imputation), whatever the reason; None otherwise.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rules.medication_days import day_numbers
from sdtm_lupus.adam.rules.tables import assert_columns
from sdtm_lupus.adam.rules.treatment_failure import COMPLETED
from sdtm_lupus.config.study import RuleParameters

SRI_ROW_COLUMNS = ("USUBJID", "AVISIT", "AVISITN", "TARGETDT", "ADT", "SLEDAI", "PGA10", "BILNEWA", "BILNEWB",
                   "BILEVAL", "BASE_SLEDAI", "BASE_PGA10", "BASE_BILAG_OK", "TFDT", "DSDECOD", "DSSTDT")

BASELINE_MISSING = "BASELINE MISSING"
DISCONTINUED = "DISCONTINUED"
TREATMENT_FAILURE = "TREATMENT FAILURE"
VISIT_MISSING = "VISIT MISSING"
COMPONENT_MISSING = "COMPONENT MISSING"
REASON_PRECEDENCE = (BASELINE_MISSING, DISCONTINUED, TREATMENT_FAILURE, VISIT_MISSING, COMPONENT_MISSING)
NRI = "NRI"

SRI_K = (4, 5, 6, 7, 8)
# R7: the component parameters (SRI-4; BILAG and PGA components are the same for every k).
COMPONENT_PARAMS = {
    "SRI4SLED": ("SLED", "SRI-4 SELENA-SLEDAI Reduction >= 4 Met"),
    "SRI4BILG": ("BILG", "SRI-4 No New BILAG A and <= 1 New B Met"),
    "SRI4PGA": ("PGA", "SRI-4 PGA Increase < 0.3 Met"),
}
OUTPUT_COLUMNS = ("USUBJID", "PARAMCD", "PARAM", "AVISIT", "AVISITN", "ADT", "AVAL", "AVALC", "NRREAS", "DTYPE")


def _flag(values: pd.Series) -> np.ndarray:
    """bool|None column -> bool array (None / NA = False)."""
    if values.dtype == bool:
        return values.to_numpy()
    return values.astype(object).map(lambda v: v is True or (isinstance(v, (bool, np.bool_)) and bool(v))).to_numpy(bool)


def _number(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values.dtype):      # already numbers: no parse
        return values.astype(float)
    return pd.to_numeric(values.astype(object), errors="coerce").astype(float)


def _tenths(values: pd.Series, name: str) -> pd.Series:
    out = _number(values)
    if ((out.dropna() % 1) != 0).any():
        raise ValueError(f"{name}: PGA must be given in integer tenths (1.5 -> 15)")
    return out


def _yn(met: np.ndarray) -> np.ndarray:
    return np.where(met, "Y", "N").astype(object)


def _records(rows: pd.DataFrame, columns: dict[str, object]) -> pd.DataFrame:
    """Output records aligned to rows.index; text and date columns stay object (None = missing)."""
    out = {}
    for name in OUTPUT_COLUMNS:
        value = columns[name]
        if name in ("AVAL", "AVISITN"):
            out[name] = pd.Series(value, index=rows.index, dtype=float)
        elif value is None or isinstance(value, str):
            out[name] = pd.Series([value] * len(rows), index=rows.index, dtype=object)
        else:
            values = np.array([*value, None], dtype=object)[:-1]
            missing = np.flatnonzero(pd.isna(values))
            float_nan = np.array([isinstance(v, float) for v in values[missing]], dtype=bool)
            values[missing[float_nan]] = None       # a float NaN is None; other missing values stay
            out[name] = pd.Series(values, index=rows.index, dtype=object)
    return pd.DataFrame(out, index=rows.index)


def compute_sri_components(rows: pd.DataFrame, k: int, params: RuleParameters) -> pd.DataFrame:
    """R4.1-R4.3: the SRI-k components at each row, "Y" (met) / "N" (not met or not evaluable).

    SLED (R4.1): BASE_SLEDAI - SLEDAI >= k.
    BILG (R4.2, R3.2): BILEVAL and BASE_BILAG_OK, BILNEWA == 0 and BILNEWB <= 1.
    PGA  (R4.3): PGA10 - BASE_PGA10 < sri_pga_worsening, in exact tenths (0.3 -> 3 tenths;
         an increase of exactly 3 tenths is worsening).
    A missing value never satisfies a component (derivations notation): "N".
    """
    assert_columns(rows, SRI_ROW_COLUMNS, "compute_sri_components: SRI rows")
    sledai, base_sledai = _number(rows["SLEDAI"]), _number(rows["BASE_SLEDAI"])
    sled = (base_sledai - sledai >= k).to_numpy()        # NaN compares False

    new_a, new_b = _number(rows["BILNEWA"]), _number(rows["BILNEWB"])
    bilg = _flag(rows["BILEVAL"]) & _flag(rows["BASE_BILAG_OK"]) & (new_a == 0).to_numpy() & (new_b <= 1).to_numpy()

    worsening = Fraction(str(params.sri_pga_worsening)) * 10
    rise = _tenths(rows["PGA10"], "PGA10") - _tenths(rows["BASE_PGA10"], "BASE_PGA10")
    pga = (rise * worsening.denominator < worsening.numerator).to_numpy()   # NaN compares False
    return pd.DataFrame({"SLED": _yn(sled), "BILG": _yn(bilg), "PGA": _yn(pga)}, index=rows.index)


def compute_sri_reason(rows: pd.DataFrame) -> pd.Series:
    """R4.4/R4.5/R2.2: the non-responder reason of each row (None = none applies), by REASON_PRECEDENCE."""
    assert_columns(rows, SRI_ROW_COLUMNS, "compute_sri_reason: SRI rows")
    baseline_missing = (_number(rows["BASE_SLEDAI"]).isna() | _number(rows["BASE_PGA10"]).isna()).to_numpy() \
        | ~_flag(rows["BASE_BILAG_OK"])
    target, has_target = day_numbers(rows["TARGETDT"])
    visit, has_visit = day_numbers(rows["ADT"])
    ds_day, has_ds = day_numbers(rows["DSSTDT"])
    decod = rows["DSDECOD"].astype(object).map(lambda v: v.strip().upper() if isinstance(v, str) else None)
    discontinued = (decod.notna() & (decod != COMPLETED)).to_numpy() & has_ds & has_target & (ds_day < target)
    reference, has_reference = np.where(has_visit, visit, target), has_visit | has_target
    tf_day, has_tf = day_numbers(rows["TFDT"])
    failed = has_tf & has_reference & (tf_day <= reference)
    component_missing = (_number(rows["SLEDAI"]).isna() | _number(rows["PGA10"]).isna()
                         | _number(rows["BILNEWA"]).isna() | _number(rows["BILNEWB"]).isna()).to_numpy() \
        | ~_flag(rows["BILEVAL"])
    reason = np.select([baseline_missing, discontinued, failed, ~has_visit, component_missing],
                       list(REASON_PRECEDENCE), default="")
    return pd.Series([r or None for r in reason], index=rows.index, dtype=object, name="NRREAS")


def derive_param_sri(rows: pd.DataFrame, k: int, params: RuleParameters) -> pd.DataFrame:
    """R4 / R7: parameter SRI<k> (k = 4..8), one record per input row (aligned to its index).

    AVALC "Y" / "N", AVAL 1 / 0, NRREAS (compute_sri_reason; None for a responder and for a
    plain non-response), DTYPE "NRI" where the visit had no occasion, ADT the occasion date.
    """
    if k not in SRI_K:
        raise ValueError(f"derive_param_sri: k must be one of {SRI_K}, not {k!r}")
    components = compute_sri_components(rows, k, params)
    reason = compute_sri_reason(rows)
    met = (components == "Y").all(axis=1).to_numpy() & reason.isna().to_numpy()
    _, has_visit = day_numbers(rows["ADT"])
    return _records(rows, {
        "USUBJID": rows["USUBJID"].to_numpy(dtype=object),
        "PARAMCD": f"SRI{k}",
        "PARAM": f"SRI-{k} Response",
        "AVISIT": rows["AVISIT"].to_numpy(dtype=object),
        "AVISITN": _number(rows["AVISITN"]).to_numpy(),
        "ADT": np.where(has_visit, rows["ADT"].to_numpy(dtype=object), None),
        "AVAL": np.where(met, 1.0, 0.0),
        "AVALC": _yn(met),
        "NRREAS": reason.to_numpy(dtype=object),
        "DTYPE": np.where(has_visit, None, NRI).astype(object),
    })


def derive_param_sri_component(rows: pd.DataFrame, paramcd: str, params: RuleParameters) -> pd.DataFrame:
    """R7: parameter SRI4SLED, SRI4BILG or SRI4PGA (AVALC Y/N, AVAL missing as R7 lists AVALC only).

    One record per input row whose visit had an occasion (ADT present; index labels kept),
    so that a reviewer sees which component failed; components are observed, never imputed:
    no record for a missing visit. Not evaluable (e.g. baseline PGA missing) -> "N".
    """
    if paramcd not in COMPONENT_PARAMS:
        raise ValueError(f"derive_param_sri_component: paramcd must be one of {list(COMPONENT_PARAMS)}")
    column, label = COMPONENT_PARAMS[paramcd]
    components = compute_sri_components(rows, 4, params)
    _, has_visit = day_numbers(rows["ADT"])
    out = _records(rows, {
        "USUBJID": rows["USUBJID"].to_numpy(dtype=object),
        "PARAMCD": paramcd,
        "PARAM": label,
        "AVISIT": rows["AVISIT"].to_numpy(dtype=object),
        "AVISITN": _number(rows["AVISITN"]).to_numpy(),
        "ADT": rows["ADT"].to_numpy(dtype=object),
        "AVAL": np.nan,
        "AVALC": components[column].to_numpy(dtype=object),
        "NRREAS": None,
        "DTYPE": None,
    })
    return out[has_visit]

"""R7 per-subject ADEFF parameters: FLANY52, FLSEV52, FLMM52 and PFREE52 (derivations.md R7).

The daily prednisone-equivalent dose (R3.3) is injected as `dose_on(queries) -> Series`, queries
a frame [USUBJID, DATE], the result aligned to its index (the signature of
steroid_dose.compute_pred_dose with the meds bound), so this module does not depend on it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rules.flares import SEVERE, day_ordinals, ordinal_dates
from sdtm_lupus.adam.rules.tables import as_date_or_none, as_float, assert_columns
from sdtm_lupus.adam.rules.tte import KINDS, compute_first_flare, last_occasion_between
from sdtm_lupus.config.study import RuleParameters
from sdtm_lupus.distinct import map_distinct

DoseOn = Callable[[pd.DataFrame], pd.Series]

FLAG_PARAMS: dict[str, tuple[str, str]] = {   # PARAMCD -> (R6 kind giving the categories, PARAM)
    "FLANY52": ("TTFLANY", "Any SFI Flare with Onset by Day {day}"),
    "FLSEV52": ("TTFLSEV", "Severe SFI Flare with Onset by Day {day}"),
    "FLMM52": ("TTFLMM", "Mild/Moderate SFI Flare with Onset by Day {day}"),
}
PFREE_PARAM = "Prednisone-Free from Day {start} to the Last Occasion by Day {day}"

# PFREE52 reasons for N, in the order they are checked
NO_START = "NO TREATMENT START DATE"
NO_LATE_OCCASION = "NO OCCASION FROM DAY {min} TO DAY {day}"
DOSE_MISSING = "DOSE MISSING"
DOSE_NOT_ZERO = "GLUCOCORTICOID DOSE ABOVE 0"
SEVERE_FLARE = "SEVERE FLARE"


def derive_param_flare52(flares: pd.DataFrame, subjects: pd.DataFrame, params: RuleParameters) -> pd.DataFrame:
    """R7 FLANY52 / FLSEV52 / FLMM52: AVALC Y when the subject has an any / severe / mild-moderate
    (MILD/MODERATE occasions only, as R6 TTFLMM) flare with onset on or before day
    `flare_horizon_day`, else N (also without TRTSDT: a missing value never satisfies).

    flares: derive_param_flare rows (USUBJID, OCC, ADT, AVALC, ONSETDT). Returns three rows per
    subject, subjects in input order then FLANY52, FLSEV52, FLMM52 (a fresh RangeIndex; SUBJIDX
    holds the subject's input label): USUBJID, PARAMCD, PARAM, AVALC, ADT (onset of that first
    flare), OCC (its occasion), SUBJIDX.
    """
    assert_columns(subjects, ("USUBJID", "TRTSDT"), "derive_param_flare52 subjects")
    firsts = {code: compute_first_flare(flares, subjects, params, KINDS[kind][0])
              for code, (kind, _) in FLAG_PARAMS.items()}
    columns = {code: (first["ONSETDT"].tolist(), first["OCC"].tolist()) for code, first in firsts.items()}
    rows = []
    for k, (label, u) in enumerate(zip(subjects.index, subjects["USUBJID"])):
        for code, (_, param) in FLAG_PARAMS.items():
            onset, occ = columns[code][0][k], columns[code][1][k]
            rows.append({"USUBJID": u, "PARAMCD": code, "PARAM": param.format(day=params.flare_horizon_day),
                         "AVALC": "Y" if onset is not None else "N", "ADT": onset, "OCC": occ, "SUBJIDX": label})
    return pd.DataFrame(rows, columns=["USUBJID", "PARAMCD", "PARAM", "AVALC", "ADT", "OCC", "SUBJIDX"], dtype=object)


def compute_pfree_last_occasion(occasions: pd.DataFrame, subjects: pd.DataFrame,
                                params: RuleParameters) -> pd.DataFrame:
    """R7 PFREE52: per subject (aligned to `subjects`) the last occasion on or before day
    `flare_horizon_day` (ADT, OCC; None when none, or without TRTSDT)."""
    assert_columns(occasions, ("USUBJID", "OCC", "ADT"), "compute_pfree_last_occasion occasions")
    end = day_ordinals(subjects["TRTSDT"]) + (params.flare_horizon_day - 1)
    day, occ = last_occasion_between(occasions, subjects, np.full(len(subjects), np.nan), end)
    return pd.DataFrame({"ADT": ordinal_dates(day), "OCC": occ}, index=subjects.index, dtype=object)


def derive_param_pfree52(occasions: pd.DataFrame, flares: pd.DataFrame, subjects: pd.DataFrame,
                         dose_on: DoseOn, params: RuleParameters) -> pd.DataFrame:
    """R7 PFREE52, one row per subject (aligned to `subjects`): AVALC Y when the daily dose
    (R3.3, `dose_on`) is 0 on every day from day `pfree_from_day` (281) to the last occasion on
    or before day `flare_horizon_day` (365), that occasion is on or after day
    `pfree_last_occasion_min_day` (337), and no severe flare (R5) has onset in that span; N
    otherwise, with REASON (a missing dose or TRTSDT never satisfies the rule).

    occasions: OCCASIONS (USUBJID, OCC, ADT); flares: derive_param_flare rows (USUBJID, AVALC,
    ONSETDT); dose_on: queries [USUBJID, DATE] -> daily dose Series aligned to the queries.
    Returns USUBJID, PARAMCD, PARAM, AVALC, ADT (the last occasion), OCC, REASON (None when Y).
    """
    assert_columns(subjects, ("USUBJID", "TRTSDT"), "derive_param_pfree52 subjects")
    assert_columns(flares, ("USUBJID", "AVALC", "ONSETDT"), "derive_param_pfree52 flares")
    last = compute_pfree_last_occasion(occasions, subjects, params)
    spans: dict = {}
    reasons: dict = {}
    for label, trtsdt in zip(subjects.index, subjects["TRTSDT"]):
        day1 = as_date_or_none(trtsdt)
        if day1 is None:
            reasons[label] = NO_START
            continue
        adt = last.at[label, "ADT"]
        if adt is None or adt < day1 + timedelta(days=params.pfree_last_occasion_min_day - 1):
            reasons[label] = NO_LATE_OCCASION.format(min=params.pfree_last_occasion_min_day,
                                                     day=params.flare_horizon_day)
            continue
        spans[label] = (day1 + timedelta(days=params.pfree_from_day - 1), adt)
    doses = _span_doses(subjects, spans, dose_on)
    severe = _severe_onsets(flares)
    for label, u in zip(subjects.index, subjects["USUBJID"]):
        if label in reasons:
            continue
        lo, hi = spans[label]
        missing, not_zero = doses.get(label, (False, False))
        if missing:
            reasons[label] = DOSE_MISSING
        elif not_zero:
            reasons[label] = DOSE_NOT_ZERO
        elif any(lo <= d <= hi for d in severe.get(u, [])):
            reasons[label] = SEVERE_FLARE
    param = PFREE_PARAM.format(start=params.pfree_from_day, day=params.flare_horizon_day)
    rows = [{"USUBJID": u, "PARAMCD": "PFREE52", "PARAM": param, "AVALC": "N" if label in reasons else "Y",
             "ADT": adt, "OCC": occ, "REASON": reasons.get(label)}
            for label, u, adt, occ in zip(subjects.index, subjects["USUBJID"], last["ADT"].tolist(),
                                          last["OCC"].tolist())]
    return pd.DataFrame(rows, index=subjects.index,
                        columns=["USUBJID", "PARAMCD", "PARAM", "AVALC", "ADT", "OCC", "REASON"], dtype=object)


def _span_doses(subjects: pd.DataFrame, spans: dict, dose_on: DoseOn) -> dict:
    """One `dose_on` call for every day of every subject's span: {subject label: (a dose is
    missing, a dose is not 0)}."""
    if not spans:
        return {}
    usubjid = dict(zip(subjects.index, subjects["USUBJID"]))
    labels = list(spans)
    lo = np.array([spans[label][0].toordinal() for label in labels], dtype=np.int64)
    days = np.maximum(np.array([spans[label][1].toordinal() for label in labels], dtype=np.int64) - lo + 1, 0)
    owner = np.repeat(np.arange(len(labels)), days)
    day = np.repeat(lo, days) + np.arange(len(owner)) - np.repeat(np.cumsum(days) - days, days)
    frame = pd.DataFrame({"USUBJID": np.array([usubjid[label] for label in labels], dtype=object)[owner],
                          "DATE": ordinal_dates(day.astype("float64"))}, dtype=object)
    doses = dose_on(frame).reindex(frame.index)
    dose = pd.to_numeric(map_distinct(doses, as_float), errors="coerce").to_numpy(dtype="float64")
    missing = np.bincount(owner, weights=np.isnan(dose), minlength=len(labels)) > 0
    not_zero = np.bincount(owner, weights=~np.isnan(dose) & (dose != 0), minlength=len(labels)) > 0
    return {label: (bool(m), bool(z)) for label, m, z in zip(labels, missing, not_zero)}


def _severe_onsets(flares: pd.DataFrame) -> dict:
    out: dict = {}
    for u, cat, onset in zip(flares["USUBJID"], flares["AVALC"], flares["ONSETDT"]):
        if cat == SEVERE and as_date_or_none(onset) is not None:
            out.setdefault(u, []).append(as_date_or_none(onset))
    return out

"""R6 Time to first flare (ADTTE; derivations.md R6, lupus-endpoints.md §7.8).

`derive_param_tte` builds one parameter (TTFLANY / TTFLSEV / TTFLMM) for the subjects given
(the caller passes the full analysis set), from the R5 flare rows (`derive_param_flare`).
`compute_first_flare` is shared with the R7 per-subject flags (subject_flags.py).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rules.flares import (
    MILD_MODERATE,
    SEVERE,
    day_ordinals,
    inside_interval,
    ordinal_dates,
    subject_pairs,
)
from sdtm_lupus.adam.rules.tables import as_date_or_none, assert_columns
from sdtm_lupus.config.study import RuleParameters

# kind -> (flare categories that count, PARAM)
KINDS: dict[str, tuple[frozenset[str], str]] = {
    "TTFLANY": (frozenset({MILD_MODERATE, SEVERE}), "Time to First SFI Flare (days)"),
    "TTFLSEV": (frozenset({SEVERE}), "Time to First Severe SFI Flare (days)"),
    "TTFLMM": (frozenset({MILD_MODERATE}), "Time to First Mild/Moderate SFI Flare (days)"),
}
EVENT_TEXT = {MILD_MODERATE: "MILD/MODERATE SFI FLARE", SEVERE: "SEVERE SFI FLARE"}
LAST_OCCASION = ("LAST DISEASE ACTIVITY ASSESSMENT", "LAST OCCASION ON OR BEFORE DAY {day}")
NO_OCCASION = ("NO POST-BASELINE ASSESSMENT", "TREATMENT START DATE")
NO_START = "NO TREATMENT START DATE"

FLARE_COLUMNS = ("USUBJID", "OCC", "ADT", "AVALC", "ONSETDT")
OUTPUT_COLUMNS = ("USUBJID", "PARAMCD", "PARAM", "STARTDT", "ADT", "AVAL", "CNSR", "EVNTDESC", "CNSDTDSC", "OCC",
                  "FLCAT")


def horizon_date(trtsdt: date | None, params: RuleParameters) -> date | None:
    """"day 365" (`flare_horizon_day`) is the date TRTSDT + 364 (derivations.md notation)."""
    return None if trtsdt is None else trtsdt + timedelta(days=params.flare_horizon_day - 1)


def compute_first_flare(flares: pd.DataFrame, subjects: pd.DataFrame, params: RuleParameters,
                        categories: frozenset[str]) -> pd.DataFrame:
    """Per subject (aligned to `subjects`): the first flare of the given categories with onset on
    or before day 365 (R6, R7 FL*52): ONSETDT, OCC, AVALC; all None when there is none.
    "First" = earliest onset, then earliest occasion date, then OCC."""
    assert_columns(flares, FLARE_COLUMNS, "compute_first_flare flares")
    assert_columns(subjects, ("USUBJID", "TRTSDT"), "compute_first_flare subjects")
    onset, adt = day_ordinals(flares["ONSETDT"]), day_ordinals(flares["ADT"])
    adt = np.where(np.isnan(adt), onset, adt)
    occ = pd.to_numeric(flares["OCC"], errors="coerce").to_numpy(dtype="float64")
    subject, _ = pd.factorize(flares["USUBJID"])
    rows = np.flatnonzero(flares["AVALC"].isin(list(categories)).to_numpy() & ~np.isnan(onset))
    ranked = rows[np.lexsort((rows, occ[rows], adt[rows], onset[rows], subject[rows]))]   # ties: the first row
    best = ranked[np.r_[True, subject[ranked][1:] != subject[ranked][:-1]][:len(ranked)]]    # per subject its first
    found = pd.Index(flares["USUBJID"].to_numpy(dtype=object)[best]).get_indexer(subjects["USUBJID"])
    row = _take(best, found, -1)
    end = day_ordinals(subjects["TRTSDT"]) + (params.flare_horizon_day - 1)
    with np.errstate(invalid="ignore"):
        row[~(_take(onset, row, np.nan) <= end)] = -1        # none by day 365 (or no TRTSDT)
    picked = row >= 0
    out = pd.DataFrame({c: np.full(len(subjects), None, dtype=object) for c in ("ONSETDT", "OCC", "AVALC")},
                       index=subjects.index)
    out.loc[picked, "ONSETDT"] = ordinal_dates(onset[row[picked]])
    out.loc[picked, "OCC"] = np.array([*flares["OCC"].tolist(), None], dtype=object)[row[picked]]
    out.loc[picked, "AVALC"] = flares["AVALC"].to_numpy(dtype=object)[row[picked]]
    return out


def _take(values: np.ndarray, positions: np.ndarray, missing) -> np.ndarray:
    """values at each position; `missing` where the position is -1."""
    return np.append(values, missing)[np.where(positions >= 0, positions, len(values))]


def last_occasion_between(occasions: pd.DataFrame, subjects: pd.DataFrame, after: np.ndarray,
                          upto: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per subject row: (day number, OCC) of its last dated occasion (by ADT, then OCC) after day
    `after` (no bound when NaN) and on or before day `upto` (none when NaN): NaN / None when none."""
    pair_subject, pair_occ = subject_pairs(subjects["USUBJID"].to_numpy(dtype=object),
                                           occasions["USUBJID"].to_numpy(dtype=object))
    adt = day_ordinals(occasions["ADT"])[pair_occ]
    occ = pd.to_numeric(occasions["OCC"], errors="coerce").to_numpy(dtype="float64")[pair_occ]
    hit = np.flatnonzero(inside_interval(adt, after[pair_subject], upto[pair_subject]))
    ranked = hit[np.lexsort((occ[hit], adt[hit], pair_subject[hit]))]
    last = ranked[np.r_[pair_subject[ranked][1:] != pair_subject[ranked][:-1], True][:len(ranked)]]
    day = np.full(len(subjects), np.nan)
    day[pair_subject[last]] = adt[last]
    number = np.full(len(subjects), None, dtype=object)
    number[pair_subject[last]] = np.array([*occasions["OCC"].tolist(), None], dtype=object)[pair_occ[last]]
    return day, number


def compute_censoring(occasions: pd.DataFrame, subjects: pd.DataFrame, params: RuleParameters) -> pd.DataFrame:
    """R6 censoring per subject (aligned to `subjects`): the last occasion dated after day 1 and
    on or before day 365 (ADT, OCC); ADT = TRTSDT and OCC None when there is none."""
    assert_columns(occasions, ("USUBJID", "OCC", "ADT"), "compute_censoring occasions")
    day1 = day_ordinals(subjects["TRTSDT"])
    day, occ = last_occasion_between(occasions, subjects, day1, day1 + (params.flare_horizon_day - 1))
    adt = np.where(np.isnan(day), day1, day)
    return pd.DataFrame({"ADT": ordinal_dates(adt), "OCC": occ}, index=subjects.index, dtype=object)


def derive_param_tte(flares: pd.DataFrame, occasions: pd.DataFrame, subjects: pd.DataFrame,
                     params: RuleParameters, kind: str) -> pd.DataFrame:
    """R6: one ADTTE row per subject (aligned to `subjects`, the full analysis set).

    kind: TTFLANY (any flare), TTFLSEV (severe), TTFLMM (MILD/MODERATE occasions only; a
    severe one does not count). STARTDT = TRTSDT; event (CNSR 0) at the onset of the first
    such flare with onset on or before day `flare_horizon_day`; otherwise censored (CNSR 1) at
    the last occasion after day 1 and on or before that day, at TRTSDT when there is none
    (§8 case 46: AVAL 1). AVAL = ADT - STARTDT + 1. OCC: the source occasion (the flare's,
    or the censoring occasion; None when censored at TRTSDT). FLCAT: category of the event
    flare. A subject without TRTSDT gets a row with STARTDT, ADT, AVAL, CNSR missing.
    flares: derive_param_flare rows (USUBJID, OCC, ADT, AVALC, ONSETDT); occasions: OCCASIONS.
    """
    if kind not in KINDS:
        raise ValueError(f"derive_param_tte: kind must be one of {sorted(KINDS)}, not {kind!r}")
    assert_columns(subjects, ("USUBJID", "TRTSDT"), "derive_param_tte subjects")
    categories, param = KINDS[kind]
    first = compute_first_flare(flares, subjects, params, categories)
    censor = compute_censoring(occasions, subjects, params)
    rows = []
    for u, trtsdt, onset, cat, occ, censor_adt, censor_occ in zip(
            subjects["USUBJID"], subjects["TRTSDT"], first["ONSETDT"].tolist(), first["AVALC"].tolist(),
            first["OCC"].tolist(), censor["ADT"].tolist(), censor["OCC"].tolist()):
        start = as_date_or_none(trtsdt)
        row = {"USUBJID": u, "PARAMCD": kind, "PARAM": param, "STARTDT": start, "FLCAT": None}
        if start is None:
            row.update(ADT=None, AVAL=None, CNSR=None, EVNTDESC=NO_START, CNSDTDSC=None, OCC=None)
        elif onset is not None:
            row.update(ADT=onset, CNSR=0, EVNTDESC=EVENT_TEXT[cat], CNSDTDSC=None, OCC=occ, FLCAT=cat)
        elif censor_occ is not None:
            row.update(ADT=censor_adt, CNSR=1, EVNTDESC=LAST_OCCASION[0],
                       CNSDTDSC=LAST_OCCASION[1].format(day=params.flare_horizon_day), OCC=censor_occ)
        else:
            row.update(ADT=start, CNSR=1, EVNTDESC=NO_OCCASION[0], CNSDTDSC=NO_OCCASION[1], OCC=None)
        if start is not None:
            row["AVAL"] = float((row["ADT"] - start).days + 1)
        rows.append(row)
    out = pd.DataFrame(rows, index=subjects.index, columns=list(OUTPUT_COLUMNS), dtype=object)
    out["AVAL"] = pd.to_numeric(out["AVAL"], errors="coerce").astype("float64")
    out["CNSR"] = pd.array(out["CNSR"].tolist(), dtype="Int64")
    return out

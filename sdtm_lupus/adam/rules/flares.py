"""R5 Modified SELENA-SLEDAI Flare Index per occasion (derivations.md R5; lupus-endpoints.md §5).

Entry point: `derive_param_flare`. Steps, each its own small function:
  `compute_intervals`   - R5 preamble: post-baseline occasions and their previous occasion;
  `criterion_*`         - R5.1a-e, R5.2a-e: each returns, per interval, the date of its
                          triggering record when it fires (R5.4), None when it does not;
  `compute_dose_not_evaluable` - R5.1c / R5.2c undecidable for a missing weight or dose
                          (lupus-endpoints.md §8 case 31);
  `compute_category`, `compute_onset` - R5.4; `compute_crf_disagreement` - R5.5.
R5.3 (the modification) is the absence of the classic severe criterion "SLEDAI total
rising above 12": there is deliberately no such criterion here.

Interval convention: a trigger record counts when dated after `LO` and on or before the
occasion date. `LO` is the previous occasion's date, but never before day 1: a trigger
dated before the first dose is not a study flare (lupus-endpoints.md §8 case 43); with no
previous occasion the interval starts on day 1 (LO = day 1 - 1).

"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rules.medication_days import compute_active_days, is_sle_indication
from sdtm_lupus.adam.rules.tables import as_date_or_none, as_float, assert_columns, per_subject
from sdtm_lupus.adam.rules.treatment_failure import compute_new_immunosuppressant
from sdtm_lupus.config.study import RuleParameters
from sdtm_lupus.distinct import map_distinct

NONE, MILD_MODERATE, SEVERE = "NONE", "MILD/MODERATE", "SEVERE"
PARAMCD, PARAM = "FLARE", "Modified SELENA-SLEDAI Flare Index category"

OCCASION_COLUMNS = ("USUBJID", "OCC", "ADT", "SLEDAI", "PGA10", "ABLFL_SLEDAI", "PRED", "WEIGHT")
CRF_COLUMNS = ("FLCRF", "MM_NEWWORSE", "SV_NEWWORSE", "SV_HOSP", "FLAREDT")   # optional: absent = not collected
SUBJECT_COLUMNS = ("USUBJID", "TRTSDT")
MEDS_COLUMNS = ("USUBJID", "CMDECOD", "CMCLAS", "CMINDC", "CMDOSFRQ", "PREDFACT", "STARTDT", "ENDDT")
EVENTS_COLUMNS = ("USUBJID", "AESTDT", "AESHOSP", "AESLE")

MILD_CRITERIA = ("M1a", "M1b", "M1c", "M1d", "M1e")
SEVERE_CRITERIA = ("S2a", "S2b", "S2c", "S2d", "S2e")
MILD_DRUG_CLASSES = frozenset({"NSAID", "ANTIMALARIAL"})                    # R5.1d

OUTPUT_COLUMNS = ("USUBJID", "OCC", "ADT", "PARAMCD", "PARAM", "AVALC", "ONSETDT", "FLCRIT", "FLCRITNE",
                  "FLCRF", "CRFDISFL", "FLDTOUFL", "PREVOCC", "PREVDT")


# ---------------------------------------------------------------- value helpers

def _true(value) -> bool:
    """CRF yes/no: only a real True (or 1) counts; None / <NA> is never met."""
    return value is not None and not isinstance(value, str) and not pd.isna(value) and bool(value)


def _yes(value) -> bool:
    return isinstance(value, str) and value.strip().upper() in ("Y", "YES")


def _text(value) -> str | None:
    return value.strip().upper() if isinstance(value, str) and value.strip() else None


def _tenths(value: float) -> int:
    return int(round(value * 10))


def _get(df: pd.DataFrame, column: str) -> pd.Series:
    return df[column] if column in df.columns else pd.Series(None, index=df.index, dtype=object)


# ---------------------------------------------------------------- R5 preamble: intervals

def day_ordinals(values: pd.Series) -> np.ndarray:
    """Dates (lenient, as `as_date_or_none`) as float day numbers, NaN when missing; once per distinct value."""
    def ordinal(value) -> float:
        day = as_date_or_none(value)
        return np.nan if day is None else float(day.toordinal())
    return map_distinct(values, ordinal).to_numpy(dtype="float64")


def ordinal_dates(days: np.ndarray) -> np.ndarray:
    """Float day numbers back to `datetime.date` objects (None for NaN)."""
    out = np.full(len(days), None, dtype=object)
    known = ~np.isnan(days)
    distinct, rows = np.unique(days[known].astype(np.int64), return_inverse=True)
    out[known] = np.array([date.fromordinal(int(d)) for d in distinct] + [None], dtype=object)[:-1][rows]
    return out


def _trtsdt_by_subject(subjects: pd.DataFrame) -> dict:
    return {u: as_date_or_none(d) for u, d in zip(subjects["USUBJID"], subjects["TRTSDT"])}


def _post_baseline_plan(occasions: pd.DataFrame, subjects: pd.DataFrame) -> pd.DataFrame:
    """NOW (position in `occasions`), PREV (position of its previous occasion, -1 when none)
    and LO (day number, NaN when unbounded) per post-baseline occasion, in input order (R5 preamble).

    The previous occasion of the first post-baseline occasion is the baseline occasion
    (`ABLFL_SLEDAI = Y`, R2.1), else the last occasion on or before day 1, else none (the
    interval then starts on day 1). Post-baseline: after that anchor, on a later date than
    it (a flare on the baseline date is not a study flare, §8 case 43) and after day 1.
    Per subject its dated occasions in (ADT, OCC) order: the post-baseline ones are a run at
    the end, each one's previous occasion the one before it (the first's: the anchor).
    """
    if not occasions.index.is_unique:
        raise ValueError("R5: the occasions index must be unique (results align to it)")
    adt = day_ordinals(occasions["ADT"])
    day1 = day_ordinals(pd.Series(per_subject(occasions["USUBJID"], _trtsdt_by_subject(subjects))))
    baseline = map_distinct(occasions["ABLFL_SLEDAI"], _yes).to_numpy(dtype=bool)
    dated = np.flatnonzero(~np.isnan(adt))
    ranked = pd.DataFrame({"USUBJID": occasions["USUBJID"].to_numpy()[dated], "ADT": adt[dated],
                           "OCC": occasions["OCC"].to_numpy()[dated]})
    pos = dated[ranked.sort_values(["USUBJID", "ADT", "OCC"], kind="stable").index.to_numpy()]
    subject, _ = pd.factorize(occasions["USUBJID"].to_numpy()[pos])     # contiguous runs
    d, t, row = adt[pos], day1[pos], np.arange(len(pos))
    with np.errstate(invalid="ignore"):
        anchor = _last_row(subject, np.where(baseline[pos], row, -1))
        no_flag = anchor < 0
        anchor[no_flag] = _last_row(subject, np.where(d <= t, row, -1))[no_flag]
    first_day1 = np.full(len(anchor), np.nan)
    first_day1[subject] = t
    skip = no_flag & np.isnan(first_day1)            # neither a baseline occasion nor day 1
    anchor_date = np.where(anchor >= 0, d[np.maximum(anchor, 0)], -np.inf)
    threshold = np.fmax(anchor_date, first_day1)
    kept = (row > anchor[subject]) & (d > threshold[subject]) & ~skip[subject]
    follows = np.r_[False, kept[:-1] & (subject[1:] == subject[:-1])]      # its previous is kept too
    prev = np.where(follows, row - 1, anchor[subject])[kept]
    prev_date = np.where(prev >= 0, d[np.maximum(prev, 0)], np.nan)
    lo = np.fmax(prev_date, t[kept] - 1)              # never before day 1 - 1 (§8 case 43)
    plan = pd.DataFrame({"NOW": pos[kept], "PREV": np.where(prev >= 0, pos[np.maximum(prev, 0)], -1), "LO": lo})
    return plan.sort_values("NOW", kind="stable").reset_index(drop=True)


def _last_row(group: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per group, the largest of its `rows` values (-1 when all are -1)."""
    out = np.full(group.max() + 1 if len(group) else 0, -1, dtype=np.int64)
    np.maximum.at(out, group, rows)
    return out


def compute_post_baseline(occasions: pd.DataFrame, subjects: pd.DataFrame) -> pd.Series:
    """True on the occasions that get an R5 flare result (after the baseline occasion and day 1)."""
    assert_columns(occasions, ("USUBJID", "OCC", "ADT", "ABLFL_SLEDAI"), "compute_post_baseline occasions")
    assert_columns(subjects, SUBJECT_COLUMNS, "compute_post_baseline subjects")
    post = np.zeros(len(occasions), dtype=bool)
    post[_post_baseline_plan(occasions, subjects)["NOW"].to_numpy()] = True
    return pd.Series(post, index=occasions.index, dtype=bool)


def _floats(values: pd.Series) -> np.ndarray:
    """`as_float` of each value: Python floats, None when missing (an object array)."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        out = numbers.astype(object)
        out[np.isnan(numbers)] = None
        return out
    return map_distinct(values, as_float).to_numpy(dtype=object)


def _taken(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """values at each position as objects; None where the position is -1."""
    out = np.full(len(positions), None, dtype=object)
    out[positions >= 0] = values[positions[positions >= 0]]
    return out


def compute_intervals(occasions: pd.DataFrame, subjects: pd.DataFrame) -> pd.DataFrame:
    """R5 preamble: one row per post-baseline occasion (index = its input label, input order)
    with the values now (SLEDAI, PGA10, PRED, WEIGHT, CRF) and at the previous occasion
    (PREV_*; None when the interval starts on day 1), PREVOCC, PREVDT, TRTSDT, and LO, the
    exclusive lower bound for trigger records; REFDT is the date on which "not active on the
    previous occasion's date" is checked (PREVDT, else LO)."""
    assert_columns(occasions, OCCASION_COLUMNS, "compute_intervals occasions")
    assert_columns(subjects, SUBJECT_COLUMNS, "compute_intervals subjects")
    plan = _post_baseline_plan(occasions, subjects)
    now, prev = plan["NOW"].to_numpy(), plan["PREV"].to_numpy()
    usubjid = occasions["USUBJID"].to_numpy(dtype=object)[now]
    adt = ordinal_dates(day_ordinals(occasions["ADT"]))
    occ = np.array(occasions["OCC"].tolist() + [None], dtype=object)[:-1]
    lo = ordinal_dates(plan["LO"].to_numpy())
    prev_date = _taken(adt, prev)
    columns = {"USUBJID": usubjid, "OCC": occ[now], "ADT": adt[now],
               "TRTSDT": per_subject(pd.Series(usubjid), _trtsdt_by_subject(subjects)), "LO": lo,
               "PREVOCC": _taken(occ, prev), "PREVDT": prev_date,
               "REFDT": np.where(prev >= 0, prev_date, lo)}
    for column in ("SLEDAI", "PGA10", "PRED", "WEIGHT"):
        values = _floats(occasions[column])
        columns[column], columns[f"PREV_{column}"] = values[now], _taken(values, prev)
    for column in CRF_COLUMNS:
        columns[column] = _get(occasions, column).to_numpy(dtype=object)[now]
    order = ["USUBJID", "OCC", "ADT", "TRTSDT", "LO", "PREVOCC", "PREVDT", "REFDT", "SLEDAI", "PREV_SLEDAI",
             "PGA10", "PREV_PGA10", "PRED", "PREV_PRED", "WEIGHT", "PREV_WEIGHT", *CRF_COLUMNS]
    return pd.DataFrame({c: pd.Series(columns[c], dtype=object) for c in order},
                        columns=order).set_axis(pd.Index(occasions.index[now], name=occasions.index.name))


# ---------------------------------------------------------------- interval arrays and record lookups
# Dates are compared as day numbers (float, NaN = missing): `day_ordinals`, back with `ordinal_dates`.

def _numbers(values: pd.Series) -> np.ndarray:
    """Interval numbers (float or None) as floats, NaN for None."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def inside_interval(day: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Inside the interval: after `lo` (no bound when NaN) and on or before `hi`; never a missing day."""
    with np.errstate(invalid="ignore"):
        return ~np.isnan(day) & (np.isnan(lo) | (day > lo)) & (day <= hi)


def _active(first: np.ndarray, last: np.ndarray, day: np.ndarray) -> np.ndarray:
    """A CM record (its compute_active_days span) active on `day` as in R3.3; never on a missing day."""
    with np.errstate(invalid="ignore"):
        return ~np.isnan(day) & (first <= day) & (day <= last)


def _med_table(meds: pd.DataFrame, new: pd.Series | None = None) -> pd.DataFrame:
    """MEDS as the criteria read them: USUBJID, DECOD / CLAS (normalised text or None), SLE, GC
    (a glucocorticoid), START (day number), FIRST / LAST (active days), NEW (the R4.6a flag, else False)."""
    first, last = compute_active_days(meds)
    clas = map_distinct(meds["CMCLAS"], _text)
    return pd.DataFrame({
        "USUBJID": meds["USUBJID"].to_numpy(dtype=object),
        "DECOD": map_distinct(meds["CMDECOD"], _text).to_numpy(dtype=object),
        "CLAS": clas.to_numpy(dtype=object),
        "SLE": map_distinct(meds["CMINDC"], is_sle_indication).to_numpy(dtype=bool),
        "GC": clas.eq("GLUCOCORTICOID").to_numpy(dtype=bool)
              | map_distinct(meds["PREDFACT"], lambda v: as_float(v) is not None).to_numpy(dtype=bool),
        "START": day_ordinals(meds["STARTDT"]), "FIRST": first.astype("float64"), "LAST": last.astype("float64"),
        "NEW": np.zeros(len(meds), dtype=bool) if new is None else new.to_numpy(dtype=bool),
    })


def subject_pairs(iv_subject: np.ndarray, record_subject: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(interval, record) positions of every interval x record pair of one subject, by interval."""
    codes, _ = pd.factorize(np.concatenate([iv_subject, record_subject]).astype(object))
    ivc, rc = codes[:len(iv_subject)], codes[len(iv_subject):]
    n_subjects = codes.max() + 1 if len(codes) else 0
    order = np.argsort(np.where(rc < 0, n_subjects, rc), kind="stable")      # a record without subject: no pair
    counts = np.bincount(rc[rc >= 0], minlength=n_subjects)
    starts = np.cumsum(counts) - counts
    per_iv = counts[ivc]
    iv = np.repeat(np.arange(len(ivc)), per_iv)
    offset = np.arange(len(iv)) - np.repeat(np.cumsum(per_iv) - per_iv, per_iv)
    return iv, order[np.repeat(starts[ivc], per_iv) + offset]


def _earliest(n: int, iv: np.ndarray, days: np.ndarray, hit: np.ndarray) -> np.ndarray:
    """Per interval the smallest of `days` over its pairs that `hit`; NaN when none."""
    out = np.full(n, np.inf)
    np.minimum.at(out, iv[hit], days[hit])
    out[np.isinf(out)] = np.nan
    return out


def _dates_series(iv: pd.DataFrame, days: np.ndarray) -> pd.Series:
    return pd.Series(ordinal_dates(days), index=iv.index, dtype=object)


def _occasion_date_when(iv: pd.DataFrame, fired: np.ndarray) -> pd.Series:
    return _dates_series(iv, np.where(fired, day_ordinals(iv["ADT"]), np.nan))


def _flags(values: pd.Series, test) -> np.ndarray:
    return map_distinct(values, test).to_numpy(dtype=bool)


def _crf_date(iv: pd.DataFrame) -> np.ndarray:
    """R5.4: the CRF FLAREDAT when inside the interval, else the occasion date (§8 case 44)."""
    flaredt, lo, adt = day_ordinals(iv["FLAREDT"]), day_ordinals(iv["LO"]), day_ordinals(iv["ADT"])
    return np.where(inside_interval(flaredt, lo, adt), flaredt, adt)


def _glucocorticoid_date(iv: pd.DataFrame, meds: pd.DataFrame) -> np.ndarray:
    """R5.4 for 1c/2c: per interval the earliest start inside the interval of a glucocorticoid
    record active on the occasion date; the occasion date when there is none."""
    records = _med_table(meds)
    pair_iv, rec = subject_pairs(iv["USUBJID"].to_numpy(dtype=object), records["USUBJID"].to_numpy())
    adt, lo = day_ordinals(iv["ADT"]), day_ordinals(iv["LO"])
    start = records["START"].to_numpy()[rec]
    hit = (records["GC"].to_numpy()[rec] & _active(records["FIRST"].to_numpy()[rec], records["LAST"].to_numpy()[rec],
                                                   adt[pair_iv])
           & inside_interval(start, lo[pair_iv], adt[pair_iv]))
    earliest = _earliest(len(iv), pair_iv, start, hit)
    return np.where(np.isnan(earliest), adt, earliest)


def _above(dose: np.ndarray, weight: np.ndarray, mgkg: float) -> np.ndarray:
    """Daily dose strictly above `mgkg` mg/kg/day (§5.1): 1.0 / 0.0, NaN when undecidable (missing data)."""
    with np.errstate(invalid="ignore"):
        above = np.where(dose > mgkg * weight, 1.0, 0.0)
        above = np.where(np.isnan(weight) | (weight <= 0), np.nan, above)
        return np.where(np.isnan(dose), np.nan, np.where(dose <= 0, 0.0, above))


def _started_inside(iv: pd.DataFrame, records: pd.DataFrame, chosen: np.ndarray) -> np.ndarray:
    """Per interval the earliest START inside it of the `chosen` records of its subject (NaN when none)."""
    pair_iv, rec = subject_pairs(iv["USUBJID"].to_numpy(dtype=object), records["USUBJID"].to_numpy(dtype=object))
    start = records["START"].to_numpy(dtype="float64")[rec]
    hit = chosen[rec] & inside_interval(start, day_ordinals(iv["LO"])[pair_iv], day_ordinals(iv["ADT"])[pair_iv])
    return _earliest(len(iv), pair_iv, start, hit)


# ---------------------------------------------------------------- R5.1 mild/moderate criteria

def criterion_m1a_sledai_rise(iv: pd.DataFrame, params: RuleParameters) -> pd.Series:
    """R5.1a: SELENA-SLEDAI total rose by >= `flare_sledai_rise` (3) vs the previous occasion.
    R5.3: also the only way a rise to a total above 12 counts (there is no severe S1)."""
    with np.errstate(invalid="ignore"):
        fired = _numbers(iv["SLEDAI"]) - _numbers(iv["PREV_SLEDAI"]) >= params.flare_sledai_rise
    return _occasion_date_when(iv, fired)


def criterion_m1b_crf_new_worse(iv: pd.DataFrame) -> pd.Series:
    """R5.1b: flare CRF `MM_NEWWORSE = 1`; dated by FLAREDAT inside the interval (R5.4)."""
    return _dates_series(iv, np.where(_flags(iv["MM_NEWWORSE"], _true), _crf_date(iv), np.nan))


def criterion_m1c_dose_increase(iv: pd.DataFrame, meds: pd.DataFrame, params: RuleParameters) -> pd.Series:
    """R5.1c: prednisone-equivalent daily dose on the occasion date higher than on the
    previous occasion's date, and not above `flare_pred_mgkg` (0.5) mg/kg/day (weight R3.4)."""
    pred = _numbers(iv["PRED"])
    with np.errstate(invalid="ignore"):
        rose = pred > _numbers(iv["PREV_PRED"])
    fired = rose & (_above(pred, _numbers(iv["WEIGHT"]), params.flare_pred_mgkg) == 0)
    return _dates_series(iv, np.where(fired, _glucocorticoid_date(iv, meds), np.nan))


def criterion_m1d_new_nsaid_antimalarial(iv: pd.DataFrame, meds: pd.DataFrame) -> pd.Series:
    """R5.1d: a CM record of class NSAID or ANTIMALARIAL with an SLE indication started in the
    interval, when the same drug (CMDECOD) was not active on the previous occasion's date
    (a restart after a gap counts, §8 case 39; another indication does not, case 40)."""
    records = _med_table(meds)
    pair_iv, rec = subject_pairs(iv["USUBJID"].to_numpy(dtype=object), records["USUBJID"].to_numpy())
    decod, n_decod = _codes(records["DECOD"])
    start = records["START"].to_numpy()[rec]
    candidate = (records["CLAS"].isin(list(MILD_DRUG_CLASSES)).to_numpy() & records["SLE"].to_numpy()
                 & (decod >= 0))[rec] & inside_interval(start, day_ordinals(iv["LO"])[pair_iv], day_ordinals(iv["ADT"])[pair_iv])
    on_ref = (decod[rec] >= 0) & _active(records["FIRST"].to_numpy()[rec], records["LAST"].to_numpy()[rec],
                                         day_ordinals(iv["REFDT"])[pair_iv])
    key = pair_iv.astype(np.int64) * (n_decod + 1) + decod[rec]         # (interval, drug)
    return _dates_series(iv, _earliest(len(iv), pair_iv, start, candidate & ~np.isin(key, key[on_ref])))


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes of the values (-1 for None) and how many distinct values there are."""
    codes, uniques = pd.factorize(values)
    return codes, len(uniques)


def criterion_m1e_pga_rise(iv: pd.DataFrame, params: RuleParameters) -> pd.Series:
    """R5.1e: PGA rose by >= `flare_pga_rise` (1.0) and is <= `flare_pga_cap` (2.5); exact tenths."""
    rise, cap = _tenths(params.flare_pga_rise), _tenths(params.flare_pga_cap)
    now, prev = _numbers(iv["PGA10"]), _numbers(iv["PREV_PGA10"])
    with np.errstate(invalid="ignore"):
        fired = (now - prev >= rise) & (now <= cap) & ~np.isnan(prev)
    return _occasion_date_when(iv, fired)


# ---------------------------------------------------------------- R5.2 severe criteria

def criterion_s2a_crf_severe(iv: pd.DataFrame) -> pd.Series:
    """R5.2a: flare CRF `SV_NEWWORSE = 1` or `SV_HOSP = 1`; dated by FLAREDAT inside the interval."""
    fired = _flags(iv["SV_NEWWORSE"], _true) | _flags(iv["SV_HOSP"], _true)
    return _dates_series(iv, np.where(fired, _crf_date(iv), np.nan))


def criterion_s2b_sle_hospitalisation(iv: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """R5.2b: an AE with `AESHOSP = Y` and `AESLE = Y` starting in the interval (§8 case 41:
    a hospitalisation not attributed to SLE does not count)."""
    assert_columns(events, EVENTS_COLUMNS, "criterion_s2b events")
    records = pd.DataFrame({"USUBJID": events["USUBJID"].to_numpy(dtype=object),
                            "START": day_ordinals(events["AESTDT"])})
    chosen = _flags(events["AESHOSP"], _yes) & _flags(events["AESLE"], _yes)
    return _dates_series(iv, _started_inside(iv, records, chosen))


def criterion_s2c_dose_above(iv: pd.DataFrame, meds: pd.DataFrame, params: RuleParameters) -> pd.Series:
    """R5.2c: daily dose on the occasion date above `flare_pred_mgkg` (0.5) mg/kg/day (weight at
    that date, R3.4) and not above it on the previous occasion's date (with its weight)."""
    now = _above(_numbers(iv["PRED"]), _numbers(iv["WEIGHT"]), params.flare_pred_mgkg)
    prev = _above(_numbers(iv["PREV_PRED"]), _numbers(iv["PREV_WEIGHT"]), params.flare_pred_mgkg)
    fired = (now == 1) & (prev == 0)
    return _dates_series(iv, np.where(fired, _glucocorticoid_date(iv, meds), np.nan))


def criterion_s2d_new_immunosuppressant(iv: pd.DataFrame, meds: pd.DataFrame) -> pd.Series:
    """R5.2d (clarified): a new IMMUNOSUPPRESSANT started in the interval: the *first* start after
    day 1 of a drug (CMDECOD) that qualifies under R4.6a (class IMMUNOSUPPRESSANT, or
    cyclophosphamide, rituximab, non-study belimumab; SLE indication; same drug not active on
    day 1). Later records of the same drug (another pulse of cyclophosphamide, a dose change, a
    restart) are not new, whatever was active on the previous occasion's date.
    R4.6a is treatment_failure.compute_new_immunosuppressant (day 1: each interval's TRTSDT)."""
    subjects = iv[["USUBJID", "TRTSDT"]].drop_duplicates("USUBJID")
    records = _med_table(meds, compute_new_immunosuppressant(subjects, meds))
    return _dates_series(iv, _started_inside(iv, records, records["NEW"].to_numpy()))


def criterion_s2e_pga_above(iv: pd.DataFrame, params: RuleParameters) -> pd.Series:
    """R5.2e: PGA above `flare_pga_cap` (2.5) now and not above it at the previous occasion
    (project reading: 2.6 -> 2.8 is not severe, §8 case 28)."""
    cap = _tenths(params.flare_pga_cap)
    with np.errstate(invalid="ignore"):
        fired = (_numbers(iv["PGA10"]) > cap) & (_numbers(iv["PREV_PGA10"]) <= cap)
    return _occasion_date_when(iv, fired)


def compute_dose_not_evaluable(iv: pd.DataFrame, params: RuleParameters) -> pd.Series:
    """R5.1c / R5.2c whose outcome depends on a missing weight (no weight on or before the
    date, R3.4) or a missing dose: "M1c", "S2c", "M1c;S2c" or None (§8 case 31: not
    evaluable, counted as not met, reported). Intervals without a previous occasion are not
    listed: there the criteria cannot fire by R5."""
    k = params.flare_pred_mgkg
    pred, prev_pred = _numbers(iv["PRED"]), _numbers(iv["PREV_PRED"])
    now, prev = _above(pred, _numbers(iv["WEIGHT"]), k), _above(prev_pred, _numbers(iv["PREV_WEIGHT"]), k)
    with np.errstate(invalid="ignore"):
        rose = pred > prev_pred
    unknown_rise = np.isnan(pred) | np.isnan(prev_pred)
    m1c = unknown_rise | (rose & np.isnan(now))
    s2c = ~((now == 1) & (prev == 0)) & ~((now == 0) | (prev == 1))
    labels = np.array([None, "M1c", "S2c", "M1c;S2c"], dtype=object)
    out = labels[m1c.astype(int) + 2 * s2c.astype(int)]
    out[iv["PREVDT"].isna().to_numpy()] = None
    return pd.Series(out, index=iv.index, dtype=object)


# ---------------------------------------------------------------- R5.4 / R5.5

def compute_criteria(iv: pd.DataFrame, meds: pd.DataFrame, events: pd.DataFrame,
                     params: RuleParameters) -> pd.DataFrame:
    """All R5.1 / R5.2 criteria: one column each (M1a ... S2e), the trigger date or None."""
    assert_columns(meds, MEDS_COLUMNS, "compute_criteria meds")
    assert_columns(events, EVENTS_COLUMNS, "compute_criteria events")
    return pd.DataFrame({
        "M1a": criterion_m1a_sledai_rise(iv, params),
        "M1b": criterion_m1b_crf_new_worse(iv),
        "M1c": criterion_m1c_dose_increase(iv, meds, params),
        "M1d": criterion_m1d_new_nsaid_antimalarial(iv, meds),
        "M1e": criterion_m1e_pga_rise(iv, params),
        "S2a": criterion_s2a_crf_severe(iv),
        "S2b": criterion_s2b_sle_hospitalisation(iv, events),
        "S2c": criterion_s2c_dose_above(iv, meds, params),
        "S2d": criterion_s2d_new_immunosuppressant(iv, meds),
        "S2e": criterion_s2e_pga_above(iv, params),
    }, index=iv.index, dtype=object)


def compute_category(criteria: pd.DataFrame) -> pd.Series:
    """R5.4: SEVERE if any severe criterion fired, else MILD/MODERATE if any mild/moderate, else NONE."""
    severe = criteria[list(SEVERE_CRITERIA)].notna().any(axis=1)
    mild = criteria[list(MILD_CRITERIA)].notna().any(axis=1)
    return pd.Series([SEVERE if s else MILD_MODERATE if m else NONE for s, m in zip(severe, mild)],
                     index=criteria.index, dtype=object)


def compute_onset(criteria: pd.DataFrame) -> pd.Series:
    """R5.4: the earliest trigger date among all criteria that fired (each already inside the
    interval, the occasion date otherwise); None when no criterion fired."""
    days = np.column_stack([day_ordinals(criteria[c]) for c in criteria.columns]) if len(criteria.columns) \
        else np.full((len(criteria), 1), np.nan)
    fired = ~np.isnan(days).all(axis=1)
    earliest = np.full(len(criteria), np.nan)
    earliest[fired] = np.nanmin(days[fired], axis=1)
    return pd.Series(ordinal_dates(earliest), index=criteria.index, dtype=object)


def compute_fired(criteria: pd.DataFrame) -> pd.Series:
    """The criteria that fired, e.g. "M1a;S2c" (None when none)."""
    names = list(criteria.columns)
    fired = criteria.notna().to_numpy(dtype=bool)
    pattern = fired.astype(np.int64) @ (1 << np.arange(len(names), dtype=np.int64))    # one bit per criterion
    distinct, rows = np.unique(pattern, return_inverse=True)
    text = [";".join(c for i, c in enumerate(names) if p >> i & 1) or None for p in distinct]
    return pd.Series(np.array(text + [None], dtype=object)[:-1][rows], index=criteria.index, dtype=object)


def compute_crf_disagreement(crf: pd.Series, category: pd.Series) -> pd.Series:
    """R5.5: "Y" when the investigator's flare call (FLCRF) is present and differs from the
    derived category (a QC finding; the analysis uses the derived one); None otherwise."""
    call = map_distinct(crf, _text).to_numpy(dtype=object)
    differs = pd.notna(call) & (call != category.to_numpy(dtype=object))
    return pd.Series(np.where(differs, "Y", None), index=category.index, dtype=object)


def compute_flaredt_outside(iv: pd.DataFrame) -> pd.Series:
    """§8 case 44: "Y" when the CRF FLAREDAT is present but outside the interval (onset falls
    back to another trigger or the occasion date; a QC finding)."""
    flaredt = day_ordinals(iv["FLAREDT"])
    outside = ~np.isnan(flaredt) & ~inside_interval(flaredt, day_ordinals(iv["LO"]), day_ordinals(iv["ADT"]))
    return pd.Series(np.where(outside, "Y", None), index=iv.index, dtype=object)


def compute_prebaseline_crf_flare(occasions: pd.DataFrame, subjects: pd.DataFrame) -> pd.Series:
    """§8 case 43: True on an occasion that is not post-baseline (gets no R5 result) although the
    flare CRF calls a flare there (FLCRF MILD/MODERATE or SEVERE) - a QC finding."""
    post = compute_post_baseline(occasions, subjects)
    called = _get(occasions, "FLCRF").map(lambda v: _text(v) in (MILD_MODERATE, SEVERE))
    return (called.astype(bool) & ~post).astype(bool)


def derive_param_flare(occasions: pd.DataFrame, subjects: pd.DataFrame, meds: pd.DataFrame,
                       events: pd.DataFrame, params: RuleParameters) -> pd.DataFrame:
    """R5 (R5.1-R5.5): the FLARE parameter, one row per post-baseline occasion.

    occasions: OCCASIONS rows plus ABLFL_SLEDAI ("Y" on the R2.1 baseline occasion), PRED
    (R3.3 daily dose on ADT) and WEIGHT (R3.4 kg at ADT, None when unknown); the flare CRF
    columns (FLCRF, MM_NEWWORSE, SV_NEWWORSE, SV_HOSP, FLAREDT) are optional.
    Returns, indexed by the occasion's input label in input order: USUBJID, OCC, ADT, PARAMCD,
    PARAM, AVALC (NONE / MILD/MODERATE / SEVERE), ONSETDT (None when NONE), FLCRIT (criteria
    fired, "M1a;S2c"), FLCRITNE (dose criteria not evaluable, case 31), FLCRF, CRFDISFL (R5.5),
    FLDTOUFL (case 44), PREVOCC / PREVDT (the previous occasion; None when the interval starts
    on day 1).
    """
    iv = compute_intervals(occasions, subjects)
    criteria = compute_criteria(iv, meds, events, params)
    category = compute_category(criteria)
    out = pd.DataFrame({
        "USUBJID": iv["USUBJID"], "OCC": iv["OCC"], "ADT": iv["ADT"],
        "PARAMCD": pd.Series(PARAMCD, index=iv.index, dtype=object),
        "PARAM": pd.Series(PARAM, index=iv.index, dtype=object),
        "AVALC": category, "ONSETDT": compute_onset(criteria), "FLCRIT": compute_fired(criteria),
        "FLCRITNE": compute_dose_not_evaluable(iv, params), "FLCRF": iv["FLCRF"],
        "CRFDISFL": compute_crf_disagreement(iv["FLCRF"], category),
        "FLDTOUFL": compute_flaredt_outside(iv), "PREVOCC": iv["PREVOCC"], "PREVDT": iv["PREVDT"],
    }, index=iv.index, columns=list(OUTPUT_COLUMNS))
    return out

"""Shared timing derivations: --DY, EPOCH, --SEQ. Pure functions on Series/DataFrames."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from sdtm_lupus.config.study import Study


def _dates(iso: pd.Series) -> pd.Series:
    """Complete ISO dates/datetimes -> datetime64 days; partial or missing -> NaT.

    Parsed once per distinct value (a date column repeats each day many times)."""
    codes, uniques = pd.factorize(iso)
    parsed = _parse_dates(pd.Series(uniques, dtype=iso.dtype))
    return pd.Series(parsed.array.take(codes, allow_fill=True), index=iso.index, name=iso.name)


def _parse_dates(iso: pd.Series) -> pd.Series:
    text = iso.astype("str").where(iso.notna(), "")
    full = text.str.slice(0, 10).where(text.str.len() >= 10)
    return pd.to_datetime(full, format="%Y-%m-%d", errors="coerce")


def derive_study_day(dtc: pd.Series, rfstdtc: pd.Series) -> pd.Series:
    """SDTM study day: date - RFSTDTC + 1 on or after RFSTDTC, date - RFSTDTC before (no day 0)."""
    diff = (_dates(dtc) - _dates(rfstdtc)).dt.days
    return diff.where(diff < 0, diff + 1).astype("float64")


def period_bounds(iso: pd.Series) -> tuple[pd.Series, pd.Series]:
    """First and last day (ISO date text) of each date's period: a complete date is its own period,
    '2021-03' is 2021-03-01..2021-03-31, '2021' is 2021-01-01..2021-12-31; missing or unreadable: None."""
    def bounds(value) -> tuple[str | None, str | None]:
        if not isinstance(value, str):
            return None, None
        parts = value[:10].split("-")
        try:
            if len(parts) == 3 and len(value) >= 10:
                return value[:10], value[:10]
            year, month = int(parts[0]), int(parts[1]) if len(parts) > 1 and parts[1] else None
        except ValueError:
            return None, None
        if month is None:
            return f"{year:04d}-01-01", f"{year:04d}-12-31"
        last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
        return f"{year:04d}-{month:02d}-01", f"{year:04d}-{month:02d}-{last:02d}"
    codes, uniques = pd.factorize(iso)
    pairs = [bounds(u) for u in uniques]
    lo = np.array([p[0] for p in pairs] + [None], dtype=object)
    hi = np.array([p[1] for p in pairs] + [None], dtype=object)
    return (pd.Series(lo[codes], index=iso.index, dtype=object), pd.Series(hi[codes], index=iso.index, dtype=object))


def derive_epoch(dtc: pd.Series, first_dose: pd.Series, last_dose: pd.Series, study: Study) -> pd.Series:
    """EPOCH from the record date against the subject's first and last dose dates.

    Before the first dose: the first epoch of the study; after the last dose plus the
    follow-up offset: the follow-up epoch; otherwise the treatment epoch. A subject
    never dosed stays in the first epoch. A partial date (year or year-month) gets the epoch
    its whole period falls in (first and last day in the same epoch), else none (CORE-000701);
    a missing date gets no EPOCH.
    """
    start, end = period_bounds(dtc)
    at_start = _epoch_of_dates(start, first_dose, last_dose, study)
    at_end = _epoch_of_dates(end, first_dose, last_dose, study)
    return at_start.where(at_start.eq(at_end), None)


def _epoch_of_dates(dtc: pd.Series, first_dose: pd.Series, last_dose: pd.Series, study: Study) -> pd.Series:
    """derive_epoch for complete dates (partial or missing: None)."""
    when, first, last = _dates(dtc), _dates(first_dose), _dates(last_dose)
    pre = study.epochs[0].epoch
    follow = next((e for e in study.epochs if e.starts_days_after_last_dose is not None), None)
    treat = next(e.epoch for e in study.epochs[1:] if e is not follow)
    epoch = pd.Series(treat, index=dtc.index, dtype=object)
    epoch[first.isna() | (when < first)] = pre
    if follow is not None:
        follow_start = last + timedelta(days=follow.starts_days_after_last_dose)
        epoch[last.notna() & (when >= follow_start)] = follow.epoch
    return epoch.where(when.notna(), None)


def derive_seq(df: pd.DataFrame, order: list[str], by: str = "USUBJID") -> pd.Series:
    """--SEQ: 1..n within `by`, in the order of `order` columns (input order kept)."""
    ranked = df[list(dict.fromkeys([by, *order]))].sort_values([by, *order], kind="stable", na_position="last")
    seq = ranked.groupby(by, sort=False).cumcount() + 1
    return seq.reindex(df.index).astype("float64")


def to_float(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(np.float64)


def derive_lobxfl(df: pd.DataFrame, dtc: str, ref_dtc: pd.Series, by: list[str], valid: pd.Series | None = None) -> pd.Series:
    """--LOBXFL: "Y" on the last record with a result on or before the reference date
    (first dose) within each `by` group (e.g. USUBJID + --TESTCD); None elsewhere.

    valid: optional mask of records that carry a result (e.g. not --STAT = NOT DONE).
    Partial dates never qualify. Input order is kept.
    """
    when, ref = _dates(df[dtc]), _dates(ref_dtc)
    full_time = df[dtc].astype(object).where(df[dtc].notna(), "")
    ok = when.notna() & ref.notna() & (when <= ref)
    if valid is not None:
        ok &= valid.astype(bool)
    flagged = df.index.isin(df.index[_last_per_group(df, by, full_time, np.flatnonzero(ok.to_numpy()))])
    flags = np.array([None, "Y"], dtype=object)      # one shared "Y" (np.where would make one str per row)
    return pd.Series(flags[flagged.astype(np.intp)], index=df.index, dtype=object)


def _last_per_group(df: pd.DataFrame, by: list[str], when: pd.Series, candidates: np.ndarray) -> np.ndarray:
    """Of the candidate rows (positions), the last of each `by` group by `when` (text), then position: as
    sorting them by [*by, when, position] and taking groupby(by).tail(1) (a missing key: in no group)."""
    group = np.zeros(len(candidates), dtype=np.int64)
    usable = np.ones(len(candidates), dtype=bool)
    for column in by:
        codes, uniques = pd.factorize(df[column].iloc[candidates])
        usable &= codes >= 0
        group = pd.factorize(group * (len(uniques) + 1) + codes + 1)[0]
    rank = pd.factorize(when.iloc[candidates], sort=True)[0]
    candidates, group, rank = candidates[usable], group[usable], rank[usable]
    order = np.lexsort((candidates, rank, group))
    ends = np.r_[group[order][1:] != group[order][:-1], True] if len(order) else np.zeros(0, dtype=bool)
    return candidates[order[ends]]

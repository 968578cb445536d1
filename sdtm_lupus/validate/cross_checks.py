"""Cross-dataset checks (specs/cross-checks.yaml), run by the gate with pandas.

Each check returns a boolean numpy mask of the failing records of its dataset, or a
string saying why it could not run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sdtm_lupus.distinct import map_distinct
from sdtm_lupus.specs import load_cross_checks
from sdtm_lupus.validate.results import Expectation
from sdtm_lupus.validate.wide import Factorized


def build_reviewer_expectations(datasets) -> list[Expectation]:
    config = load_cross_checks()
    present = set(datasets)
    out = []
    for name, variables in sorted(config.participation.variables.items()):
        if name not in present:
            continue
        for var in variables:
            out.append(Expectation(
                id=f"X.{name}.{var}.IN_PARTICIPATION", severity=config.participation.severity, dataset=name,
                variables=("USUBJID", var), kind="in_participation",
                rule=f"{var} lies between DM.RFICDTC and DM.RFPENDTC",
                message=f"{var} is outside the subject's participation (informed consent to end of participation)"))
    for name in config.visits.datasets:
        if name not in present:
            continue
        out.append(Expectation(
            id=f"X.{name}.VISIT.TV", severity=config.visits.severity, dataset=name, variables=("VISITNUM", "VISIT"),
            kind="visit_in_tv", rule="a scheduled VISITNUM has the VISIT of TV; one VISIT per VISITNUM",
            message="VISITNUM/VISIT disagree with the trial visits (TV) or with each other"))
        out.append(Expectation(
            id=f"X.{name}.VISIT.SV", severity=config.visits.severity, dataset=name,
            variables=("USUBJID", "VISITNUM"), kind="visit_in_sv",
            rule="every subject visit (USUBJID, VISITNUM) is in SV",
            message="a visit of the subject is missing from SV"))
    adam = config.adam
    for name in adam.in_adsl:
        if name in present:
            out.append(Expectation(
                id=f"X.{name}.USUBJID.IN_ADSL", severity=adam.severity, dataset=name, variables=("USUBJID",),
                kind="in_adsl", rule=f"every {name}.USUBJID is an ADSL.USUBJID",
                message=f"{name} has subjects that are not in ADSL"))
    for name, variables in sorted(adam.num_values.items()):
        for var, allowed in sorted(variables.items()):
            if name in present:
                out.append(Expectation(
                    id=f"{name}.{var}.VALUES", severity=adam.severity, dataset=name, variables=(var,),
                    kind="num_values", params={"value_set": list(allowed)},
                    rule=f"{var} is one of {list(allowed)}", message=f"{var} has a value outside {list(allowed)}"))
    for name, lists in sorted(adam.avalc.items()):
        if name in present:
            out.append(Expectation(
                id=f"{name}.AVALC.PARAM", severity=adam.severity, dataset=name, variables=("PARAMCD", "AVALC"),
                kind="avalc_by_param", params={"lists": {k: list(v) for k, v in lists.items()}},
                rule="AVALC is in the value list of its PARAMCD",
                message="AVALC is not in its parameter's value list"))
    return out


def _low_bound(iso) -> str | None:
    """Earliest complete date a (possibly partial) ISO date can stand for, as text."""
    if not isinstance(iso, str) or len(iso) < 4:
        return None
    day = iso[:10]
    return day + "-01-01"[len(day) - 4:]


def _high_bound(iso) -> str | None:
    """Latest complete date (as text; the day is 31 whatever the month, enough to compare)."""
    if not isinstance(iso, str) or len(iso) < 4:
        return None
    day = iso[:10]
    return day + "-12-31"[len(day) - 4:]


def in_participation(e: Expectation, df: pd.DataFrame, datasets: dict[str, pd.DataFrame], *,
                     factorized: Factorized | None = None, memo: dict | None = None) -> np.ndarray | str:
    dm = datasets.get("DM")
    if dm is None or not {"RFICDTC", "RFPENDTC"} <= set(dm.columns):
        return "DM.RFICDTC/RFPENDTC absent"
    fz, var = factorized or Factorized(df), e.variables[1]
    ref = dm.set_index("USUBJID")
    subjects = pd.Series(fz.raw_codes("USUBJID")[1], dtype=object)    # bounds per subject, then per record
    start = subjects.map(map_distinct(ref["RFICDTC"], _low_bound)).tolist()
    end = subjects.map(map_distinct(ref["RFPENDTC"], _high_bound)).tolist()
    values = fz.raw_codes(var)[1]
    low, high = [_low_bound(v) for v in values], [_high_bound(v) for v in values]
    # text compared by rank: each bound's place among all the bounds in play, the same order as "<"
    rank = {t: float(i) for i, t in enumerate(sorted({t for t in (*start, *end, *low, *high, "", "9999")
                                                     if isinstance(t, str)}))}

    def per_row(column: str, per_value: list) -> np.ndarray:
        ranks = np.array([rank.get(v, np.nan) if isinstance(v, str) else np.nan for v in per_value] + [np.nan])
        return ranks[fz.raw_codes(column)[0]]

    start_r, end_r = per_row("USUBJID", start), per_row("USUBJID", end)
    low_r, high_r = per_row(var, low), per_row(var, high)
    dated = ~np.isnan(low_r)
    early = dated & ~np.isnan(start_r) & (np.nan_to_num(high_r, nan=rank[""]) < np.nan_to_num(start_r, nan=rank[""]))
    late = dated & ~np.isnan(end_r) & (np.nan_to_num(low_r, nan=rank["9999"]) > np.nan_to_num(end_r, nan=rank["9999"]))
    return early | late


def visit_in_tv(e: Expectation, df: pd.DataFrame, datasets: dict[str, pd.DataFrame], *,
                factorized: Factorized | None = None, memo: dict | None = None) -> np.ndarray | str:
    memo = {} if memo is None else memo
    if "visit_names" not in memo:       # the same for every dataset of the run: built once
        pairs = pd.concat([d[["VISITNUM", "VISIT"]].drop_duplicates() for d in datasets.values()
                           if {"VISITNUM", "VISIT"} <= set(d.columns)]).dropna().drop_duplicates()
        memo["visit_names"] = pairs.groupby("VISITNUM")["VISIT"].nunique()
    ambiguous = df["VISITNUM"].map(memo["visit_names"]).fillna(0) > 1
    tv = datasets.get("TV")
    if tv is not None and {"VISITNUM", "VISIT"} <= set(tv.columns):
        planned = tv.drop_duplicates("VISITNUM").set_index("VISITNUM")["VISIT"]
        expected = df["VISITNUM"].map(planned)
        ambiguous |= expected.notna() & expected.ne(df["VISIT"])
    return ambiguous.to_numpy(dtype=bool)


def visit_in_sv(e: Expectation, df: pd.DataFrame, datasets: dict[str, pd.DataFrame], **_) -> np.ndarray | str:
    sv = datasets.get("SV")
    if sv is None:
        return "SV is absent"
    done = pd.MultiIndex.from_frame(sv[["USUBJID", "VISITNUM"]].dropna())
    keys = pd.MultiIndex.from_frame(df[["USUBJID", "VISITNUM"]])
    return (df["VISITNUM"].notna() & ~keys.isin(done)).to_numpy(dtype=bool)


def in_adsl(e: Expectation, df: pd.DataFrame, datasets: dict[str, pd.DataFrame], **_) -> np.ndarray | str:
    adsl = datasets.get("ADSL")
    if adsl is None:
        return "ADSL is absent"
    return (~df["USUBJID"].isin(adsl["USUBJID"])).to_numpy(dtype=bool)


def num_values(e: Expectation, df: pd.DataFrame, datasets: dict[str, pd.DataFrame], **_) -> np.ndarray | str:
    values = pd.to_numeric(df[e.variables[0]], errors="coerce")
    return (values.notna() & ~values.isin(e.params["value_set"])).to_numpy(dtype=bool)


def avalc_by_param(e: Expectation, df: pd.DataFrame, datasets: dict[str, pd.DataFrame], **_) -> np.ndarray | str:
    lists = e.params["lists"]
    bad = np.zeros(len(df), dtype=bool)
    for code, allowed in lists.items():
        bad |= (df["PARAMCD"].eq(code) & ~df["AVALC"].isin(allowed)).to_numpy(dtype=bool)
    return bad


CROSS_CHECKS = {"in_adsl": in_adsl, "num_values": num_values, "avalc_by_param": avalc_by_param,
                "in_participation": in_participation, "visit_in_tv": visit_in_tv, "visit_in_sv": visit_in_sv}

"""The first results from the ADaM datasets: endpoint rates by arm and Kaplan-Meier estimates.

Population: the full analysis set (ADSL FASFL = Y), arms by TRT01P in TRT01PN order. Binary
endpoints use the analysis records (ANL01FL = Y) of their parameter: one per subject and visit
for SRI-k and the SRI-4 components, one per subject for FLANY52 / FLSEV52 / FLMM52 / PFREE52.
With two or more arms, each arm is compared with the reference arm (the arm whose name contains
"placebo", else the last arm): difference of proportions with Newcombe's hybrid score interval
and the unstratified odds ratio with Woolf's interval, on the compared arm's row.
Files (deterministic bytes: fixed column order, fixed decimals, LF line ends):
  results/endpoints.csv, results/km.csv, results/km_median.csv.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from sdtm_lupus.results.stats import kaplan_meier, newcombe_difference, odds_ratio, wilson

BINARY_BY_VISIT = ("SRI4", "SRI5", "SRI6", "SRI7", "SRI8", "SRI4SLED", "SRI4BILG", "SRI4PGA")
BINARY_PER_SUBJECT = ("FLANY52", "FLSEV52", "FLMM52", "PFREE52")
TTE_PARAMS = ("TTFLANY", "TTFLSEV", "TTFLMM")
ENDPOINT_VARIABLES = ("PARAMCD", "PARAM", "AVISITN", "AVISIT", "TRT01P", "AVALC")

ENDPOINT_COLUMNS = ("paramcd", "param", "avisitn", "avisit", "arm", "armn", "n", "responders", "percent",
                    "ci_low", "ci_high", "reference_arm", "difference", "difference_ci_low", "difference_ci_high",
                    "odds_ratio", "odds_ratio_ci_low", "odds_ratio_ci_high")
KM_COLUMNS = ("paramcd", "param", "arm", "armn", "time", "at_risk", "events", "censored", "survival", "se",
              "ci_low", "ci_high")
MEDIAN_COLUMNS = ("paramcd", "param", "arm", "armn", "n", "events", "censored", "median", "median_ci_low",
                  "median_ci_high")


def _arms(adsl: pd.DataFrame) -> list[tuple[str, float]]:
    fas = adsl[adsl["FASFL"].eq("Y")]
    pairs = fas[["TRT01P", "TRT01PN"]].drop_duplicates()
    return sorted(((str(a), float(n)) for a, n in zip(pairs["TRT01P"], pairs["TRT01PN"])), key=lambda x: (x[1], x[0]))


def reference_arm(arms: list[str]) -> str | None:
    """The comparator: the arm named placebo, else the last arm; None with fewer than two arms."""
    if len(arms) < 2:
        return None
    return next((a for a in arms if "placebo" in a.lower()), arms[-1])


def compute_endpoints(adsl: pd.DataFrame, adeff: pd.DataFrame) -> list[dict]:
    """One row per endpoint (parameter x analysis visit) x arm, in parameter, visit, arm order."""
    arms = _arms(adsl)
    ref = reference_arm([a for a, _ in arms])
    fas = set(adsl.loc[adsl["FASFL"].eq("Y"), "USUBJID"])
    keep = adeff["USUBJID"].isin(fas) & adeff["ANL01FL"].eq("Y") \
        & adeff["PARAMCD"].isin(BINARY_BY_VISIT + BINARY_PER_SUBJECT) & adeff["AVALC"].isin(["Y", "N"])
    recs = adeff.loc[keep, list(ENDPOINT_VARIABLES)]      # only what is counted: the subsets below stay small
    by_param = dict(tuple(recs.groupby("PARAMCD", sort=False)))     # one split, not a filter per parameter
    out = []
    for paramcd in BINARY_BY_VISIT + BINARY_PER_SUBJECT:
        par = by_param.get(paramcd)
        if par is None or par.empty:
            continue
        by_visit = paramcd in BINARY_BY_VISIT
        visits = _visits(par) if by_visit else [(None, None)]
        tally = _tally(par, by_visit)
        for avisitn, avisit in visits:
            counts = {arm: tally.get((avisitn, arm) if by_visit else arm, (0, 0)) for arm, _ in arms}
            for arm, armn in arms:
                r, n = counts[arm]
                ci = wilson(r, n)
                row = {"paramcd": paramcd, "param": str(par["PARAM"].iloc[0]), "avisitn": avisitn, "avisit": avisit,
                       "arm": arm, "armn": armn, "n": n, "responders": r, "percent": 100 * r / n if n else None,
                       "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None, "reference_arm": None}
                if ref is not None and arm != ref:
                    r2, n2 = counts[ref]
                    diff, orat = newcombe_difference(r, n, r2, n2), odds_ratio(r, n, r2, n2)
                    row.update(reference_arm=ref)
                    row.update(zip(("difference", "difference_ci_low", "difference_ci_high"), diff or (None,) * 3))
                    row.update(zip(("odds_ratio", "odds_ratio_ci_low", "odds_ratio_ci_high"), orat or (None,) * 3))
                out.append(row)
    return out


def _visits(par: pd.DataFrame) -> list[tuple[float, str]]:
    """The sorted distinct (AVISITN, AVISIT) of the records, from their distinct pairs (a record
    without AVISITN is one pair of its own, as NaN equals nothing)."""
    pairs = par[["AVISITN", "AVISIT"]]
    missing = pairs["AVISITN"].isna()
    rows = pd.concat([pairs[~missing].drop_duplicates(), pairs[missing]])
    return sorted({(float(n), str(v)) for n, v in zip(rows["AVISITN"], rows["AVISIT"])})


def _tally(par: pd.DataFrame, by_visit: bool) -> dict:
    """(responders, records) by (AVISITN, TRT01P), or by TRT01P: one grouping instead of a filter per cell
    (a missing visit or arm counts nowhere, as a filter on it would find nothing)."""
    by = [par["AVISITN"], par["TRT01P"]] if by_visit else par["TRT01P"]
    table = par["AVALC"].eq("Y").groupby(by, dropna=True).agg(["sum", "size"])
    return {key: (int(r), int(n)) for key, r, n in zip(table.index, table["sum"], table["size"])}


def compute_km(adsl: pd.DataFrame, adtte: pd.DataFrame) -> tuple[list[dict], list[dict]]:
    """Kaplan-Meier per TTE parameter x arm: (the estimate table rows, the median rows)."""
    arms = _arms(adsl)
    fas = set(adsl.loc[adsl["FASFL"].eq("Y"), "USUBJID"])
    tte = adtte[adtte["USUBJID"].isin(fas) & adtte["AVAL"].notna() & adtte["CNSR"].notna()]
    table, medians = [], []
    for paramcd in TTE_PARAMS:
        par = tte[tte["PARAMCD"].eq(paramcd)]
        if par.empty:
            continue
        param = str(par["PARAM"].iloc[0])
        for arm, armn in arms:
            sel = par[par["TRT01P"].eq(arm)]
            km = kaplan_meier(sel["AVAL"].astype(float).tolist(), sel["CNSR"].astype(int).tolist())
            key = {"paramcd": paramcd, "param": param, "arm": arm, "armn": armn}
            table += [{**key, "time": r.time, "at_risk": r.at_risk, "events": r.events, "censored": r.censored,
                       "survival": r.survival, "se": r.se, "ci_low": r.lower, "ci_high": r.upper} for r in km.rows]
            medians.append({**key, "n": km.n, "events": km.events, "censored": km.n - km.events,
                            "median": km.median, "median_ci_low": km.median_lower, "median_ci_high": km.median_upper})
    return table, medians


def compute_results(datasets: dict[str, pd.DataFrame]) -> dict:
    """The results as plain JSON-able rows (also the numbers of the report's results section)."""
    adsl, adeff, adtte = datasets.get("ADSL"), datasets.get("ADEFF"), datasets.get("ADTTE")
    if adsl is None or adeff is None or adtte is None or adsl.empty:
        return {}
    km, medians = compute_km(adsl, adtte)
    return {"endpoints": compute_endpoints(adsl, adeff), "km": km, "km_median": medians}


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        value = round(value, 6)
        return str(int(value)) if value.is_integer() else f"{value:.6f}"
    return str(value)


def to_csv(rows: list[dict], columns: tuple[str, ...]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def write_results(folder: Path, results: dict) -> list[str]:
    """results/endpoints.csv, km.csv, km_median.csv; returns the relative paths written."""
    if not results:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    files = {"endpoints.csv": to_csv(results["endpoints"], ENDPOINT_COLUMNS),
             "km.csv": to_csv(results["km"], KM_COLUMNS),
             "km_median.csv": to_csv(results["km_median"], MEDIAN_COLUMNS)}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8", newline="")
    return [f"results/{name}" for name in files]

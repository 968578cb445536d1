"""Cross-dataset checks (specs/cross-checks.yaml), run by the gate with pandas.

Each check returns a boolean numpy mask of the failing records of its dataset, or a
string saying why it could not run.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from sdtm_lupus.config.loading import load_model
from sdtm_lupus.specs import SPECS_DIR
from sdtm_lupus.validate.results import Expectation


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Participation(_Strict):
    severity: str
    variables: dict[str, tuple[str, ...]]


class Visits(_Strict):
    severity: str
    datasets: tuple[str, ...]


class CrossChecks(_Strict):
    participation: Participation
    visits: Visits


@cache
def load_cross_checks(path: Path = SPECS_DIR / "cross-checks.yaml") -> CrossChecks:
    return load_model(path, CrossChecks)


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
    return out


def _bounds(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Earliest and latest complete date a (possibly partial) ISO date can stand for, as text."""
    text = values.astype(object).where(values.notna(), None)
    low = text.map(lambda v: (v[:10] + "-01-01"[len(v[:10]) - 4:]) if isinstance(v, str) and len(v) >= 4 else None)
    high = text.map(lambda v: (v[:10] + "-12-31"[len(v[:10]) - 4:]) if isinstance(v, str) and len(v) >= 4 else None)
    return low, high


def in_participation(e: Expectation, df: pd.DataFrame, datasets: dict[str, pd.DataFrame]) -> np.ndarray | str:
    dm = datasets.get("DM")
    if dm is None or not {"RFICDTC", "RFPENDTC"} <= set(dm.columns):
        return "DM.RFICDTC/RFPENDTC absent"
    var = e.variables[1]
    ref = dm.set_index("USUBJID")
    start, _ = _bounds(df["USUBJID"].map(ref["RFICDTC"]))
    _, end = _bounds(df["USUBJID"].map(ref["RFPENDTC"]))
    low, high = _bounds(df[var])
    early = low.notna() & start.notna() & (high.fillna("") < start.fillna(""))
    late = low.notna() & end.notna() & (low.fillna("9999") > end.fillna("9999"))
    return (early | late).to_numpy(dtype=bool)


def visit_in_tv(e: Expectation, df: pd.DataFrame, datasets: dict[str, pd.DataFrame]) -> np.ndarray | str:
    pairs = pd.concat([d[["VISITNUM", "VISIT"]] for d in datasets.values()
                       if {"VISITNUM", "VISIT"} <= set(d.columns)]).dropna().drop_duplicates()
    names_per_num = pairs.groupby("VISITNUM")["VISIT"].nunique()
    ambiguous = df["VISITNUM"].map(names_per_num).fillna(0) > 1
    tv = datasets.get("TV")
    if tv is not None and {"VISITNUM", "VISIT"} <= set(tv.columns):
        planned = tv.drop_duplicates("VISITNUM").set_index("VISITNUM")["VISIT"]
        expected = df["VISITNUM"].map(planned)
        ambiguous |= expected.notna() & expected.ne(df["VISIT"])
    return ambiguous.to_numpy(dtype=bool)


def visit_in_sv(e: Expectation, df: pd.DataFrame, datasets: dict[str, pd.DataFrame]) -> np.ndarray | str:
    sv = datasets.get("SV")
    if sv is None:
        return "SV is absent"
    done = pd.MultiIndex.from_frame(sv[["USUBJID", "VISITNUM"]].dropna())
    keys = pd.MultiIndex.from_frame(df[["USUBJID", "VISITNUM"]])
    return (df["VISITNUM"].notna() & ~keys.isin(done)).to_numpy(dtype=bool)


CROSS_CHECKS = {"in_participation": in_participation, "visit_in_tv": visit_in_tv, "visit_in_sv": visit_in_sv}

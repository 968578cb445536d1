"""SUPP-- datasets: collected items that have no standard variable in their parent domain."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sdtm_lupus.sdtm.map_context import FILE, SRCROW


@dataclass(frozen=True)
class Qualifier:
    qnam: str            # <= 8 characters
    qlabel: str          # <= 40 characters
    column: str          # column of the parent frame holding the value
    qorig: str = "CRF"
    qeval: str | None = None


def build_supp(parent: pd.DataFrame, domain: str, qualifiers: list[Qualifier], idvar: str | None) -> pd.DataFrame:
    """One SUPP record per parent record and qualifier with a non-missing value.

    parent: the finished parent domain rows (USUBJID, idvar, provenance and the qualifier
    columns). idvar None links to the subject (SUPPDM); otherwise e.g. "AESEQ".
    """
    frames = []
    for q in qualifiers:
        value = parent[q.column]
        keep = value.notna() & value.astype(str).ne("")
        rows = parent[keep]
        if rows.empty:
            continue
        frames.append(pd.DataFrame({
            "STUDYID": rows["STUDYID"].to_numpy(),
            "RDOMAIN": domain,
            "USUBJID": rows["USUBJID"].to_numpy(),
            "IDVAR": idvar,
            "IDVARVAL": None if idvar is None else rows[idvar].map(_idvarval).to_numpy(),
            "QNAM": q.qnam,
            "QLABEL": q.qlabel,
            "QVAL": value[keep].astype(str).to_numpy(),
            "QORIG": q.qorig,
            "QEVAL": q.qeval,
            FILE: rows[FILE].to_numpy() if FILE in rows else None,
            SRCROW: rows[SRCROW].to_numpy() if SRCROW in rows else None,
        }))
    columns = ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG", "QEVAL",
               FILE, SRCROW]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _idvarval(value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)

"""R3.2 BILAG-2004: new A / new B against baseline, numeric scores (derivations.md R3.2).

"BILAG grades A-E per organ system; *new A* in a system: grade A now and not A at
baseline; *new B*: grade B now and C, D or E at baseline. A system with no grade at the
occasion or at baseline makes the BILAG component not evaluable."
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

from sdtm_lupus.adam.rules.tables import assert_columns
from sdtm_lupus.distinct import map_distinct

# The nine BILAG-2004 systems in export order.
BILAG_SYSTEMS: tuple[str, ...] = ("CONST", "MUCOCUT", "NEURO", "MUSCULO", "CARDRESP", "GASTRO", "OPHTHAL", "RENAL", "HAEM")
BILAG_GRADES: tuple[str, ...] = ("A", "B", "C", "D", "E")

# BILAG-2004 numeric conversion (Yee 2010; lupus-endpoints.md §2.3).
BILAG_NUMERIC: Mapping[str, int] = MappingProxyType({"A": 12, "B": 8, "C": 1, "D": 0, "E": 0})


def normalise_grade(value: object) -> str | None:
    """A grade "A".."E" (case and surrounding blanks ignored) or None when not graded.

    Any other value is not a grade: ValueError (grades are controlled terminology by the
    time they reach ADaM, so another value is an upstream defect, never silently dropped).
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip().upper()
    if text == "":
        return None
    if text not in BILAG_GRADES:
        raise ValueError(f"BILAG grade {value!r} is not one of A-E")
    return text


def _grades(frame: pd.DataFrame) -> pd.DataFrame:
    """normalise_grade of every cell (once per distinct value of each system: grades repeat)."""
    return pd.DataFrame({s: map_distinct(frame[s], normalise_grade) for s in BILAG_SYSTEMS}, index=frame.index)


def compute_bilag_complete(grades: pd.DataFrame) -> pd.Series:
    """R2.1 / R3.2: True where all nine systems are graded (a BILAG assessment is non-missing)."""
    assert_columns(grades, BILAG_SYSTEMS, "compute_bilag_complete")
    g = _grades(grades)
    return g.notna().all(axis=1).astype(bool)


def compute_bilag_new(grades: pd.DataFrame, baseline_grades: pd.DataFrame) -> pd.DataFrame:
    """R3.2: BILNEWA / BILNEWB counts and BILEVAL per row.

    `baseline_grades` holds, on the same index as `grades`, the subject's baseline grade of
    each system (baseline.derive_var_base gives it). BILEVAL is False when any system lacks a
    grade now or at baseline; the counts are then <NA> (not evaluable, never 0).
    """
    assert_columns(grades, BILAG_SYSTEMS, "compute_bilag_new: grades")
    assert_columns(baseline_grades, BILAG_SYSTEMS, "compute_bilag_new: baseline_grades")
    if not grades.index.equals(baseline_grades.index):
        raise ValueError("compute_bilag_new: grades and baseline_grades must share one index")
    now, base = _grades(grades), _grades(baseline_grades)
    evaluable = (now.notna() & base.notna()).all(axis=1)
    new_a = sum((now[s] == "A") & (base[s] != "A") for s in BILAG_SYSTEMS)
    new_b = sum((now[s] == "B") & base[s].isin(["C", "D", "E"]) for s in BILAG_SYSTEMS)
    out = pd.DataFrame({
        "BILNEWA": pd.Series(new_a, index=grades.index).astype("Int64"),
        "BILNEWB": pd.Series(new_b, index=grades.index).astype("Int64"),
        "BILEVAL": evaluable.astype(bool),
    }, index=grades.index)
    out.loc[~evaluable, ["BILNEWA", "BILNEWB"]] = pd.NA
    return out


def compute_bilag_numeric(grades: pd.DataFrame) -> pd.DataFrame:
    """BILAG-2004 numeric score per system (A=12, B=8, C=1, D=0, E=0), Int64, <NA> when not graded."""
    assert_columns(grades, BILAG_SYSTEMS, "compute_bilag_numeric")
    g = _grades(grades)
    return pd.DataFrame({s: g[s].map(BILAG_NUMERIC).astype("Int64") for s in BILAG_SYSTEMS}, index=grades.index)


def compute_bilag_global(grades: pd.DataFrame) -> pd.Series:
    """BILAG-2004 global score (sum over the nine systems, 0-108); <NA> unless all nine are graded."""
    numeric = compute_bilag_numeric(grades)
    total = numeric.sum(axis=1, skipna=True).astype("Int64")
    return total.where(numeric.notna().all(axis=1), pd.NA).rename("BILGLOB")

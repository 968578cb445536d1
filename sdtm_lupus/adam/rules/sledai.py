"""R3.1 SELENA-SLEDAI total from the 24 descriptors (derivations.md R3.1).

"SELENA-SLEDAI total = sum of the weights of the descriptors marked 1. ... The derived
total is the analysis value; `SITETOT` disagreeing is a QC finding, never an override."

The weights are instrument knowledge kept in `specs/instruments.yaml` (form `sledai`,
checkbox items with `weight`). They are read from there when that file carries the
SELENA-SLEDAI instrument; otherwise the R3.1 table below is used. A file that carries the
instrument but disagrees with R3.1 (other columns, other weights) is a configuration error:
derivations.md wins over any spec, so it is raised, never silently preferred or ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from sdtm_lupus.adam.rules.tables import assert_columns
from sdtm_lupus.config.loading import ConfigError, read_yaml
from sdtm_lupus.specs import SPECS_DIR

# The 24 descriptors in export (and instrument) order.
SLEDAI_DESCRIPTORS: tuple[str, ...] = (
    "SEIZURE", "PSYCHOSIS", "ORGBRAIN", "VISUAL", "CRANIAL", "LUPUSHA", "CVA", "VASCULIT",
    "ARTHRIT", "MYOSITIS", "UCASTS", "HEMATUR", "PROTEIN", "PYURIA",
    "RASH", "ALOPECIA", "MUCOSAL", "PLEURISY", "PERICARD", "LOWCOMP", "DNABIND",
    "FEVER", "THROMBO", "LEUKOPEN",
)

# R3.1 weights, as written in derivations.md (8 / 4 / 2 / 1 lists).
R31_WEIGHTS: Mapping[str, int] = MappingProxyType({
    **dict.fromkeys(("SEIZURE", "PSYCHOSIS", "ORGBRAIN", "VISUAL", "CRANIAL", "LUPUSHA", "CVA", "VASCULIT"), 8),
    **dict.fromkeys(("ARTHRIT", "MYOSITIS", "UCASTS", "HEMATUR", "PROTEIN", "PYURIA"), 4),
    **dict.fromkeys(("RASH", "ALOPECIA", "MUCOSAL", "PLEURISY", "PERICARD", "LOWCOMP", "DNABIND"), 2),
    **dict.fromkeys(("FEVER", "THROMBO", "LEUKOPEN"), 1),
})

INSTRUMENTS_FILE = SPECS_DIR / "instruments.yaml"


def load_descriptor_weights(path: Path = INSTRUMENTS_FILE) -> Mapping[str, int]:
    """Descriptor weights from the instruments spec (the `sledai` form's checkbox items).

    No file, or no `sledai` instrument in it -> the R3.1 table. An instrument that does not
    list exactly the 24 descriptors with the R3.1 weights -> ConfigError.
    """
    if not Path(path).exists():
        return R31_WEIGHTS
    data = read_yaml(path)
    instruments = data.get("instruments", []) if isinstance(data, dict) else []
    sledai = next((i for i in instruments if isinstance(i, dict) and i.get("form") == "sledai"), None)
    if sledai is None:
        return R31_WEIGHTS
    weights = {item.get("column"): item.get("weight") for item in sledai.get("items", [])
               if isinstance(item, dict) and item.get("kind") == "checkbox"}
    if weights != dict(R31_WEIGHTS):
        differ = sorted(set(weights) ^ set(R31_WEIGHTS)) + sorted(
            c for c in set(weights) & set(R31_WEIGHTS) if weights[c] != R31_WEIGHTS[c])
        raise ConfigError(f"{path}: SELENA-SLEDAI checkbox weights disagree with derivations.md R3.1 "
                          f"(columns {differ})")
    return MappingProxyType({c: int(weights[c]) for c in SLEDAI_DESCRIPTORS})


DESCRIPTOR_WEIGHTS: Mapping[str, int] = load_descriptor_weights()


def _marked(items: pd.DataFrame) -> pd.DataFrame:
    """Descriptor checkboxes as plain bools: an empty box (NA) is not marked (checkbox convention)."""
    return pd.DataFrame({c: items[c].astype("boolean").fillna(False).astype(bool) for c in SLEDAI_DESCRIPTORS},
                        index=items.index)


def compute_sledai_total(items_frame: pd.DataFrame) -> pd.Series:
    """R3.1: sum of the weights of the marked descriptors (int, 0-105); SITETOT is never used."""
    assert_columns(items_frame, SLEDAI_DESCRIPTORS, "compute_sledai_total")
    marked = _marked(items_frame)
    total = sum(marked[c].astype("int64") * DESCRIPTOR_WEIGHTS[c] for c in SLEDAI_DESCRIPTORS)
    return pd.Series(total, index=items_frame.index, dtype="int64", name="SLEDAI")


def compute_sitetot_disagrees(sledai_total: pd.Series, sitetot: pd.Series) -> pd.Series:
    """R3.1 QC: True where the site's SITETOT is present and differs from the derived total.

    An empty SITETOT is not a disagreement (the caller may report it separately).
    """
    site = pd.to_numeric(sitetot, errors="coerce")
    derived = pd.to_numeric(sledai_total, errors="coerce")
    return (site.notna() & derived.notna() & (site != derived)).astype(bool)

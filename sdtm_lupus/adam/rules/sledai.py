"""R3.1 SELENA-SLEDAI total from the 24 descriptors (derivations.md R3.1).

"SELENA-SLEDAI total = sum of the weights of the descriptors marked 1. ... The derived
total is the analysis value; `SITETOT` disagreeing is a QC finding, never an override."

The weights are instrument knowledge defined once, in `specs/instruments.yaml` (form
`sledai`, checkbox items with `weight`), read through `sdtm_lupus.specs.sledai_weights`
when a total is first computed (tests pin them against the R3.1 text). A spec whose
checkbox items are not exactly the 24 descriptors is a configuration error.

The SITETOT QC (derived total vs the site's total) is reported by the SDTM stage
(QC-SLEDAI-SITETOT, sdtm/qs.py), not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

from sdtm_lupus.adam.rules.tables import assert_columns
from sdtm_lupus.config.loading import ConfigError
from sdtm_lupus.specs import sledai_weights

# The 24 descriptors in export (and instrument) order.
SLEDAI_DESCRIPTORS: tuple[str, ...] = (
    "SEIZURE", "PSYCHOSIS", "ORGBRAIN", "VISUAL", "CRANIAL", "LUPUSHA", "CVA", "VASCULIT",
    "ARTHRIT", "MYOSITIS", "UCASTS", "HEMATUR", "PROTEIN", "PYURIA",
    "RASH", "ALOPECIA", "MUCOSAL", "PLEURISY", "PERICARD", "LOWCOMP", "DNABIND",
    "FEVER", "THROMBO", "LEUKOPEN",
)


def descriptor_weights(weights: Mapping[str, int] | None = None) -> Mapping[str, int]:
    """The weight of each descriptor: `weights`, else the spec's (specs.sledai_weights).
    Weights that do not name exactly the 24 descriptors -> ConfigError."""
    weights = sledai_weights() if weights is None else weights
    if set(weights) != set(SLEDAI_DESCRIPTORS):
        differ = sorted(set(weights) ^ set(SLEDAI_DESCRIPTORS))
        raise ConfigError(f"SELENA-SLEDAI weights must name the 24 descriptors of R3.1 (columns {differ})")
    return MappingProxyType({c: int(weights[c]) for c in SLEDAI_DESCRIPTORS})


def _marked(items: pd.DataFrame) -> pd.DataFrame:
    """Descriptor checkboxes as plain bools: an empty box (NA) is not marked (checkbox convention)."""
    return pd.DataFrame({c: items[c].astype("boolean").fillna(False).astype(bool) for c in SLEDAI_DESCRIPTORS},
                        index=items.index)


def compute_sledai_total(items_frame: pd.DataFrame, weights: Mapping[str, int] | None = None) -> pd.Series:
    """R3.1: sum of the weights of the marked descriptors (int, 0-105); SITETOT is never used.
    weights: descriptor -> weight; None = the spec's (descriptor_weights)."""
    assert_columns(items_frame, SLEDAI_DESCRIPTORS, "compute_sledai_total")
    use = descriptor_weights(weights)
    marked = _marked(items_frame)
    total = sum(marked[c].astype("int64") * use[c] for c in SLEDAI_DESCRIPTORS)
    return pd.Series(total, index=items_frame.index, dtype="int64", name="SLEDAI")


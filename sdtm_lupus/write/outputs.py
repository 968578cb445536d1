"""Datasets + specs -> XPT files in a folder (metadata from specs, bytes from xpt.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sdtm_lupus.specs import PROVENANCE, DatasetSpec
from sdtm_lupus.write.xpt import XptDataset, XptVariable, write_xpt


def xpt_metadata(spec: DatasetSpec) -> XptDataset:
    return XptDataset(
        name=spec.dataset,
        label=spec.label,
        variables=tuple(
            XptVariable(v.name, v.label, v.type, v.format if v.type == "Num" else None) for v in spec.variables
        ),
    )


def write_datasets(folder: Path, datasets: dict[str, pd.DataFrame], specs: dict[str, DatasetSpec]) -> dict[str, str]:
    """Write each dataset as <folder>/<name lower case>.xpt; returns name -> relative file path."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, df in sorted(datasets.items()):
        path = folder / f"{name.lower()}.xpt"
        write_xpt(df.drop(columns=[c for c in PROVENANCE if c in df]), path, xpt_metadata(specs[name]))
        written[name] = path.name
    return written

"""Submission metadata beside the XPT files of one folder (OUT/sdtm or OUT/adam).

define.xml + define2-1.xsl + define.html always; <dataset>.json (Dataset-JSON 1.1) when the run
asks for the "json" format. Both are generated from the same DefineMeta (sdtm_lupus.describe builds it).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sdtm_lupus.distinct import forget_factorisations
from sdtm_lupus.write import background
from sdtm_lupus.write.define_model import DefineMeta

FORMATS = ("xpt", "json")


def parse_formats(text: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """'xpt,json' -> ('xpt', 'json'); XPT is always written."""
    if text is None:
        return ("xpt",)
    parts = [p.strip().lower() for p in (text.split(",") if isinstance(text, str) else text) if p.strip()]
    unknown = [p for p in parts if p not in FORMATS]
    if unknown:
        raise ValueError(f"unknown output format(s) {unknown}: choose from {', '.join(FORMATS)}")
    return tuple(f for f in FORMATS if f in parts or f == "xpt")


def write_submission_files(folder: Path, meta: DefineMeta, datasets: dict[str, pd.DataFrame], *,
                           formats: tuple[str, ...] = ("xpt",),
                           text_datasets: dict[str, pd.DataFrame] | None = None) -> dict[str, object]:
    """Write the define (and Dataset-JSON) of the datasets written to `folder`; returns the files written."""
    from sdtm_lupus.write.dataset_json import write_dataset_json
    from sdtm_lupus.write.define import write_define

    files: dict[str, object] = dict(write_define(folder, meta))
    if "json" in formats:
        text = {name: (text_datasets or {}).get(name, frame) for name, frame in datasets.items()}
        files["json"] = write_dataset_json(folder, meta, text)
    background.wait()       # the XPT files of the folder are complete before anyone reads them
    forget_factorisations()     # and its columns are described: their codes need not stay in memory
    return files

"""Write a tiny raw export (reference layout CSV) to disk for end-to-end tests."""

from __future__ import annotations

import csv
from pathlib import Path

from sdtm_lupus.config.study import load_study
from sdtm_lupus.specs import load_raw_layout
from tests.paths import STUDIES


def write_export(folder: Path, study: str, rows: dict[str, list[dict]], encoding: str = "utf-8") -> Path:
    """One CSV per form of the study; forms without rows get a header only."""
    layout = load_raw_layout()
    folder.mkdir(parents=True, exist_ok=True)
    for form in load_study(STUDIES / f"{study}.yaml").forms:
        columns = layout.columns(form)
        with open(folder / f"{form}.csv", "w", encoding=encoding, newline="") as fh:
            writer = csv.DictWriter(fh, columns)
            writer.writeheader()
            for row in rows.get(form, []):
                writer.writerow({"STUDYID": study} | row)
    return folder

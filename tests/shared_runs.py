"""Converted fixture outputs shared by the whole test session: each fixture study's CSV export is
converted once (with --format xpt,json and a fixed --created) and read by many modules.

The outputs are read-only for the tests that share them: a test that changes files converts its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sdtm_lupus import api
from tests.paths import FIXTURES, STUDIES

# convert --created: runs compared byte for byte share one creation time
CREATED = "2025-06-30T08:00:00"
FORMATS = ("xpt", "json")


@dataclass
class Run:
    name: str
    raw: Path
    study: Path
    out: Path
    result: api.ConvertResult


def convert_run(root: Path, name: str, raw: Path, study: str, formats=FORMATS) -> Run:
    out = root / name
    result = api.convert(raw, STUDIES / f"{study}.yaml", out, formats=formats, created=CREATED)
    assert result.exit_code == 0, result.report["gate"]["summary"]
    return Run(name, raw, STUDIES / f"{study}.yaml", out, result)


class FixtureRuns:
    """study id -> Run of its fixtures/<study>/csv export, converted on first use."""

    def __init__(self, root: Path):
        self.root, self._runs = root, {}

    def __getitem__(self, study: str) -> Run:
        if study not in self._runs:
            self._runs[study] = convert_run(self.root, study, FIXTURES / study / "csv", study)
        return self._runs[study]

"""Converted outputs shared by the define.xml and Dataset-JSON tests (one convert per run, per session)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sdtm_lupus import api
from tests.paths import FIXTURES, STUDIES

SIMULATED_SUBJECTS = 300
# convert --created: the runs compared byte for byte (json vs xpt-only) share one creation time
CREATED = "2025-06-30T08:00:00"


@dataclass
class Run:
    name: str
    raw: Path
    study: Path
    out: Path
    result: api.ConvertResult


def _convert(root: Path, name: str, raw: Path, study: str, formats=("xpt", "json")) -> Run:
    out = root / name
    result = api.convert(raw, STUDIES / f"{study}.yaml", out, formats=formats, created=CREATED)
    assert result.exit_code == 0, result.report["gate"]["summary"]
    return Run(name, raw, STUDIES / f"{study}.yaml", out, result)


@pytest.fixture(scope="session")
def submission_runs(tmp_path_factory) -> dict[str, Run]:
    """Both fixture studies and a 300-subject simulated export, converted with --format xpt,json."""
    root = tmp_path_factory.mktemp("submission")
    sim = root / "sim-export"
    api.simulate_export("NCT04515719", SIMULATED_SUBJECTS, 11, sim)
    runs = [_convert(root, "NCT04515719", FIXTURES / "NCT04515719" / "csv", "NCT04515719"),
            _convert(root, "NCT04893161", FIXTURES / "NCT04893161" / "csv", "NCT04893161"),
            _convert(root, f"sim{SIMULATED_SUBJECTS}", sim, "NCT04515719")]
    return {run.name: run for run in runs}


@pytest.fixture(scope="session")
def xpt_only_run(tmp_path_factory) -> Run:
    """NCT04893161 again with the default format (XPT only): same define, no JSON."""
    return _convert(tmp_path_factory.mktemp("xpt-only"), "NCT04893161", FIXTURES / "NCT04893161" / "csv",
                    "NCT04893161", formats=("xpt",))


RUN_NAMES = ["NCT04515719", "NCT04893161", f"sim{SIMULATED_SUBJECTS}"]

"""Converted outputs shared by the define.xml and Dataset-JSON tests (one convert per run, per session)."""

from __future__ import annotations

import pytest

from sdtm_lupus import api
from tests.paths import FIXTURES
from tests.shared_runs import CREATED, Run, convert_run

__all__ = ["CREATED", "RUN_NAMES", "Run", "submission_runs", "xpt_only_run"]

SIMULATED_SUBJECTS = 300


@pytest.fixture(scope="session")
def submission_runs(tmp_path_factory, fixture_runs) -> dict[str, Run]:
    """Both fixture studies (the session's shared runs) and a 300-subject simulated export, converted
    with --format xpt,json."""
    root = tmp_path_factory.mktemp("submission")
    sim = root / "sim-export"
    api.simulate_export("NCT04515719", SIMULATED_SUBJECTS, 11, sim)
    runs = [fixture_runs["NCT04515719"], fixture_runs["NCT04893161"],
            convert_run(root, f"sim{SIMULATED_SUBJECTS}", sim, "NCT04515719")]
    return {run.name: run for run in runs}


@pytest.fixture(scope="session")
def xpt_only_run(tmp_path_factory) -> Run:
    """NCT04893161 again with the default format (XPT only): same define, no JSON."""
    return convert_run(tmp_path_factory.mktemp("xpt-only"), "NCT04893161", FIXTURES / "NCT04893161" / "csv",
                       "NCT04893161", formats=("xpt",))


RUN_NAMES = ["NCT04515719", "NCT04893161", f"sim{SIMULATED_SUBJECTS}"]

"""Simulated exports through convert: clean ones pass, planted fatal defects are named."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sdtm_lupus import api
from sdtm_lupus.cli import main
from sdtm_lupus.findings import InputError
from tests.paths import STUDIES


@pytest.mark.parametrize("study", ["NCT04515719", "NCT04893161"])
@pytest.mark.parametrize("transport", ["csv", "odm"])
def test_simulated_export_converts_cleanly(tmp_path, study, transport):
    summary = api.simulate_export(study, 40, 7, tmp_path / "raw", transport=transport)
    result = api.convert(tmp_path / "raw", STUDIES / f"{study}.yaml", tmp_path / "out")
    assert result.exit_code == 0
    assert result.datasets["DM"] == summary.subjects == 40
    assert result.datasets["EX"] == summary.rows["dosing"] - len(
        [f for f in result.findings if f.rule == "EX-NOT-GIVEN"])


@pytest.mark.parametrize("kind, rule", [
    ("missing-enrol", "READ-MISSING-FILE"),
    ("empty-file", "READ-EMPTY-FILE"),
    ("truncated-file", "READ-TRUNCATED"),
    ("wrong-encoding", "READ-ENCODING"),
    ("impossible-date", "MAP-DATE"),
    ("orphan-subject", "MAP-SUBJECT-NOT-ENROLLED"),
    ("manifest-mismatch", "MANIFEST-MISMATCH"),
])
def test_planted_fatal_defect_is_reported_where_it_was_planted(tmp_path, kind, rule):
    summary = api.simulate_export("NCT04515719", 12, 5, tmp_path / "raw", inject=(kind,))
    planted = summary.planted(kind)[0]
    with pytest.raises(InputError) as err:
        api.convert(tmp_path / "raw", STUDIES / "NCT04515719.yaml", tmp_path / "out")
    hits = [f for f in err.value.findings if f.rule == rule]
    assert hits, [f.text() for f in err.value.findings]
    assert hits[0].file == planted.file
    if rule in ("MAP-DATE", "MAP-SUBJECT-NOT-ENROLLED"):
        assert (hits[0].row, hits[0].variable) == (planted.row, planted.column)
    assert not (tmp_path / "out").exists()


def test_simulate_cli_is_deterministic(tmp_path):
    for name in ("a", "b"):
        result = CliRunner().invoke(main, ["simulate", "--study", "NCT04893161", "--subjects", "5", "--seed", "9",
                                           "--out", str(tmp_path / name), "-q"])
        assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "enrol.csv" in files and "manifest.json" in files
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)

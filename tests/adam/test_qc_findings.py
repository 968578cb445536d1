"""Issue 18: the ADaM QC rules reach validation.json (a converted export with the condition shows the finding)."""

from __future__ import annotations

import json

from sdtm_lupus import api
from sdtm_lupus.validate.reports.model import FINDING_RULE_TEXT
from tests.export_builder import write_export
from tests.paths import STUDIES
from tests.results.test_golden_subject import STUDY, USUBJID, golden_rows


def convert(tmp_path, rows) -> list[dict]:
    raw = write_export(tmp_path / "raw", STUDY, rows)
    result = api.convert(raw, STUDIES / f"{STUDY}.yaml", tmp_path / "out", created="2025-01-01T00:00:00")
    return json.loads((result.out_dir / "validation.json").read_text(encoding="utf-8"))["findings"]


def test_prebaseline_crf_flare_and_unusable_dose_are_reported(tmp_path):
    rows = golden_rows()
    rows["flare"][0] |= {"FLARE": "Severe", "SV_NEWWORSE": "1"}          # a flare called on the baseline occasion
    rows["cm"].append(rows["cm"][0] | {"CMSPID": "2", "CMDOSE": "", "CMSTDAT": "01-JUN-2021",  # no dose: adds 0 mg
                                       "CMENDAT": "10-JUN-2021"})
    findings = convert(tmp_path, rows)
    pre = [f for f in findings if f["rule"] == "QC-FLARE-PREBASELINE"]
    assert [(f["usubjid"], f["value"], f["dataset"]) for f in pre] == [(USUBJID, "SEVERE", "ADEFF")]
    assert "2021-03-05" in pre[0]["message"]
    dose = [f for f in findings if f["rule"] == "QC-DOSE-UNUSABLE"]
    assert [(f["usubjid"], f["variable"], f["severity"]) for f in dose] == [(USUBJID, "CMDOSE", "warning")]
    assert "CMDOSE MISSING" in dose[0]["message"] and "CMSEQ 2" in dose[0]["message"]
    assert {"QC-FLARE-PREBASELINE", "QC-DOSE-UNUSABLE"} <= set(FINDING_RULE_TEXT)


def test_clean_export_has_neither_finding(tmp_path):
    findings = convert(tmp_path, golden_rows())
    assert not {"QC-FLARE-PREBASELINE", "QC-DOSE-UNUSABLE"} & {f["rule"] for f in findings}

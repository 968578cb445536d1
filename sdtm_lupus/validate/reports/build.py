"""validation.json: the one report of a run, from which validation.html and validation.xlsx are rendered."""

from __future__ import annotations

import pandas as pd

from sdtm_lupus import __version__
from sdtm_lupus.config.study import Study
from sdtm_lupus.specs import ADAM_STANDARD, SDTM_STANDARD, Specs


def build_report(study: Study, mapping_name: str, specs: Specs, source: dict, datasets: dict[str, pd.DataFrame],
                 ctx, gate, fail_on: str) -> dict:
    """validation.json: deterministic (no wall-clock time, no absolute paths).

    source: {"transport", "files": [{"path", "bytes", "sha256"}]} of the export; ctx: the map stage's
    context (findings, reconciliation, deferred forms); gate: the GateResult."""
    blocking = gate.blocking(fail_on)
    return {
        "tool": {"name": "sdtm-lupus", "version": __version__},
        "study": study.studyid,
        "standards": {"sdtm": SDTM_STANDARD, "adam": ADAM_STANDARD,
                      "ct": f"{specs.terminology.package} {specs.terminology.version}"},
        "rule_parameters": {"values": study.rules.model_dump(), "overrides": study.rule_overrides()},
        "mapping": mapping_name,
        "input": source,
        "status": "failed" if blocking else "passed",
        "fail_on": fail_on,
        "datasets": {name: {"records": len(df), "label": specs.dataset(name).label}
                     for name, df in sorted(datasets.items())},
        "reconciliation": {"forms": ctx.reconciliation,
                           "deferred_forms": sorted(ctx.deferred)},
        "gate": gate.to_dict(),
        "findings": [f.to_dict() for f in ctx.findings],
    }

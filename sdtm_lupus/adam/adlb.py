"""ADLB: BDS records per subject x lab parameter x record (derivations.md R10), from SDTM LB only."""

from __future__ import annotations

import pandas as pd

from sdtm_lupus.adam.rules.lab import (
    compute_lab_records,
    derive_param_dnaxuln,
    derive_param_lab,
    derive_var_ablfl_lab,
    derive_var_ady_lab,
    derive_var_anl01fl_lab,
    derive_var_avisit_lab,
    derive_var_base_chg,
)
from sdtm_lupus.specs import LabTests


def text_only_tests(defs: LabTests) -> list[tuple[str, str | None]]:
    """(LBTESTCD, LBMETHOD) of the definitions whose results are terms only (R10.1: no parameter)."""
    return [(t.testcd, t.method) for t in defs.tests.values() if t.qualitative]


def build_adlb(lb: pd.DataFrame | None, adsl: pd.DataFrame, defs: LabTests) -> pd.DataFrame:
    """ADLB records of the ADSL subjects (unsorted; derive.finish sorts and numbers them)."""
    if lb is None or lb.empty:
        return pd.DataFrame()
    lab = compute_lab_records(lb[lb["USUBJID"].isin(adsl["USUBJID"])], text_only_tests(defs))
    records = pd.concat([derive_param_lab(lab), derive_param_dnaxuln(lab)], ignore_index=True)
    trtsdt = adsl.set_index("USUBJID")["TRTSDT"]
    records["ADY"] = derive_var_ady_lab(records, trtsdt)
    records["ABLFL"] = derive_var_ablfl_lab(records, trtsdt)
    records[["BASE", "CHG", "PCHG"]] = derive_var_base_chg(records, records["ABLFL"], records["ADY"].gt(1))
    records["AVISIT"], records["AVISITN"] = derive_var_avisit_lab(records, records["ABLFL"], records["ADY"])
    records["ANL01FL"] = derive_var_anl01fl_lab(records)
    return records

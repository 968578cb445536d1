"""OUT/reviewers-guide.md and .html: generated from the run (cSDRG shape), conformance explanations from specs."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from sdtm_lupus.describe.reviewers_guide import conformance_rows, matching
from sdtm_lupus.specs.conformance import Condition, load_explanations
from sdtm_lupus.write.xpt import read_xpt
from tests.write.submission_runs import CREATED


def test_guide_written_in_both_forms_with_run_standards_and_datasets(submission_runs):
    run = submission_runs["NCT04515719"]
    md = (run.out / "reviewers-guide.md").read_text(encoding="utf-8")
    page = (run.out / "reviewers-guide.html").read_text(encoding="utf-8")
    for heading in ("1. Introduction", "2. Protocol description", "3. Data standards and dictionaries", "4. Datasets",
                    "5. Data conformance", "6. Data handling policies", "7. Derivations in force"):
        assert f"## {heading}" in md and f"<h2>{heading}</h2>" in page
    assert CREATED in md and "| CDISC controlled terminology (SDTM CT) | 2025-03-28 |" in md
    assert "| SDTMIG | 3.4 |" in md
    records = {name: n["records"] for name, n in run.result.report["datasets"].items()}
    assert f"| QS | Questionnaires | FINDINGS | {records['QS']} |" in md
    assert "Study setting non_ascii: escape" in md and "Partial dates" in md
    assert "flare_pga_rise" in md                         # the rule parameters in force


def test_conformance_section_counts_the_records_of_the_run(submission_runs):
    run = submission_runs["NCT04515719"]
    lb, _ = read_xpt(run.out / "sdtm" / "lb.xpt")
    censored = int(lb["LBORRES"].astype(str).str.match(r"^[<>]").sum())
    assert censored > 0
    md = (run.out / "reviewers-guide.md").read_text(encoding="utf-8")
    assert re.search(rf"\| CORE-000289, CORE-000290, CORE-000298, CORE-000299 \| LB \| {censored} \|", md)
    assert "| CORE-000024 | AE |" in md                   # the export carries no MedDRA codes
    assert "CORE-000031" not in md                         # fixed (QSEVAL dropped), not explained


@pytest.mark.parametrize("cond, expected", [
    ({"variable": "X", "matches": "^[<>]"}, [True, True, False, False]),
    ({"variable": "X", "equals": "1.5"}, [False, False, True, False]),
    ({"variable": "X", "empty": True}, [False, False, False, True]),
    ({"variable": "X", "empty": False, "and": {"variable": "Y", "equals": "b"}}, [False, True, False, False]),
    ({"variable": "Z", "empty": True}, [False, False, False, False]),     # a variable the dataset lacks
])
def test_explanation_conditions(cond, expected):
    df = pd.DataFrame({"X": ["<3.13", ">800", "1.5", None], "Y": ["a", "b", "a", "b"]})
    assert matching(df, Condition.model_validate(cond)).tolist() == expected


def test_an_explanation_is_listed_only_when_it_applies():
    dm = pd.DataFrame({"ETHNIC": ["NOT HISPANIC OR LATINO", "NOT REPORTED"]})
    assert [r[:3] for r in conformance_rows({"DM": dm})] == [["CORE-000726", "DM", "1"]]
    assert conformance_rows({"DM": dm.iloc[:1]}) == []


def test_explanations_file_covers_the_rules_issue_16_leaves():
    rules = {r for item in load_explanations().findings for r in item.rules}
    assert {"CORE-000289", "CORE-000290", "CORE-000298", "CORE-000299", "CORE-000726", "CORE-000701",
            "CORE-000774", "CORE-000024"} <= rules

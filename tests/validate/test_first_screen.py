"""The report answers on the first screen (issue 17): three verdicts, the failed rules and the top issues
visible at 1400x900 without scrolling (headless Chromium), distinct values instead of repeated rows,
datasets apart from raw forms, and every record of a failed gate rule in validation.xlsx with its --SEQ."""

from __future__ import annotations

import copy
import json

import pytest
from lxml import html as lxml_html

from sdtm_lupus import api
from sdtm_lupus.specs import conform_to_spec
from sdtm_lupus.validate.gate import run_gate
from sdtm_lupus.validate.reports.html import render_html
from sdtm_lupus.validate.reports.xlsx import render_xlsx
from sdtm_lupus.write.xpt import read_xpt
from tests.paths import STUDIES
from tests.validate.test_report_browser import run_chromium
from tests.validate.test_reports import read_xlsx, table

STUDY = "NCT04515719"


@pytest.fixture(scope="module")
def converted(fixture_runs):
    return fixture_runs[STUDY].out


def read_output(out, pattern: str):
    """The study's specs and the datasets of a converted output, typed as the gate sees them."""
    specs = api.study_specs(api.load_configuration(STUDIES / f"{STUDY}.yaml", None)[0])
    datasets = {}
    for path in sorted(out.glob(pattern)):
        df, meta = read_xpt(path)
        datasets[meta["name"]] = conform_to_spec(df, specs.dataset(meta["name"]))
    return specs, datasets


def passing(report: dict) -> dict:
    clean = copy.deepcopy(report)
    clean["findings"] = [f for f in clean["findings"] if f["severity"] == "notice"]
    return clean


def failing(report: dict) -> dict:
    bad = copy.deepcopy(report)
    e = next(e for e in bad["gate"]["expectations"] if e["id"] == "DM.SEX.CT")
    records = [{"USUBJID": f"NCT04515719-01-000{k}", "value": "Femme", "file": "enrol.csv", "row": k + 1}
               for k in range(1, 8)]
    e.update(status="failed", unexpected_count=len(records), examples=records[:5], records=records)
    summary = bad["gate"]["summary"]
    summary.update(failed=1, passed=summary["passed"] - 1)
    summary["failed_by_severity"]["error"] = 1
    bad["status"] = "failed"
    return bad


@pytest.fixture(scope="module")
def screens(converted, tmp_path_factory):
    """(verdict level, first-screen self-check, DOM, screenshot) of each kind of run at 1400x900."""
    report = json.loads((converted / "validation.json").read_text(encoding="utf-8"))
    tmp = tmp_path_factory.mktemp("screens")
    out = {}
    for name, variant in (("passed", passing(report)), ("warnings", report), ("failed", failing(report))):
        page = tmp / f"{name}.html"
        page.write_text(render_html(variant), encoding="utf-8")
        url = page.resolve().as_uri()
        dom = lxml_html.fromstring(run_chromium(tmp, "--window-size=1400,900", "--dump-dom", url).stdout)
        shot = tmp / f"{name}.png"
        run_chromium(tmp, f"--screenshot={shot}", "--window-size=1400,900", url)
        out[name] = (dom, shot)
    return out


@pytest.mark.parametrize("kind, text", [("passed", "PASSED:"), ("warnings", "PASSED WITH WARNINGS:"),
                                        ("failed", "FAILED:")])
def test_the_verdict_failed_rules_and_top_issues_are_on_the_first_screen(screens, kind, text):
    dom, shot = screens[kind]
    verdict = dom.get_element_by_id("verdict")
    assert verdict.get("data-level") == kind and verdict.text_content().startswith(text)
    assert dom.get("data-first-screen") == "verdict failed-rules top-issues"     # measured by the page itself
    assert shot.stat().st_size > 10_000


def test_the_banner_names_the_failed_rule_and_the_top_issues(screens):
    dom, _ = screens["failed"]
    failed = dom.get_element_by_id("failed-rules").text_content()
    assert "Failed rules (1)" in failed and "DM.SEX.CT" in failed and "7 record(s)" in failed
    top = dom.get_element_by_id("top-issues").text_content()
    assert top.index("DM.SEX.CT") < top.index("QC-")                    # the error first
    assert "'Femme' ×7" in top                                            # a distinct value, not seven rows
    warnings, _ = screens["warnings"]
    assert "Failed rules: none" in warnings.get_element_by_id("failed-rules").text_content()
    assert "WARNING" in warnings.get_element_by_id("top-issues").text_content().upper()


def test_record_details_are_collapsed_and_filtered_with_the_issues(screens):
    dom, _ = screens["warnings"]
    details = dom.xpath('//details[@class="detail"]')
    assert details and not [d for d in details if d.get("open") is not None]
    assert {d.get("data-severity") for d in details} <= {"error", "warning", "notice"}


def test_a_passing_rule_carries_no_coloured_badge(screens):
    dom, _ = screens["failed"]
    passed = dom.xpath('//table[@id="rules-table"]/tbody/tr[@data-status="passed"]//span[contains(@class,"sev")]')
    assert passed and all("muted" in s.get("class") for s in passed)
    failed = dom.xpath('//table[@id="rules-table"]/tbody/tr[@data-status="failed"]//span[contains(@class,"sev")]')
    assert [s.get("class") for s in failed] == ["sev error"]


def test_datasets_and_raw_forms_are_separate_tables(screens):
    dom, _ = screens["warnings"]
    datasets = {r.get("data-dataset") for r in dom.xpath('//table[@id="summary-table"]/tbody/tr')}
    forms = {r.get("data-dataset") for r in dom.xpath('//table[@id="forms-table"]/tbody/tr')}
    assert "DM" in datasets and "QS" in datasets and not any(d.islower() for d in datasets if d)
    assert forms and all(not d or d.islower() for d in forms)


def test_every_record_of_a_failed_gate_rule_is_in_the_xlsx_with_its_seq(converted):
    specs, datasets = read_output(converted, "*/*.xpt")
    datasets["AE"]["AESER"] = "X"                                   # not in the NY codelist: every AE fails
    gate = run_gate(datasets, specs)
    [failed] = [r for r in gate.failed if r.expectation.dataset == "AE" and "AESER" in r.expectation.variables]
    assert failed.unexpected_count == len(datasets["AE"]) > 5
    report = json.loads((converted / "validation.json").read_text(encoding="utf-8"))
    report["gate"] = gate.to_dict()
    report["status"] = "failed"
    details = [d for d in table(read_xlsx(render_xlsx(report))["Details"]) if d["Rule ID"] == failed.expectation.id]
    assert len(details) == failed.unexpected_count
    assert all(d["--SEQ"] not in (None, "") for d in details)
    assert sorted(d["--SEQ"] for d in details) == sorted(datasets["AE"]["AESEQ"].tolist())


def test_a_failed_ct_check_shows_its_distinct_values_allowed_terms_and_the_mapping_key(converted):
    specs, datasets = read_output(converted, "sdtm/*.xpt")
    datasets["DM"]["SEX"] = ["Femme", "Femme", "Homme"] + datasets["DM"]["SEX"].tolist()[3:]
    datasets["DM"]["_file"] = "enrol.csv"                           # provenance, as convert carries it
    datasets["DM"]["_row"] = range(2, len(datasets["DM"]) + 2)
    report = json.loads((converted / "validation.json").read_text(encoding="utf-8"))
    report["gate"] = run_gate(datasets, specs).to_dict()
    [e] = [e for e in report["gate"]["expectations"] if e["id"] == "DM.SEX.CT"]
    assert e["status"] == "failed" and e["allowed"] == ["F", "INTERSEX", "M", "U"]
    doc = lxml_html.fromstring(render_html(report))
    detail = doc.xpath('//details[@data-rule="DM.SEX.CT"]')[0].text_content()
    assert "Femme (2), Homme (1)" in detail
    assert "Allowed terms: F, INTERSEX, M, U" in detail and 'values."enrol.SEX"' in detail

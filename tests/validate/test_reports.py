"""validation.html and validation.xlsx: a simulated export with planted (non-fatal) defects through convert.

Every planted defect is in the report exactly once per rule it trips (JSON, HTML record details and
XLSX Details) with the right severity, dataset, variable and raw row; the JSON validates against
docs/validation.schema.json; HTML and XLSX are deterministic; data never becomes markup or a formula.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from sdtm_lupus import api
from sdtm_lupus.simulate import Planted, SimulationSummary
from sdtm_lupus.simulate.writers import MANIFEST, write_manifest
from sdtm_lupus.validate.reports import REPORT_FILES, write_reports
from sdtm_lupus.validate.reports.html import render_html, script_json
from sdtm_lupus.validate.reports.xlsx import render_xlsx
from tests.paths import ROOT, STUDIES

STUDY = "NCT04515719"
SEED = 7
INJECT = ("site-total", "reassessment", "out-of-window", "chinese-verbatim", "unknown-unit")
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '" onmouseover="alert(2)" x="'
SCHEMA = ROOT / "docs" / "validation.schema.json"
MAIN_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"

# kind -> (rule, severity, dataset, variable) of every report entry the planted defect must produce.
# dataset None: the out-of-window visit is reported on the first out-of-window row of the visit, which may
# be on any of its forms (checked against the raw file instead).
EXPECTED = {
    "site-total": [("QC-SLEDAI-SITETOT", "warning", "sledai", "SITETOT")],
    "reassessment": [("QC-REASSESSMENT", "notice", "sledai", "ASSESSDAT")],
    "out-of-window": [("QC-VISIT-WINDOW", "warning", None, None)],
    "chinese-verbatim": [("XPT-NON-ASCII", "warning", "AE", "AETERM")],
    "unknown-unit": [("LB-UNIT-UNKNOWN", "warning", "lab", "LBORRESU"), ("LB.LBORRESU.CT", "warning", "LB", "LBORRESU")],
}


@dataclass
class PlantedRun:
    raw: Path
    summary: SimulationSummary
    result: api.ConvertResult
    defects: dict[str, Planted]         # kind -> the injected defect
    term: str                           # the planted AE verbatim (script, quotes and Chinese)

    @property
    def out(self) -> Path:
        return self.result.out_dir


_RUNS: dict[str, PlantedRun] = {}


def planted_run(tmp_path_factory) -> PlantedRun:
    """One simulated export with the non-fatal injects, converted once per test session.

    The chinese-verbatim AETERM also gets a <script> element and attribute-breaking quotes (kept
    non-ASCII, so its XPT-NON-ASCII finding carries the whole value into the reports).
    """
    if "run" not in _RUNS:
        root = tmp_path_factory.mktemp("planted")
        raw = root / "raw"
        summary = api.simulate_export(STUDY, 12, SEED, raw, inject=INJECT)
        defects = {p.kind: p for p in summary.defects}
        assert set(defects) == set(INJECT)
        verbatim = defects["chinese-verbatim"]
        term = SCRIPT + ATTRIBUTE + verbatim.value
        _set_cell(raw / verbatim.file, verbatim.row, verbatim.column, term)
        write_manifest(raw, STUDY, sorted(p.name for p in raw.iterdir() if p.name != MANIFEST))
        result = api.convert(raw, STUDIES / f"{STUDY}.yaml", root / "out")
        assert result.exit_code == 0
        _RUNS["run"] = PlantedRun(raw, summary, result, defects, term)
    return _RUNS["run"]


def _set_cell(path: Path, line: int, column: str, value: str) -> None:
    records = _read_csv(path)
    header = records[0][1]
    for start, record in records:
        if start == line:
            record[header.index(column)] = value
            break
    else:
        raise AssertionError(f"{path.name} has no record at line {line}")
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(record for _, record in records)


def _read_csv(path: Path) -> list[tuple[int, list[str]]]:
    """(first line of the record, fields) for every record, header included (line 1)."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        out, start = [], 1
        for record in reader:
            out.append((start, record))
            start = reader.line_num + 1
    return out


def _raw_row(path: Path, line: int) -> dict[str, str]:
    records = _read_csv(path)
    header = records[0][1]
    return next(dict(zip(header, rec)) for start, rec in records if start == line)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> PlantedRun:
    return planted_run(tmp_path_factory)


# ----------------------------------------------------------------------------------------- XLSX reader

def _column_index(ref: str) -> int:
    n = 0
    for ch in re.match(r"[A-Z]+", ref).group():
        n = n * 26 + ord(ch) - 64
    return n - 1


def read_xlsx(data: bytes) -> dict[str, list[list]]:
    """Sheets of an xlsx as rows of values, parsed from the OOXML parts (the package must be complete)."""
    sheets: dict[str, list[list]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        parts = {n: etree.fromstring(z.read(n)) for n in z.namelist()}      # every part is well-formed XML
        declared = {o.get("PartName").lstrip("/") for o in parts["[Content_Types].xml"]
                    if o.get("PartName")}
        assert parts["_rels/.rels"][0].get("Target") == "xl/workbook.xml"
        targets = {r.get("Id"): "xl/" + r.get("Target") for r in parts["xl/_rels/workbook.xml.rels"]}
        assert "xl/styles.xml" in targets.values() and "xl/styles.xml" in declared
        for sheet in parts["xl/workbook.xml"].iterfind("m:sheets/m:sheet", MAIN_NS):
            path = targets[sheet.get(REL_ID)]
            assert path in declared
            root = parts[path]
            assert not root.findall(".//m:f", MAIN_NS), "a cell holds a formula"
            rows = []
            for number, row in enumerate(root.iterfind("m:sheetData/m:row", MAIN_NS), start=1):
                assert row.get("r") == str(number)
                values: dict[int, object] = {}
                for cell in row.iterfind("m:c", MAIN_NS):
                    assert re.fullmatch(rf"[A-Z]+{number}", cell.get("r"))
                    if cell.get("t") == "inlineStr":
                        values[_column_index(cell.get("r"))] = "".join(cell.find("m:is", MAIN_NS).itertext())
                    elif (v := cell.find("m:v", MAIN_NS)) is not None:
                        assert cell.get("t") is None             # numbers only
                        number_value = float(v.text)
                        values[_column_index(cell.get("r"))] = int(number_value) if number_value.is_integer() \
                            else number_value
                rows.append([values.get(i) for i in range(max(values, default=-1) + 1)])
            sheets[sheet.get("name")] = rows
    return sheets


def table(rows: list[list], header_first: str | None = None) -> list[dict]:
    """Rows below the header row (the first row whose first cell is header_first) as dicts."""
    start = 0 if header_first is None else next(i for i, r in enumerate(rows) if r and r[0] == header_first)
    header = rows[start]
    out = []
    for r in rows[start + 1:]:
        if not any(v is not None for v in r):
            break
        out.append(dict(zip(header, r + [None] * (len(header) - len(r)))))
    return out


# ----------------------------------------------------------------------------------------- tests

def test_reports_are_written_next_to_validation_json(run):
    names = sorted(p.name for p in run.out.iterdir())
    assert names == [".sdtm-lupus-output.json", "adam", "prediction.csv", "prediction.json", "results",
                     "reviewers-guide.html", "reviewers-guide.md", "sdtm", "validation.html", "validation.json",
                     "validation.xlsx"]
    assert set(REPORT_FILES) == {"validation.html", "validation.xlsx"}


def test_report_validates_against_the_schema(run):
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    report = json.loads((run.out / "validation.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(report)
    fixture = api.convert(ROOT / "fixtures" / STUDY / "odm", STUDIES / f"{STUDY}.yaml", run.out.parent / "odm")
    jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(fixture.report)))


def test_schema_rejects_an_undocumented_key(run):
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    report = json.loads((run.out / "validation.json").read_text(encoding="utf-8"))
    report["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, schema, cls=jsonschema.Draft202012Validator)


def _json_hits(report: dict, rule: str, p: Planted) -> list[dict]:
    """Report entries of `rule` about the planted defect: findings, or examples of a failed expectation."""
    usubjid = f"{STUDY}-{p.subject}"
    hits = []
    for f in report["findings"]:
        if f["rule"] != rule:
            continue
        if p.kind == "out-of-window":
            if f.get("usubjid") == usubjid and f["message"].startswith(f"{p.folder} done on"):
                hits.append(f)
        elif (f.get("file"), f.get("row")) == (p.file, p.row):
            hits.append(f)
    for e in report["gate"]["expectations"]:
        if e["id"] == rule:
            hits += [{**ex, "severity": e["severity"], "dataset": e["dataset"], "variable": e["variables"][0],
                      "usubjid": ex["USUBJID"]}
                     for ex in e["examples"] if (ex.get("file"), ex.get("row")) == (p.file, p.row)]
    return hits


@pytest.mark.parametrize("kind", INJECT)
def test_planted_defect_is_in_the_json_once_with_its_row(run, kind):
    p = run.defects[kind]
    value = run.term if kind == "chinese-verbatim" else p.value
    for rule, severity, dataset, variable in EXPECTED[kind]:
        hits = _json_hits(run.result.report, rule, p)
        assert len(hits) == 1, (rule, hits)
        hit = hits[0]
        assert hit["severity"] == severity and hit["usubjid"] == f"{STUDY}-{p.subject}"
        if kind == "out-of-window":
            # one finding per subject and visit, on the visit's first out-of-window row (any of its forms)
            raw = _raw_row(run.raw / hit["file"], hit["row"])
            assert (raw["SUBJID"], raw["FOLDER"], raw[hit["variable"]]) == (p.subject, p.folder, p.value)
            assert hit["dataset"] == Path(hit["file"]).stem
            assert datetime.strptime(p.value, "%d-%b-%Y").date().isoformat() == hit["value"]
        else:
            assert (hit["dataset"], hit["variable"], hit["file"], hit["row"]) == (dataset, variable, p.file, p.row)
            assert hit["value"] == value
        if rule.startswith("LB."):
            assert isinstance(hit["LBSEQ"], int)


@pytest.mark.parametrize("kind", INJECT)
def test_planted_defect_is_in_the_html_and_xlsx_details_once(run, kind):
    p = run.defects[kind]
    report = run.result.report
    doc = lxml_html.fromstring((run.out / "validation.html").read_bytes())
    details = table(read_xlsx((run.out / "validation.xlsx").read_bytes())["Details"])
    for rule, severity, _, _ in EXPECTED[kind]:
        (hit,) = _json_hits(report, rule, p)
        rows = doc.xpath(f'//tr[@class="rec"][@data-rule="{rule}"][@data-file="{hit["file"]}"]'
                         f'[@data-row="{hit["row"]}"]')
        assert len(rows) == 1, rule
        assert rows[0].get("data-usubjid") == hit["usubjid"] and rows[0].get("data-value") == str(hit["value"])
        section = rows[0].xpath("ancestor::details[@class='detail']")[0]
        assert severity in section.xpath("string(.//span[contains(@class, 'sev')])")
        # the issue table links to the record's section
        assert doc.xpath(f'//table[@id="issue-table"]//a[@href="#{section.get("id")}"]')

        matches = [d for d in details if (d["Rule ID"], d["File"], d["Row"]) == (rule, hit["file"], hit["row"])]
        assert len(matches) == 1, rule
        d = matches[0]
        assert (d["Dataset"], d["Severity"], d["USUBJID"], d["Variable"], d["Value"]) == (
            hit["dataset"], severity, hit["usubjid"], hit["variable"], str(hit["value"]))
        if rule.startswith("LB."):
            assert d["--SEQ"] == hit["LBSEQ"]


def test_every_issue_and_record_is_in_the_html_and_the_xlsx(run):
    report = run.result.report
    failed = [e for e in report["gate"]["expectations"] if e["status"] == "failed"]
    n_records = len(report["findings"]) + sum(len(e["examples"]) for e in failed)
    doc = lxml_html.fromstring((run.out / "validation.html").read_bytes())
    assert len(doc.xpath('//tr[@class="rec"]')) == n_records
    sheets = read_xlsx((run.out / "validation.xlsx").read_bytes())
    assert list(sheets) == ["Summary", "Issue Summary", "Details", "Rules"]
    assert len(table(sheets["Details"])) == n_records
    rules = table(sheets["Rules"])
    assert [r["Rule ID"] for r in rules] == [e["id"] for e in report["gate"]["expectations"]]
    assert {r["Status"] for r in rules} <= {"passed", "failed", "not run"}
    issues = table(sheets["Issue Summary"])
    assert {(i["Dataset"], i["Rule ID"]) for i in issues if i["Source"] == "gate"} == {
        (e["dataset"], e["id"]) for e in failed}
    assert sum(i["Count"] for i in issues if i["Source"] == "finding") == len(report["findings"])
    assert len(doc.xpath('//table[@id="issue-table"]/tbody/tr')) == len(issues)
    summary = sheets["Summary"]
    header = dict(r[:2] for r in summary[1:] if len(r) >= 2 and r[0])
    assert header["Study"] == STUDY and header["Status"] == "passed"
    assert header["Controlled terminology"] == report["standards"]["ct"]
    by_dataset = {r["Dataset"]: r for r in table(summary, "Dataset")}
    assert by_dataset["LB"]["Records"] == report["datasets"]["LB"]["records"]
    assert by_dataset["LB"]["Warnings"] >= 1
    files = {r["Input file"]: r["SHA-256"] for r in table(summary, "Input file")}
    assert files == {f["path"]: f["sha256"] for f in report["input"]["files"]}


def test_reports_are_deterministic_and_rebuilt_from_the_json_alone(run, tmp_path):
    from_file = json.loads((run.out / "validation.json").read_text(encoding="utf-8"))
    write_reports(tmp_path, from_file)
    for name in REPORT_FILES:
        assert (tmp_path / name).read_bytes() == (run.out / name).read_bytes(), name
    assert render_html(run.result.report) == render_html(copy.deepcopy(run.result.report))
    assert render_xlsx(run.result.report) == render_xlsx(copy.deepcopy(run.result.report))
    with zipfile.ZipFile(run.out / "validation.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    html_text = (run.out / "validation.html").read_text(encoding="utf-8")
    assert str(run.out) not in html_text and str(run.raw) not in html_text


def test_planted_script_and_quotes_stay_text_in_the_html(run):
    text = (run.out / "validation.html").read_text(encoding="utf-8")
    assert SCRIPT not in text and 'onmouseover="' not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;alert(2)&quot;" in text
    doc = lxml_html.fromstring(text)
    assert len(doc.xpath("//script")) == 2                       # the page's JSON island and its own script
    assert not doc.xpath("//*[@onmouseover]")
    assert all("alert" not in (s.text or "") for s in doc.xpath("//script"))
    p = run.defects["chinese-verbatim"]
    (row,) = doc.xpath(f'//tr[@class="rec"][@data-rule="XPT-NON-ASCII"][@data-row="{p.row}"]')
    assert row.get("data-value") == run.term
    assert row.xpath('string(td[@class="value"])') == run.term
    # and in the xlsx the same value is plain text
    details = table(read_xlsx((run.out / "validation.xlsx").read_bytes())["Details"])
    assert [d["Value"] for d in details if d["Rule ID"] == "XPT-NON-ASCII" and d["Row"] == p.row] == [run.term]


def test_json_in_the_script_element_is_escaped():
    text = script_json({"study": "</script><script>alert(1)</script>&\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"study": "</script><script>alert(1)</script>&\u2028"}
    page = render_html({"study": "</script><b>x</b>", "status": "passed", "findings": [], "gate": {}})
    doc = lxml_html.fromstring(page)
    assert not doc.xpath("//b[text()='x']")
    assert json.loads(doc.xpath('//script[@id="report-meta"]')[0].text)["study"] == "</script><b>x</b>"


def _hostile_report(report: dict) -> dict:
    """The run's report with findings whose values a spreadsheet could take for formulas."""
    hostile = copy.deepcopy(report)
    hostile["findings"] = [
        {"rule": "QC-TEST-FORMULA", "severity": "warning", "dataset": "ae", "variable": "AETERM", "file": "ae.csv",
         "row": 2 + i, "usubjid": f"{STUDY}-01-0001", "value": value, "message": f"value {value}"}
        for i, value in enumerate(["=1+1", "+1+2", "-3+4", "@SUM(A1)", "\t=1", "=HYPERLINK(\"http://x\")",
                                   "bell\x07and\x0bvt\x00nul", "-12.5", "plain"])]
    hostile["findings"].append({"rule": "QC-TEST-FORMULA", "severity": "notice", "dataset": "=cmd|' /C calc'!A0",
                                "message": "=2*3"})
    return hostile


def test_xlsx_neutralises_formulas_and_strips_control_characters(run):
    sheets = read_xlsx(render_xlsx(_hostile_report(run.result.report)))
    values = [d["Value"] for d in table(sheets["Details"]) if d["Rule ID"] == "QC-TEST-FORMULA"]
    assert values == ["'=1+1", "'+1+2", "'-3+4", "'@SUM(A1)", "'\t=1", "'=HYPERLINK(\"http://x\")",
                      "bellandvtnul", "'-12.5", "plain", None]
    issues = [i for i in table(sheets["Issue Summary"]) if i["Rule ID"] == "QC-TEST-FORMULA"]
    assert {i["Dataset"] for i in issues} == {"ae", "'=cmd|' /C calc'!A0"}
    assert all(not str(i["Message"]).startswith(("=", "+", "-", "@")) for i in issues)
    rows = [d["Row"] for d in table(sheets["Details"]) if d["Rule ID"] == "QC-TEST-FORMULA"][:3]
    assert rows == [2, 3, 4]                                      # numbers stay numbers


def test_html_strips_control_characters_and_keeps_formulas_as_text(run):
    text = render_html(_hostile_report(run.result.report))
    assert "\x07" not in text and "\x00" not in text and "\x0b" not in text
    doc = lxml_html.fromstring(text)
    values = [r.get("data-value") for r in doc.xpath('//tr[@class="rec"][@data-rule="QC-TEST-FORMULA"]')]
    assert values[0] == "=1+1" and "bellandvtnul" in values


def test_reports_go_to_rejected_when_the_gate_stops_the_write(run, tmp_path):
    out = tmp_path / "out"
    result = api.convert(run.raw, STUDIES / f"{STUDY}.yaml", out, fail_on="warning")
    assert result.exit_code == api.EXIT_VALIDATION and result.out_dir == api.rejected_dir(out)
    assert not out.exists()
    assert sorted(p.name for p in result.out_dir.iterdir()) == [".sdtm-lupus-output.json", "validation.html",
                                                                "validation.json", "validation.xlsx"]
    doc = lxml_html.fromstring((result.out_dir / "validation.html").read_bytes())
    assert doc.get_element_by_id("verdict").text_content().startswith("FAILED")
    header = {r[0]: r[1] for r in read_xlsx((result.out_dir / "validation.xlsx").read_bytes())["Summary"]
              if len(r) >= 2 and r[0]}
    assert header["Status"] == "failed" and header["Fail on"] == "warning"
    import jsonschema

    report = json.loads((result.out_dir / "validation.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, json.loads(SCHEMA.read_text(encoding="utf-8")),
                        cls=jsonschema.Draft202012Validator)
    assert all("file" not in d for d in report["datasets"].values())

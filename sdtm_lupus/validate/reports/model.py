"""Human-readable validation reports next to validation.json: validation.html and validation.xlsx.

Both are rendered from the validation.json dict alone (reports/build.py + report["endpoints"]), so the
three files always tell the same story. Deterministic: the same dict gives byte-identical files (no
clock, no absolute paths, fixed zip entry dates).

This module holds the model both renderers share: issues (one per failed expectation, one per
dataset x rule x severity of the findings), their records, the dataset x severity summary and the
grouping of QC findings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdtm_lupus.findings import SEVERITIES

HTML_FILE, XLSX_FILE = "validation.html", "validation.xlsx"
REPORT_FILES = (HTML_FILE, XLSX_FILE)

# Rule text of the converter's own findings (gate expectations carry theirs in the report).
FINDING_RULE_TEXT: dict[str, str] = {
    "QC-SLEDAI-SITETOT": "SELENA-SLEDAI site total (SITETOT) equals the weighted sum of the ticked descriptors",
    "QC-SLEDAI-EMPTY": "a SELENA-SLEDAI assessment has at least one descriptor or the site total answered",
    "QC-FLARE-CALL": "the investigator's flare call agrees with the derived modified SELENA Flare Index category",
    "QC-FLARE-CRF": "the flare CRF call agrees with its own manifestation items",
    "QC-FLARE-PREBASELINE": "the flare CRF calls no flare on or before baseline (such a call is not a study flare)",
    "QC-DOSE-UNUSABLE": "a glucocorticoid record has a dose and a frequency the daily dose can use (R3.3)",
    "QC-REASSESSMENT": "one assessment of an instrument per subject and scheduled visit folder",
    "QC-OCCASION-UNMATCHED": "a questionnaire row matches an assessment occasion (same subject, folder and date)",
    "QC-BILAG-E-TO-D": "BILAG-2004 grades follow the allowed transitions between visits",
    "QC-PGA-RANGE": "Physician's Global Assessment is within its scale and recorded to its precision",
    "QC-VISIT-WINDOW": "a scheduled visit is done within its visit window",
    "LB-UNIT-UNKNOWN": "a lab unit is in the mapping's units and converts to the test's standard unit",
    "LB-TEST-UNKNOWN": "a lab test name is in the mapping's lab_tests",
    "LB-RESULT-UNKNOWN": "a lab result is a number, a qualified number or a known result term",
    "LB-RESULT-MISSING": "a lab record has a result",
    "XPT-NON-ASCII": "XPT v5 text is ASCII (other text is written as \\uXXXX escapes)",
    "DM-AGE-BRTHDTC": "AGE agrees with the birth date at informed consent",
    "EX-NOT-GIVEN": "an infusion not given has no EX record",
    "AE-MEDDRA-VERSION": "the MedDRA version the AE terms are coded with",
    "AE-MEDDRA-VERSIONS": "one MedDRA version across the AE terms",
    "DS-NO-RANDOMIZATION-DATE": "randomised subjects have a randomisation date for the DS RANDOMIZED milestone",
    "MAP-ROW-UNMAPPED": "every raw row is in an output record or explained by a finding",
}

# Groups of the QC / mapping findings in the HTML report: (anchor, title, rule ids).
FINDING_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("qc-site-totals", "Site totals (SELENA-SLEDAI)", ("QC-SLEDAI-SITETOT", "QC-SLEDAI-EMPTY")),
    ("qc-flares", "Flare disagreements", ("QC-FLARE-CALL", "QC-FLARE-CRF", "QC-FLARE-PREBASELINE")),
    ("qc-doses", "Glucocorticoid doses", ("QC-DOSE-UNUSABLE",)),
    ("qc-units", "Unknown units and lab results",
     ("LB-UNIT-UNKNOWN", "LB-TEST-UNKNOWN", "LB-RESULT-UNKNOWN", "LB-RESULT-MISSING")),
    ("qc-non-ascii", "Non-ASCII text", ("XPT-NON-ASCII",)),
    ("qc-visit-windows", "Visit windows", ("QC-VISIT-WINDOW",)),
    ("qc-reassessments", "Re-assessments and unmatched occasions", ("QC-REASSESSMENT", "QC-OCCASION-UNMATCHED")),
    ("qc-questionnaires", "Questionnaire checks", ("QC-BILAG-E-TO-D", "QC-PGA-RANGE")),
)
OTHER_GROUP = ("qc-other", "Other findings")

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXAMPLE_KEYS = ("USUBJID", "value", "file", "row", "name")


def clean_text(value: Any) -> str:
    """Display text of a report value, without XML/HTML-illegal control characters."""
    return _ILLEGAL.sub("", display(value))


def display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


@dataclass
class Record:
    """One example record of a failed expectation, or one finding."""
    usubjid: Any = None
    seq: Any = None
    seq_name: str | None = None       # e.g. LBSEQ
    variable: str | None = None
    value: Any = None
    file: str | None = None
    row: Any = None
    message: str = ""


@dataclass
class Issue:
    anchor: str                      # HTML anchor, unique in the report
    source: str                      # "gate" (failed expectation) | "finding" (QC / mapping finding)
    rule: str                        # stable rule id
    severity: str
    dataset: str                     # SDTM/ADaM dataset, raw form name, or "" (run level)
    variables: list[str]
    message: str                     # the issue's message (one line)
    rule_text: str                   # what the rule checks
    count: int                       # records affected (gate: unexpected_count; findings: findings)
    checked: int | None = None       # gate: records checked (element_count)
    note: str | None = None
    records: list[Record] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)      # a failed CT check: the accepted terms

    @property
    def fix(self) -> str | None:
        """The mapping key that maps a site value of this issue, e.g. values."enrol.SEX" (CT checks)."""
        if not self.allowed or len(self.variables) != 1:
            return None
        from sdtm_lupus.specs import load_raw_layout

        layout = load_raw_layout()
        for r in self.records:
            form = (r.file or "").rsplit(".", 1)[0]
            if form in layout.forms and self.variables[0] in layout.forms[form].columns:
                return f'values."{form}.{self.variables[0]}"'
        return None

    @property
    def shown(self) -> str:
        """How many of the affected records the report lists."""
        return f"{len(self.records)} of {self.count}"


def _seq(example: dict) -> tuple[str | None, Any]:
    for key, value in example.items():
        if key not in _EXAMPLE_KEYS and key.endswith("SEQ"):
            return key, value
    return None, None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def build_issues(report: dict) -> list[Issue]:
    """Failed expectations and findings as issues, most severe first, then dataset and rule id."""
    issues: list[Issue] = []
    for e in report.get("gate", {}).get("expectations", []):
        if e.get("status") != "failed":
            continue
        variables = list(e.get("variables") or [])
        records = []
        for ex in e.get("records") or e.get("examples") or []:
            seq_name, seq = _seq(ex)
            variable = ex.get("name") or (variables[0] if len(variables) == 1 else ", ".join(variables)) or None
            records.append(Record(ex.get("USUBJID"), seq, seq_name, variable, ex.get("value"), ex.get("file"),
                                  ex.get("row"), e.get("message", "")))
        issues.append(Issue("", "gate", e["id"], e["severity"], e.get("dataset") or "", variables,
                            e.get("message", ""), e.get("rule", ""), int(e.get("unexpected_count") or 0),
                            e.get("element_count"), e.get("note"), records, list(e.get("allowed") or [])))
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for f in report.get("findings", []):
        groups.setdefault((f.get("dataset") or "", f["rule"], f["severity"]), []).append(f)
    for (dataset, rule, severity), items in groups.items():
        variables = sorted({f["variable"] for f in items if f.get("variable")})
        text = FINDING_RULE_TEXT.get(rule, "")
        message = items[0]["message"] + (f" (and {len(items) - 1} more)" if len(items) > 1 else "")
        records = [Record(f.get("usubjid"), None, None, f.get("variable"), f.get("value"), f.get("file"),
                          f.get("row"), f.get("message", "")) for f in items]
        issues.append(Issue("", "finding", rule, severity, dataset, variables, message, text or message,
                            len(items), None, None, records))
    issues.sort(key=lambda i: (severity_rank(i.severity), i.dataset.upper(), i.rule, i.source))
    used: set[str] = set()
    for issue in issues:
        base = "issue-" + _slug(f"{issue.dataset or 'run'}-{issue.rule}")
        anchor, n = base, 1
        while anchor in used:
            n += 1
            anchor = f"{base}-{n}"
        used.add(anchor)
        issue.anchor = anchor
    return issues


def finding_group(rule: str) -> tuple[str, str]:
    for anchor, title, rules in FINDING_GROUPS:
        if rule in rules:
            return anchor, title
    return OTHER_GROUP


def grouped_findings(issues: list[Issue]) -> list[tuple[str, str, list[Issue]]]:
    """Finding issues by QC group, in FINDING_GROUPS order, "Other findings" last; empty groups left out."""
    order = [g[:2] for g in FINDING_GROUPS] + [OTHER_GROUP]
    by_group: dict[tuple[str, str], list[Issue]] = {g: [] for g in order}
    for issue in issues:
        if issue.source == "finding":
            by_group[finding_group(issue.rule)].append(issue)
    return [(anchor, title, items) for (anchor, title), items in by_group.items() if items]


@dataclass
class DatasetRow:
    dataset: str
    label: str
    records: int | None
    file: str | None
    counts: dict[str, int]           # severity -> records affected
    issues: dict[str, int]           # severity -> issues (rules)


def dataset_summary(report: dict, issues: list[Issue]) -> list[DatasetRow]:
    """One row per output dataset, then per raw form / other dataset named by an issue ("" = run level)."""
    rows: dict[str, DatasetRow] = {}
    for name, meta in report.get("datasets", {}).items():
        rows[name] = DatasetRow(name, meta.get("label", ""), meta.get("records"), meta.get("file"),
                                dict.fromkeys(SEVERITIES, 0), dict.fromkeys(SEVERITIES, 0))
    forms = set(report.get("reconciliation", {}).get("forms", {}))
    extra: dict[str, DatasetRow] = {}
    for issue in issues:
        row = rows.get(issue.dataset) or extra.get(issue.dataset)
        if row is None:
            label = "raw form" if issue.dataset in forms else ("run" if not issue.dataset else "")
            row = extra[issue.dataset] = DatasetRow(issue.dataset, label, None, None,
                                                    dict.fromkeys(SEVERITIES, 0), dict.fromkeys(SEVERITIES, 0))
        if issue.severity in row.counts:
            row.counts[issue.severity] += issue.count
            row.issues[issue.severity] += 1
    return list(rows.values()) + [extra[k] for k in sorted(extra)]


def rule_parameter_rows(report: dict) -> list[tuple[str, Any, Any, bool]]:
    """(name, value, default, overridden) of every rule parameter."""
    params = report.get("rule_parameters", {})
    overrides = params.get("overrides", {}) or {}
    out = []
    for name, value in (params.get("values", {}) or {}).items():
        o = overrides.get(name)
        out.append((name, value, o.get("default") if o else value, o is not None))
    for name in overrides:
        if name not in (params.get("values") or {}):
            out.append((name, overrides[name].get("value"), overrides[name].get("default"), True))
    return out


def submission_files(report: dict) -> str:
    """Formats and define files written, e.g. "xpt, json; sdtm/define.xml, adam/define.xml"; "none" if absent."""
    meta = report.get("submission_metadata") or {}
    if not meta:
        return "none"
    files = [str(path) for folder, kinds in meta.items() if folder != "formats" and isinstance(kinds, dict)
             for path in kinds.values()]
    return "; ".join(p for p in (", ".join(map(str, meta.get("formats") or [])), ", ".join(files)) if p)


def verdict_level(report: dict) -> str:
    """"failed" (the write was stopped), "warnings" (written, but an expectation failed below --fail-on
    or a warning-level finding was reported) or "passed"."""
    if report.get("status") == "failed":
        return "failed"
    failed = report.get("gate", {}).get("summary", {}).get("failed", 0)
    warned = any(f.get("severity") in ("error", "warning") for f in report.get("findings", []))
    return "warnings" if failed or warned else "passed"


def distinct_values(records: list[Record], most: int = 3) -> tuple[list[tuple[str, int]], int]:
    """The most frequent distinct values of the records (value, count), and how many distinct values there are."""
    counts: dict[str, int] = {}
    for r in records:
        if r.value is not None and r.value != "":
            key = display(r.value)
            counts[key] = counts.get(key, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked[:most], len(ranked)


def top_issues(issues: list[Issue], most: int = 5) -> list[Issue]:
    """The issues a reviewer reads first: most severe, then most records."""
    return sorted(issues, key=lambda i: (severity_rank(i.severity), -i.count, i.rule))[:most]


def verdict(report: dict) -> str:
    """The run's outcome in one sentence."""
    status, fail_on = report.get("status", ""), report.get("fail_on", "error")
    if status == "passed" and verdict_level(report) == "warnings":
        return (f"PASSED WITH WARNINGS: no failed expectation at or above {fail_on}, so the datasets were written; "
                "read the warnings below.")
    if status == "passed":
        return f"PASSED: no failed expectation at or above {fail_on}; the datasets were written."
    if status == "failed":
        why = (f"an expectation at or above {fail_on} failed" if not report.get("fail_on_findings") else
               f"an expectation at or above {fail_on}, or a finding at or above {report['fail_on_findings']}, failed")
        return f"FAILED: {why}, so the write was stopped: no dataset was written; this report is in OUT.rejected."
    return f"{str(status).upper()}."


def verdict_counts(report: dict) -> str:
    """Failed expectations and findings by severity, in one line."""
    failed = report.get("gate", {}).get("summary", {}).get("failed_by_severity", {})
    findings = dict.fromkeys(SEVERITIES, 0)
    for f in report.get("findings", []):
        findings[f.get("severity")] = findings.get(f.get("severity"), 0) + 1
    return (f"{sum(failed.get(s, 0) for s in SEVERITIES)} failed expectation(s): "
            + ", ".join(f"{failed.get(s, 0)} {s}" for s in SEVERITIES)
            + f". {len(report.get('findings', []))} finding(s): "
            + ", ".join(f"{findings.get(s, 0)} {s}" for s in SEVERITIES) + ".")


def write_reports(folder: Path, report: dict) -> list[str]:
    """Write validation.html and validation.xlsx into folder (next to validation.json); return their names."""
    from sdtm_lupus.validate.reports.html import render_html
    from sdtm_lupus.validate.reports.xlsx import render_xlsx

    folder = Path(folder)
    (folder / HTML_FILE).write_bytes(render_html(report).encode("utf-8"))
    (folder / XLSX_FILE).write_bytes(render_xlsx(report))
    return list(REPORT_FILES)

"""validation.xlsx in the layout QA teams know from Pinnacle 21: Summary, Issue Summary, Details, Rules.

Plain OOXML written with zipfile (no spreadsheet library): inline strings, one small styles.xml
(bold header), fixed zip entry dates, so the same report gives byte-identical files.
Text from the data never becomes a formula: cells hold inline strings (never <f>), and values that
start with =, +, -, @, tab or carriage return get a leading apostrophe (OWASP CSV-injection
guidance), so a copy-paste or CSV export of the sheet cannot run them either. Characters XML cannot
hold are removed.
"""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from sdtm_lupus.findings import SEVERITIES
from sdtm_lupus.validate.reports.model import (
    build_issues,
    clean_text,
    dataset_summary,
    rule_parameter_rows,
    submission_files,
    verdict,
    verdict_counts,
)

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_TEXT = 32767                       # Excel's limit per cell
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# cellXfs indexes of styles.xml
NORMAL, HEADER, BOLD, TITLE = 0, 1, 2, 3
SEVERITY_STYLE = {"error": 4, "warning": 5, "notice": 6}     # red, amber, blue fills (as in Pinnacle 21)


def neutralise(text: str) -> str:
    """Text a spreadsheet will never read as a formula: a leading apostrophe before = + - @ tab CR."""
    return "'" + text if text.startswith(FORMULA_START) else text


class Bold(str):
    """A constant text cell in bold (labels written by this module, not data)."""


class Severity(str):
    """A severity cell, filled with its colour."""


@dataclass
class Sheet:
    name: str
    widths: list[float]
    rows: list[list[Any]] = field(default_factory=list)
    styles: dict[int, int] = field(default_factory=dict)      # row index -> style of the whole row
    table_header: int | None = None                           # row index of a header with an autofilter
    freeze: bool = False

    def add(self, values: list[Any], style: int = NORMAL) -> None:
        if style != NORMAL:
            self.styles[len(self.rows)] = style
        self.rows.append(values)

    def header(self, values: list[str], filtered: bool = False) -> None:
        if filtered:
            self.table_header = len(self.rows)
        self.add([Bold(v) for v in values], HEADER)


def column(n: int) -> str:
    """Spreadsheet column letters of the 0-based column n."""
    letters = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _cell(ref: str, value: Any, style: int) -> str:
    if isinstance(value, Severity) and str(value) in SEVERITY_STYLE:
        style = SEVERITY_STYLE[str(value)]
    s = f' s="{style}"' if style else ""
    if isinstance(value, Bold):
        text, s = str(value), (s or f' s="{BOLD}"')
    elif value is None or value == "":
        return f'<c r="{ref}"{s}/>' if style else ""
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
    else:
        text = neutralise(clean_text(value))
    text = text[:MAX_CELL_TEXT]
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>'


def _sheet_xml(sheet: Sheet) -> str:
    out = [XML_DECL, f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">']
    ncols = max((len(r) for r in sheet.rows), default=1)
    out.append(f'<dimension ref="A1:{column(max(ncols, 1) - 1)}{max(len(sheet.rows), 1)}"/>')
    if sheet.freeze and sheet.table_header is not None:
        top = sheet.table_header + 2
        out.append(f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{top - 1}" topLeftCell="A{top}" '
                   f'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>')
    else:
        out.append('<sheetViews><sheetView workbookViewId="0"/></sheetViews>')
    out.append('<sheetFormatPr defaultRowHeight="15"/><cols>')
    out.extend(f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>' for i, w in enumerate(sheet.widths))
    out.append("</cols><sheetData>")
    for r, values in enumerate(sheet.rows):
        style = sheet.styles.get(r, NORMAL)
        cells = "".join(_cell(f"{column(c)}{r + 1}", v, style) for c, v in enumerate(values))
        out.append(f'<row r="{r + 1}">{cells}</row>')
    out.append("</sheetData>")
    if sheet.table_header is not None:
        out.append(f'<autoFilter ref="{_filter_range(sheet)}"/>')
    out.append("</worksheet>")
    return "".join(out)


def _filter_range(sheet: Sheet) -> str:
    h = sheet.table_header or 0
    ncols = len(sheet.rows[h])
    return f"A{h + 1}:{column(ncols - 1)}{max(len(sheet.rows), h + 1)}"


STYLES = (XML_DECL + f'<styleSheet xmlns="{MAIN_NS}">'
          '<fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
          '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
          '<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font></fonts>'
          '<fills count="6"><fill><patternFill patternType="none"/></fill>'
          '<fill><patternFill patternType="gray125"/></fill>'
          '<fill><patternFill patternType="solid"><fgColor rgb="FFE4E7EC"/><bgColor indexed="64"/></patternFill></fill>'
          '<fill><patternFill patternType="solid"><fgColor rgb="FFF8D7DA"/><bgColor indexed="64"/></patternFill></fill>'
          '<fill><patternFill patternType="solid"><fgColor rgb="FFFFF3CD"/><bgColor indexed="64"/></patternFill></fill>'
          '<fill><patternFill patternType="solid"><fgColor rgb="FFD1ECF1"/><bgColor indexed="64"/></patternFill></fill>'
          '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
          '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
          '<cellXfs count="7"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
          '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
          '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
          '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
          '<xf numFmtId="0" fontId="0" fillId="3" borderId="0" xfId="0" applyFill="1"/>'
          '<xf numFmtId="0" fontId="0" fillId="4" borderId="0" xfId="0" applyFill="1"/>'
          '<xf numFmtId="0" fontId="0" fillId="5" borderId="0" xfId="0" applyFill="1"/></cellXfs>'
          '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
          '</styleSheet>')


def _summary_sheet(report: dict, issues) -> Sheet:
    tool, std = report.get("tool", {}), report.get("standards", {})
    gate = report.get("gate", {}).get("summary", {})
    s = Sheet("Summary", [26, 34, 12, 20, 10, 10, 10, 12, 12, 12])
    s.add([Bold(f"Validation report: {clean_text(report.get('study'))}")], TITLE)
    params = rule_parameter_rows(report)
    overrides = "; ".join(f"{n} = {clean_text(v)} (default {clean_text(d)})" for n, v, d, o in params if o)
    for label, value in (
            ("Tool", f"{clean_text(tool.get('name'))} {clean_text(tool.get('version'))}"),
            ("Study", report.get("study")), ("SDTM standard", std.get("sdtm")), ("ADaM standard", std.get("adam")),
            ("Controlled terminology", std.get("ct")), ("Mapping", report.get("mapping")),
            ("Transport", report.get("input", {}).get("transport")), ("Status", report.get("status")),
            ("Verdict", verdict(report)), ("Counts", verdict_counts(report)), ("Fail on", report.get("fail_on")),
            ("Submission metadata", submission_files(report)),
            ("Expectations", gate.get("expectations")), ("Passed", gate.get("passed")),
            ("Failed", gate.get("failed")), ("Not run", gate.get("not run")),
            ("Issues", len(issues)), ("Findings", len(report.get("findings", []))),
            ("Rule parameter overrides", overrides or "none")):
        s.add([Bold(label), value])
    s.add([])
    s.header(["Dataset", "Label", "Records", "File"] + [f"{v.capitalize()}s" for v in SEVERITIES]
             + [f"{v.capitalize()} rules" for v in SEVERITIES])
    totals = dict.fromkeys(SEVERITIES, 0)
    for r in dataset_summary(report, issues):
        s.add([r.dataset or "(run)", r.label, r.records, r.file]
              + [r.counts[v] for v in SEVERITIES] + [r.issues[v] for v in SEVERITIES])
        for v in SEVERITIES:
            totals[v] += r.counts[v]
    s.add([Bold("Total"), None, None, None] + [totals[v] for v in SEVERITIES])
    s.add([])
    s.header(["Rule parameter", "Value", "Default", "Overridden"])
    for name, value, default, over in params:
        s.add([name, value, default, "yes" if over else "no"])
    s.add([])
    s.header(["Input file", "SHA-256", "Bytes"])
    for f in report.get("input", {}).get("files", []):
        s.add([f.get("path"), f.get("sha256"), f.get("bytes")])
    return s


def _issue_sheet(issues) -> Sheet:
    s = Sheet("Issue Summary", [12, 30, 10, 9, 20, 70, 60, 9, 10], freeze=True)
    s.header(["Dataset", "Rule ID", "Severity", "Source", "Variables", "Message", "Rule", "Count", "Checked"],
             filtered=True)
    for i in issues:
        s.add([i.dataset or "(run)", i.rule, Severity(i.severity), i.source, ", ".join(i.variables), i.message, i.rule_text,
               i.count, i.checked])
    return s


def _details_sheet(issues) -> Sheet:
    s = Sheet("Details", [12, 30, 10, 24, 8, 12, 28, 14, 8, 90], freeze=True)
    s.header(["Dataset", "Rule ID", "Severity", "USUBJID", "--SEQ", "Variable", "Value", "File", "Row", "Message"],
             filtered=True)
    for i in issues:
        for r in i.records:
            s.add([i.dataset or "(run)", i.rule, Severity(i.severity), r.usubjid, r.seq, r.variable, r.value, r.file, r.row,
                   r.message])
    return s


def _rules_sheet(report: dict) -> Sheet:
    s = Sheet("Rules", [10, 30, 10, 20, 60, 60, 9, 10, 10, 40], freeze=True)
    s.header(["Dataset", "Rule ID", "Severity", "Variables", "Rule", "Message", "Status", "Checked", "Failed",
              "Note"], filtered=True)
    for e in report.get("gate", {}).get("expectations", []):
        s.add([e.get("dataset"), e.get("id"), e.get("severity"), ", ".join(e.get("variables") or []), e.get("rule"),
               e.get("message"), e.get("status"), e.get("element_count"), e.get("unexpected_count"), e.get("note")])
    return s


def workbook_sheets(report: dict) -> list[Sheet]:
    issues = build_issues(report)
    return [_summary_sheet(report, issues), _issue_sheet(issues), _details_sheet(issues), _rules_sheet(report)]


def _workbook_xml(sheets: list[Sheet]) -> str:
    entries = "".join(f'<sheet name={quoteattr(s.name)} sheetId="{n + 1}" r:id="rId{n + 1}"/>'
                      for n, s in enumerate(sheets))
    names = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        f"{escape(_abs_range(s))}</definedName>"
        for n, s in enumerate(sheets) if s.table_header is not None)
    return (XML_DECL + f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><bookViews><workbookView/></bookViews>'
            f"<sheets>{entries}</sheets>" + (f"<definedNames>{names}</definedNames>" if names else "")
            + "</workbook>")


def _abs_range(sheet: Sheet) -> str:
    start, end = _filter_range(sheet).split(":")

    def absolute(ref: str) -> str:
        letters = ref.rstrip("0123456789")
        return f"${letters}${ref[len(letters):]}"

    return f"'{sheet.name}'!{absolute(start)}:{absolute(end)}"


def _parts(sheets: list[Sheet]) -> list[tuple[str, str]]:
    sheet_ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    content_types = (
        XML_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        + "".join(f'<Override PartName="/xl/worksheets/sheet{n + 1}.xml" ContentType="{sheet_ct}"/>'
                  for n in range(len(sheets)))
        + "</Types>")
    root_rels = (XML_DECL + f'<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
                 f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    wb_rels = (XML_DECL + f'<Relationships xmlns="{PKG_REL_NS}">'
               + "".join(f'<Relationship Id="rId{n + 1}" Type="{REL_NS}/worksheet" '
                         f'Target="worksheets/sheet{n + 1}.xml"/>' for n in range(len(sheets)))
               + f'<Relationship Id="rId{len(sheets) + 1}" Type="{REL_NS}/styles" Target="styles.xml"/>'
               + "</Relationships>")
    parts = [("[Content_Types].xml", content_types), ("_rels/.rels", root_rels),
             ("xl/workbook.xml", _workbook_xml(sheets)), ("xl/_rels/workbook.xml.rels", wb_rels),
             ("xl/styles.xml", STYLES)]
    parts += [(f"xl/worksheets/sheet{n + 1}.xml", _sheet_xml(s)) for n, s in enumerate(sheets)]
    return parts


def render_xlsx(report: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, text in _parts(workbook_sheets(report)):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0o644 << 16
            zf.writestr(info, text.encode("utf-8"), compresslevel=6)
    return buffer.getvalue()

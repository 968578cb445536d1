"""validation.html: one self-contained page for a QA reviewer (inline CSS and JS, no network).

Every piece of report data goes through `esc` (html.escape with quote=True, after removing
characters HTML/XML cannot hold); JSON embedded in a <script> escapes <, > and & as \\u003c etc.
A Content-Security-Policy allows only this page's own script (by hash): no network, and an
injected script would not run even if escaping failed.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from typing import Any

from sdtm_lupus.findings import SEVERITIES
from sdtm_lupus.validate.reports.model import (
    Issue,
    Record,
    build_issues,
    clean_text,
    dataset_summary,
    distinct_values,
    grouped_findings,
    rule_parameter_rows,
    submission_files,
    top_issues,
    verdict,
    verdict_counts,
    verdict_level,
)
from sdtm_lupus.validate.reports.results_html import results_section

OVERRIDDEN = '<span class="tag">OVERRIDDEN</span>'
MAX_HTML_RECORDS = 1000          # per issue; validation.xlsx and validation.json hold them all


def esc(value: Any) -> str:
    """HTML-escaped display text of a report value (safe in element content and quoted attributes)."""
    return html.escape(clean_text(value), quote=True)


def script_json(value: Any) -> str:
    """JSON that is safe inside <script>: <, >, & and the JS line separators as \\u escapes."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    for char, code in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                       ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return text


CSS = """
:root{--err:#b42318;--err-bg:#fef3f2;--warn:#b54708;--warn-bg:#fffaeb;--note:#175cd3;--note-bg:#eff8ff;
--ok:#067647;--ok-bg:#ecfdf3;--line:#d0d5dd;--muted:#667085;--head:#f2f4f7}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;
color:#101828;margin:0;background:#fff}
header{padding:16px 24px;border-bottom:1px solid var(--line);background:#f9fafb}
header h1{margin:0 0 4px;font-size:22px}
header .sub{color:var(--muted)}
nav{padding:8px 24px;border-bottom:1px solid var(--line);position:sticky;top:0;background:#fff;z-index:2}
nav a{margin-right:14px;color:var(--note);text-decoration:none}
main{padding:8px 24px 48px}
section{margin-top:20px}
h2{font-size:18px;border-bottom:2px solid var(--line);padding-bottom:4px}
h3{font-size:16px;margin:18px 0 6px}
h4{font-size:14px;margin:14px 0 4px}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
th,td{border:1px solid var(--line);padding:3px 7px;text-align:left;vertical-align:top}
th{background:var(--head);font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.zero{color:#98a2b3}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Noto Sans Mono CJK SC",monospace;font-size:12px}
td.value code{overflow-wrap:anywhere}
td.id{white-space:nowrap}
.verdict{margin-top:10px;padding:10px 14px;border-radius:6px;font-weight:600;font-size:15px}
.verdict .counts{font-weight:400;font-size:13px;margin-top:2px}
.verdict.passed{background:var(--ok-bg);color:var(--ok);border:1px solid #abefc6}
.verdict.failed{background:var(--err-bg);color:var(--err);border:1px solid #fecdca}
.verdict.warnings{background:var(--warn-bg);color:var(--warn);border:1px solid #fedf89}
.verdict ul{margin:4px 0 0;padding-left:18px;font-weight:400;font-size:13px;color:#101828}
.verdict .what{font-weight:600;font-size:13px;margin-top:6px;color:#344054}
.sev.muted{background:#f2f4f7;color:var(--muted)}
td.vals code{margin-right:6px}
.sev{display:inline-block;padding:0 6px;border-radius:9px;font-size:12px;font-weight:600}
.sev.error{background:var(--err-bg);color:var(--err)}
.sev.warning{background:var(--warn-bg);color:var(--warn)}
.sev.notice{background:var(--note-bg);color:var(--note)}
.st{font-weight:600}.st.passed{color:var(--ok)}.st.failed{color:var(--err)}.st.not-run{color:var(--muted)}
tr.override td{background:#fff7d6}
.tag{font-size:11px;font-weight:700;color:var(--warn);margin-left:6px}
tr.bad td{background:var(--err-bg)}
.filters{display:flex;gap:10px;align-items:center;flex-wrap:wrap;margin:6px 0}
.filters input,.filters select{font:inherit;padding:3px 6px;border:1px solid var(--line);border-radius:4px}
.filters input{min-width:260px}
.count{color:var(--muted)}
.detail{border-left:3px solid var(--line);padding-left:10px;margin:10px 0 16px}
.detail:target{border-left-color:var(--note);background:#f5faff}
.muted{color:var(--muted)}
details summary{cursor:pointer;color:var(--note)}
@media print{nav,.filters{display:none}}
"""

JS = """
(function () {
  "use strict";
  var meta = JSON.parse(document.getElementById("report-meta").textContent);
  function filterTable(tableId, controlIds, countId, noun, alsoSelector) {
    var table = document.getElementById(tableId);
    if (!table) { return; }
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var also = alsoSelector ? Array.prototype.slice.call(document.querySelectorAll(alsoSelector)) : [];
    var controls = controlIds.map(function (id) { return document.getElementById(id); });
    var count = document.getElementById(countId);
    function apply() {
      var shown = 0;
      rows.forEach(function (row) {
        var ok = controls.every(function (c) {
          var want = c.value.trim();
          if (!want) { return true; }
          var key = c.getAttribute("data-key");
          if (key) { return row.getAttribute("data-" + key) === want; }
          return row.textContent.toLowerCase().indexOf(want.toLowerCase()) >= 0;
        });
        row.hidden = !ok;
        if (ok) { shown += 1; }
      });
      also.forEach(function (el) {
        el.hidden = !controls.every(function (c) {
          var want = c.value.trim();
          if (!want) { return true; }
          var key = c.getAttribute("data-key");
          if (key) { return el.getAttribute("data-" + key) === want; }
          return el.textContent.toLowerCase().indexOf(want.toLowerCase()) >= 0;
        });
      });
      count.textContent = shown + " of " + rows.length + " " + noun + " shown";
    }
    controls.forEach(function (c) { c.addEventListener("input", apply); c.addEventListener("change", apply); });
    apply();
  }
  // self-check read by the browser test: how many body rows of a table have a layout box
  function markRendered(tableId) {
    var table = document.getElementById(tableId);
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var n = rows.filter(function (r) { return r.getClientRects().length > 0; }).length;
    table.setAttribute("data-rendered-rows", String(n));
  }
  filterTable("issue-table", ["f-severity", "f-dataset", "f-text"], "issue-count", "issues", "details.detail");
  function openTarget() {
    var target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
    if (target && target.tagName === "DETAILS") { target.open = true; }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  // self-check read by the browser test: which banner parts are fully inside the first screen
  var visible = ["verdict", "failed-rules", "top-issues"].filter(function (id) {
    var el = document.getElementById(id);
    if (!el) { return false; }
    var box = el.getBoundingClientRect();
    return box.height > 0 && box.bottom <= window.innerHeight && box.right <= window.innerWidth;
  });
  document.documentElement.setAttribute("data-first-screen", visible.join(" "));
  filterTable("rules-table", ["r-status", "r-severity", "r-text"], "rules-count", "rules");
  markRendered("summary-table");
  markRendered("issue-table");
  if (document.getElementById("issue-table").tBodies[0].rows.length === meta.issues) {
    document.documentElement.setAttribute("data-report", "ready");
  }
})();
"""


def _sev(severity: Any) -> str:
    return f'<span class="sev {esc(severity)}">{esc(severity)}</span>'


def _sev_muted(severity: Any) -> str:
    return f'<span class="sev muted">{esc(severity)}</span>'


def _status(status: Any) -> str:
    return f'<span class="st {esc(str(status).replace(" ", "-"))}">{esc(status)}</span>'


def _num(value: Any) -> str:
    cls = "n zero" if value in (0, None) else "n"
    return f'<td class="{cls}">{esc(value if value is not None else "")}</td>'


def _kv_table(rows: list[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def _header(report: dict, issues: list[Issue]) -> str:
    tool = report.get("tool", {})
    level = verdict_level(report)
    failed = [i for i in issues if i.source == "gate"]
    failed_rules = "".join(f'<li><a href="#{esc(i.anchor)}"><code>{esc(i.rule)}</code></a> {_sev(i.severity)} '
                           f'{esc(i.count)} record(s): {esc(i.message)}</li>' for i in failed[:6])
    if len(failed) > 6:
        failed_rules += f'<li><a href="#issues">{len(failed) - 6} more failed rule(s)</a></li>'
    failed_block = (f'<div id="failed-rules"><div class="what">Failed rules ({len(failed)})</div><ul>{failed_rules}</ul>'
                    f'</div>' if failed else '<div id="failed-rules"><div class="what">Failed rules: none</div></div>')
    top = "".join(f'<li>{_sev(i.severity)} <a href="#{esc(i.anchor)}"><code>{esc(i.rule)}</code></a> · '
                  f'{esc(i.dataset or "(run)")} · {esc(i.count)} record(s){_values_text(i)}</li>' for i in top_issues(issues))
    top_block = (f'<div id="top-issues"><div class="what">Top issues ({len(issues)} in all)</div><ul>{top}</ul></div>'
                 if issues else '<div id="top-issues"><div class="what">No issue.</div></div>')
    return (f'<header><h1>Validation report: {esc(report.get("study"))}</h1>'
            f'<div class="sub">{esc(tool.get("name"))} {esc(tool.get("version"))} · mapping '
            f'{esc(report.get("mapping"))} · {esc(report.get("input", {}).get("transport"))} export · '
            f'<a href="#run">run details and rule parameters</a></div>'
            f'<div class="verdict {esc(level)}" id="verdict" data-level="{esc(level)}">{esc(verdict(report))}'
            f'<div class="counts">{esc(verdict_counts(report))}</div>{failed_block}{top_block}</div></header>')


def _values_text(issue: Issue) -> str:
    ranked, n = distinct_values(issue.records)
    if not ranked:
        return ""
    shown = ", ".join(f"{v[:40]!r} ×{c}" for v, c in ranked)
    return esc(f" · {shown}" + (f" (+{n - len(ranked)} more)" if n > len(ranked) else ""))


def _nav() -> str:
    links = [("issues", "Issues"), ("summary", "Summary"), ("details", "Record details"),
             ("reconciliation", "Reconciliation"), ("endpoints", "Endpoints"), ("results", "Results"), ("safety", "Safety"),
             ("rules", "Rules"), ("run", "Run")]
    return "<nav>" + "".join(f'<a href="#{a}">{t}</a>' for a, t in links) + "</nav>"


def _run(report: dict) -> str:
    tool, std, gate = report.get("tool", {}), report.get("standards", {}), report.get("gate", {}).get("summary", {})
    rows = [("Tool", f'{tool.get("name", "")} {tool.get("version", "")}'), ("Study", report.get("study")),
            ("SDTM standard", std.get("sdtm")), ("ADaM standard", std.get("adam")),
            ("Controlled terminology", std.get("ct")), ("Mapping", report.get("mapping")),
            ("Transport", report.get("input", {}).get("transport")), ("Status", report.get("status")),
            ("Fail on", report.get("fail_on")), ("Submission metadata", submission_files(report)),
            ("Expectations", f'{gate.get("expectations", 0)}: {gate.get("passed", 0)} passed, '
                             f'{gate.get("failed", 0)} failed, {gate.get("not run", 0)} not run')]
    params = rule_parameter_rows(report)
    n_over = sum(p[3] for p in params)
    prow = "".join(
        f'<tr class="{"override" if over else ""}"><td><code>{esc(name)}</code>'
        f'{OVERRIDDEN if over else ""}</td>'
        f'<td class="n">{esc(value)}</td><td class="n">{esc(default)}</td></tr>'
        for name, value, default, over in params)
    files = report.get("input", {}).get("files", [])
    frows = "".join(f'<tr><td><code>{esc(f.get("path"))}</code></td><td class="n">{esc(f.get("bytes"))}</td>'
                    f'<td><code>{esc(f.get("sha256"))}</code></td></tr>' for f in files)
    return (f'<section id="run"><h2>Run</h2>{_kv_table(rows)}'
            f'<h3>Rule parameters <span class="muted">({n_over} overridden by the study configuration)</span></h3>'
            f'<table id="rule-parameters"><thead><tr><th>Parameter</th><th class="n">Value</th>'
            f'<th class="n">Default</th></tr></thead><tbody>{prow}</tbody></table>'
            f'<details id="input-files"><summary>Input files ({len(files)}) with SHA-256 checksums</summary>'
            f'<table><thead><tr><th>File</th><th class="n">Bytes</th><th>SHA-256</th></tr></thead>'
            f'<tbody>{frows}</tbody></table></details></section>')


def _summary(report: dict, issues: list[Issue]) -> str:
    rows = dataset_summary(report, issues)
    outputs = [r for r in rows if r.dataset in report.get("datasets", {})]
    others = [r for r in rows if r.dataset not in report.get("datasets", {})]
    return (f'<section id="summary"><h2>Summary by dataset and severity</h2>'
            f'<p class="muted">Records affected by failed expectations and findings (number of rules).</p>'
            f'<h3>Datasets (SDTM and ADaM)</h3>{_summary_table("summary-table", outputs, True)}'
            f'<h3>Raw forms and the run</h3>'
            f'{_summary_table("forms-table", others, False) if others else "<p class=muted>No issue.</p>"}</section>')


def _summary_table(table_id: str, rows: list, outputs: bool) -> str:
    body = []
    totals = dict.fromkeys(SEVERITIES, 0)
    for r in rows:
        cells = []
        for sev in SEVERITIES:
            totals[sev] += r.counts[sev]
            if r.counts[sev]:
                cells.append(f'<td class="n">{esc(r.counts[sev])} <span class="muted">({esc(r.issues[sev])} '
                             f'rule{"s" if r.issues[sev] != 1 else ""})</span></td>')
            else:
                cells.append('<td class="n zero">0</td>')
        extra = f'<td>{esc(r.label)}</td>{_num(r.records)}<td><code>{esc(r.file)}</code></td>' if outputs else \
            f'<td>{esc(r.label)}</td>'
        body.append(f'<tr data-dataset="{esc(r.dataset)}"><td><b>{esc(r.dataset or "(run)")}</b></td>{extra}'
                    f'{"".join(cells)}</tr>')
    head = "".join(f'<th class="n">{sev.capitalize()}s</th>' for sev in SEVERITIES)
    cols = '<th>Label</th><th class="n">Records</th><th>File</th>' if outputs else "<th>Kind</th>"
    foot = "".join(f'<td class="n"><b>{esc(totals[s])}</b></td>' for s in SEVERITIES)
    return (f'<table id="{table_id}"><thead><tr><th>{"Dataset" if outputs else "Form"}</th>{cols}{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody><tfoot><tr><td colspan="{4 if outputs else 2}"><b>Total</b></td>{foot}'
            f'</tr></tfoot></table>')


def _issues(issues: list[Issue]) -> str:
    datasets = sorted({i.dataset for i in issues})
    sev_opts = "".join(f'<option value="{s}">{s}</option>' for s in SEVERITIES)
    ds_opts = "".join(f'<option value="{esc(d or "(run)")}">{esc(d or "(run)")}</option>' for d in datasets)
    rows = "".join(
        f'<tr data-severity="{esc(i.severity)}" data-dataset="{esc(i.dataset or "(run)")}" data-rule="{esc(i.rule)}" '
        f'data-source="{esc(i.source)}"><td>{_sev(i.severity)}</td><td>{esc(i.dataset or "(run)")}</td>'
        f'<td class="id"><a href="#{esc(i.anchor)}"><code>{esc(i.rule)}</code></a></td><td>{esc(", ".join(i.variables))}</td>'
        f'<td class="n">{esc(i.count)}</td><td class="vals">{_values_cell(i)}</td><td>{esc(i.message)}</td>'
        f'<td>{"gate" if i.source == "gate" else "finding"}</td></tr>'
        for i in issues)
    return (f'<section id="issues"><h2>Issues</h2>'
            f'<div class="filters"><label>Severity <select id="f-severity" data-key="severity">'
            f'<option value="">all</option>{sev_opts}</select></label>'
            f'<label>Dataset <select id="f-dataset" data-key="dataset"><option value="">all</option>{ds_opts}'
            f'</select></label><label>Text <input id="f-text" type="search" '
            f'placeholder="rule id, variable, message"></label>'
            f'<span class="count" id="issue-count">{len(issues)} issues</span></div>'
            f'<table id="issue-table"><thead><tr><th>Severity</th><th>Dataset</th><th>Rule ID</th>'
            f'<th>Variables</th><th class="n">Count</th><th>Distinct values (records)</th><th>Message</th>'
            f'<th>Source</th></tr></thead>'
            f'<tbody>{rows}</tbody></table></section>')


def _values_cell(issue: Issue) -> str:
    """The most frequent distinct values with their record counts: 749 warnings may be 24 terms."""
    ranked, n = distinct_values(issue.records)
    cells = "".join(f"<code>{esc(v[:60])}</code>×{c} " for v, c in ranked)
    return cells + (f'<span class="muted">+{n - len(ranked)} more</span>' if n > len(ranked) else "")


def _records(issue: Issue, with_message: bool) -> str:
    shown = issue.records[:MAX_HTML_RECORDS]
    seq_name = next((r.seq_name for r in shown if r.seq_name), None)
    with_seq = seq_name is not None or any(r.seq is not None for r in shown)
    seq_head = f"<th>{esc(seq_name or '--SEQ')}</th>" if with_seq else ""
    head = (f'<tr><th>USUBJID</th>{seq_head}<th>Variable</th>'
            f'<th>Value</th><th>File</th><th class="n">Row</th>{"<th>Message</th>" if with_message else ""}</tr>')

    def row(r: Record) -> str:
        return (f'<tr class="rec" data-rule="{esc(issue.rule)}" data-file="{esc(r.file)}" data-row="{esc(r.row)}" '
                f'data-usubjid="{esc(r.usubjid)}" data-value="{esc(r.value)}"><td class="id"><code>{esc(r.usubjid)}</code></td>'
                f'{_num(r.seq) if with_seq else ""}<td>{esc(r.variable)}</td>'
                f'<td class="value"><code>{esc(r.value)}</code></td><td>{esc(r.file)}</td>'
                f'{_num(r.row)}{f"<td>{esc(r.message)}</td>" if with_message else ""}</tr>')

    more = ""
    if issue.count > len(shown):
        where = ("the gate keeps up to 1 000 per rule, all in validation.xlsx and validation.json"
                 if issue.source == "gate" else "all are in validation.xlsx and validation.json")
        more = f'<p class="muted">{len(shown)} of {issue.count} records listed; {where}.</p>'
    if not shown:
        return more or '<p class="muted">No example records.</p>'
    return f'<table class="records"><thead>{head}</thead><tbody>{"".join(map(row, shown))}</tbody></table>{more}'


def _detail(issue: Issue, level: str) -> str:
    checked = f" of {issue.checked} checked" if issue.checked is not None else ""
    note = f'<p class="muted">Note: {esc(issue.note)}</p>' if issue.note else ""
    ranked, n = distinct_values(issue.records, most=20)
    values = ""
    if n > 1 or issue.allowed:
        values = ("<p>Distinct values: " + ", ".join(f"<code>{esc(v)}</code> ({c})" for v, c in ranked)
                  + (f" and {n - len(ranked)} more" if n > len(ranked) else "") + "</p>")
    if issue.allowed:
        values += (f"<p>Allowed terms: {', '.join(f'<code>{esc(t)}</code>' for t in issue.allowed)}</p>"
                   + (f"<p>Fix: map each site value to one of them under <code>{esc(issue.fix)}</code> in the "
                      "mapping (docs/mapping.md), then convert again.</p>" if issue.fix else ""))
    return (f'<details class="detail" id="{esc(issue.anchor)}" data-severity="{esc(issue.severity)}" '
            f'data-dataset="{esc(issue.dataset or "(run)")}" data-rule="{esc(issue.rule)}"><summary>'
            f'<{level} style="display:inline">{_sev(issue.severity)} '
            f'<code>{esc(issue.rule)}</code> · {esc(issue.dataset or "(run)")} · '
            f'{esc(issue.count)} record(s){esc(checked)}</{level}></summary>'
            f'<p>Rule: {esc(issue.rule_text)}</p>{note}{values}'
            f'{_records(issue, with_message=issue.source == "finding")}</details>')


def _details(issues: list[Issue]) -> str:
    gate = [i for i in issues if i.source == "gate"]
    parts = ['<section id="details"><h2>Record details</h2><p class="muted">Each issue opens on a click; the '
             'issue filters above apply here too.</p><h3 id="gate-failures">Failed expectations (gate)</h3>']
    parts.append("".join(_detail(i, "h4") for i in gate) or '<p class="muted">No failed expectation.</p>')
    parts.append('<h3 id="findings">QC and mapping findings</h3>')
    groups = grouped_findings(issues)
    if not groups:
        parts.append('<p class="muted">No finding.</p>')
    for anchor, title, items in groups:
        count = sum(i.count for i in items)
        parts.append(f'<h4 id="{esc(anchor)}">{esc(title)} <span class="muted">({esc(count)})</span></h4>')
        parts.append("".join(_detail(i, "h5") for i in items))
    parts.append("</section>")
    return "".join(parts)


def _reconciliation(report: dict) -> str:
    rec = report.get("reconciliation", {})
    forms = rec.get("forms", {})
    keys = ("read", "mapped", "rejected", "lost")
    rows = "".join(
        f'<tr class="{"bad" if c.get("lost") else ""}"><td>{esc(name)}</td>'
        + "".join(_num(c.get(k)) for k in keys) + "</tr>" for name, c in forms.items())
    totals = "".join(f'<td class="n"><b>{esc(sum(int(c.get(k) or 0) for c in forms.values()))}</b></td>' for k in keys)
    deferred = rec.get("deferred_forms") or []
    dtext = (f'<p>Forms not mapped by this version (deferred): {esc(", ".join(deferred))}</p>' if deferred else "")
    return (f'<section id="reconciliation"><h2>Reconciliation of raw rows</h2>'
            f'<p class="muted">Every raw row is mapped to an output record, rejected with a finding that explains '
            f'it, or lost (an error).</p><table id="reconciliation-table"><thead><tr><th>Form</th>'
            f'<th class="n">Read</th><th class="n">Mapped</th><th class="n">Rejected</th><th class="n">Lost</th>'
            f'</tr></thead><tbody>{rows}</tbody><tfoot><tr><td><b>Total</b></td>{totals}</tr></tfoot></table>'
            f'{dtext}</section>')


def _ratio(part: Any, whole: Any) -> str:
    if part is None or whole is None:
        return "–"
    pct = f" ({100 * part / whole:.0f}%)" if whole else ""
    return f"{part}/{whole}{pct}"


def _endpoints(report: dict) -> str:
    by_arm = (report.get("endpoints") or {}).get("by_arm") or {}
    rows = []
    for arm, r in by_arm.items():
        sri, fl, sev, tte = (r.get(k) or {} for k in ("sri4_week48", "FLANY52", "FLSEV52", "TTFLANY"))
        median = tte.get("median_days")
        rows.append(f'<tr><td><b>{esc(arm)}</b></td>{_num(r.get("fas"))}'
                    f'<td class="n">{esc(_ratio(sri.get("responders"), sri.get("n")))}</td>'
                    f'<td class="n">{esc(_ratio(fl.get("yes"), fl.get("n")))}</td>'
                    f'<td class="n">{esc(_ratio(sev.get("yes"), sev.get("n")))}</td>'
                    f'<td class="n">{esc(_ratio(tte.get("events"), tte.get("n")))}</td>'
                    f'<td class="n">{esc("not reached" if median is None else median)}</td></tr>')
    body = ("".join(rows) or '<tr><td colspan="7" class="muted">No endpoint summary in this report.</td></tr>')
    return (f'<section id="endpoints"><h2>Endpoint summary by arm</h2>'
            f'<p class="muted">Full analysis set; counts only, no statistical testing.</p>'
            f'<table id="endpoint-table"><thead><tr><th>Arm</th><th class="n">FAS</th>'
            f'<th class="n">SRI-4 week 48 responders</th><th class="n">Any flare by day 365 (FLANY52)</th>'
            f'<th class="n">Severe flare by day 365 (FLSEV52)</th><th class="n">Time to first flare: events</th>'
            f'<th class="n">Median time to first flare (days)</th></tr></thead><tbody>{body}</tbody></table></section>')


def _safety(report: dict) -> str:
    """R11 TEAE counts by actual arm (report["safety"]); nothing when the report has none."""
    by_arm = (report.get("safety") or {}).get("by_arm") or {}
    if not by_arm:
        return ""
    keys = ("any_teae", "related", "serious", "leading_to_discontinuation", "fatal", "sle_hospitalisation")
    rows = []
    for arm, r in by_arm.items():
        n = r.get("safety")
        grades = r.get("worst_grade") or {}
        rows.append(f'<tr><td><b>{esc(arm)}</b></td>{_num(n)}'
                    + "".join(f'<td class="n">{esc(_ratio(r.get(k), n))}</td>' for k in keys)
                    + f'<td>{esc(", ".join(f"{g}: {c}" for g, c in grades.items() if c) or "–")}</td></tr>')
    return (f'<section id="safety"><h2>Treatment-emergent adverse events by arm</h2>'
            f'<p class="muted">Safety set (SAFFL = Y), subjects; TEAE up to TRTEDT + '
            f'{esc(report["safety"].get("teae_window_days"))} days (R11).</p>'
            f'<table id="safety-table"><thead><tr><th>Arm</th><th class="n">Safety set</th>'
            f'<th class="n">Any TEAE</th><th class="n">Related</th><th class="n">Serious</th>'
            f'<th class="n">Leading to discontinuation</th><th class="n">Fatal</th>'
            f'<th class="n">SLE-related hospitalisation</th><th>By worst CTCAE grade</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></section>')


def _rules(report: dict, issues: list[Issue]) -> str:
    anchors = {(i.rule, i.dataset): i.anchor for i in issues if i.source == "gate"}
    exps = report.get("gate", {}).get("expectations", [])
    rows = []
    for e in exps:
        anchor = anchors.get((e.get("id"), e.get("dataset") or ""))
        rid = f'<code>{esc(e.get("id"))}</code>'
        if anchor and e.get("status") == "failed":
            rid = f'<a href="#{esc(anchor)}">{rid}</a>'
        note = e.get("note")
        rows.append(f'<tr data-status="{esc(e.get("status"))}" data-severity="{esc(e.get("severity"))}">'
                    f'<td>{_status(e.get("status"))}</td>'
                    f'<td>{_sev(e.get("severity")) if e.get("status") == "failed" else _sev_muted(e.get("severity"))}</td>'
                    f'<td>{esc(e.get("dataset"))}</td><td class="id">{rid}</td>'
                    f'<td>{esc(", ".join(e.get("variables") or []))}</td><td>{esc(e.get("rule"))}</td>'
                    f'{_num(e.get("element_count"))}{_num(e.get("unexpected_count"))}'
                    f'<td>{esc(note) if note else ""}</td></tr>')
    statuses = "".join(f'<option value="{s}">{s}</option>' for s in ("passed", "failed", "not run"))
    sevs = "".join(f'<option value="{s}">{s}</option>' for s in SEVERITIES)
    return (f'<section id="rules"><h2>Rules</h2><p class="muted">Every expectation the gate generated, with its '
            f'run status.</p><div class="filters"><label>Status <select id="r-status" data-key="status">'
            f'<option value="">all</option>{statuses}</select></label><label>Severity <select id="r-severity" '
            f'data-key="severity"><option value="">all</option>{sevs}</select></label>'
            f'<label>Text <input id="r-text" type="search" placeholder="rule id, dataset, variable, rule text">'
            f'</label><span class="count" id="rules-count">{len(exps)} rules</span></div>'
            f'<table id="rules-table"><thead><tr><th>Status</th><th>Severity</th><th>Dataset</th><th>Rule ID</th>'
            f'<th>Variables</th><th>Rule</th><th class="n">Checked</th><th class="n">Failed</th><th>Note</th></tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></section>')


def render_html(report: dict) -> str:
    issues = build_issues(report)
    meta = {"study": clean_text(report.get("study")), "status": clean_text(report.get("status")),
            "issues": len(issues), "expectations": len(report.get("gate", {}).get("expectations", []))}
    script_hash = base64.b64encode(hashlib.sha256(JS.encode("utf-8")).digest()).decode("ascii")
    csp = (f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
           f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'")
    return "".join([
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<title>Validation report: {esc(report.get("study"))} ({esc(report.get("status"))})</title>',
        f"<style>{CSS}</style></head><body>",
        _header(report, issues), _nav(), "<main>",
        _issues(issues), _summary(report, issues), _details(issues),
        _reconciliation(report), _endpoints(report), results_section(report), _safety(report), _rules(report, issues),
        _run(report),
        "</main>",
        f'<script type="application/json" id="report-meta">{script_json(meta)}</script>',
        f"<script>{JS}</script>",
        "</body></html>\n",
    ])

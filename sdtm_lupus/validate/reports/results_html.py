"""The results section of validation.html: endpoint rates and Kaplan-Meier medians by arm, with
figures (response rates by visit, Kaplan-Meier curves with numbers at risk) as inline SVG drawn
by matplotlib (sdtm_lupus.results.plots). Every text from the report is escaped here; the SVG
is produced by matplotlib from numbers only (arm names are escaped by matplotlib's SVG writer)."""

from __future__ import annotations

import html
from typing import Any

FIGURE_PARAMS = ("SRI4",)
KM_PARAMS = ("TTFLANY", "TTFLSEV", "TTFLMM")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _f(value: Any, digits: int = 1, scale: float = 1.0) -> str:
    return "–" if value is None else f"{value * scale:.{digits}f}"


def _endpoint_rows(rows: list[dict]) -> str:
    out = []
    for r in rows:
        ci = f'{_f(r.get("ci_low"), 1, 100)}–{_f(r.get("ci_high"), 1, 100)}' if r.get("ci_low") is not None else "–"
        diff = (f'{_f(r.get("difference"), 1, 100)} ({_f(r.get("difference_ci_low"), 1, 100)} to '
                f'{_f(r.get("difference_ci_high"), 1, 100)})') if r.get("difference") is not None else ""
        orat = (f'{_f(r.get("odds_ratio"), 2)} ({_f(r.get("odds_ratio_ci_low"), 2)}–{_f(r.get("odds_ratio_ci_high"), 2)})'
                if r.get("odds_ratio") is not None else "")
        out.append(f'<tr data-paramcd="{_e(r["paramcd"])}"><td><code>{_e(r["paramcd"])}</code></td>'
                   f'<td>{_e(r.get("avisit") or "")}</td><td>{_e(r["arm"])}</td><td class="n">{r["n"]}</td>'
                   f'<td class="n">{r["responders"]}</td><td class="n">{_f(r.get("percent"))}</td>'
                   f'<td class="n">{ci}</td><td class="n">{_e(diff)}</td><td class="n">{_e(orat)}</td></tr>')
    return "".join(out)


def _median_rows(rows: list[dict]) -> str:
    def day(v):
        return "NR" if v is None else f"{v:.0f}"
    return "".join(
        f'<tr><td><code>{_e(m["paramcd"])}</code></td><td>{_e(m["arm"])}</td><td class="n">{m["n"]}</td>'
        f'<td class="n">{m["events"]}</td><td class="n">{day(m.get("median"))}</td>'
        f'<td class="n">{day(m.get("median_ci_low"))}–{day(m.get("median_ci_high"))}</td></tr>' for m in rows)


def results_section(report: dict) -> str:
    results = report.get("results") or {}
    if not results:
        return ('<section id="results"><h2>Results</h2><p class="muted">No results in this report '
                '(no ADaM datasets were derived).</p></section>')
    from sdtm_lupus.results.plots import km_svg, response_by_visit_svg

    figures = []
    for paramcd in FIGURE_PARAMS:
        svg = response_by_visit_svg(results["endpoints"], paramcd)
        if svg:
            figures.append(f'<figure class="plot" id="plot-{paramcd.lower()}-by-visit">{svg}<figcaption>'
                           f'{_e(paramcd)} response rate by visit and arm (full analysis set, 95% Wilson intervals)'
                           f'</figcaption></figure>')
    for paramcd in KM_PARAMS:
        svg = km_svg(results["km"], results["km_median"], paramcd)
        if svg:
            figures.append(f'<figure class="plot" id="plot-km-{paramcd.lower()}">{svg}<figcaption>Kaplan–Meier '
                           f'estimate, {_e(paramcd)}, by arm, with the numbers at risk</figcaption></figure>')
    files = ", ".join(f"<code>{_e(f)}</code>" for f in results.get("files", []))
    return (f'<section id="results"><h2>Results</h2><p class="muted">Full analysis set. Rates with Wilson 95% '
            f'intervals; difference to the reference arm (percentage points) with Newcombe\'s hybrid score interval; '
            f'unstratified odds ratio with Woolf\'s interval; Kaplan–Meier medians (days) with log-log intervals '
            f'(NR: not reached). Files: {files or "–"}.</p>{"".join(figures)}'
            f'<table id="results-endpoints"><thead><tr><th>Parameter</th><th>Visit</th><th>Arm</th><th class="n">n</th>'
            f'<th class="n">Responders</th><th class="n">%</th><th class="n">95% CI (%)</th>'
            f'<th class="n">Difference (95% CI)</th><th class="n">Odds ratio (95% CI)</th></tr></thead>'
            f'<tbody>{_endpoint_rows(results["endpoints"])}</tbody></table>'
            f'<table id="results-km"><thead><tr><th>Parameter</th><th>Arm</th><th class="n">n</th><th class="n">Events</th>'
            f'<th class="n">Median (days)</th><th class="n">95% CI</th></tr></thead>'
            f'<tbody>{_median_rows(results["km_median"])}</tbody></table></section>')

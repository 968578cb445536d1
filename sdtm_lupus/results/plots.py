"""Figures of the results section (validation.html): matplotlib to inline SVG, deterministic bytes.

matplotlib is imported here only, when a figure is drawn (never at CLI start-up). No pyplot: a
bare Figure with the SVG canvas (no GUI backend, no global state). Deterministic: a fixed
`svg.hashsalt` per figure, no date metadata, text kept as text (`svg.fonttype: none`); the
element ids are prefixed with the figure's name so that several figures can share one page.
"""

from __future__ import annotations

import io
import re

ARM_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
AT_RISK_TIMES = (0, 60, 120, 180, 240, 300, 360)


def _svg(fig, name: str) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"sdtm-lupus-{name}", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]                                # no XML declaration / DOCTYPE inline
    text = re.sub(r'\bid="', f'id="{name}-', text)
    text = text.replace("url(#", f"url(#{name}-").replace('xlink:href="#', f'xlink:href="#{name}-')
    return text.replace("<svg ", f'<svg role="img" aria-label="{name}" ', 1)


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=72)


def response_by_visit_svg(rows: list[dict], paramcd: str) -> str | None:
    """Percent responders (Wilson 95% CI bars) by analysis visit, one line per arm."""
    rows = [r for r in rows if r["paramcd"] == paramcd and r.get("avisitn") is not None and r["n"]]
    if not rows:
        return None
    fig = _figure(7.5, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    arms = sorted({(r["armn"], r["arm"]) for r in rows})
    for k, (_, arm) in enumerate(arms):
        mine = sorted((r for r in rows if r["arm"] == arm), key=lambda r: r["avisitn"])
        x = [r["avisitn"] for r in mine]
        y = [r["percent"] for r in mine]
        err = [[max(0.0, r["percent"] - 100 * r["ci_low"]) for r in mine],
               [max(0.0, 100 * r["ci_high"] - r["percent"]) for r in mine]]
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, color=ARM_COLOURS[k % len(ARM_COLOURS)], label=arm)
    ax.set_xlabel("Analysis visit (week)")
    ax.set_ylabel(f"{paramcd} responders (%)")
    ax.set_ylim(0, 100)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _svg(fig, f"fig-{paramcd.lower()}-by-visit")


def at_risk(rows: list[dict], n: int, t: float) -> int:
    """Subjects at risk at time t: the at-risk count of the first KM row at or after t (0 after the last)."""
    later = [r["at_risk"] for r in rows if r["time"] >= t]
    return later[0] if later else 0 if rows else n


def km_svg(km_rows: list[dict], medians: list[dict], paramcd: str) -> str | None:
    """Kaplan-Meier curves per arm (censoring ticks) with the numbers at risk below the axis."""
    rows = [r for r in km_rows if r["paramcd"] == paramcd]
    meds = [m for m in medians if m["paramcd"] == paramcd]
    if not meds:
        return None
    fig = _figure(7.5, 4.2)
    ax = fig.add_axes((0.1, 0.36, 0.86, 0.58))
    arms = sorted((m["armn"], m["arm"], m["n"]) for m in meds)
    table = fig.add_axes((0.1, 0.02, 0.86, 0.18))
    table.set_axis_off()
    table.set_xlim(ax.get_xlim())
    for k, (_, arm, n) in enumerate(arms):
        colour = ARM_COLOURS[k % len(ARM_COLOURS)]
        mine = [r for r in rows if r["arm"] == arm]
        xs, ys = [0.0], [1.0]
        for r in mine:
            xs.append(r["time"])
            ys.append(r["survival"])
        ax.step(xs, ys, where="post", color=colour, label=f"{arm} (n={n})")
        cens = [(r["time"], r["survival"]) for r in mine if r["censored"]]
        if cens:
            ax.plot([c[0] for c in cens], [c[1] for c in cens], "|", color=colour, markersize=8)
        table.text(-0.01, 0.8 - 0.35 * k, arm, color=colour, ha="right", va="center", fontsize=7,
                   transform=table.transAxes)
        for t in AT_RISK_TIMES:
            table.text(t, 0.8 - 0.35 * k, str(at_risk(mine, n, t)), ha="center", va="center", fontsize=8,
                       color=colour)
    ax.set_xlim(0, 370)
    table.set_xlim(0, 370)
    table.set_ylim(0, 1)
    table.text(0.5, 1.25, "Number at risk", ha="center", va="center", fontsize=8, transform=table.transAxes)
    ax.set_xticks(list(AT_RISK_TIMES))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Days since first infusion")
    ax.set_ylabel("Probability without event")
    ax.set_title(meds[0]["param"], fontsize=10)
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    return _svg(fig, f"fig-km-{paramcd.lower()}")

"""Plain-text lines of a report for the terminal."""

from __future__ import annotations


def endpoint_lines(summary: dict) -> list[str]:
    """The one-page endpoint summary (counts only, no statistical testing)."""
    lines = ["endpoint summary (full analysis set, counts only):"] if summary.get("by_arm") else []
    for arm, row in summary.get("by_arm", {}).items():
        sri, fl, sev, tte = row["sri4_week48"], row["FLANY52"], row["FLSEV52"], row["TTFLANY"]
        median = "not reached" if tte["median_days"] is None else f"{tte['median_days']:g} days"
        lines.append(f"  {arm} (n={row['fas']}): SRI-4 week 48 {sri['responders']}/{sri['n']}; "
                     f"any flare by day 365 {fl['yes']}/{fl['n']}; severe {sev['yes']}/{sev['n']}; "
                     f"median time to first flare {median}")
    return lines


def safety_lines(safety: dict) -> list[str]:
    """Subjects with treatment-emergent AEs by actual arm (R11; safety set, counts only)."""
    by_arm = safety.get("by_arm") or {}
    lines = [f"TEAE summary (safety set, subjects; TEAE up to TRTEDT + {safety.get('teae_window_days')} days):"] \
        if by_arm else []
    for arm, r in by_arm.items():
        grades = ", ".join(f"{g} {n}" for g, n in r["worst_grade"].items() if n)
        lines.append(f"  {arm} (n={r['safety']}): any TEAE {r['any_teae']} ({r['events']} events); "
                     f"worst grade {grades or 'none'}; related {r['related']}; serious {r['serious']}; "
                     f"leading to discontinuation {r['leading_to_discontinuation']}; fatal {r['fatal']}; "
                     f"SLE-related hospitalisation {r['sle_hospitalisation']}")
    return lines

"""Small, exact statistics for the first results (docs/derivations.md "Results"); pure Python.

- Wilson score interval for one proportion (no continuity correction).
- Difference of two proportions with Newcombe's hybrid score interval (Newcombe 1998, method 10),
  built from the two Wilson intervals.
- Odds ratio (unstratified) with Woolf's logit interval; missing when a cell is 0 (no correction).
- Kaplan-Meier product-limit estimate with Greenwood standard errors, the log-log
  ("complementary log-log") pointwise interval, and the median with the Brookmeyer-Crowley
  interval read off the pointwise limits (as SAS PROC LIFETEST and R survfit(conf.type="log-log")).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

Z95 = 1.959963984540054          # standard normal 0.975 quantile


def wilson(responders: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for responders / n; None when n is 0."""
    if n <= 0:
        return None
    p = responders / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_difference(r1: int, n1: int, r2: int, n2: int, z: float = Z95) -> tuple[float, float, float] | None:
    """p1 - p2 with Newcombe's hybrid score interval (method 10); None when either n is 0."""
    if n1 <= 0 or n2 <= 0:
        return None
    p1, p2 = r1 / n1, r2 / n2
    l1, u1 = wilson(r1, n1, z)
    l2, u2 = wilson(r2, n2, z)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def odds_ratio(r1: int, n1: int, r2: int, n2: int, z: float = Z95) -> tuple[float, float, float] | None:
    """Odds ratio of responding, group 1 vs group 2, with Woolf's interval
    exp(log OR +- z sqrt(1/a + 1/b + 1/c + 1/d)); None when any cell is 0."""
    a, b, c, d = r1, n1 - r1, r2, n2 - r2
    if min(a, b, c, d) <= 0:
        return None
    log_or = math.log(a * d / (b * c))
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return math.exp(log_or), math.exp(log_or - z * se), math.exp(log_or + z * se)


@dataclass(frozen=True)
class KMRow:
    time: float
    at_risk: int
    events: int
    censored: int
    survival: float
    se: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class KMEstimate:
    rows: tuple[KMRow, ...]
    n: int
    events: int
    median: float | None
    median_lower: float | None
    median_upper: float | None


def _loglog(s: float, se: float | None, z: float) -> tuple[float | None, float | None]:
    if se is None:
        return None, None
    if s >= 1.0:
        return 1.0, 1.0
    if s <= 0.0:
        return 0.0, 0.0
    theta = z * se / (s * abs(math.log(s)))
    return s ** math.exp(theta), s ** math.exp(-theta)


def kaplan_meier(times: list[float], censored: list[int], z: float = Z95) -> KMEstimate:
    """Product-limit estimate at each distinct time (events before censorings at a tie).

    censored: 1 censored, 0 event (ADTTE CNSR). Greenwood variance; log-log interval. Median: the
    first event time with S <= 0.5; its lower / upper limit the first event time at which the lower /
    upper pointwise limit is <= 0.5 (None when not reached)."""
    data = sorted((float(t), int(c)) for t, c in zip(times, censored) if t is not None and not math.isnan(float(t)))
    n = len(data)
    at_risk, surv, greenwood = n, 1.0, 0.0
    rows: list[KMRow] = []
    tally = Counter(data)           # (time, censored) -> records: one pass, not one per distinct time
    for t in sorted({t for t, _ in data}):
        events, cens = tally[(t, 0)], tally[(t, 1)]
        if events:
            surv *= 1 - events / at_risk
            greenwood = greenwood + events / (at_risk * (at_risk - events)) if at_risk > events else math.inf
        se = None if math.isinf(greenwood) else surv * math.sqrt(greenwood)
        lower, upper = _loglog(surv, se, z)
        rows.append(KMRow(t, at_risk, events, cens, surv, se, lower, upper))
        at_risk -= events + cens

    def first(pred) -> float | None:
        return next((r.time for r in rows if r.events and pred(r)), None)

    return KMEstimate(tuple(rows), n, sum(r.events for r in rows),
                      first(lambda r: r.survival <= 0.5),
                      first(lambda r: r.lower is not None and r.lower <= 0.5),
                      first(lambda r: r.upper is not None and r.upper <= 0.5))

"""Results statistics against worked examples with published answers."""

from __future__ import annotations

import pytest

from sdtm_lupus.results.stats import kaplan_meier, newcombe_difference, odds_ratio, wilson


@pytest.mark.parametrize("r, n, low, high", [
    (81, 263, 0.2553, 0.3662),      # Newcombe (1998) Stat Med 17:857, example, Wilson score method
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_interval_worked_examples(r, n, low, high):
    lo, hi = wilson(r, n)
    assert (round(lo, 4), round(hi, 4)) == (low, high)


def test_wilson_without_subjects_is_missing():
    assert wilson(0, 0) is None


def test_newcombe_hybrid_score_difference():
    """Newcombe (1998) Stat Med 17:873, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339."""
    d, lo, hi = newcombe_difference(56, 70, 48, 80)
    assert (round(d, 4), round(lo, 4), round(hi, 4)) == (0.2, 0.0524, 0.3339)


def test_odds_ratio_woolf_interval():
    """56/70 vs 48/80: OR = 56*32 / (14*48) = 2.667; SE(log OR) = sqrt(1/56 + 1/14 + 1/48 + 1/32) = 0.3760;
    exp(log 2.667 -+ 1.96 x 0.3760) = 1.276 to 5.572."""
    est, lo, hi = odds_ratio(56, 70, 48, 80)
    assert (round(est, 3), round(lo, 3), round(hi, 3)) == (2.667, 1.276, 5.572)
    assert odds_ratio(0, 10, 3, 10) is None          # a zero cell: no estimate (no continuity correction)


SIX_MP_TIMES = [6, 6, 6, 7, 10, 13, 16, 22, 23, 6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35]
SIX_MP_CNSR = [0] * 9 + [1] * 12


def test_kaplan_meier_6mp_worked_example():
    """Freireich 6-MP arm (Klein & Moeschberger, Table 4.1A): S(t) and Greenwood SE at the event times."""
    km = kaplan_meier(SIX_MP_TIMES, SIX_MP_CNSR)
    events = [(r.time, r.at_risk, r.events, round(r.survival, 3), round(r.se, 3)) for r in km.rows if r.events]
    assert events == [(6.0, 21, 3, 0.857, 0.076), (7.0, 17, 1, 0.807, 0.087), (10.0, 15, 1, 0.753, 0.096),
                      (13.0, 12, 1, 0.690, 0.107), (16.0, 11, 1, 0.627, 0.114), (22.0, 7, 1, 0.538, 0.128),
                      (23.0, 6, 1, 0.448, 0.135)]
    first = km.rows[0]
    assert (round(first.lower, 4), round(first.upper, 4)) == (0.6197, 0.9516)     # log-log, as SAS LIFETEST
    assert (km.n, km.events, km.median, km.median_lower, km.median_upper) == (21, 9, 23.0, 13.0, None)


def test_kaplan_meier_median_reached_exactly_at_half():
    km = kaplan_meier([10.0, 20, 30, 40], [0, 0, 0, 0])
    assert [round(r.survival, 2) for r in km.rows] == [0.75, 0.5, 0.25, 0.0]
    assert km.median == 20.0

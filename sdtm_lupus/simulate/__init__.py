"""Synthetic site exports of a study (simulator.py), for tests, fixtures and benchmarks."""

from sdtm_lupus.simulate.simulator import CASE_KINDS, INJECT_KINDS, Planted, SimulationSummary, simulate

__all__ = ["CASE_KINDS", "INJECT_KINDS", "Planted", "SimulationSummary", "simulate"]

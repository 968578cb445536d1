"""Derivation rules of derivations.md, one small pure function per rule (R1-R9).

The shared table contracts (OCCASIONS, SUBJECTS, MEDS, WEIGHTS, EVENTS) and the helpers every
rule uses are in `sdtm_lupus.adam.rules.tables`. This package file holds no code.
"""

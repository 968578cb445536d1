"""ADaM: derived from the SDTM datasets only (see derive.py). This package file holds no code.

    derive.py          derive_adam: SDTM -> ADSL, ADEFF, ADTTE
    rule_tables.py     SDTM -> the rule input tables (SUBJECTS, MEDS, WEIGHTS, EVENTS)
    occasion_table.py  SDTM QS -> OCCASIONS (R1)
    adsl.py, adeff.py  dataset assembly from the rules
    rules/             one pure function per rule of derivations.md
"""

from sdtm_lupus.adam.derive import AdamResult, derive_adam

__all__ = ["AdamResult", "derive_adam"]

"""Literal CM tables for the dose (R3.3) and treatment-failure (R4.6) rule tests."""

from datetime import date, timedelta

import numpy as np
import pandas as pd

TRTSDT = date(2021, 6, 1)


def day(n: int) -> date:
    """Study day n (no day 0) as a date."""
    return TRTSDT + timedelta(days=n - 1 if n > 0 else n)


def med(usubjid="S1", decod="PREDNISONE", klass="GLUCOCORTICOID", indc="SLE", dose=10.0, frq="QD",
        factor=1.0, start=None, end=None):
    return {"USUBJID": usubjid, "CMSEQ": None, "CMDECOD": decod, "CMCLAS": klass, "CMINDC": indc,
            "CMDOSE": dose, "CMDOSFRQ": frq, "PREDFACT": factor, "STARTDT": start, "ENDDT": end}


def meds(*records) -> pd.DataFrame:
    frame = pd.DataFrame(list(records), columns=list(med().keys()))
    frame["CMSEQ"] = np.arange(1, len(frame) + 1, dtype=float)
    return frame

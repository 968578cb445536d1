"""VISITNUM / VISIT from the raw FOLDER and the study's visit schedule.

Scheduled folders take their VISITNUM from the study configuration. Unscheduled visits
(and folders the schedule does not know) get the previous scheduled VISITNUM + 0.01,
+0.02 ... per distinct date of the subject, numbered once for the whole export so every
domain agrees. Early termination takes its configured number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sdtm_lupus.config.study import Study

UNSCHEDULED_STEP = 0.01


@dataclass
class VisitNumbering:
    study: Study
    # (usubjid, date) -> VISITNUM of an unscheduled visit
    unscheduled: dict[tuple[str, str], float] = field(default_factory=dict)

    def known_folders(self) -> set[str]:
        return {v.folder for v in self.study.visits} | {self.study.early_termination.folder}

    def unscheduled_rows(self, folder: pd.Series, dtc: pd.Series) -> pd.Series:
        """Rows that register() records: a dated row whose folder is neither scheduled nor early termination."""
        return ~folder.isin(self.known_folders()) & folder.notna() & dtc.notna()

    def register(self, usubjid: pd.Series, folder: pd.Series, study_day: pd.Series, dtc: pd.Series) -> None:
        """Record unscheduled (usubjid, date) pairs of one form; call for every visit-based form."""
        mask = self.unscheduled_rows(folder, dtc)
        for subj, when, day in zip(usubjid[mask], dtc[mask], study_day[mask]):
            self.unscheduled.setdefault((subj, when[:10]), day)

    def finish(self) -> None:
        """Number the registered unscheduled visits (deterministic: by subject, date)."""
        counters: dict[tuple[str, float], int] = {}
        for (subj, day_text), study_day in sorted(self.unscheduled.items()):
            base = self.previous_scheduled(study_day)
            n = counters[(subj, base)] = counters.get((subj, base), 0) + 1
            self.unscheduled[(subj, day_text)] = round(base + n * UNSCHEDULED_STEP, 2)

    def previous_scheduled(self, study_day: float) -> float:
        visits = sorted(self.study.visits, key=lambda v: v.target_day)
        base = visits[0].visitnum
        if pd.isna(study_day):
            return base
        for v in visits:
            if v.target_day <= study_day:
                base = v.visitnum
        return base

    def assign(self, usubjid: pd.Series, folder: pd.Series, dtc: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(VISITNUM, VISIT) for the rows of one domain.

        A scheduled or early-termination folder gives its configured visit; no folder (None)
        gives none; any other folder the registered unscheduled visit of the subject's date."""
        by_folder = {v.folder: (v.visitnum, v.visit) for v in self.study.visits}
        et = self.study.early_termination
        by_folder[et.folder] = (et.visitnum, et.visit)
        n = len(folder)
        visitnum = np.full(n, np.nan)
        visit = np.full(n, None, dtype=object)
        known = folder.isin(list(by_folder)).to_numpy()
        visitnum[known] = folder[known].map({f: num for f, (num, _) in by_folder.items()}).to_numpy(dtype=float)
        visit[known] = folder[known].map({f: name for f, (_, name) in by_folder.items()}).to_numpy(dtype=object)
        other = np.flatnonzero(~known & ~_is_none(folder))
        subjects, dates = usubjid.to_numpy(dtype=object), dtc.to_numpy(dtype=object)
        for i in other:
            num = self.unscheduled.get((subjects[i], dates[i][:10])) if isinstance(dates[i], str) else None
            if num is not None:
                visitnum[i], visit[i] = num, f"UNSCHEDULED {num:.2f}"
        return (pd.Series(visitnum, index=usubjid.index, dtype="float64"),
                pd.Series(visit, index=usubjid.index, dtype=object))


def _is_none(values: pd.Series) -> np.ndarray:
    """True where the value is None itself (NaN and other missing values are not)."""
    out = values.isna().to_numpy(copy=True)
    missing = np.flatnonzero(out)
    out[missing] = [v is None for v in values.to_numpy(dtype=object)[missing]]
    return out

"""VISITNUM / VISIT from the raw FOLDER and the study's visit schedule.

Scheduled folders take their VISITNUM from the study configuration. Unscheduled visits
(and folders the schedule does not know) get the previous scheduled VISITNUM + 0.01,
+0.02 ... per distinct date of the subject, numbered once for the whole export so every
domain agrees. Early termination takes its configured number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from sdtm_lupus.config.study import Study

UNSCHEDULED_STEP = 0.01


@dataclass
class VisitNumbering:
    study: Study
    # (usubjid, date) -> VISITNUM of an unscheduled visit
    unscheduled: dict[tuple[str, str], float] = field(default_factory=dict)

    def register(self, usubjid: pd.Series, folder: pd.Series, study_day: pd.Series, dtc: pd.Series) -> None:
        """Record unscheduled (usubjid, date) pairs of one form; call for every visit-based form."""
        known = {v.folder for v in self.study.visits} | {self.study.early_termination.folder}
        mask = ~folder.isin(known) & folder.notna() & dtc.notna()
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
        """(VISITNUM, VISIT) for the rows of one domain."""
        by_folder = {v.folder: (v.visitnum, v.visit) for v in self.study.visits}
        et = self.study.early_termination
        by_folder[et.folder] = (et.visitnum, et.visit)
        visitnum, visit = [], []
        for subj, fold, when in zip(usubjid, folder, dtc):
            if fold in by_folder:
                num, name = by_folder[fold]
            elif fold is None:
                num, name = None, None
            else:
                num = self.unscheduled.get((subj, when[:10])) if isinstance(when, str) else None
                name = None if num is None else f"UNSCHEDULED {num:.2f}"
            visitnum.append(num)
            visit.append(name)
        return (pd.Series(visitnum, index=usubjid.index, dtype="float64"),
                pd.Series(visit, index=usubjid.index, dtype=object))

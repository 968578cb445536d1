"""Study configuration: arms, visit schedule, epochs, forms, policies (studies/*.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sdtm_lupus.config.loading import load_model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Arm(_Strict):
    armcd: str = Field(max_length=20)
    arm: str = Field(max_length=200)
    treatment: str                  # EXTRT: BELIMUMAB, PLACEBO
    dose: float                     # planned dose per administration (EXDOSE)
    dose_unit: str                  # EXDOSU
    dose_form: str                  # EXDOSFRM
    route: str                      # EXROUTE


class Epoch(_Strict):
    epoch: str
    element: str
    starts_days_after_last_dose: int | None = None


class Visit(_Strict):
    folder: str
    visitnum: float
    visit: str = Field(max_length=200)
    target_day: int
    window: tuple[int, int] = (0, 0)   # allowed days before/after the target day
    epoch: str
    assessments: bool = True           # False: infusion-only visit


class SpecialVisit(_Strict):
    folder: str
    visitnum: float
    visit: str


class Study(_Strict):
    studyid: str
    title: str
    phase: str
    design: str
    blinding: str
    randomised: bool
    planned_subjects: int
    mapping: str
    non_ascii: Literal["escape", "error"] = "escape"
    arms: tuple[Arm, ...] = Field(min_length=1)
    epochs: tuple[Epoch, ...]
    forms: tuple[str, ...]
    visits: tuple[Visit, ...] = Field(min_length=1)
    unscheduled_folder: str = "UNSCHEDULED"
    early_termination: SpecialVisit
    dosing_folders: tuple[str, ...] = ()
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> "Study":
        folders = [v.folder for v in self.visits]
        if len(set(folders)) != len(folders):
            raise ValueError("visits: each folder may appear once")
        epochs = {e.epoch for e in self.epochs}
        for v in self.visits:
            if v.epoch not in epochs:
                raise ValueError(f"visits: folder {v.folder!r} names epoch {v.epoch!r}, not in epochs")
        unknown = set(self.dosing_folders) - set(folders)
        if unknown:
            raise ValueError(f"dosing_folders: {sorted(unknown)} are not visit folders")
        return self

    def arm(self, armcd: str) -> Arm | None:
        return next((a for a in self.arms if a.armcd == armcd), None)

    def visit(self, folder: str) -> Visit | None:
        return next((v for v in self.visits if v.folder == folder), None)

    def mapping_path(self) -> Path:
        base = self.source.parent if self.source else Path.cwd()
        return (base / self.mapping).resolve()


def load_study(path: Path) -> Study:
    study = load_model(Path(path), Study)
    return study.model_copy(update={"source": Path(path).resolve()})

"""Study configuration: arms, visit schedule, epochs, forms, policies (studies/*.yaml)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sdtm_lupus.config.loading import MAX_CONFIG_BYTES, load_model


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


class RuleParameters(_Strict):
    """Parameters of derivations.md (the values in code font), with its defaults.

    A study may override any of them under `rules:`; overrides are written to the output
    metadata (see Study.rule_overrides).
    """

    sri_pga_worsening: float = 0.3        # R4.3: PGA increase that counts as worsening (tenths exact)
    tf_pred_factor: float = 1.25          # R4.6b: daily dose above factor x baseline ...
    tf_pred_increment: float = 2.5        # R4.6b: ... and above baseline + increment mg/day
    flare_sledai_rise: int = 3            # R5.1a
    flare_pred_mgkg: float = 0.5          # R5.1c / R5.2c: mg/kg/day
    flare_pga_rise: float = 1.0           # R5.1e
    flare_pga_cap: float = 2.5            # R5.1e / R5.2e
    flare_horizon_day: int = 365          # R6, R7 FL*52
    pfree_from_day: int = 281             # R7 PFREE52
    pfree_last_occasion_min_day: int = 337  # R7 PFREE52
    teae_window_days: int = 28            # R11.2: TEAE up to TRTEDT + this many days


class Criterion(_Strict):
    """One inclusion/exclusion criterion of the protocol (TI)."""
    ietestcd: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,7}$")
    ietest: str = Field(max_length=200)
    iecat: Literal["INCLUSION", "EXCLUSION"]


class PharmacologicClass(_Strict):
    """TS PCLASS: the established pharmacologic class of the investigational treatment (MED-RT EPC)."""
    term: str
    code: str | None = Field(default=None, pattern=r"^N\d{10}$")    # MED-RT concept code; null: not looked up
    version: str | None = None                                      # MED-RT release of the code


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
    criteria: tuple[Criterion, ...] = ()       # empty: criteria unknown, no TI dataset
    rules: RuleParameters = RuleParameters()
    # TS INTTYPE (CDISC INTTYPE term) and PCLASS of the investigational treatment; unset: not written
    intervention_type: str | None = None
    pharmacologic_class: PharmacologicClass | None = None
    # creation date/time written into define.xml (ODM CreationDateTime), the Dataset-JSON files and the
    # reviewer's guide; unset: the run date (or `convert --created`), recorded in validation.json run.created
    define_created: datetime | None = None
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

    def rule_overrides(self) -> dict[str, dict[str, float]]:
        """Rule parameters that differ from derivations.md: {name: {"default", "value"}}."""
        default = RuleParameters()
        return {name: {"default": getattr(default, name), "value": value}
                for name, value in self.rules.model_dump().items() if value != getattr(default, name)}

    def mapping_path(self) -> Path:
        base = self.source.parent if self.source else Path.cwd()
        return (base / self.mapping).resolve()


def load_study(path: Path) -> Study:
    study = load_model(Path(path), Study, MAX_CONFIG_BYTES)
    return study.model_copy(update={"source": Path(path).resolve()})

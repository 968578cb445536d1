"""specs/cross-checks.yaml: the cross-dataset checks the gate runs."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from sdtm_lupus.config.loading import load_model
from sdtm_lupus.specs.standards import SPECS_DIR


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Participation(_Strict):
    severity: str
    variables: dict[str, tuple[str, ...]]


class Visits(_Strict):
    severity: str
    datasets: tuple[str, ...]


class AdamChecks(_Strict):
    severity: str
    in_adsl: tuple[str, ...]
    num_values: dict[str, dict[str, tuple[float, ...]]]
    avalc: dict[str, dict[str, tuple[str, ...]]]


class CrossChecks(_Strict):
    participation: Participation
    visits: Visits
    adam: AdamChecks


@cache
def load_cross_checks(path: Path = SPECS_DIR / "cross-checks.yaml") -> CrossChecks:
    return load_model(path, CrossChecks)

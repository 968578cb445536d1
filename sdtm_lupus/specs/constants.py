"""specs/clinical-constants.yaml and the clinical constants other spec files hold (SELENA-SLEDAI
weights, lab unit factors): each defined once in specs/, read through here, never by a rule module."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, model_validator

from sdtm_lupus.config.loading import ConfigError, load_model
from sdtm_lupus.specs.standards import SPECS_DIR


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClinicalConstants(_Strict):
    """specs/clinical-constants.yaml: constants of derivations.md that no site file may change."""

    # R3.3: prednisone-equivalent mg per mg, by CMDECOD
    prednisone_equivalents: dict[str, float]

    @model_validator(mode="after")
    def _check(self) -> "ClinicalConstants":
        for decod, factor in self.prednisone_equivalents.items():
            if not decod or decod != decod.strip().upper():
                raise ValueError(f"prednisone_equivalents: {decod!r} is not a CMDECOD (upper case, trimmed)")
            if not factor > 0:
                raise ValueError(f"prednisone_equivalents: {decod}: the factor must be above 0 (got {factor})")
        return self


@cache
def load_clinical_constants(root: Path = SPECS_DIR) -> ClinicalConstants:
    return load_model(root / "clinical-constants.yaml", ClinicalConstants)


def prednisone_equivalents(root: Path = SPECS_DIR) -> Mapping[str, float]:
    """R3.3: CMDECOD -> prednisone-equivalent mg per mg (specs/clinical-constants.yaml)."""
    return MappingProxyType(load_clinical_constants(root).prednisone_equivalents)


@cache
def sledai_weights(root: Path = SPECS_DIR) -> Mapping[str, int]:
    """R3.1: SELENA-SLEDAI descriptor -> weight, in export order: the checkbox items of the
    `sledai` form in specs/instruments.yaml (the one definition; rules and simulator read it here)."""
    from sdtm_lupus.specs.instruments import load_instruments

    sledai = next((i for i in load_instruments(root / "instruments.yaml").instruments if i.form == "sledai"), None)
    if sledai is None:
        raise ConfigError(f"{root / 'instruments.yaml'}: no instrument of form sledai (the SELENA-SLEDAI weights, R3.1)")
    return MappingProxyType({item.column: item.weight for item in sledai.items if item.kind == "checkbox"})


@cache
def lab_unit_factors(root: Path = SPECS_DIR) -> Mapping[str, Mapping[str, float]]:
    """Lab test definition id -> {CDISC unit: multiplier to its standard unit}, the standard
    unit itself x1 (specs/lab-tests.yaml `unit` and `factors`); tests without a unit are left out."""
    from sdtm_lupus.specs.lab_tests import load_lab_tests

    tests = load_lab_tests(root / "lab-tests.yaml").tests
    return MappingProxyType({test_id: MappingProxyType({test.unit: 1, **test.factors})
                             for test_id, test in tests.items() if test.unit})

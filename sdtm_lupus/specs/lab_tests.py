"""specs/lab-tests.yaml: lab test definitions (codes, specimens, standard units, conversion factors)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sdtm_lupus.config.loading import load_model
from sdtm_lupus.specs.standards import SPECS_DIR

LAB_TESTS = SPECS_DIR / "lab-tests.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabTest(_Strict):
    testcd: str = Field(pattern=r"^[A-Z][A-Z0-9]{0,7}$")   # LBTESTCD (default: the definition id)
    test: str = Field(min_length=1, max_length=40)         # LBTEST
    category: str                                          # LBCAT when none is collected
    specimen: str                                          # LBSPEC
    method: str | None = None                              # LBMETHOD
    qualitative: bool = False                              # results are terms: no unit, no LBSTRESN
    unit: str | None = None                                # standard unit (LBSTRESU)
    factors: dict[str, float] = Field(default_factory=dict)  # original CDISC unit -> x to standard
    sponsor: bool = False                                  # LBTESTCD/LBTEST not in CDISC CT

    @model_validator(mode="after")
    def _units(self) -> "LabTest":
        if self.qualitative and (self.unit or self.factors):
            raise ValueError("a qualitative test has no unit and no factors")
        if not self.qualitative and not self.unit:
            raise ValueError("a quantitative test needs its standard unit")
        bad = [u for u, f in self.factors.items() if not f > 0 or (u == self.unit and f != 1)]
        if bad:
            raise ValueError(f"factors {bad}: must be positive (1 for the standard unit)")
        return self

    def all_factors(self) -> dict[str, float]:
        return {self.unit: 1.0, **self.factors} if self.unit else {}


class LabTests(_Strict):
    result_terms: dict[str, str]      # qualitative result as written (any case) -> LBSTRESC
    tests: dict[str, LabTest]         # definition id -> definition

    @model_validator(mode="before")
    @classmethod
    def _default_testcd(cls, data: dict) -> dict:
        tests = data.get("tests") if isinstance(data, dict) else None
        if isinstance(tests, dict):
            data = {**data, "tests": {k: {"testcd": k, **v} if isinstance(v, dict) else v for k, v in tests.items()}}
        return data

    @model_validator(mode="after")
    def _one_to_one(self) -> "LabTests":
        pairs = {(t.testcd, t.test) for t in self.tests.values()}
        for i in (0, 1):
            names = [p[i] for p in pairs]
            if len(names) != len(set(names)):
                raise ValueError(f"LBTESTCD and LBTEST must correspond one to one: {sorted(pairs)}")
        keys = [(t.testcd, t.specimen, t.method) for t in self.tests.values()]
        if len(keys) != len(set(keys)):
            raise ValueError("two definitions share LBTESTCD, LBSPEC and LBMETHOD: records could not be told apart")
        return self


@cache
def load_lab_tests(path: Path = LAB_TESTS) -> LabTests:
    return load_model(path, LabTests)

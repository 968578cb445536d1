"""specs/conformance/explanations.yaml: conformance findings that remain by design, with their explanations
(the reviewer's guide lists those that apply to the run)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sdtm_lupus.config.loading import load_model
from sdtm_lupus.specs.standards import SPECS_DIR


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    variable: str
    matches: str | None = None       # regular expression (re.search) on the text value
    equals: str | None = None
    empty: bool | None = None
    and_: "Condition | None" = Field(default=None, alias="and")

    @model_validator(mode="after")
    def _one_test(self) -> "Condition":
        if sum(x is not None for x in (self.matches, self.equals, self.empty)) != 1:
            raise ValueError("give exactly one of matches, equals, empty")
        return self


class Explanation(_Strict):
    rules: tuple[str, ...] = Field(min_length=1)
    dataset: str
    finding: str
    explanation: str
    when: Condition | None = None


class Explanations(_Strict):
    findings: tuple[Explanation, ...]


@cache
def load_explanations(root: Path = SPECS_DIR) -> Explanations:
    return load_model(root / "conformance" / "explanations.yaml", Explanations)

"""specs/ig/sdtmig-3.4.yaml: the SDTMIG domain tables (variable order, role, core) the specs/sdtm
metadata must follow (tests/sdtm/test_ig_conformance.py; the reviewer's guide cites it)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from sdtm_lupus.config.loading import load_model
from sdtm_lupus.specs.standards import SPECS_DIR

Role = Literal["Identifier", "Topic", "Grouping Qualifier", "Synonym Qualifier", "Result Qualifier",
               "Record Qualifier", "Variable Qualifier", "Timing", "Rule"]
Core = Literal["Req", "Exp", "Perm"]


class IgVariable(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    role: Role
    core: Core
    model_timing: bool = False       # an SDTM timing variable the domain table does not print


class IgTables(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    standard: str
    version: str
    domains: dict[str, tuple[IgVariable, ...]]

    @model_validator(mode="before")
    @classmethod
    def _rows(cls, data):
        """[name, role, core(, model_timing)] rows -> IgVariable."""
        if isinstance(data, dict) and isinstance(data.get("domains"), dict):
            data = {**data, "domains": {
                d: [dict(name=r[0], role=r[1], core=r[2], model_timing=len(r) > 3 and r[3] == "model_timing")
                    if isinstance(r, list) else r for r in rows] for d, rows in data["domains"].items()}}
        return data

    def table(self, dataset: str) -> tuple[IgVariable, ...] | None:
        """The IG table of a dataset (SUPPxx datasets share SUPPQUAL)."""
        return self.domains.get("SUPPQUAL" if dataset.startswith("SUPP") else dataset)


@cache
def load_ig_tables(root: Path = SPECS_DIR) -> IgTables:
    return load_model(root / "ig" / "sdtmig-3.4.yaml", IgTables)

"""specs/define/*.yaml: origins, methods and comments of define.xml, as data."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sdtm_lupus.config.loading import ConfigError, load_model
from sdtm_lupus.specs.standards import SPECS_DIR

DEFINE_SPECS = SPECS_DIR / "define"
OriginType = Literal["Collected", "Assigned", "Derived", "Protocol", "Predecessor", "Not Available", "Other"]
OriginSource = Literal["Investigator", "Sponsor", "Subject", "Vendor"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VarMeta(_Strict):
    """One entry: `origin` is 'TYPE', 'Collected FORM.COLUMN[+COLUMN...]' or 'Predecessor DATASET.VARIABLE'."""
    origin: str
    source: OriginSource | None = None
    method: str | None = None
    comment: str | None = None
    text: str | None = None
    # define-only codelist (a key of DefineSpec.codelists): CodeListRef in define.xml, no gate expectation
    codelist: str | None = None
    value_map: bool = True           # Collected: name the mapping's value map of the column, if any

    @field_validator("origin")
    @classmethod
    def _origin(cls, v: str) -> str:
        kind, _, ref = v.partition(" ")
        if v in OriginType.__args__:
            return v
        if kind == "Collected" and re.fullmatch(r"[a-z_0-9]+\.[A-Z0-9_]+(\+[A-Z0-9_]+)*", ref):
            return v
        if kind == "Predecessor" and re.fullmatch(r"[A-Z0-9]+\.[A-Z0-9_]+", ref):
            return v
        raise ValueError(f"origin {v!r}: expected one of {OriginType.__args__}, 'Collected form.COLUMN' "
                         "or 'Predecessor DATASET.VARIABLE'")

    @property
    def type(self) -> str:
        return "Not Available" if self.origin == "Not Available" else self.origin.split(" ")[0]

    @property
    def ref(self) -> str | None:
        return None if self.origin == "Not Available" else (self.origin.partition(" ")[2] or None)


class DatasetMetaSpec(_Strict):
    default: VarMeta | None = None
    comment: str | None = None
    variables: dict[str, VarMeta] = Field(default_factory=dict)


class ValueLevelSpec(_Strict):
    by: str
    variables: tuple[str, ...]
    values: dict[str, VarMeta]


class TextSpec(_Strict):
    text: str
    name: str | None = None
    type: Literal["Computation", "Imputation", "Transpose", "Other"] = "Computation"


class DefineCodelistSpec(_Strict):
    """A sponsor codelist written to define.xml only (the gate never builds an in_set from it).
    separator: the variable's values are codes of the list joined by it (each code is checked
    against the list in define.xml, not the joined value)."""
    name: str
    terms: dict[str, str]             # code -> decode
    separator: str | None = None


class DefineSpec(_Strict):
    sources: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    metadata_comment: str | None = None
    defaults: dict[str, VarMeta] = Field(default_factory=dict)
    datasets: dict[str, DatasetMetaSpec] = Field(default_factory=dict)
    value_level: dict[str, ValueLevelSpec] = Field(default_factory=dict)
    methods: dict[str, TextSpec] = Field(default_factory=dict)
    comments: dict[str, TextSpec] = Field(default_factory=dict)
    codelists: dict[str, DefineCodelistSpec] = Field(default_factory=dict)


@cache
def load_define_spec(standard: str, root: Path = DEFINE_SPECS) -> tuple[DefineSpec, DefineSpec]:
    """(the standard's file, common.yaml)."""
    own, common = load_model(root / f"{standard}.yaml", DefineSpec), load_model(root / "common.yaml", DefineSpec)
    for name in set(own.methods) & set(common.methods) | set(own.comments) & set(common.comments):
        raise ConfigError(f"{root}: {name} is defined in both {standard}.yaml and common.yaml")
    return own, common

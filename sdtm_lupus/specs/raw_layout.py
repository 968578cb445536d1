"""specs/raw-forms.yaml: the reference layout of the site export (forms, columns, column kinds)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sdtm_lupus.config.loading import load_model
from sdtm_lupus.specs.standards import SPECS_DIR


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ColumnKind = Literal["text", "date", "fulldate", "time", "number", "integer", "checkbox", "yesno", "code", "digits"]


class RawFormSpec(_Strict):
    label: str
    visit_based: bool
    date_column: str | None = None     # the date of a visit-based row (its visit's date)
    one_row_per_subject: bool = False
    columns: dict[str, ColumnKind]
    # columns of `columns` a site file may lack: read as empty when absent (no READ-MISSING-COLUMN)
    optional: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _optional_are_columns(self) -> RawFormSpec:
        unknown = [c for c in self.optional if c not in self.columns]
        if unknown:
            raise ValueError(f"optional columns {unknown} are not in columns")
        return self


class RawLayout(_Strict):
    """The reference layout of the site export: forms, their columns and column kinds."""

    common: tuple[str, ...]
    forms: dict[str, RawFormSpec]
    # "form.COLUMN" -> the codelist of the SDTM variable the column feeds (specs/ct): a raw value that is
    # a term or a synonym of it is accepted without a value map entry (sdtm/parse.py, sdtm/lb.py)
    codelists: dict[str, str] = Field(default_factory=dict)

    def codelist(self, form: str, column: str) -> str | None:
        return self.codelists.get(f"{form}.{column}")

    def columns(self, form: str, *, optional: bool = True) -> list[str]:
        """Common + reference columns of a form, in order; optional=False leaves out the optional ones."""
        spec = self.forms[form]
        return [*self.common, *(c for c in spec.columns if optional or c not in spec.optional)]


@cache
def load_raw_layout(root: Path = SPECS_DIR) -> RawLayout:
    return load_model(root / "raw-forms.yaml", RawLayout)

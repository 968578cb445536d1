"""specs/instruments.yaml: the questionnaires (SELENA-SLEDAI, PGA, BILAG-2004, flare index) as data."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sdtm_lupus.config.loading import load_model
from sdtm_lupus.specs.raw_layout import load_raw_layout
from sdtm_lupus.specs.standards import SPECS_DIR

INSTRUMENTS_PATH = SPECS_DIR / "instruments.yaml"
QSALL = ("QSALL", "Questionnaire")
RAW_KINDS = {"checkbox": {"checkbox"}, "flag": {"checkbox"}, "number": {"number", "integer"},
             "code": {"code", "text"}, "date": {"date", "fulldate"}}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Item(_Strict):
    column: str
    testcd: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,7}$")
    test: str = Field(min_length=1, max_length=40)
    kind: Literal["checkbox", "flag", "number", "code", "date"]
    weight: int | None = Field(default=None, ge=0)
    site_total: bool = False
    scat: str | None = Field(default=None, max_length=200)
    evlint: str | None = Field(default=None, pattern=r"^-?P(\d+[YMWD])+$")
    empty: Literal["not_done", "omit"] = "not_done"
    range: tuple[float, float] | None = None
    decimals: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> "Item":
        if (self.kind == "checkbox") != (self.weight is not None):
            raise ValueError(f"{self.column}: a weight is required for a checkbox item and only there")
        if self.kind != "number" and (self.site_total or self.range or self.decimals is not None):
            raise ValueError(f"{self.column}: site_total, range and decimals apply to number items only")
        if not self.test.startswith(self.testcd[:-2] + "-"):
            raise ValueError(f"{self.column}: QSTEST {self.test!r} must start with {self.testcd[:-2]}-")
        if self.testcd == QSALL[0]:
            raise ValueError(f"{self.column}: {QSALL[0]} is reserved for a form not done")
        return self


class Condition(_Strict):
    any_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _one(self) -> "Condition":
        if bool(self.any_of) == bool(self.none_of):
            raise ValueError("a condition has exactly one of any_of, none_of")
        return self


class CallChecks(_Strict):
    column: str
    rules: dict[str, tuple[Condition, ...]]


class Instrument(_Strict):
    name: str
    form: str
    qscat: str = Field(min_length=1, max_length=200)
    defines_occasion: bool = False
    empty_row: Literal["not_done", "items"] = "not_done"
    items: tuple[Item, ...] = Field(min_length=1)
    forbidden_transitions: tuple[tuple[str, str], ...] = ()
    call_checks: CallChecks | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Instrument":
        columns = [i.column for i in self.items]
        if len(set(columns)) != len(columns):
            raise ValueError(f"{self.name}: a raw column is used twice")
        if sum(i.site_total for i in self.items) > 1:
            raise ValueError(f"{self.name}: at most one site_total item")
        if any(i.site_total for i in self.items) and not any(i.kind == "checkbox" for i in self.items):
            raise ValueError(f"{self.name}: a site_total needs weighted checkbox items")
        if self.call_checks:
            named = {self.call_checks.column} | {c for conds in self.call_checks.rules.values()
                                                 for cond in conds for c in cond.any_of + cond.none_of}
            if not named <= set(columns):
                raise ValueError(f"{self.name}: call_checks name columns that are not items: {sorted(named - set(columns))}")
        return self


class Instruments(_Strict):
    instruments: tuple[Instrument, ...]

    @model_validator(mode="after")
    def _consistent(self) -> "Instruments":
        layout = load_raw_layout()
        forms = [i.form for i in self.instruments]
        if len(set(forms)) != len(forms):
            raise ValueError("one instrument per form")
        if sum(i.defines_occasion for i in self.instruments) > 1:
            raise ValueError("at most one instrument defines the occasions")
        codes = [item.testcd for i in self.instruments for item in i.items]
        tests = [item.test for i in self.instruments for item in i.items]
        for name, values in (("QSTESTCD", codes), ("QSTEST", tests)):
            dup = sorted({v for v in values if values.count(v) > 1})
            if dup:
                raise ValueError(f"{name} used twice: {dup}")
        for inst in self.instruments:
            spec = layout.forms.get(inst.form)
            if spec is None or not spec.visit_based or not spec.date_column:
                raise ValueError(f"{inst.name}: form {inst.form!r} is not a visit-based raw form with a date")
            for item in inst.items:
                raw_kind = spec.columns.get(item.column)
                if raw_kind not in RAW_KINDS[item.kind]:
                    raise ValueError(f"{inst.name}: {inst.form}.{item.column} is {raw_kind or 'not a column'}, "
                                     f"not usable as a {item.kind} item")
        return self


@cache
def load_instruments(path: Path = INSTRUMENTS_PATH) -> Instruments:
    return load_model(path, Instruments)


# ---------------------------------------------------------------- records

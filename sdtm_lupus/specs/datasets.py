"""specs/sdtm, specs/adam and specs/ct: variable metadata and controlled terminology of every dataset,
and conform_to_spec (spec column order and types)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sdtm_lupus.config.loading import ConfigError, load_model
from sdtm_lupus.specs.constants import ClinicalConstants, load_clinical_constants
from sdtm_lupus.specs.standards import SPECS_DIR

if TYPE_CHECKING:
    import pandas as pd



class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VariableSpec(_Strict):
    name: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,7}$")
    label: str = Field(max_length=40)
    type: Literal["Char", "Num"]
    core: Literal["Req", "Exp", "Perm", "Cond"]
    role: str = ""
    codelist: str | None = None
    format: str | None = None          # "ISO8601" for --DTC text; SAS format (DATE9.) for Num
    max_length: int | None = Field(default=None, le=200)  # Char: upper bound; written length = longest value


class DatasetSpec(_Strict):
    dataset: str = Field(pattern=r"^[A-Z][A-Z0-9]{1,7}$")
    label: str = Field(max_length=40)
    class_: str = Field(alias="class")
    structure: str
    keys: tuple[str, ...]
    variables: tuple[VariableSpec, ...]

    @model_validator(mode="after")
    def _keys_exist(self) -> "DatasetSpec":
        names = [v.name for v in self.variables]
        if len(set(names)) != len(names):
            raise ValueError("variables: duplicate name")
        missing = [k for k in self.keys if k not in names]
        if missing:
            raise ValueError(f"keys {missing} are not variables")
        return self

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    def variable(self, name: str) -> VariableSpec:
        return next(v for v in self.variables if v.name == name)


class Codelist(_Strict):
    name: str
    code: str | None = None
    extensible: bool
    terms: dict[str, str | None]
    # submission value -> other spellings a site may send (`ug: [mcg, µg]`): accepted without a value map
    synonyms: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _synonyms_of_terms(self) -> "Codelist":
        seen: dict[str, str] = {}
        for term, spellings in self.synonyms.items():
            if term not in self.terms:
                raise ValueError(f"synonyms: {term!r} is not a term of the codelist")
            for spelling in spellings:
                if spelling in self.terms or spelling in seen:
                    raise ValueError(f"synonyms: {spelling!r} is already a term or a synonym of {seen.get(spelling, spelling)!r}")
                seen[spelling] = term
        return self

    def submission_value(self, value: str) -> str | None:
        """The term a raw value stands for: the term itself (case-sensitive) or a listed synonym; else None."""
        if value in self.terms:
            return value
        for term, spellings in self.synonyms.items():
            if value in spellings:
                return term
        return None


class Terminology(_Strict):
    package: str
    version: str
    codelists: dict[str, Codelist]


class _TerminologyPart(_Strict):
    """One specs/ct/*.yaml file: codelists only (the release is specs/standards.yaml, set once)."""
    codelists: dict[str, Codelist]


class CtRelease(_Strict):
    package: str
    version: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")


class Standards(_Strict):
    """specs/standards.yaml."""
    ct: CtRelease


@cache
def load_standards(root: Path = SPECS_DIR) -> Standards:
    return load_model(root / "standards.yaml", Standards)


class Specs(_Strict):
    datasets: dict[str, DatasetSpec]
    terminology: Terminology
    clinical: ClinicalConstants

    def dataset(self, name: str) -> DatasetSpec:
        try:
            return self.datasets[name]
        except KeyError:
            raise ConfigError(f"no spec for dataset {name!r} in {SPECS_DIR}") from None

    def with_codelists(self, extra: dict[str, Codelist]) -> "Specs":
        """Add study-defined codelists (ARMCD, ARM) to the terminology."""
        ct = self.terminology.model_copy(update={"codelists": {**self.terminology.codelists, **extra}})
        return self.model_copy(update={"terminology": ct})


@cache
def load_specs(root: Path = SPECS_DIR) -> Specs:
    datasets: dict[str, DatasetSpec] = {}
    for folder in ("sdtm", "adam"):
        for path in sorted((root / folder).glob("*.yaml")):
            spec = load_model(path, DatasetSpec)
            datasets[spec.dataset] = spec
    terminology = _load_terminology(root / "ct", load_standards(root).ct)
    specs = Specs(datasets=datasets, terminology=terminology, clinical=load_clinical_constants(root))
    for ds in datasets.values():
        for var in ds.variables:
            if var.codelist and var.codelist not in terminology.codelists and var.codelist not in STUDY_CODELISTS:
                raise ConfigError(f"specs: {ds.dataset}.{var.name} names unknown codelist {var.codelist!r}")
    return specs


def _load_terminology(folder: Path, release: CtRelease) -> Terminology:
    """All specs/ct/*.yaml files merged under the one CT release of specs/standards.yaml; a codelist
    defined twice is an error."""
    parts = [(path, load_model(path, _TerminologyPart)) for path in sorted(folder.glob("*.yaml"))]
    if not parts:
        raise ConfigError(f"no controlled terminology in {folder}")
    codelists: dict[str, Codelist] = {}
    for path, part in parts:
        for name, codelist in part.codelists.items():
            if name in codelists:
                raise ConfigError(f"{path}: codelist {name} is already defined in another specs/ct file")
            codelists[name] = codelist
    return Terminology(package=release.package, version=release.version, codelists=codelists)


# Codelists whose terms come from the study configuration, not from CDISC CT.
STUDY_CODELISTS = ("ARMCD", "ARM")


PROVENANCE = ("_file", "_row")
DATE_FORMATS = ("DATE", "YYMMDD", "E8601DA")
SAS_EPOCH_ORDINAL = 715510  # date(1960, 1, 1).toordinal()


def _sas_day(value) -> float:
    """A date (or an existing SAS day number) -> SAS day number; missing -> NaN."""
    if hasattr(value, "toordinal"):
        return float(value.toordinal() - SAS_EPOCH_ORDINAL)
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _char(col: "pd.Series") -> "pd.Series":
    """Object text with None for missing or "" (numpy loops: a Char column may hold millions of cells)."""
    import pandas as pd

    text = col.to_numpy(dtype=object)
    missing = pd.isna(text)
    try:
        blank = missing | (text == "")      # one pass (missing values compare unequal to "")
    except TypeError:                       # pd.NA == "" is NA, not a bool: compare the present values only
        blank = missing.copy()
        blank[~missing] = text[~missing] == ""
    if blank.any() and not _all_none(text, blank):
        text = text.copy()
        text[blank] = None
    return pd.Series(text, index=col.index, name=col.name, dtype=object, copy=False)


def _all_none(values, mask) -> bool:
    """Every masked value is None already (then there is nothing to replace: no copy)."""
    import numpy as np
    import pandas as pd

    try:
        return bool(np.equal(values[mask], None).all())    # only None equals None (NaN, pd.NA and "" do not)
    except TypeError:
        distinct = pd.unique(values[mask])     # None, NaN, pd.NA and "" stay apart
        return len(distinct) == 1 and distinct[0] is None


def conform_to_spec(df: "pd.DataFrame", spec: DatasetSpec) -> "pd.DataFrame":
    """Spec column order and types (Char: str/None, Num: float64), provenance kept last."""
    import pandas as pd

    from sdtm_lupus.distinct import map_distinct

    out = {}
    for var in spec.variables:
        col = df[var.name] if var.name in df else pd.Series(None, index=df.index, dtype=object)
        if var.type == "Num" and var.format and var.format.startswith(DATE_FORMATS):
            out[var.name] = map_distinct(col, _sas_day, dtype="float64")
        elif var.type == "Num":
            out[var.name] = pd.to_numeric(col, errors="coerce").astype("float64")
        else:
            out[var.name] = _char(col)
    for name in PROVENANCE:
        if name in df:
            out[name] = df[name]
    return pd.DataFrame(out, index=df.index, copy=False)     # the columns above are new or copy-on-write

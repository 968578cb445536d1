"""Mapping files (mappings/*.yaml): how one site layout maps onto the reference forms.

A new site layout is a new mapping file: file names, column renames, encoding, date and
time formats, value maps (site code -> CDISC submission value), unit maps and drug
dictionaries. Nothing here executes code from the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sdtm_lupus.config.loading import ConfigError, read_yaml, validate_model

COMMON_COLUMNS = ("STUDYID", "SITEID", "SUBJID", "FOLDER")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DateFormat(_Strict):
    # Tokens: DD, MM, MMM (English month abbreviation), YYYY; other characters are literal.
    # "ISO8601" reads YYYY-MM-DD and its truncations (YYYY-MM, YYYY).
    format: str = "DD-MMM-YYYY"
    unknown_day: str = "UN"
    unknown_month: str = "UNK"
    unknown_year: str = "UNKN"


class TimeFormat(_Strict):
    format: Literal["HH:MM", "HH:MM:SS", "HHMM"] = "HH:MM"


class FormSource(_Strict):
    file: str                                   # CSV file name in the export folder
    odm_form: str | None = None                 # FormOID in ODM (default: form name upper case)
    required: bool = True
    rename: dict[str, str] = Field(default_factory=dict)   # reference column -> source column
    odm_items: dict[str, str] = Field(default_factory=dict)  # reference column -> ItemOID


class OdmLayout(_Strict):
    file: str = "export.xml"
    subject_key_attribute: str | None = None    # vendor attribute holding SUBJID (Clark name)
    common_event: str = "COMMON"                # StudyEventOID of forms that are not visit-based
    event_folders: dict[str, str] = Field(default_factory=dict)  # StudyEventOID -> FOLDER
    site_ids: dict[str, str] = Field(default_factory=dict)       # LocationOID -> SITEID
    decode_codelists: bool = True               # decode values through MetaDataVersion CodeLists


class Drug(_Strict):
    decod: str                                  # CMDECOD
    cmclas: str | None = None
    prednisone_factor: float | None = None      # prednisone-equivalent mg per mg


class Mapping(_Strict):
    name: str
    description: str = ""
    encoding: Literal["utf-8", "gb18030"] = "utf-8"
    dates: DateFormat = DateFormat()
    times: TimeFormat = TimeFormat()
    forms: dict[str, FormSource]
    odm: OdmLayout = OdmLayout()
    # value maps: "form.COLUMN" -> {site value: submission value}
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    checkbox_checked: tuple[str, ...] = ("1",)
    checkbox_unchecked: tuple[str, ...] = ("0", "")
    # unit maps: site unit text -> CDISC unit
    units: dict[str, str] = Field(default_factory=dict)
    # lab test names as the site writes them -> LBTESTCD (definitions in specs/lab-tests.yaml)
    lab_tests: dict[str, str] = Field(default_factory=dict)
    # drug dictionary: verbatim name (any case, any script) -> coded drug
    drugs: dict[str, Drug] = Field(default_factory=dict)
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("values")
    @classmethod
    def _value_keys(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for key in v:
            if key.count(".") != 1 or not all(key.split(".")):
                raise ValueError(f"key {key!r} must be 'form.COLUMN'")
        return v

    def value_map(self, form: str, column: str) -> dict[str, str] | None:
        """Value map of a column; "form.*" applies to every column of the form."""
        return self.values.get(f"{form}.{column}") or self.values.get(f"{form}.*")


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _resolved(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """The mapping's data with `extends: other.yaml` merged under it (keys of this file win)."""
    path = Path(path).resolve()
    if path in seen:
        raise ConfigError(f"{path}: 'extends' loops back to itself")
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ConfigError(f"{path}: extends: expected a file name")
    return _merge(_resolved(path.parent / parent, (*seen, path)), data)


def load_mapping(path: Path) -> Mapping:
    """Load a mapping file; `extends: base.yaml` reuses another layout and changes only some keys."""
    mapping = validate_model(_resolved(Path(path)), Mapping, Path(path))
    return mapping.model_copy(update={"source": Path(path).resolve()})

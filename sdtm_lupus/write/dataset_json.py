"""CDISC Dataset-JSON 1.1: one file per dataset, beside the XPT files, with the metadata of define.xml.

* itemGroupOID / itemOID, labels, data types and lengths are those of the run's define.xml
  (define_model.DefineMeta), so the JSON and the define agree by construction.
* Text is UTF-8 as collected: the JSON is written from the datasets before the XPT non-ASCII
  escaping (Chinese verbatim terms stay Chinese).
* Numeric SAS dates (DATE9.) are ISO 8601 dates with dataType "date", targetDataType "integer"
  (as in the CDISC MSG examples); ISO 8601 text keeps its text (dataType "date"/"datetime" when
  every value is a complete date/datetime, else "string"); missing values are null.
* Deterministic: datasetJSONCreationDateTime is the study's `define_created` or a fixed constant.

read_dataset_json() turns a file back into a frame shaped like the one the XPT writer takes
(Char: str/None, Num: float64 with dates as SAS day numbers).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sdtm_lupus import __version__
from sdtm_lupus.write.define_model import DatasetMeta, DefineMeta, ItemMeta

DATASET_JSON_VERSION = "1.1.0"
SCHEMA = Path(__file__).resolve().parent / "assets" / "dataset.schema.json"
SAS_EPOCH = dt.date(1960, 1, 1)


def _column(item: ItemMeta) -> dict:
    data_type, target = item.json_type
    column = {"itemOID": item.oid, "name": item.name, "label": item.label, "dataType": data_type}
    if target:
        column["targetDataType"] = target
    if item.xpt_type == "Char" and item.length is not None:
        column["length"] = item.length
    if item.display_format:
        column["displayFormat"] = item.display_format
    if item.key_sequence:
        column["keySequence"] = item.key_sequence
    return column


def _sas_date_text(value: float) -> str:
    return (SAS_EPOCH + dt.timedelta(days=int(value))).isoformat()


def _values(item: ItemMeta, series: pd.Series) -> list:
    """JSON values of one column: null for missing, int / float / ISO date / text otherwise."""
    if item.xpt_type == "Char":
        return [v if isinstance(v, str) else (None if v is None or pd.isna(v) else str(v)) for v in series.tolist()]
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    if item.display_format:
        return [None if math.isnan(x) else _sas_date_text(x) for x in numbers.tolist()]
    if item.data_type == "integer":
        return [None if math.isnan(x) else int(x) for x in numbers.tolist()]
    return [None if not math.isfinite(x) else x for x in numbers.tolist()]


def dataset_json(meta: DefineMeta, ds: DatasetMeta, frame: pd.DataFrame) -> dict:
    columns = [_values(item, frame[item.name] if item.name in frame else pd.Series([None] * len(frame)))
               for item in ds.items]
    return {
        "datasetJSONCreationDateTime": meta.created,
        "datasetJSONVersion": DATASET_JSON_VERSION,
        "fileOID": f"{meta.file_oid}.{ds.name}",
        "originator": "sdtm-lupus",
        "sourceSystem": {"name": "sdtm-lupus", "version": __version__},
        "studyOID": meta.study_oid,
        "metaDataVersionOID": meta.mdv_oid,
        "metaDataRef": "define.xml",
        "itemGroupOID": ds.oid,
        "records": len(frame),
        "name": ds.name,
        "label": ds.label,
        "columns": [_column(item) for item in ds.items],
        "rows": [list(row) for row in zip(*columns)] if columns else [],
    }


def dumps(doc: dict) -> bytes:
    """Compact UTF-8 JSON (non-ASCII text as is); one row per line, so a diff shows the record."""
    head = {k: v for k, v in doc.items() if k != "rows"}
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    rows = ",\n".join(json.dumps(row, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
                      for row in doc.get("rows", []))
    return (text[:-1] + ',"rows":[\n' + rows + "\n]}\n").encode("utf-8")


def write_dataset_json(folder: Path, meta: DefineMeta, frames: dict[str, pd.DataFrame]) -> dict[str, str]:
    """<folder>/<name>.json for every dataset of `meta`, from `frames` (the unescaped datasets)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for ds in meta.datasets:
        path = folder / f"{ds.name.lower()}.json"
        path.write_bytes(dumps(dataset_json(meta, ds, frames[ds.name])))
        written[ds.name] = path.name
    return written


# ---------------------------------------------------------------- reading back

def _iso_to_sas(value) -> float:
    if value is None:
        return np.nan
    return float((dt.date.fromisoformat(value) - SAS_EPOCH).days)


def frame_from_json(doc: dict) -> pd.DataFrame:
    """The dataset as the XPT writer takes it: Char str/None, Num float64 (dates as SAS day numbers)."""
    rows = doc.get("rows") or []
    data = {}
    for i, column in enumerate(doc["columns"]):
        values = [row[i] for row in rows]
        kind, target = column["dataType"], column.get("targetDataType")
        if kind == "date" and target == "integer":
            data[column["name"]] = pd.Series([_iso_to_sas(v) for v in values], dtype="float64")
        elif kind in ("integer", "float", "double", "decimal") or target in ("integer", "decimal"):
            data[column["name"]] = pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
        else:
            data[column["name"]] = pd.Series(values, dtype=object)
    return pd.DataFrame(data)


def read_dataset_json(path: Path) -> tuple[pd.DataFrame, dict]:
    """(frame, the document without its rows)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    frame = frame_from_json(doc)
    return frame, {k: v for k, v in doc.items() if k != "rows"}


def load_schema() -> dict:
    return json.loads(SCHEMA.read_text(encoding="utf-8"))

"""R12 response-prediction table: one row per FAS subject, wide, analysis-ready (derivations.md R12).

Built from the finished ADaM datasets (ADSL, ADEFF, ADLB) only. Missing stays missing (no
imputation). Written next to adam/ as prediction.csv (deterministic bytes: rows by USUBJID,
numbers in shortest positional form, empty cell = missing) with its data dictionary
prediction.json (name, label, source dataset, parameter, visit, unit per column).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from sdtm_lupus.specs import LabTests

OUTCOME = ("SRI4W48", "ADEFF", "SRI4", "Week 48", "SRI-4 response at Week 48 (Y/N)")
SUBJECT = (("AGE", "Age", "years"), ("SEX", "Sex", None), ("SLEDURY", "SLE Duration at Consent", "years"))
# predictor parameters: (PARAMCD, source dataset, label, unit; None = the lab's standard unit)
PREDICTORS = (
    ("SLEDAI", "ADEFF", "SELENA-SLEDAI Total Score", "score"),
    ("PGA", "ADEFF", "Physician's Global Assessment (0-3)", "score"),
    ("PREDDOSE", "ADEFF", "Prednisone-Equivalent Daily Dose", "mg/day"),
    ("DNAXULN", "ADLB", "Anti-dsDNA IgG / Upper Limit of Normal", "ULN"),
    ("C3", "ADLB", "Complement C3", None),
    ("C4", "ADLB", "Complement C4", None),
    ("BLYCE", "ADLB", "B Cells (CD19+)", None),
    ("BLYMNSW", "ADLB", "Non-Class-Switched Memory B Cells", None),
    ("CRP", "ADLB", "C Reactive Protein", None),
    ("ESR", "ADLB", "Erythrocyte Sedimentation Rate", None),
)
# (column suffix, AVISIT, variable, label suffix)
SLOTS = (("BL", "Baseline", "AVAL", "at Baseline"), ("W4", "Week 4", "AVAL", "at Week 4"),
         ("W12", "Week 12", "AVAL", "at Week 12"), ("CHG_W4", "Week 4", "CHG", "change from Baseline to Week 4"),
         ("CHG_W12", "Week 12", "CHG", "change from Baseline to Week 12"))
BDS_COLUMNS = ("USUBJID", "PARAMCD", "AVISIT", "AVAL", "AVALC", "CHG", "ABLFL", "ANL01FL")


def prediction_dictionary(defs: LabTests) -> list[dict]:
    """The data dictionary: one entry per column, in column order."""
    units = {t.testcd: t.unit for t in defs.tests.values() if t.unit}
    name, source, param, visit, label = OUTCOME
    out = [{"name": "USUBJID", "label": "Unique Subject Identifier", "source": "ADSL", "parameter": None,
            "visit": None, "unit": None, "type": "text"},
           {"name": name, "label": label, "source": source, "parameter": param, "visit": visit, "unit": None,
            "type": "text"}]
    out += [{"name": n, "label": lab, "source": "ADSL", "parameter": None, "visit": None, "unit": u,
             "type": "text" if n == "SEX" else "number"} for n, lab, u in SUBJECT]
    for code, dataset, text, unit in PREDICTORS:
        for suffix, avisit, var, what in SLOTS:
            out.append({"name": f"{code}_{suffix}", "label": f"{text} {what}", "source": dataset, "parameter": code,
                        "visit": avisit, "unit": unit or units.get(code), "type": "number", "variable": var})
    return out


def _analysis_values(bds: pd.DataFrame, code: str, avisit: str, var: str) -> pd.Series:
    """Per subject: `var` of the analysis record of the parameter at the visit (the ABLFL record for Baseline,
    else AVISIT with ANL01FL = Y; the last such record in dataset order should there be two)."""
    rows = bds[bds["PARAMCD"].eq(code) & bds["AVISIT"].eq(avisit)]
    if avisit == "Baseline":
        rows = rows[rows["ABLFL"].eq("Y")]
    elif code != OUTCOME[2]:            # SRI records: one per subject and visit, no ANL01FL
        rows = rows[rows["ANL01FL"].eq("Y")]
    rows = rows.drop_duplicates("USUBJID", keep="last")
    return pd.Series(rows[var].to_numpy(), index=rows["USUBJID"].to_numpy())


def build_prediction(adsl: pd.DataFrame, adeff: pd.DataFrame, adlb: pd.DataFrame, defs: LabTests,
                     ) -> tuple[pd.DataFrame, list[dict]]:
    """R12: (table, dictionary). One row per FAS subject, sorted by USUBJID."""
    fas = adsl[adsl["FASFL"].eq("Y")].sort_values("USUBJID", kind="stable")
    ids = fas["USUBJID"].to_numpy()
    sources = {"ADEFF": adeff, "ADLB": adlb}
    for name, frame in sources.items():
        if frame is None or frame.empty:
            sources[name] = pd.DataFrame(columns=list(BDS_COLUMNS))
    dictionary = prediction_dictionary(defs)
    records = {}        # once: per source and parameter, its records at the visits read below
    for name, frame in sources.items():
        entries = [e for e in dictionary if e["source"] == name and e["parameter"]]
        read = _records_of(frame, {e["parameter"] for e in entries}, {e["visit"] for e in entries})
        for e in entries:
            records[name, e["parameter"]] = read.iloc[:0]
        records.update({(name, code): part for code, part in read.groupby("PARAMCD", sort=False)})
    table = pd.DataFrame({"USUBJID": ids})
    outcome = _analysis_values(records["ADEFF", "SRI4"], "SRI4", "Week 48", "AVALC")
    table["SRI4W48"] = outcome.reindex(ids).to_numpy(dtype=object)
    for name, _, _ in SUBJECT:
        table[name] = fas[name].to_numpy()
    for entry in dictionary[2 + len(SUBJECT):]:
        values = _analysis_values(records[entry["source"], entry["parameter"]], entry["parameter"], entry["visit"],
                                  entry["variable"])
        table[entry["name"]] = pd.to_numeric(values, errors="coerce").reindex(ids).to_numpy(dtype="float64")
    for entry in dictionary:
        entry.pop("variable", None)
    return table, dictionary


def _records_of(bds: pd.DataFrame, codes: set[str], visits: set[str]) -> pd.DataFrame:
    """The records (in dataset order) of the given parameters at the given visits."""
    return bds[bds["PARAMCD"].isin(codes) & bds["AVISIT"].isin(visits)]


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, (float, np.floating)):
        return np.format_float_positional(round(float(value), 10), trim="-")
    text = str(value)
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


def prediction_csv(table: pd.DataFrame) -> bytes:
    """RFC 4180 CSV, UTF-8, LF line ends; missing = empty cell; numbers in shortest positional form."""
    cells = [_cells(table[c]) for c in table.columns]
    lines = [",".join(table.columns)]
    lines += [",".join(row) for row in zip(*cells)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _cells(column: pd.Series) -> list[str]:
    """The column's CSV cells; a number column's formatted once per distinct value (told apart by
    their bits: 0.0 and -0.0 print differently)."""
    if column.dtype != "float64":
        return [_cell(v) for v in column]
    bits, rows = np.unique(column.to_numpy().view(np.int64), return_inverse=True)
    cells = np.array([_cell(v) for v in bits.view(np.float64)], dtype=object)
    return cells[rows].tolist()


def prediction_json(table: pd.DataFrame, dictionary: list[dict], studyid: str) -> bytes:
    payload = {"table": "prediction.csv", "study": studyid, "rule": "derivations.md R12",
               "population": "full analysis set (ADSL.FASFL = Y)", "rows": len(table), "key": "USUBJID",
               "missing": "empty cell; no imputation", "columns": dictionary}
    return (json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def missing_shares(table: pd.DataFrame) -> dict[str, float]:
    """Share of rows missing per column (0..1, 4 decimals)."""
    if not len(table):
        return {c: 0.0 for c in table.columns}
    return {c: round(float(table[c].isna().mean()), 4) for c in table.columns}

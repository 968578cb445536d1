"""Layout transforms for tests: rewrite a reference-layout CSV export into another site's layout.

The transforms are written from the site's description (mappings/examples/site-b-csv.yaml's header
comment), not from the mapping: a conversion of the transformed export with the site's mapping that
gives the same datasets as the reference export proves the mapping (and the mapping language) right.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sdtm_lupus.specs import load_raw_layout

MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
REFERENCE_DATE = re.compile(r"^(UN|\d{2})-(UNK|[A-Z]{3})-(UNKN|\d{4})$")

# Site B -------------------------------------------------------------------------------------------
SITE_B_FILES = {"enrol": "DEMOG.csv", "dosing": "INFUSION.csv", "ae": "AE_LOG.csv", "cm": "CONMED.csv",
                "sledai": "SLEDAI2K.csv", "bilag": "BILAG2004.csv", "pga": "PGA.csv", "flare": "FLARE.csv",
                "lab": "LAB_RESULTS.csv", "disp": "END_OF_STUDY.csv"}
SITE_B_COMMON = {"STUDYID": "PROTOCOL", "SITEID": "CENTRE", "SUBJID": "SUBJECT_NO", "FOLDER": "VISIT"}
SITE_B_COLUMNS = {"enrol": {"CONSDAT": "ICF_DATE", "BRTHDAT": "DOB", "ARMCD_RAND": "RAND_ARM"},
                  "dosing": {"EXSTDAT": "INF_DATE"}, "ae": {"AETERM": "AE_VERBATIM"}, "cm": {"CMTRT": "MED_NAME"},
                  "pga": {"PGA": "PGA_TENTHS"}, "flare": {"FLARE": "FLARE_CAT"}, "lab": {"LBDAT": "SAMPLE_DATE"},
                  "disp": {"DSDECOD_SITE": "EOS_REASON"}}
SITE_B_NO_VISIT = ("enrol", "ae", "cm", "disp")
_WEEKS = [0, 2, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52]
SITE_B_VISITS = {"SCREENING": "V00 Screening", **{f"WEEK {w}": f"V{i + 1:02d} Week {w}" for i, w in enumerate(_WEEKS)},
                 "UNSCHEDULED": "UNS Unscheduled", "EARLY TERMINATION": "ET Early termination"}
SITE_B_CODES = {
    "ARMCD_RAND": {"BEL2": "BEL_2MGKG", "PBO": "PLACEBO", "BEL10": "BEL_10MGKG"},
    "DSDECOD_SITE": {"Completed": "COMPLETED", "Adverse event": "AE", "Lack of efficacy": "LACK_EFF",
                     "Withdrawal by subject": "WITHDRAWAL", "Lost to follow-up": "LTFU",
                     "Physician decision": "PHYS_DEC", "Death": "DEATH", "Screen failure": "SCREEN_FAIL"},
    "FLARE": {"None": "NONE", "Mild/Moderate": "MILD_MOD", "Severe": "SEVERE"},
}


def site_b_date(text: str, iso: bool = False) -> str:
    """DD-MMM-YYYY (UN / UNK / UNKN unknown) -> YYYY/MM/DD with "--" (or truncated ISO 8601);
    a text that is not a reference date is passed on unchanged."""
    match = REFERENCE_DATE.match(text)
    if not match or match[2] not in (*MONTHS, "UNK"):
        return text
    day, month, year = match.groups()
    if iso:
        parts = [] if year == "UNKN" else [year] + ([] if month == "UNK" else
                                                     [f"{MONTHS[month]:02d}"] + ([] if day == "UN" else [day]))
        return "-".join(parts)
    return "/".join(["----" if year == "UNKN" else year, "--" if month == "UNK" else f"{MONTHS[month]:02d}",
                     "--" if day == "UN" else day])


def tenths(text: str) -> str:
    """A PGA score as integer tenths ("1.5" -> "15"); a text that is not a number is passed on unchanged."""
    try:
        value = Decimal(text) * 10
    except InvalidOperation:
        return text
    if not value.is_finite() or value != value.to_integral_value():
        return text
    return str(int(value))


def to_site_b(reference_csv_dir: Path, out_dir: Path) -> Path:
    """Rewrite a reference-layout CSV export (one <form>.csv per form) into site B's layout
    (mappings/examples/site-b-csv.yaml). The manifest is not carried over (its hashes would not match)."""
    layout = load_raw_layout()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(reference_csv_dir).glob("*.csv")):
        form = path.stem
        kinds = layout.forms[form].columns
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
            header = list(rows[0]) if rows else next(csv.reader(open(path, encoding="utf-8-sig", newline="")))
        out_rows = []
        for row in rows:
            new = {}
            for column, value in row.items():
                kind = kinds.get(column, "common")
                if column == "FOLDER":
                    if form in SITE_B_NO_VISIT:
                        assert value == "", f"{path.name}: FOLDER {value!r} on a form without visits"
                        continue
                    value = SITE_B_VISITS[value] if value else ""
                elif kind in ("date", "fulldate"):
                    value = site_b_date(value, iso=(form, column) == ("lab", "LBDAT"))
                elif kind == "checkbox":
                    value = {"1": "Y", "0": ""}.get(value, value)
                elif column in SITE_B_CODES and value:
                    value = SITE_B_CODES[column][value]
                elif (form, column) == ("pga", "PGA"):
                    value = tenths(value)
                new[column] = value
            out_rows.append(new)
        kept = [c for c in header if not (c == "FOLDER" and form in SITE_B_NO_VISIT)]
        # the site writes the identifiers last
        order = [c for c in kept if c not in SITE_B_COMMON] + [c for c in kept if c in SITE_B_COMMON]
        names = {**SITE_B_COMMON, **SITE_B_COLUMNS.get(form, {})}
        with open(out_dir / SITE_B_FILES[form], "w", encoding="gb18030", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow([names.get(c, c) for c in order])
            for new in out_rows:
                writer.writerow([new[c] for c in order])
    return out_dir

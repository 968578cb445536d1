"""The two transports of the site export (form CSV, ODM 1.3.2) and manifest.json.

Writers take one subject at a time (SubjectRows) and return where the rows they were asked
about landed: {id(row): (line, index)}, line as readers count it (CSV: header = 1; ODM: the
line of the ItemGroupData), index = 0-based data row within its form.
"""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date
from pathlib import Path

from sdtm_lupus.config.study import Study
from sdtm_lupus.simulate import knowledge as K
from sdtm_lupus.simulate.subject import DATE_COLUMN, SubjectRows
from sdtm_lupus.specs import load_raw_layout

ODM_FILE = "export.xml"
MANIFEST = "manifest.json"
MDV = "MDV.1"
COMMON_EVENT = "COMMON"
_ODM_TYPES = {"integer": "integer", "number": "float"}   # every other column kind: text


class CsvWriter:
    def __init__(self, out_dir: Path, forms: list[str], columns: dict[str, list[str]], encoding: str):
        self.paths = {f: out_dir / f"{f}.csv" for f in forms}
        self.handles = {f: p.open("w", encoding=encoding, newline="") for f, p in self.paths.items()}
        self.writers = {f: csv.writer(h, lineterminator="\n") for f, h in self.handles.items()}
        self.counts = {f: 0 for f in forms}
        for f, w in self.writers.items():
            w.writerow(columns[f])

    def write(self, unit: SubjectRows, wanted: set[int]) -> dict[int, tuple[int, int]]:
        where: dict[int, tuple[int, int]] = {}
        for form, rows in unit.rows.items():
            writer = self.writers.get(form)
            if writer is None or not rows:
                continue
            base = self.counts[form]
            if wanted:
                for i, row in enumerate(rows):
                    if id(row) in wanted:
                        where[id(row)] = (base + i + 2, base + i)
            writer.writerows(rows)
            self.counts[form] = base + len(rows)
        return where

    def close(self) -> list[str]:
        for h in self.handles.values():
            h.close()
        return sorted(p.name for p in self.paths.values())


def _esc(value: str, _cache: dict[str, str] = {}) -> str:  # noqa: B006 - deliberate memo
    out = _cache.get(value)
    if out is None:
        out = (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
               .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))
        if len(_cache) < 200_000:
            _cache[value] = out
    return out


_PARSED: dict[str, int | None] = {}
_MONTH = {m: i for i, m in enumerate(K.MONTHS, 1)}


def _day(text: str) -> int | None:
    """DD-MMM-YYYY as an ordinal; None when partial or impossible."""
    if text not in _PARSED:
        try:
            _PARSED[text] = date(int(text[7:]), _MONTH[text[3:6]], int(text[:2])).toordinal()
        except (KeyError, ValueError):
            _PARSED[text] = None
    return _PARSED[text]


class OdmWriter:
    """export.xml, one element per line and one ItemGroupData (with its ItemData) per line."""

    def __init__(self, path: Path, study: Study, forms: list[str], columns: dict[str, list[str]],
                 sites: list[str], created: str, file_oid: str):
        self.path, self.study, self.forms = path, study, forms
        self.columns = columns
        self.fh = path.open("w", encoding="utf-8", newline="\n")
        self.line = 0
        self.counts = {f: 0 for f in forms}
        self.items = {f: [(i, f'<ItemData ItemOID="{f.upper()}.{c}" Value="') for i, c in enumerate(columns[f])
                          if i >= 4] for f in forms}
        self.date_col = {f: columns[f].index(DATE_COLUMN[f]) for f in forms if f in DATE_COLUMN}
        self.order = {v.folder: i for i, v in enumerate(study.visits)}
        self._emit(self._header(sites, created, file_oid))

    def _emit(self, lines: list[str]) -> None:
        self.fh.write("\n".join(lines) + "\n")
        self.line += len(lines)

    def _header(self, sites: list[str], created: str, file_oid: str) -> list[str]:
        s, layout = self.study, load_raw_layout()
        sid = _esc(s.studyid)
        events = [(v.folder, "Scheduled", "No") for v in s.visits] + [
            (s.unscheduled_folder, "Unscheduled", "Yes"), (s.early_termination.folder, "Unscheduled", "No"),
            (COMMON_EVENT, "Common", "No")]
        visit_forms = [f for f in self.forms if layout.forms[f].visit_based]
        common_forms = [f for f in self.forms if not layout.forms[f].visit_based]
        out = ['<?xml version="1.0" encoding="UTF-8"?>',
               f'<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" ODMVersion="1.3.2" FileType="Snapshot" '
               f'Granularity="All" FileOID="{_esc(file_oid)}" CreationDateTime="{created}" '
               f'SourceSystem="sdtm-lupus simulate">',
               f'  <Study OID="{sid}">',
               "    <GlobalVariables>",
               f"      <StudyName>{sid}</StudyName>",
               f"      <StudyDescription>{_esc(s.title)}</StudyDescription>",
               f"      <ProtocolName>{sid}</ProtocolName>",
               "    </GlobalVariables>",
               f'    <MetaDataVersion OID="{MDV}" Name="Reference site layout">',
               "      <Protocol>"]
        out += [f'        <StudyEventRef StudyEventOID="{_esc(e)}" OrderNumber="{i}" Mandatory="No"/>'
                for i, (e, _, _) in enumerate(events, 1)]
        out.append("      </Protocol>")
        for event, kind, repeating in events:
            out.append(f'      <StudyEventDef OID="{_esc(event)}" Name="{_esc(event)}" Repeating="{repeating}" '
                       f'Type="{kind}">')
            for f in (common_forms if event == COMMON_EVENT else visit_forms):
                out.append(f'        <FormRef FormOID="{f.upper()}" Mandatory="No"/>')
            out.append("      </StudyEventDef>")
        for f in self.forms:
            spec, oid = layout.forms[f], f.upper()
            out += [f'      <FormDef OID="{oid}" Name="{_esc(spec.label)}" Repeating="No">',
                    f'        <ItemGroupRef ItemGroupOID="{oid}" Mandatory="Yes"/>', "      </FormDef>",
                    f'      <ItemGroupDef OID="{oid}" Name="{_esc(spec.label)}" Repeating="Yes">']
            out += [f'        <ItemRef ItemOID="{oid}.{c}" Mandatory="No"/>' for c in spec.columns if c not in spec.optional]
            out.append("      </ItemGroupDef>")
        for f in self.forms:
            out += [f'      <ItemDef OID="{f.upper()}.{c}" Name="{c}" DataType="{_ODM_TYPES.get(kind, "text")}"/>'
                    for c, kind in layout.forms[f].columns.items() if c not in layout.forms[f].optional]
        out += ["    </MetaDataVersion>", "  </Study>", "  <AdminData>"]
        for site in sites:
            out += [f'    <Location OID="{_esc(site)}" Name="Site {_esc(site)}" LocationType="Site">',
                    f'      <MetaDataVersionRef StudyOID="{sid}" MetaDataVersionOID="{MDV}" '
                    f'EffectiveDate="2021-01-01"/>', "    </Location>"]
        out += ["  </AdminData>", f'  <ClinicalData StudyOID="{sid}" MetaDataVersionOID="{MDV}">']
        return out

    def _events(self, unit: SubjectRows) -> list[tuple[str, int, list[tuple[str, list[list[str]]]]]]:
        """Rows grouped by study event (UNSCHEDULED repeats by date), in date order; COMMON first."""
        unscheduled = self.study.unscheduled_folder
        groups: dict[tuple[str, str], dict[str, list[list[str]]]] = {}
        for form in self.forms:
            for row in unit.rows.get(form, ()):
                folder = row[3] or COMMON_EVENT
                occasion = row[self.date_col[form]] if folder == unscheduled else ""
                groups.setdefault((folder, occasion), {}).setdefault(form, []).append(row)
        repeat = {key: i for i, key in enumerate(sorted((k for k in groups if k[0] == unscheduled),
                                                        key=lambda k: (_day(k[1]) or 0, k[1])), 1)}

        def when(key: tuple[str, str]) -> tuple:
            if key[0] == COMMON_EVENT:
                return (0, 0, 0)
            days = [d for f, rows in groups[key].items() for r in rows
                    if (d := _day(r[self.date_col[f]])) is not None]
            return (1, min(days) if days else 10**7, self.order.get(key[0], 999), repeat.get(key, 0))

        return [(folder, repeat.get((folder, occ), 0), list(groups[(folder, occ)].items()))
                for folder, occ in sorted(groups, key=when)]

    def write(self, unit: SubjectRows, wanted: set[int]) -> dict[int, tuple[int, int]]:
        where: dict[int, tuple[int, int]] = {}
        lines = [f'    <SubjectData SubjectKey="{_esc(unit.subjid)}">',
                 f'      <SiteRef LocationOID="{_esc(unit.siteid)}"/>']
        line0 = self.line + 1
        for folder, repeat, forms in self._events(unit):
            key = f' StudyEventRepeatKey="{repeat}"' if repeat else ""
            lines.append(f'      <StudyEventData StudyEventOID="{_esc(folder)}"{key}>')
            for form, rows in forms:
                oid, items = form.upper(), self.items[form]
                lines.append(f'        <FormData FormOID="{oid}">')
                for k, row in enumerate(rows, 1):
                    cells = "".join(prefix + _esc(row[i]) + '"/>' for i, prefix in items if row[i])
                    lines.append(f'          <ItemGroupData ItemGroupOID="{oid}" ItemGroupRepeatKey="{k}">'
                                 f"{cells}</ItemGroupData>")
                    if id(row) in wanted:
                        where[id(row)] = (line0 + len(lines) - 1, self.counts[form])
                    self.counts[form] += 1
                lines.append("        </FormData>")
            lines.append("      </StudyEventData>")
        lines.append("    </SubjectData>")
        self._emit(lines)
        return where

    def close(self) -> list[str]:
        self._emit(["  </ClinicalData>", "</ODM>"])
        self.fh.close()
        return [self.path.name]


def write_manifest(out_dir: Path, studyid: str, files: list[str]) -> None:
    entries = []
    for name in sorted(files):
        digest, size = hashlib.sha256(), 0
        with (out_dir / name).open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        entries.append({"path": name, "sha256": digest.hexdigest(), "bytes": size})
    text = json.dumps({"study": studyid, "algorithm": "sha256", "files": entries}, indent=2)
    (out_dir / MANIFEST).write_text(text + "\n", encoding="utf-8", newline="\n")

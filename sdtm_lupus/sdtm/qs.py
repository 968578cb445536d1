"""QS: clinician-scored instruments (SELENA-SLEDAI with its PGA, BILAG-2004, the flare CRF).

What each raw column becomes is data (specs/instruments.yaml); this module only applies it:
one QS record per item per raw row, every record of a row carrying that row's provenance.

* A row with every item cell empty: one QSALL record, QSSTAT NOT DONE (one-item forms: that
  item NOT DONE) - unless the instrument maps such rows item by item (empty_row: items, the
  SELENA-SLEDAI checkbox convention of lupus-endpoints §1.4: every box ABSENT, total 0).
  An empty cell of a row with data: the item NOT DONE (or no record where the item is
  conditional, FLAREDAT). Checkbox cells are never empty: empty = not ticked.
* QSGRPID identifies the occasion (derivations R1.1: subject, FOLDER, assessment date) and
  is shared by the sledai, pga, bilag and flare records of one occasion: `<FOLDER>/<date>`.
  When one form has several rows with the same identity, the last row of the file stands
  for the occasion and keeps that value; the earlier rows get `<FOLDER>/<date>/<n>`
  (n = 1, 2, ... in file order), so re-assessments never collide.
* FLAREDAT (flare onset) is the flare CRF's own question SFI0105 (QSORRES ISO 8601 date),
  present only when filled (a CE flare event would take CESTDTC from it and link by QSGRPID:
  lupus-endpoints §7.5, not built yet).
* QSLOBXFL: the last record with a result on or before RFXSTDTC per USUBJID and QSTESTCD.
* QSSEQ: per subject by visit number, date, re-assessment rank, instrument, item.
* QC findings (never overrides): QC-SLEDAI-SITETOT, QC-SLEDAI-EMPTY, QC-REASSESSMENT,
  QC-BILAG-E-TO-D, QC-OCCASION-UNMATCHED, QC-FLARE-CRF, QC-PGA-RANGE.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sdtm_lupus.readers.forms import ROW, Form
from sdtm_lupus.sdtm.builder_state import MapState
from sdtm_lupus.sdtm.map_context import FILE, SRCROW, MapContext
from sdtm_lupus.sdtm.timing import derive_lobxfl, derive_study_day
from sdtm_lupus.specs import QSALL, Instrument, Instruments, Item, load_instruments, load_raw_layout

NOT_DONE = "NOT DONE"



def build(state: MapState) -> dict[str, pd.DataFrame]:
    defs = load_instruments()
    present = [inst for inst in defs.instruments if state.has(inst.form)]
    if not present:
        return {}
    codes = sorted([QSALL[0]] + [item.testcd for inst in defs.instruments for item in inst.items])
    test_order = {code: k for k, code in enumerate(codes)}
    cat_order = {cat: k for k, cat in enumerate(dict.fromkeys(inst.qscat for inst in defs.instruments))}
    occasions = {inst.form: _occasions(state, inst, state.cleaned(inst.form)) for inst in present}
    _rank_rows(occasions, {inst.form: (cat_order[inst.qscat], k) for k, inst in enumerate(defs.instruments)
                           if inst in present})
    parts = [_records(inst, state.cleaned(inst.form), state.forms[inst.form].data) for inst in present]
    qs = _assemble(state, present, occasions, parts, test_order, len(codes))
    for inst in present:
        _qc(state, inst, occasions, defs)
    return {"QS": qs}


def _assemble(state: MapState, present: list[Instrument], occasions: dict[str, pd.DataFrame],
              parts: list[dict[str, np.ndarray]], test_order: dict[str, int], n_codes: int) -> pd.DataFrame:
    """The QS frame, its rows already in their final order (subject, QSSEQ), so that each column is
    built by one take and finishing has no rows to move. Text columns are object arrays with None for
    missing (what conform_to_spec makes of them), the provenance _file a str column as before."""
    occ = pd.concat([occasions[inst.form][_OCCASION_COLUMNS] for inst in present], ignore_index=True)
    first_row = np.cumsum([0] + [len(occasions[inst.form]) for inst in present])
    first_item = np.cumsum([0] + [len(inst.items) + 1 for inst in present])
    # each part's arrays are released (popped) once gathered: memory holds the result and one column in flight
    pos = np.concatenate([p.pop("_pos") + first_row[k] for k, p in enumerate(parts)])
    item = np.concatenate([p.pop("_item") + first_item[k] for k, p in enumerate(parts)])
    # per item of every instrument, then its QSALL (a row not done): the item's constant columns
    items = [(inst, i) for inst in present for i in (*inst.items, None)]
    testcd = [i.testcd if i else QSALL[0] for _, i in items]

    def table(values: list) -> np.ndarray:
        return np.array(values, dtype=object)

    # QSSEQ: 1..n per subject in the order of the raw rows' rank, then of the item
    key = occ["_rank"].to_numpy()[pos] * (n_codes + 1)
    key += np.array([test_order[c] for c in testcd])[item]
    order = np.argsort(key, kind="stable")
    del key
    pos, item = pos[order], item[order]
    seq = _numbers_per_subject(occ["_subj"].to_numpy()[pos])

    def record(name: str) -> np.ndarray:
        return np.concatenate([p.pop(name) for p in parts])[order]

    def text(values: np.ndarray) -> pd.Series:
        return pd.Series(values, dtype=object, copy=False)

    def from_occasion(name: str) -> pd.Series:
        column = occ[name]
        values = column.to_numpy(dtype=object, na_value=None) if column.dtype != "float64" else column.to_numpy()
        return pd.Series(values[pos], dtype=column.dtype if column.dtype == "float64" else object, copy=False)

    columns = {"QSORRES": text(record("QSORRES")), "QSSTRESC": text(record("QSSTRESC")),
               "QSSTRESN": pd.Series(record("QSSTRESN"), dtype="float64", copy=False),
               "QSSTAT": text(record("QSSTAT"))}
    n = len(pos)
    testcds = table(testcd)[item]
    qs = pd.DataFrame({
        "STUDYID": text(_repeat(state.study.studyid, n)),
        "DOMAIN": text(_repeat("QS", n)),
        "USUBJID": from_occasion("USUBJID"),
        "QSGRPID": from_occasion("QSGRPID"),
        "QSTESTCD": text(testcds),
        "QSTEST": text(table([i.test if i else QSALL[1] for _, i in items])[item]),
        "QSCAT": text(table([inst.qscat for inst, _ in items])[item]),
        "QSSCAT": text(table([i.scat if i else None for _, i in items])[item]),
        **columns,
        "VISITNUM": from_occasion("VISITNUM"),
        "VISIT": from_occasion("VISIT"),
        "EPOCH": from_occasion("EPOCH"),
        "QSDTC": from_occasion("QSDTC"),
        "QSDY": from_occasion("QSDY"),
        "QSEVLINT": text(table([i.evlint if i else None for _, i in items])[item]),
        FILE: pd.Series(pd.array([state.file(inst.form) for inst, _ in items], dtype="str").take(item), copy=False),
        SRCROW: pd.Series(occ[SRCROW].to_numpy()[pos], dtype="int64", copy=False),
        "QSLOBXFL": _lobxfl(occ, pos, order, testcds, columns["QSSTAT"].to_numpy()),
        "QSSEQ": pd.Series(seq, dtype="float64", copy=False),
    }, copy=False)
    return qs


def _repeat(value: str, n: int) -> np.ndarray:
    """An object array holding `value` n times, one shared str (np.full makes a str object per cell)."""
    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


def _numbers_per_subject(subject: np.ndarray) -> np.ndarray:
    """1..n over each run of equal subjects (rows sorted by subject), as floats."""
    idx = np.arange(len(subject))
    start = np.where(np.r_[True, subject[1:] != subject[:-1]], idx, 0)
    np.maximum.accumulate(start, out=start)
    seq = (idx - start + 1).astype("float64")
    return seq


def _lobxfl(occ: pd.DataFrame, pos: np.ndarray, order: np.ndarray, testcd: np.ndarray, stat: np.ndarray) -> pd.Series:
    """QSLOBXFL per USUBJID and QSTESTCD. Only records dated on or before first exposure can carry it
    (derive_lobxfl re-checks), so it runs on those alone, in the order the records were made per
    instrument (`order`: made -> final; ties on the date go to the record made last)."""
    pre = np.flatnonzero(occ["_pre"].to_numpy()[pos])
    pre = pre[np.argsort(order[pre], kind="stable")]
    at = pos[pre]
    early = pd.DataFrame({"QSDTC": pd.Series(occ["QSDTC"].to_numpy(dtype=object, na_value=None)[at], dtype=object),
                          "USUBJID": pd.Series(occ["USUBJID"].to_numpy(dtype=object)[at], dtype=object),
                          "QSTESTCD": pd.Series(testcd[pre], dtype=object)})
    early.index = pre
    rfx = occ["_rfx"].take(at)
    rfx.index = pre
    flag = derive_lobxfl(early, "QSDTC", rfx, ["USUBJID", "QSTESTCD"], valid=pd.Series(stat[pre], index=pre).isna())
    out = np.full(len(pos), None, dtype=object)
    out[pre] = flag.to_numpy(dtype=object)
    return pd.Series(out, dtype=object, copy=False)


def _rank_rows(occasions: dict[str, pd.DataFrame], order: dict[str, tuple[int, int]]) -> None:
    """_subj and _rank of every raw row: subject, visit number, date, re-assessment rank, QSCAT, form, row.

    Rows of two forms never tie on the form (e.g. SLEDAI and PGA share QSCAT): the raw row number only
    orders rows of one form, so the order does not depend on the transport or on how forms interleave.
    """
    rows = pd.concat([occ.assign(_cat=order[form][0], _form=order[form][1]) for form, occ in occasions.items()],
                     ignore_index=True)
    subj = pd.factorize(rows["USUBJID"], sort=True)[0]
    dtc = pd.factorize(rows["QSDTC"], sort=True)[0].astype(float)
    dtc[dtc < 0] = np.inf                                   # missing dates last
    keys = [subj, rows["VISITNUM"].to_numpy(dtype=float), dtc, rows["_dup"].to_numpy(), rows["_cat"].to_numpy(),
            rows["_form"].to_numpy(), rows[SRCROW].to_numpy()]
    rank = np.empty(len(rows), dtype=np.int64)
    rank[np.lexsort(keys[::-1])] = np.arange(len(rows))
    start = 0
    for occ in occasions.values():
        occ["_subj"], occ["_rank"] = subj[start:start + len(occ)], rank[start:start + len(occ)]
        start += len(occ)


def _occasions(state: MapState, inst: Instrument, c: pd.DataFrame) -> pd.DataFrame:
    """Per raw row: USUBJID, FOLDER, QSDTC, QSGRPID and _dup (rank of the row within its identity)."""
    dtc = c[load_raw_layout().forms[inst.form].date_column]
    occ = pd.DataFrame({"USUBJID": c["USUBJID"].to_numpy(), "FOLDER": c["FOLDER"].to_numpy(),
                        "QSDTC": dtc.to_numpy()})
    ident = [occ["USUBJID"], occ["FOLDER"].fillna(""), occ["QSDTC"].fillna("")]
    grp = occ.groupby(ident, sort=False)
    rank = grp.cumcount()
    last = rank.eq(grp["USUBJID"].transform("size") - 1)
    base = occ["FOLDER"].fillna("NO FOLDER") + "/" + occ["QSDTC"].fillna("NO DATE")
    occ["QSGRPID"] = base.where(last, base + "/" + (rank + 1).astype(str))
    occ["_dup"] = rank.to_numpy()
    occ[SRCROW] = c[ROW].to_numpy()
    usubjid, dtc = occ["USUBJID"], occ["QSDTC"]
    occ["VISITNUM"], occ["VISIT"] = state.visit(usubjid, occ["FOLDER"], dtc)
    occ["EPOCH"] = state.epoch(dtc, usubjid)
    occ["QSDY"] = state.study_day(dtc, usubjid)
    occ["_rfx"] = state.ref(usubjid, "RFXSTDTC")
    occ["_pre"] = derive_study_day(dtc, occ["_rfx"]).le(1).to_numpy()
    return occ


_OCCASION_COLUMNS = ["USUBJID", "QSGRPID", "VISITNUM", "VISIT", "EPOCH", "QSDTC", "QSDY", "_subj", "_rank", "_pre",
                     "_rfx", SRCROW]


def _records(inst: Instrument, c: pd.DataFrame, raw: pd.DataFrame) -> dict[str, np.ndarray]:
    """The QS records of one form, as arrays: _pos (the raw row: its occasion), _item (the item's index in
    inst.items; len(inst.items) for a row not done, QSALL), QSORRES, QSSTRESC, QSSTRESN, QSSTAT."""
    empty_row = _empty_rows(raw, inst.items) if inst.empty_row == "not_done" else np.zeros(len(raw), dtype=bool)
    text = {i.column: _stripped(raw[i.column]) for i in inst.items if i.kind not in ("checkbox", "flag")}
    multi = len(inst.items) > 1
    parts = []      # per item: (rows, QSORRES, QSSTRESC, QSSTRESN, QSSTAT) over the rows it keeps
    for item in inst.items:
        orres, stresc, stresn, stat, keep = _item_values(item, c[item.column].to_numpy(), text.get(item.column))
        if multi:
            keep &= ~empty_row
        parts.append((np.flatnonzero(keep), orres[keep], stresc[keep], stresn[keep], stat[keep]))
    if multi:
        n = int(empty_row.sum())
        parts.append((np.flatnonzero(empty_row), np.full(n, None), np.full(n, None), np.full(n, np.nan),
                      _repeat(NOT_DONE, n)))
    pos, orres, stresc, stresn, stat = (np.concatenate(arrays) for arrays in zip(*parts))
    item_idx = np.repeat(np.arange(len(parts)), [len(p[0]) for p in parts])
    return {"_pos": pos, "_item": item_idx, "QSORRES": orres.astype(object), "QSSTRESC": stresc.astype(object),
            "QSSTRESN": stresn.astype("float64"), "QSSTAT": stat.astype(object)}


def _stripped(values: pd.Series) -> np.ndarray:
    """values.astype(object).fillna("").str.strip() as an object array, stripped once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    table = np.array(["" if pd.isna(u) else u.strip() for u in uniques.to_numpy(dtype=object)] + [""], dtype=object)
    return table[codes]


def _blank(values: pd.Series) -> np.ndarray:
    """values.astype(str).str.strip().eq("") (missing: False) as a bool array, once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    table = np.array([isinstance(u, str) and not u.strip() for u in uniques.to_numpy(dtype=object)] + [False])
    return table[codes]


def _empty_rows(raw: pd.DataFrame, items: tuple[Item, ...]) -> np.ndarray:
    """Rows whose every item cell is empty (checkbox cells checked only where all others are empty)."""
    empty = np.ones(len(raw), dtype=bool)
    for item in sorted(items, key=lambda i: i.kind in ("checkbox", "flag")):
        if not empty.any():
            break
        empty[empty] = _stripped(raw[item.column][empty]) == ""
    return empty


def _item_values(item: Item, value: np.ndarray, text: np.ndarray | None):
    """(QSORRES, QSSTRESC, QSSTRESN, QSSTAT, keep) arrays for one item over the rows of a form."""
    n = len(value)
    stat = np.full(n, None, dtype=object)
    keep = np.ones(n, dtype=bool)
    if item.kind == "checkbox":
        ticked = value.astype(bool)
        orres = _choose(ticked, "PRESENT", "ABSENT")
        stresn = np.where(ticked, float(item.weight), 0.0)
        stresc = _choose(ticked, str(item.weight), "0")
        return orres, stresc, stresn, stat, keep
    if item.kind == "flag":
        orres = _choose(value.astype(bool), "Y", "N")
        return orres, orres.copy(), np.full(n, np.nan), stat, keep
    empty = text == ""
    orres = np.where(empty, None, text).astype(object)
    if item.kind == "number":
        stresn = pd.to_numeric(pd.Series(value), errors="coerce").to_numpy(dtype=float)
        codes, uniques = pd.factorize(stresn)               # missing -> -1 -> the trailing None
        stresc = np.array([*(_number_text(u) for u in uniques), None], dtype=object)[codes]
    else:   # code (mapped submission value) or date (ISO 8601)
        stresn = np.full(n, np.nan)
        stresc = pd.Series(value, dtype=object).where(pd.notna(value), None).to_numpy(dtype=object)
        if item.kind == "date":
            orres = stresc.copy()
    if item.empty == "omit":
        keep = ~empty
    else:
        stat[empty] = NOT_DONE
    return orres, stresc, stresn, stat, keep


def _choose(mask: np.ndarray, yes: str, no: str) -> np.ndarray:
    """Object array of `yes` where mask, else `no`: two shared str objects, not one per cell."""
    return np.array([no, yes], dtype=object)[mask.astype(np.intp)]


def _number_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(round(float(v), 10))


# ---------------------------------------------------------------- QC findings
def _qc(state: MapState, inst: Instrument, occasions: dict[str, pd.DataFrame], defs: Instruments) -> None:
    ctx, form, c = state.ctx, state.forms[inst.form], state.cleaned(inst.form)
    date_col = load_raw_layout().forms[inst.form].date_column
    _qc_site_total(ctx, inst, form, c)
    _qc_numbers(ctx, inst, form, c)
    _qc_reassessment(ctx, inst, form, occasions[inst.form], date_col)
    _qc_transitions(ctx, inst, form, c, occasions[inst.form])
    _qc_calls(ctx, inst, form, c)
    occasion = next((i for i in defs.instruments if i.defines_occasion), None)
    if occasion is not None and inst is not occasion:
        _qc_unmatched(ctx, inst, form, occasions[inst.form], occasion, occasions.get(occasion.form), date_col)


def _qc_numbers(ctx: MapContext, inst: Instrument, form: Form, c: pd.DataFrame) -> None:
    for item in inst.items:
        if item.range is None and item.decimals is None:
            continue
        v = pd.to_numeric(c[item.column], errors="coerce")
        checks = []
        if item.range is not None:
            checks.append(((v < item.range[0]) | (v > item.range[1]), f"outside {item.range[0]:g}-{item.range[1]:g}"))
        if item.decimals is not None:
            scaled = v * 10 ** item.decimals
            checks.append(((scaled - scaled.round()).abs() > 1e-6, f"not recorded to {item.decimals} decimal(s)"))
        for bad, why in checks:
            ctx.report("QC-PGA-RANGE", "warning", f"{item.column} {{value}} is {why}; kept as collected", form,
                       item.column, form.data.loc[bad.to_numpy(), ["SUBJID", item.column, ROW]])


def _qc_unmatched(ctx: MapContext, inst: Instrument, form: Form, occ: pd.DataFrame, occasion: Instrument,
                  ref: pd.DataFrame | None, date_col: str) -> None:
    """R1.1: a row whose subject, FOLDER and date match no row of the occasion-defining form."""
    key = ["USUBJID", "FOLDER", "QSDTC"]
    matched = np.zeros(len(occ), dtype=bool)
    if ref is not None and len(ref):
        matched = pd.MultiIndex.from_frame(occ[key].fillna("")).isin(pd.MultiIndex.from_frame(ref[key].dropna()))
    ctx.report("QC-OCCASION-UNMATCHED", "notice",
               f"{inst.name} of {{FOLDER}} {{value}} matches no {occasion.form} assessment of the subject with the "
               "same FOLDER and date: mapped to QS, takes no part in the occasion-based analyses",
               form, date_col, form.data.loc[~matched, ["SUBJID", "FOLDER", date_col, ROW]])


def _qc_site_total(ctx: MapContext, inst: Instrument, form: Form, c: pd.DataFrame) -> None:
    total = next((i for i in inst.items if i.site_total), None)
    if total is None:
        return
    boxes = [i for i in inst.items if i.kind == "checkbox"]
    derived = sum(c[i.column].astype(bool).to_numpy() * i.weight for i in boxes)
    site = pd.to_numeric(c[total.column], errors="coerce").to_numpy(dtype=float)
    off = ~np.isnan(site) & (site != derived)
    rows = form.data.loc[off, ["SUBJID", total.column, ROW]].assign(DERIVED=derived[off])
    ctx.report("QC-SLEDAI-SITETOT", "warning",
               f"{total.column} {{value}} disagrees with the weighted sum of the descriptors ({{DERIVED}}); "
               f"{total.testcd} keeps the site total as collected, the analysis uses the derived total",
               form, total.column, rows)
    raw = form.data
    empty = np.logical_and.reduce([_blank(raw[i.column]) for i in (*boxes, total)])
    if inst.empty_row == "items":
        reading = (f"read by the checkbox convention: every descriptor ABSENT (a total of 0), "
                   f"{total.testcd} {NOT_DONE}; check the CRF page was not left blank")
    else:
        reading = f"mapped as not done ({QSALL[0]}, QSSTAT {NOT_DONE}), so the occasion has no total"
    ctx.report("QC-SLEDAI-EMPTY", "warning", f"all {len(boxes)} descriptors and {total.column} are empty: {reading}",
               form, total.column, raw.loc[empty, ["SUBJID", total.column, ROW]])


def _qc_reassessment(ctx: MapContext, inst: Instrument, form: Form, occ: pd.DataFrame, date_col: str) -> None:
    scheduled = {v.folder for v in ctx.study.visits}
    key = occ[["USUBJID", "FOLDER"]]
    again = occ["FOLDER"].isin(scheduled) & key.duplicated(keep="first")
    if not again.any():
        return
    # the first row of each (subject, scheduled folder): again-rows have a scheduled folder
    first_row = occ.groupby(["USUBJID", "FOLDER"], sort=False)[SRCROW].transform("first")
    rows = form.data.loc[again.to_numpy(), ["SUBJID", "FOLDER", date_col, ROW]].assign(
        FIRST=first_row[again].astype(int).to_numpy(), GRPID=occ.loc[again, "QSGRPID"].to_numpy())
    ctx.report("QC-REASSESSMENT", "notice",
               f"another {inst.name} assessment of the subject in {{FOLDER}} (first at row {{FIRST}}), dated "
               "{value}: both kept in QS, this one with QSGRPID {GRPID}", form, date_col, rows)


def _qc_transitions(ctx: MapContext, inst: Instrument, form: Form, c: pd.DataFrame, occ: pd.DataFrame) -> None:
    """An item graded `to` when every earlier grade of the subject's item was `from` (at least one)."""
    if not inst.forbidden_transitions:
        return
    cols = [i.column for i in inst.items]
    long = pd.DataFrame({"USUBJID": occ["USUBJID"], "QSDTC": occ["QSDTC"], "_pos": np.arange(len(occ))})
    long = long.join(pd.DataFrame(c[cols].to_numpy(), columns=cols)).melt(
        id_vars=["USUBJID", "QSDTC", "_pos"], value_vars=cols, var_name="_col", value_name="_grade")
    long = long[long["_grade"].notna()].sort_values(["USUBJID", "_col", "QSDTC", "_pos"], na_position="last")
    # the rows of one subject's item are contiguous: `start` marks the first of each
    subject, col = long["USUBJID"].to_numpy(), long["_col"].to_numpy()
    start = np.r_[True, (subject[1:] != subject[:-1]) | (col[1:] != col[:-1])].astype(bool)
    grade = long["_grade"]
    for before, after in inst.forbidden_transitions:
        prev_before = _seen_before(grade.eq(before).to_numpy(), start)
        prev_other = _seen_before(grade.ne(before).to_numpy(), start)
        hit = long[grade.eq(after).to_numpy() & prev_before & ~prev_other]
        for col, group in hit.groupby("_col", sort=True):
            ctx.report("QC-BILAG-E-TO-D", "notice",
                       f"{col} graded {{value}} while every earlier {inst.name} grade of the subject was {before}: "
                       f"{before} -> {after} implies an involvement no assessment recorded; kept as collected",
                       form, col, form.data.iloc[np.sort(group["_pos"].to_numpy())][["SUBJID", col, ROW]])


def _seen_before(flag: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Per row: the flag holds on an earlier row of its group (groups: contiguous runs, `start` on the
    first row of each) - a grouped cummax shifted by one row within the group."""
    count = np.cumsum(flag)
    before_group = np.maximum.accumulate(np.where(start, count - flag, 0))     # flags before the group
    return (count - flag - before_group) > 0


def _qc_calls(ctx: MapContext, inst: Instrument, form: Form, c: pd.DataFrame) -> None:
    checks = inst.call_checks
    if checks is None:
        return
    kinds = {i.column: i.kind for i in inst.items}

    def present(col: str) -> pd.Series:
        v = c[col]
        return v.astype(bool) if kinds[col] in ("checkbox", "flag") else v.notna()

    def said(cols: tuple[str, ...], negate: bool) -> str:
        ticks = {kinds[col] in ("checkbox", "flag") for col in cols}
        verb = "ticked or filled" if len(ticks) > 1 else "ticked" if True in ticks else "filled"
        if len(cols) == 1:
            return f"{cols[0]} is {'not ' if negate else ''}{verb}"
        return f"{'none' if negate else 'at least one'} of {', '.join(cols)} is {verb}"

    call = c[checks.column]
    for value, conditions in checks.rules.items():
        for cond in conditions:
            cols = cond.any_of or cond.none_of
            hit = np.logical_or.reduce([present(col) for col in cols])
            bad = call.eq(value) & (~hit if cond.any_of else hit)
            why = said(cols, negate=bool(cond.any_of))
            ctx.report("QC-FLARE-CRF", "warning",
                       f"{checks.column} {{value!r}} but {why} on the same row: the call disagrees with its own "
                       "items; both kept as collected", form, checks.column,
                       form.data.loc[bad.to_numpy(), ["SUBJID", checks.column, ROW]])

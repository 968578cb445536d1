"""Parse step (sdtm/parse.py): per-column date formats (`date_formats`) and checkbox vocabularies (`checkboxes`)."""

from __future__ import annotations

from sdtm_lupus.config.mapping import Mapping
from sdtm_lupus.sdtm.parse import parse_form
from tests.sdtm.builders import context, form


def ctx_with(**keys):
    ctx = context()
    ctx.mapping = Mapping.model_validate(ctx.mapping.model_dump(exclude={"source"}, by_alias=True) | keys)
    return ctx


def test_date_formats_override_dates_per_column_and_fall_back_field_by_field():
    ctx = ctx_with(dates={"format": "YYYY/MM/DD", "unknown_day": "--", "unknown_month": "--", "unknown_year": "----"},
                   date_formats={"ae.AEENDAT": {"format": "ISO8601"}, "ae.AESTDAT": {"unknown_day": "00"}})
    ae = form("ae", [{"SUBJID": "01-0001", "AESTDAT": "2021/03/00", "AEENDAT": "2021-04"},
                     {"SUBJID": "01-0001", "AESTDAT": "2021/03/05", "AEENDAT": "2021-04-02"}])
    clean = parse_form(ae, ctx)
    assert clean["AESTDAT"].tolist() == ["2021-03", "2021-03-05"]
    assert clean["AEENDAT"].tolist() == ["2021-04", "2021-04-02"]
    assert [f for f in ctx.findings if f.severity == "error"] == []
    cm = parse_form(form("cm", [{"SUBJID": "01-0001", "CMSTDAT": "2020/--/--", "CMENDAT": "2021-04-02"}]), ctx)
    assert cm["CMSTDAT"].tolist() == ["2020"]                      # `dates`: no date_formats entry for cm
    assert [(f.rule, f.variable) for f in ctx.findings if f.severity == "error"] == [("MAP-DATE", "CMENDAT")]


def test_checkboxes_override_the_vocabulary_per_column():
    ctx = ctx_with(checkboxes={"flare.*": {"checked": ["Y"], "unchecked": [""]}, "flare.SV_HOSP": {"checked": ["X"]}})
    flare = form("flare", [{"SUBJID": "01-0001", "MM_NEWWORSE": "Y", "SV_NEWWORSE": "", "SV_HOSP": "X"},
                           {"SUBJID": "01-0001", "MM_NEWWORSE": "1", "SV_NEWWORSE": "0", "SV_HOSP": ""}])
    clean = parse_form(flare, ctx)
    assert clean["MM_NEWWORSE"].tolist()[0] and not clean["SV_NEWWORSE"].tolist()[0] and clean["SV_HOSP"].tolist()[0]
    bad = sorted((f.rule, f.variable, f.value) for f in ctx.findings if f.severity == "error")
    assert bad == [("MAP-CHECKBOX", "MM_NEWWORSE", "1"), ("MAP-CHECKBOX", "SV_NEWWORSE", "0")]
    assert "expected one of ['Y', '']" in next(f.message for f in ctx.findings if f.variable == "MM_NEWWORSE")
    sledai = parse_form(form("sledai", [{"SUBJID": "01-0001", "FEVER": "1", "RASH": "0"}]), ctx)
    assert sledai["FEVER"].tolist() == [True] and sledai["RASH"].tolist() == [False]   # top-level vocabulary

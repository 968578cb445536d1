"""The TEAE summary (R11) in the terminal lines and validation.html."""

from lxml import html as lxml_html

from sdtm_lupus.validate.reports.html import _safety
from sdtm_lupus.validate.reports.text import safety_lines

SAFETY = {"population": "SAFFL = Y", "teae_window_days": 28, "by_arm": {
    "Placebo": {"safety": 4, "events": 6, "any_teae": 3, "worst_grade": {"1": 1, "2": 0, "3": 2, "4": 0, "5": 0,
                                                                          "missing": 0},
                "related": 2, "serious": 1, "leading_to_discontinuation": 1, "fatal": 0, "sle_hospitalisation": 1}}}


def test_safety_lines():
    lines = safety_lines(SAFETY)
    assert lines[0].startswith("TEAE summary") and "TRTEDT + 28 days" in lines[0]
    assert lines[1] == ("  Placebo (n=4): any TEAE 3 (6 events); worst grade 1 1, 3 2; related 2; serious 1; "
                        "leading to discontinuation 1; fatal 0; SLE-related hospitalisation 1")
    assert safety_lines({}) == []


def test_safety_table():
    doc = lxml_html.fromstring(_safety({"safety": SAFETY}))
    cells = [c.text_content() for c in doc.get_element_by_id("safety-table").findall(".//tbody/tr/td")]
    assert cells[:3] == ["Placebo", "4", "3/4 (75%)"] and cells[-1] == "1: 1, 3: 2"
    assert _safety({}) == ""

"""validation.html in a real browser (headless Chromium): the page's script runs, the summary and the
issue table are rendered, and a <script> planted in an AE verbatim stays text.

Chromium is required (CI installs it in .ci/run): without it this test fails, it does not skip.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import html as lxml_html

from tests.validate.test_reports import SCRIPT, planted_run

CHROMIUM = "/usr/bin/chromium"


def chromium() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not path:
        pytest.fail("Chromium is not installed, and the report browser test needs it: "
                    "apt-get install -y chromium (.ci/run installs it before pytest)")
    return path


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    run = planted_run(tmp_path_factory)
    tmp = tmp_path_factory.mktemp("browser")
    url = (run.out / "validation.html").resolve().as_uri()
    dom = run_chromium(tmp, "--dump-dom", url).stdout
    shot = tmp / "validation.png"
    run_chromium(tmp, f"--screenshot={shot}", "--window-size=1400,2000", url)
    return run, lxml_html.fromstring(dom), shot


def test_script_ran_and_summary_and_issue_table_are_rendered(page):
    run, doc, _ = page
    report = run.result.report
    assert doc.get("data-report") == "ready"                    # set by the page's script after filtering
    issue_rows = doc.xpath('//table[@id="issue-table"]/tbody/tr')
    assert issue_rows and not [r for r in issue_rows if r.get("hidden") is not None]
    count = doc.get_element_by_id("issue-count").text_content()
    assert count == f"{len(issue_rows)} of {len(issue_rows)} issues shown"      # written by the script
    table = doc.get_element_by_id("issue-table")
    assert table.get("data-rendered-rows") == str(len(issue_rows))            # rows with a layout box
    summary = doc.get_element_by_id("summary-table")
    assert summary.get("data-rendered-rows") == str(len(summary.xpath("tbody/tr")))
    assert {r.get("data-dataset") for r in summary.xpath("tbody/tr")} >= set(report["datasets"])
    assert doc.get_element_by_id("verdict").text_content().startswith("PASSED")
    assert doc.get_element_by_id("rules-count").text_content() == (
        f"{len(report['gate']['expectations'])} of {len(report['gate']['expectations'])} rules shown")


def test_planted_script_is_text_not_an_element(page):
    run, doc, _ = page
    scripts = doc.xpath("//script")
    assert len(scripts) == 2 and all("alert" not in (s.text or "") for s in scripts)
    assert not doc.xpath("//*[@onmouseover]")
    p = run.defects["chinese-verbatim"]
    (row,) = doc.xpath(f'//tr[@class="rec"][@data-rule="XPT-NON-ASCII"][@data-row="{p.row}"]')
    assert SCRIPT in row.xpath('string(td[@class="value"])')
    assert row.get("data-value") == run.term


def test_screenshot_shows_the_page(page):
    _, _, shot = page
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1400, 2000)
    assert len(data) > 40_000, "the screenshot is (almost) blank"    # a blank page compresses to ~13 kB


def test_filters_select_by_dataset_exactly_and_by_text(page, tmp_path):
    run, _, _ = page
    text = (run.out / "validation.html").read_text(encoding="utf-8")
    # preset the filters in a copy of the page (what a reviewer would pick), then let the script apply them
    option = '<option value="AE">AE</option>'
    assert text.count(option) == 1
    text = text.replace(option, '<option value="AE" selected>AE</option>')
    text = text.replace('<input id="f-text" type="search"', '<input id="f-text" type="search" value="non-ascii"')
    copy = tmp_path / "filtered.html"
    copy.write_text(text, encoding="utf-8")
    doc = lxml_html.fromstring(run_chromium(tmp_path, "--dump-dom", copy.as_uri()).stdout)
    rows = doc.xpath('//table[@id="issue-table"]/tbody/tr')
    shown = [r for r in rows if r.get("hidden") is None]
    assert [(r.get("data-dataset"), r.get("data-rule")) for r in shown] == [("AE", "XPT-NON-ASCII")]
    assert any(r.get("data-dataset") == "ae" for r in rows)            # the raw form "ae" is a different dataset
    assert doc.get_element_by_id("issue-count").text_content() == f"1 of {len(rows)} issues shown"
    assert doc.get_element_by_id("issue-table").get("data-rendered-rows") == "1"

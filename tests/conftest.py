"""Test selection: modules that convert whole exports (or drive Chromium) are marked `slow`.

    pytest -m "not slow"     the fast subset: rules, readers, configuration, writers on small tables
    pytest                   everything (what CI runs)
"""

import pytest

from tests.shared_runs import FixtureRuns

SLOW_MODULES = {
    "test_edc_layout.py", "test_cli.py", "test_site_layouts.py", "test_dataset_json.py", "test_record_order.py",
    "test_commands_ux.py", "test_fixtures.py", "test_draft.py", "test_check.py", "test_assembly.py",
    "test_hostile_csv.py", "test_simulate_convert.py", "test_output_folder.py", "test_define.py",
    "test_first_screen.py", "test_reports.py", "test_odm_hostile.py", "test_report_browser.py", "test_provenance.py",
    "test_gate.py", "test_fixture_results.py", "test_safety_report.py", "test_reviewers_guide.py", "test_memory.py",
    "test_simulate.py", "test_prediction.py", "test_suites.py", "test_gate_wide.py", "test_gx_worker.py",
}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def fixture_runs(tmp_path_factory) -> FixtureRuns:
    """Each fixture study's CSV export converted once per session (tests/shared_runs.py); read-only."""
    return FixtureRuns(tmp_path_factory.mktemp("fixture-runs"))

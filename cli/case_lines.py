"""pytest plugin for `./roamcert run`: pytest's progress letters and file names off the
console, so the console holds reports/plugin.py's one line per case and the closing summary.
With -v pytest's own lines come back. Loaded with `-p cli.case_lines` (cli/run.py)."""
from __future__ import annotations

import pytest


def _quiet(config) -> bool:
    return config.get_verbosity() <= 0


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None and _quiet(session.config):
        tr.showfspath = False  # no "suites/test_11k.py " before the letters


@pytest.hookimpl(wrapper=True)
def pytest_report_teststatus(report, config):
    res = yield
    if res and _quiet(config) and report.when in ("setup", "call", "teardown"):
        category, _letter, word = res
        return category, "", word  # the category still counts in the summary; no letter
    return res

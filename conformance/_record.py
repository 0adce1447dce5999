"""Records each test's outcome (and whether envguard served it) to $ENVGUARD_CONFORMANCE_OUT."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

#: Set by a mode's shim when a settings class was read through envguard during a test.
STATE = {"routed": False}
_results: dict[str, dict[str, Any]] = {}


def pytest_runtest_setup(item: pytest.Item) -> None:
    STATE["routed"] = False


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    entry = _results.setdefault(report.nodeid, {"outcome": "passed", "routed": False})
    if report.when == "call" or report.failed or report.skipped:
        if report.failed:
            entry["outcome"] = "failed"
        elif report.skipped and entry["outcome"] != "failed":
            entry["outcome"] = "skipped"
    entry["routed"] = entry["routed"] or STATE["routed"]


def pytest_sessionfinish(session: pytest.Session) -> None:
    out = os.environ.get("ENVGUARD_CONFORMANCE_OUT")
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(_results, handle, sort_keys=True, indent=1)

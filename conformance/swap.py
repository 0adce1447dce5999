"""Mode (a): every ``BaseSettings`` of the suite is ``envguard.Settings``.

Loaded with ``-p conformance.swap`` before the suite's modules are imported, so their
``from pydantic_settings import BaseSettings`` gets envguard's base class.
"""

from __future__ import annotations

import pydantic_settings

import envguard
from conformance._record import (  # noqa: F401 - the hooks are this plugin's
    pytest_runtest_logreport,
    pytest_runtest_setup,
    pytest_sessionfinish,
)

pydantic_settings.BaseSettings = envguard.Settings  # type: ignore[misc]

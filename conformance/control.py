"""The control run: the suite against pydantic-settings itself, to tell envguard's
differences from failures the suite has on this machine anyway."""

from conformance._record import (  # noqa: F401 - the hooks are this plugin's
    pytest_runtest_logreport,
    pytest_runtest_setup,
    pytest_sessionfinish,
)

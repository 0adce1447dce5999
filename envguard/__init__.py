"""envguard: declared, validated and documented twelve-factor configuration.

``import envguard`` is light: the exceptions and :class:`Problem` load at once, while
:class:`Settings`, :func:`load`, :func:`diff` and :func:`health` (which need
pydantic-settings) load on first use (PEP 562), so code that only catches
``envguard.ConfigError`` pays for nothing else.
"""

# Private aliases keep the module's namespace to the public API.
import importlib as _importlib
import typing as _typing

from envguard.errors import (
    ConfigError,
    ProjectError,
    SourceDenied,
    SourceError,
    SourceNotFound,
    SourceUnavailable,
)
from envguard.report import Problem

if _typing.TYPE_CHECKING:
    from envguard._api import diff, load
    from envguard._health import health
    from envguard.settings import Settings

__version__ = "0.1.0.dev0"

__all__ = [
    "ConfigError",
    "Problem",
    "ProjectError",
    "Settings",
    "SourceDenied",
    "SourceError",
    "SourceNotFound",
    "SourceUnavailable",
    "__version__",
    "diff",
    "health",
    "load",
]

_LAZY = {
    "Settings": "envguard.settings",
    "diff": "envguard._api",
    "health": "envguard._health",
    "load": "envguard._api",
}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'envguard' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

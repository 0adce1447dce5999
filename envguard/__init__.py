"""envguard: declared, validated and documented twelve-factor configuration."""

from envguard.errors import (
    ConfigError,
    ProjectError,
    SourceDenied,
    SourceError,
    SourceNotFound,
    SourceUnavailable,
)
from envguard.health import health
from envguard.report import Problem
from envguard.settings import Settings, load

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
    "health",
    "load",
]

"""Options shared by every command, declared once."""

from __future__ import annotations

import enum
import math
from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "MIN_TIMEOUT",
    "EnvArg",
    "Format",
    "FormatOpt",
    "ProjectOpt",
    "SchemaOpt",
    "StrictOpt",
    "TimeoutOpt",
    "finite",
]


class Format(str, enum.Enum):
    """Output formats of ``check``, ``show`` and ``diff``."""

    text = "text"
    json = "json"
    github = "github"


ProjectOpt = Annotated[
    Path | None,
    typer.Option(
        "--project",
        "-p",
        help="The project file (envguard.toml or pyproject.toml). Default: found by "
        "walking up from the current directory.",
        show_default=False,
    ),
]


#: The shortest ``--timeout`` accepted, in seconds.
MIN_TIMEOUT = 0.001


def finite(value: float | None) -> float | None:
    """``--timeout``'s check, here rather than a range so that ``nan`` (which compares
    false with any bound) is named too: ``inf`` and ``nan`` make no deadline."""
    if value is not None and not (math.isfinite(value) and value >= MIN_TIMEOUT):
        raise typer.BadParameter(
            f"must be a finite number of seconds, at least {MIN_TIMEOUT} (got {value:g})."
        )
    return value


TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        help="Overall deadline in seconds for reading remote sources, at least "
        f"{MIN_TIMEOUT} (default: the project's deadline, else 30).",
        callback=finite,
        show_default=False,
    ),
]
SchemaOpt = Annotated[
    str | None,
    typer.Option(
        "--schema",
        "-s",
        metavar="REF",
        help="The schema: a .toml path (relative to the current directory) or "
        "'package.module:Class'. Default: the one the project file names. Without a "
        "project file the environment is 'default': .env if present, then the process "
        "environment.",
        show_default=False,
    ),
]
EnvArg = Annotated[
    str | None,
    typer.Argument(
        metavar="ENV",
        help="The environment (default: $ENVGUARD_ENV, else the project's default_env).",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Treat every warning as an error (same code).")
]

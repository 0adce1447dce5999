"""Options shared by every command, declared once."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["EnvArg", "Format", "FormatOpt", "ProjectOpt", "StrictOpt", "TimeoutOpt"]


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
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        help="Overall deadline in seconds for reading remote sources (default: the "
        "project's deadline, else 30).",
        min=0.001,
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
    bool, typer.Option("--strict", help="Treat warnings (undeclared keys) as errors.")
]

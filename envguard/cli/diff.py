"""``envguard diff ENV_A ENV_B``: what differs between two environments, secrets unshown."""

from __future__ import annotations

import enum
import sys
from typing import Annotated

import typer

from envguard._api import evaluate_both
from envguard.cli._diff_text import colour_enabled, render_text
from envguard.cli._options import Format, ProjectOpt, SchemaOpt, TimeoutOpt
from envguard.cli._render import emit, emit_error
from envguard.diffing import Drift, compare
from envguard.engine import exit_code_for
from envguard.errors import ProjectError
from envguard.report import Problem, render_json

__all__ = ["DiffFormat", "diff"]


class DiffFormat(str, enum.Enum):
    """Output formats of ``diff``."""

    text = "text"
    json = "json"


EnvAArg = Annotated[str, typer.Argument(metavar="ENV_A", help="The first environment.")]
EnvBArg = Annotated[str, typer.Argument(metavar="ENV_B", help="The second environment.")]
DiffFormatOpt = Annotated[
    DiffFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]
ExitCodeOpt = Annotated[
    bool,
    typer.Option(
        "--exit-code",
        help="Exit 1 on drift that matters: the key sets differ, or a side is invalid.",
    ),
]


def diff(
    env_a: EnvAArg,
    env_b: EnvBArg,
    project: ProjectOpt = None,
    schema: SchemaOpt = None,
    timeout: TimeoutOpt = None,
    fmt: DiffFormatOpt = DiffFormat.text,
    exit_code: ExitCodeOpt = False,
) -> int:
    """Compare ENV_A with ENV_B: what breaks a deploy, keys only in one, changes.

    Secret values are compared in memory and never shown, not even as a hash.

    Exit codes: 0; 1 with --exit-code when key sets differ or a side is invalid;
    2 usage or project-file error; 3 a source refused or lacks what was asked, 4 a
    source is unavailable (no diff shown either way).
    """
    as_format = Format.json if fmt is DiffFormat.json else Format.text
    try:
        a, b = evaluate_both(env_a, env_b, schema=schema, project=project, timeout=timeout)
    except ProjectError as error:
        return emit_error(error, as_format)
    drift = compare(a, b)
    failed = exit_code_for([p for o in (a, b) for p in o.problems if _is_failure(p)])
    if failed:
        return _incomplete(drift, failed, fmt)
    code = 1 if exit_code and drift.matters else 0
    if fmt is DiffFormat.json:
        emit(render_json({**drift.to_dict(), "exit_code": code}))
    else:
        # Keys and values are escaped by render_text, which adds colour on a terminal.
        emit(render_text(drift, colour=colour_enabled(sys.stdout)), escaped=True)
    return code


def _incomplete(drift: Drift, code: int, fmt: DiffFormat) -> int:
    """A side could not be read: report why, never a partial diff."""
    if fmt is DiffFormat.json:
        payload = {"a": drift.a.to_dict(), "b": drift.b.to_dict(), "complete": False}
        emit(render_json({**payload, "exit_code": code}))
        return code
    unread = []
    for side in (drift.a, drift.b):
        failures = [p for p in side.problems if _is_failure(p)]
        if failures:
            unread.append(repr(side.env))
        for p in failures:
            emit(f"envguard: error: {side.env}: {p}", err=True)
    emit(f"envguard: no diff shown: {' and '.join(unread)} could not be read in full", err=True)
    return code


def _is_failure(problem: Problem) -> bool:
    """A source that could not be read, or a project error found while building one."""
    return problem.unread or (problem.severity == "error" and problem.category == "project")

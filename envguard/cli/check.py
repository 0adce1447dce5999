"""``envguard check [ENV]``: resolve and validate an environment."""

from __future__ import annotations

from envguard.cli._options import (
    EnvArg,
    Format,
    FormatOpt,
    ProjectOpt,
    SchemaOpt,
    StrictOpt,
    TimeoutOpt,
)
from envguard.cli._render import emit, emit_error, render_outcome
from envguard.engine import evaluate
from envguard.errors import ProjectError

__all__ = ["check"]


def check(
    env: EnvArg = None,
    project: ProjectOpt = None,
    schema: SchemaOpt = None,
    timeout: TimeoutOpt = None,
    fmt: FormatOpt = Format.text,
    strict: StrictOpt = False,
) -> int:
    """Validate ENV: print every problem, or one OK line with counts.

    Exit codes: 0 valid; 1 a value is wrong; 2 usage, project or schema error; 3 a
    source refused or lacks what was asked; 4 a source is unavailable (retrying may help).
    """
    try:
        outcome = evaluate(schema, env=env, project=project, strict=strict, timeout=timeout)
    except ProjectError as error:
        failure = error
    else:
        emit(render_outcome(outcome, fmt))
        return outcome.exit_code
    return emit_error(failure, fmt)

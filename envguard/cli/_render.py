"""Rendering outcomes and errors as text, JSON or GitHub annotations.

JSON and GitHub output are byte-stable for the same input (sorted keys, no timings).
"""

from __future__ import annotations

import sys
from typing import Any

from envguard.cli._options import Format
from envguard.engine import Outcome, exit_code_for, relevant_keys, source_statuses
from envguard.errors import ConfigError
from envguard.report import (
    EXIT_UNAVAILABLE,
    Problem,
    escape_unprintable,
    render_github,
    render_json,
    render_text,
)

__all__ = ["counts", "emit", "emit_error", "outcome_payload", "render_outcome", "summary"]


def emit(text: str, *, err: bool = False, escaped: bool = False) -> None:
    """Write ``text`` (with a trailing newline) to stdout, or stderr for diagnostics.

    Every character that is not printable, but for line breaks and tabs, is written
    escaped (``\\x1b``): a key or value from a source can neither clear the terminal, nor
    forge an ``error:`` line, nor (a lone surrogate) fail the write. ``escaped``: the
    caller escaped what came from sources itself and adds its own colour codes (``diff``).
    """
    stream = sys.stderr if err else sys.stdout
    text = text if text.endswith("\n") else text + "\n"
    stream.write(text if escaped else escape_unprintable(text))


def counts(problems: list[Problem]) -> tuple[int, int]:
    errors = sum(1 for p in problems if p.severity == "error")
    return errors, len(problems) - errors


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def emit_error(error: ConfigError, fmt: Format) -> int:
    """Render a ``ConfigError`` raised before anything was resolved; return its exit code.

    The one way every command, and the CLI's root, reports such an error: in text, one
    ``envguard: error: FILE:LINE: KEY: message`` line per problem on stderr.
    """
    code = error.exit_code
    if fmt is Format.json:
        emit(
            render_json(
                {
                    "env": error.env,
                    "exit_code": code,
                    "retryable": code == EXIT_UNAVAILABLE,
                    "problems": [p.to_dict() for p in error.problems],
                    "valid": False,
                }
            )
        )
    elif fmt is Format.github:
        emit(render_github(error.problems, env=error.env), err=False)
    else:
        for problem in error.problems:
            emit(f"envguard: error: {_located(problem)}", err=True)
    return code


def _located(problem: Problem) -> str:
    """The message, led by its file, line and key when the message does not name the file.

    Project-file messages already start with the file; schema-file problems (an unknown
    type in ``schemas/web.toml``) keep it in ``file``/``line`` and the variable in ``key``.
    """
    if not problem.file or problem.file in problem.message:
        return problem.message
    where = problem.file
    if problem.line:
        where += f":{problem.line}"
        if problem.column:
            where += f":{problem.column}"
    key = f"{problem.key}: " if problem.key else ""
    return f"{where}: {key}{problem.message}"


def outcome_payload(outcome: Outcome) -> dict[str, Any]:
    """``check --format json``: the same on every machine for the same project and files.

    Keys: ``env``, ``exit_code``, ``retryable`` (exit code 4: a source is unavailable, so
    retrying may help), ``valid``, ``schema``, ``problems``; ``counts`` with
    ``errors``, ``warnings``, ``variables`` (declared by the schema), ``sources`` and
    ``resolved_keys`` (resolved keys that the schema declares, that carry its
    ``env_prefix`` or that a file or secret store set: never the machine's unrelated
    variables such as PATH; see :func:`envguard.engine.relevant_keys`); and ``sources``,
    each with ``source``, ``kind``, ``ok``, ``code`` and ``keys``, where the process
    environment counts only the keys the schema declares or that carry its ``env_prefix``
    (see :func:`envguard.engine.source_statuses`).
    """
    errors, warnings = counts(outcome.problems)
    return {
        "env": outcome.env,
        "exit_code": outcome.exit_code,
        "retryable": outcome.exit_code == EXIT_UNAVAILABLE,
        "valid": errors == 0,
        "schema": outcome.model.__name__,
        "counts": {
            "errors": errors,
            "warnings": warnings,
            "variables": len(outcome.model.model_fields),
            "resolved_keys": len(relevant_keys(outcome)),
            "sources": len(outcome.resolution.statuses),
        },
        "problems": [p.to_dict() for p in outcome.problems],
        "sources": source_statuses(outcome),
    }


def summary(outcome: Outcome) -> str:
    """One line: OK with counts, or the number of problems."""
    errors, warnings = counts(outcome.problems)
    n_vars = len(outcome.model.model_fields)
    n_sources = len(outcome.resolution.statuses)
    tail = f", {_plural(warnings, 'warning')}" if warnings else ""
    if errors == 0:
        return (
            f"OK: environment {outcome.env!r} is valid "
            f"({_plural(n_vars, 'variable')} from {_plural(n_sources, 'source')}{tail})"
        )
    return f"FAILED: environment {outcome.env!r}: {_plural(errors, 'problem')}{tail}"


def render_outcome(outcome: Outcome, fmt: Format) -> str:
    if fmt is Format.json:
        return render_json(outcome_payload(outcome))
    if fmt is Format.github:
        return render_github(outcome.problems, env=outcome.env) + summary(outcome) + "\n"
    if exit_code_for(outcome.problems) == 0 and not outcome.problems:
        return summary(outcome) + "\n"
    if exit_code_for(outcome.problems) == 0:
        lines = [summary(outcome)] + [f"  warning: {p}" for p in outcome.problems]
        return "\n".join(lines) + "\n"
    return render_text(outcome.problems, env=outcome.env) + "\n"

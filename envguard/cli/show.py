"""``envguard show [ENV]``: every key with its masked value, its origin and whether it is valid."""

from __future__ import annotations

from typing import Any

from envguard.cli._inspect import (
    NOT_SET,
    Inspection,
    Line,
    OutputFormat,
    OutputFormatOpt,
    printable,
)
from envguard.cli._inspect import scalar as _scalar
from envguard.cli._options import EnvArg, ProjectOpt, SchemaOpt, TimeoutOpt
from envguard.cli._render import counts, emit, emit_error
from envguard.engine import Outcome, evaluate, source_statuses
from envguard.errors import ProjectError
from envguard.report import render_json, render_text

__all__ = ["show"]

_COLUMNS = ("KEY", "STATUS", "ORIGIN", "VALUE")


def _entry(view: Inspection, line: Line) -> dict[str, Any]:
    row = line.row
    spec = row.spec if row is not None else None
    return {
        "key": line.name,
        "variable": spec.name if spec else None,
        "status": view.status(line),
        "declared": spec is not None,
        "secret": view.is_secret(line),
        "value": view.value(line),
        "origin": view.origin(line),
        "type": spec.type if spec else None,
        "required": spec.required if spec else None,
        "default": view.default(line) if spec else None,
        "problems": [p.code for p in view.problems(line)],
    }


def _cell(entry: dict[str, Any]) -> str:
    if entry["value"] is not None:
        return printable(entry["value"])
    if entry["required"]:
        return f"{NOT_SET[:-1]}, required)"
    return f"{NOT_SET[:-1]}, default: {printable(_scalar(entry['default']))})"


def render_table(entries: list[dict[str, Any]]) -> str:
    """The entries as aligned columns; the value comes last so a long one breaks nothing."""
    rows = [list(_COLUMNS)] + [
        [printable(e["key"]), e["status"], printable(e["origin"] or "-"), _cell(e)] for e in entries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS) - 1)]
    lines = ["  ".join([*map(str.ljust, r[:-1], widths), r[-1]]) for r in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _payload(outcome: Outcome, entries: list[dict[str, Any]], code: int) -> dict[str, Any]:
    """``show --format json``: the same on every machine for the same project and files.

    Keys: ``env``, ``schema``, ``exit_code``, ``valid``, ``keys`` (the entries of the
    table: ``key`` is the variable as set, ``variable`` the schema's name for it),
    ``problems``, and ``sources`` with each source's ``source``, ``kind``, ``ok``, ``code``
    and ``keys``; for the process environment ``keys`` counts only the keys that concern
    the schema.
    """
    errors, _ = counts(outcome.problems)
    return {
        "env": outcome.env,
        "schema": outcome.model.__name__,
        "exit_code": code,
        "valid": errors == 0,
        "keys": entries,
        "problems": [p.to_dict() for p in outcome.problems],
        "sources": source_statuses(outcome),
    }


def show(
    env: EnvArg = None,
    project: ProjectOpt = None,
    schema: SchemaOpt = None,
    timeout: TimeoutOpt = None,
    fmt: OutputFormatOpt = OutputFormat.text,
) -> int:
    """Show each key of ENV: its status, origin and value, secrets masked.

    Lists every variable the schema declares (unset ones as "(not set)",
    with their default or "required"; a field set through an alias or
    nested keys under the names that set it), then the undeclared keys
    that files and secret stores set. Not the whole process environment:
    from it, only undeclared keys carrying the schema's env_prefix are
    listed. STATUS is valid, invalid, missing, default or undeclared. An
    invalid configuration is still shown (its problems go to stderr), and
    exits 0.

    Exit codes: 0 shown; 2 usage or project-file error; 3 a source refused or
    lacks what was asked, 4 a source is unavailable (what the other sources resolved is
    still shown).
    """
    try:
        outcome = evaluate(schema, env=env, project=project, timeout=timeout)
    except ProjectError as error:
        return emit_error(error, fmt.as_format)
    view = Inspection(outcome)
    entries = [_entry(view, line) for line in view.lines()]
    code = outcome.exit_code if outcome.exit_code in (2, 3) else 0
    if fmt is OutputFormat.json:
        emit(render_json(_payload(outcome, entries, code)))
        return code
    emit(render_table(entries))
    if counts(outcome.problems)[0]:
        problems = [view.redactor.scrub_problem(p) for p in outcome.problems]
        emit(render_text(problems, env=outcome.env), err=True)
    return code

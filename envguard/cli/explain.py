"""``envguard explain VAR [ENV]``: a value's origin, what it overrode, and its schema entry."""

from __future__ import annotations

import difflib
from typing import Annotated, Any

import typer

from envguard._secrecy import looks_secret, url_has_credentials
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
from envguard.cli._render import emit, emit_error
from envguard.docs._common import example_text
from envguard.engine import evaluate
from envguard.errors import ConfigError, ProjectError, SourceError, SourceUnavailable
from envguard.report import MASK, Problem, exit_code_for, render_json, render_text
from envguard.schema.fields import VarSpec

__all__ = ["explain"]

VarArg = Annotated[
    str,
    typer.Argument(
        metavar="VAR",
        help="The variable, matched case-insensitively unless the schema is case sensitive.",
        show_default=False,
    ),
]


def _unknown(view: Inspection, var: str) -> ConfigError:
    """VAR is nowhere: exit 2, or 3 when a source that might have set it could not be read."""
    # Suggestions ignore case even in a case-sensitive schema: APP_PORT for app_port.
    spelled = [s.name for s in view.view.specs] + view.outcome.undeclared()
    names = {n.upper(): n for n in spelled}
    close = difflib.get_close_matches(var.upper(), sorted(names), n=1)
    hint = f" (did you mean {names[close[0]]}?)" if close else ""
    message = (
        f"{var} is not declared in the schema of environment {view.outcome.env!r} "
        f"and no source sets it{hint}"
    )
    problem = Problem(var, None, "unknown_variable", message, category="project")
    unread = [p for p in view.outcome.problems if p.unread]
    # VAR may be in the source that could not be read: that failure decides the exit code.
    cls: type[ConfigError] = ProjectError
    if unread:
        cls = SourceUnavailable if exit_code_for(unread) == 4 else SourceError
    return cls([problem, *unread], env=view.outcome.env)


def _schema(view: Inspection, line: Line, spec: VarSpec) -> dict[str, Any]:
    example = spec.example
    if example is not None and (view.is_secret(line) or example_text(spec) is None):
        example = MASK
    return {
        "type": spec.type,
        "required": spec.required,
        "default": view.default(line),
        "constraints": view.constraints(spec),
        "description": spec.description,
        "secret": spec.secret is True,
        "aliases": list(spec.aliases),
        "example": None if example is None else _scalar(example),
        "deprecated": spec.deprecated,
        "required_in": list(spec.required_in) if spec.required_in else None,
    }


def _masked_because(view: Inspection, line: Line) -> str | None:
    """Why the value is masked when the schema does not say it is secret, else None."""
    if not view.is_secret(line) or (line.row is not None and line.row.secret):
        return None
    if looks_secret(line.name):
        return "its name looks secret"
    if any(url_has_credentials(b.value.text) for b in line.bindings):
        return "it is a URL with a password"
    return "its source marks it secret"


def _payload(view: Inspection, line: Line, code: int) -> dict[str, Any]:
    spec = line.row.spec if line.row is not None else None
    return {
        "env": view.outcome.env,
        "key": line.name,
        "set_as": [b.name for b in line.bindings],
        "exit_code": code,
        "status": view.status(line),
        "secret": view.is_secret(line),
        "masked": _masked_because(view, line),
        "value": view.value(line),
        "origin": view.origin(line),
        "overridden": [
            {"origin": str(v.origin), "value": view.shown(line, v)} for v in view.overridden(line)
        ],
        "problems": [p.to_dict() for p in view.problems(line)],
        "schema": _schema(view, line, spec) if spec else None,
    }


def _line(label: str, value: str) -> str:
    head = f"{label}:" if label else ""
    return f"  {head:<13}{value}"


def render_explanation(payload: dict[str, Any]) -> str:
    lines = [f"{payload['key']} in environment {payload['env']!r}"]
    lines.append(_line("status", payload["status"]))
    if payload["set_as"] and payload["set_as"] != [payload["key"]]:
        lines.append(_line("set as", ", ".join(map(printable, payload["set_as"]))))
    value = payload["value"]
    lines.append(_line("value", NOT_SET if value is None else printable(value)))
    if payload["masked"]:
        lines.append(_line("", f"(masked: {payload['masked']})"))
    lines.append(_line("origin", printable(payload["origin"] or "-")))
    overridden = payload["overridden"]
    width = max((len(o["origin"]) for o in overridden), default=0)
    shown = [f"{printable(o['origin']).ljust(width)}  {printable(o['value'])}" for o in overridden]
    for index, text in enumerate(shown or ["(none)"]):
        lines.append(_line("overridden" if index == 0 else "", text))
    for problem in payload["problems"]:
        where = f" ({problem['source']})" if problem["source"] else ""
        lines.append(_line("problem", f"{problem['severity']}: {problem['message']}{where}"))
    schema = payload["schema"]
    if schema is None:
        lines.append("schema: not declared")
        return "\n".join(lines) + "\n"
    lines.append("schema:")
    lines.append(_line("type", schema["type"]))
    lines.append(_line("required", "yes" if schema["required"] else "no"))
    default = schema["default"]
    if not schema["required"]:
        lines.append(_line("default", "(none)" if default is None else _scalar(default)))
    constraints = ", ".join(f"{k}={_scalar(v)}" for k, v in schema["constraints"].items())
    lines.append(_line("constraints", constraints or "(none)"))
    lines.append(_line("description", schema["description"] or "(none)"))
    lines.append(_line("secret", "yes" if schema["secret"] else "no"))
    if schema["aliases"]:
        lines.append(_line("aliases", ", ".join(schema["aliases"])))
    for key in ("example", "deprecated"):
        if schema[key] is not None:
            lines.append(_line(key, printable(schema[key])))
    if schema["required_in"]:
        lines.append(_line("required in", ", ".join(schema["required_in"])))
    return "\n".join(lines) + "\n"


def explain(
    var: VarArg,
    env: EnvArg = None,
    project: ProjectOpt = None,
    schema: SchemaOpt = None,
    timeout: TimeoutOpt = None,
    fmt: OutputFormatOpt = OutputFormat.text,
) -> int:
    """Explain VAR in ENV: where its value came from, what it overrode, its schema entry.

    Shows the winning value and its origin, every source that also offered
    a value and was overridden (in precedence order, lowest first), and the
    schema entry: type, required, default, constraints, description, secret.
    Secret values are masked.

    Exit codes: 0 explained; 2 usage or project-file error, or VAR neither in the
    schema nor set by a source; 3 a source refused or lacks what was asked; 4 a source
    is unavailable.
    """
    try:
        outcome = evaluate(schema, env=env, project=project, timeout=timeout)
    except ProjectError as error:
        return emit_error(error, fmt.as_format)
    view = Inspection(outcome)
    code = outcome.exit_code if outcome.exit_code in (2, 3) else 0
    line = view.line(var)
    if line is None:
        return emit_error(_unknown(view, var), fmt.as_format)
    payload = _payload(view, line, code)
    emit(render_json(payload) if fmt is OutputFormat.json else render_explanation(payload))
    if code and fmt is OutputFormat.text:
        source_problems = [p for p in outcome.problems if p.category != "validation"]
        scrubbed = [view.redactor.scrub_problem(p) for p in source_problems]
        emit(render_text(scrubbed, env=outcome.env), err=True)
    return code

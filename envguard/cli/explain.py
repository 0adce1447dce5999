"""``envguard explain VAR [ENV]``: a value's origin, what it overrode, and its schema entry."""

from __future__ import annotations

import difflib
from typing import Annotated, Any

import typer

from envguard.cli._inspect import NOT_SET, Inspection, OutputFormat, OutputFormatOpt, printable
from envguard.cli._inspect import scalar as _scalar
from envguard.cli._options import EnvArg, ProjectOpt, SchemaOpt, TimeoutOpt
from envguard.cli._render import emit, emit_error
from envguard.engine import evaluate
from envguard.errors import ConfigError, ProjectError, SourceError
from envguard.report import MASK, Problem, render_json, render_text
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
    names = {n.upper(): n for n in [s.name for s in view.specs] + view.names()}
    close = difflib.get_close_matches(var.upper(), sorted(names), n=1)
    hint = f" (did you mean {names[close[0]]}?)" if close else ""
    message = (
        f"{var} is not declared in the schema of environment {view.outcome.env!r} "
        f"and no source sets it{hint}"
    )
    problem = Problem(var, None, "unknown_variable", message, category="project")
    unread = [p for p in view.outcome.problems if p.category == "source"]
    cls = SourceError if unread else ProjectError
    return cls([problem, *unread], env=view.outcome.env)


def _schema(view: Inspection, spec: VarSpec) -> dict[str, Any]:
    example = spec.example
    if example is not None and view.is_secret(spec.name):
        example = MASK
    return {
        "type": spec.type,
        "required": spec.required,
        "default": view.default(spec),
        "constraints": view.constraints(spec),
        "description": spec.description,
        "secret": view.is_secret(spec.name),
        "example": None if example is None else _scalar(example),
        "deprecated": spec.deprecated,
        "required_in": list(spec.required_in) if spec.required_in else None,
    }


def _payload(view: Inspection, var: str, code: int) -> dict[str, Any]:
    spec = view.spec(var)
    found = view.value(var)
    name = spec.name if spec else found[0] if found else var
    winner = found[1] if found else None
    return {
        "env": view.outcome.env,
        "key": name,
        "exit_code": code,
        "status": view.status(name),
        "secret": view.is_secret(name),
        "value": view.shown(name, winner) if winner else None,
        "origin": str(winner.origin) if winner else None,
        "overridden": [
            {"origin": str(v.origin), "value": view.shown(name, v)}
            for v in view.offered(name)
            if v is not winner
        ],
        "problems": [p.to_dict() for p in view.problems(name)],
        "schema": _schema(view, spec) if spec else None,
    }


def _line(label: str, value: str) -> str:
    head = f"{label}:" if label else ""
    return f"  {head:<13}{value}"


def render_explanation(payload: dict[str, Any]) -> str:
    lines = [f"{payload['key']} in environment {payload['env']!r}"]
    lines.append(_line("status", payload["status"]))
    value = payload["value"]
    lines.append(_line("value", NOT_SET if value is None else printable(value)))
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

    Exit codes: 0 explained, 2 usage or project-file error, or VAR neither
    in the schema nor set by a source, 3 a source could not be read.
    """
    try:
        outcome = evaluate(schema, env=env, project=project, timeout=timeout)
    except ProjectError as error:
        return emit_error(error, fmt.as_format)
    view = Inspection(outcome)
    code = outcome.exit_code if outcome.exit_code in (2, 3) else 0
    if view.spec(var) is None and view.value(var) is None:
        return emit_error(_unknown(view, var), fmt.as_format)
    payload = _payload(view, var, code)
    emit(render_json(payload) if fmt is OutputFormat.json else render_explanation(payload))
    if code and fmt is OutputFormat.text:
        source_problems = [p for p in outcome.problems if p.category != "validation"]
        scrubbed = [view.redactor.scrub_problem(p) for p in source_problems]
        emit(render_text(scrubbed, env=outcome.env), err=True)
    return code

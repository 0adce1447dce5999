"""The core every entry point shares: project → sources → resolution → validation.

:func:`envguard.load`, :func:`envguard.diff`, :func:`envguard.health` and every CLI command
call :func:`evaluate` (or :func:`prepare` and :func:`evaluate_prepared`) and then only render
its :class:`Outcome`, whose methods answer what commands ask of it (which variables set a
field, its status, the undeclared keys worth showing); nothing here prints or exits.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

from pydantic_settings import BaseSettings

from envguard._implicit import implicit_sources
from envguard._secrecy import is_secret, portable_name
from envguard.errors import ConfigError, ProjectError, SourceError, SourceUnavailable
from envguard.project import Project, load_project
from envguard.report import Problem, Redactor, exit_code_for
from envguard.resolve import Resolution, resolve
from envguard.schema.loader import SchemaRef, load_schema
from envguard.schema.view import Binding, Read, Row, SchemaView, view_of
from envguard.sources._retry import Deadline
from envguard.sources.base import Value
from envguard.validate import source_problem, validate

__all__ = [
    "Outcome",
    "Prepared",
    "evaluate",
    "evaluate_prepared",
    "exit_code_for",
    "load_model",
    "prepare",
    "relevant_keys",
    "source_statuses",
]


@dataclass(slots=True)
class Outcome:
    """Everything one evaluation of an environment produced.

    Attributes:
        env: the environment's name.
        project: the project used (possibly the implicit one).
        model: the settings class validated against.
        resolution: every resolved value with its origin; secret values are marked
            ``sensitive`` (the one secrecy decision, made by validation).
        settings: the validated settings object, or None when invalid.
        problems: every problem, redacted: source problems first, then validation.
        redactor: knows the secret values of this environment, to scrub any text.
        read: the variables behind each validated value.
    """

    env: str
    project: Project
    model: type[BaseSettings]
    resolution: Resolution
    settings: BaseSettings | None
    problems: list[Problem]
    redactor: Redactor = field(default_factory=Redactor)
    read: Read = field(default_factory=Read)

    @property
    def exit_code(self) -> int:
        return exit_code_for(self.problems)

    @property
    def view(self) -> SchemaView:
        return view_of(self.model)

    def error(self) -> ConfigError:
        """The exception matching :attr:`exit_code` (only meaningful when it is non-zero)."""
        cls = {2: ProjectError, 3: SourceError, 4: SourceUnavailable}.get(
            self.exit_code, ConfigError
        )
        return cls(self.problems, env=self.env)

    def bindings(self, row: Row) -> list[Binding]:
        """The variables whose values the field was validated with (none: not set)."""
        found = self.read.bindings
        for key in (*row.keys, row.none_key, row.field):
            if key in found:
                return found[key]
        return []

    def offered(self, row: Row | None, name: str) -> list[Value]:
        """Every value a source offered for the field (by any spelling or nested key), or
        for the undeclared key ``name``, in precedence order (lowest first)."""
        view = self.view
        norm = view.norm(name)
        out = []
        for layer in self.resolution.layers:
            for key, value in layer.values.items():
                if (row is not None and view.field_of(key) is row) or (
                    row is None and view.norm(key) == norm
                ):
                    out.append(value)
        return out

    def row_problems(self) -> dict[str, list[Problem]]:
        """The problems naming a variable, by the field it sets (its name), or by the
        normalized key for undeclared keys."""
        view = self.view
        out: dict[str, list[Problem]] = {}
        for problem in self.problems:
            if problem.key is None:
                continue
            row = view.field_of(problem.key) or view.row_of_key(problem.key)
            out.setdefault(row.field if row else view.norm(problem.key), []).append(problem)
        return out

    def status(self, row: Row | None, name: str, problems: dict[str, list[Problem]]) -> str:
        """``valid``, ``invalid``, ``missing`` (required, not set), ``default`` or
        ``undeclared`` for a field (or, with ``row`` None, the undeclared key ``name``)."""
        mine = problems.get(row.field if row else self.view.norm(name), [])
        errors = any(p.severity == "error" for p in mine)
        if row is None:
            return "invalid" if errors else "undeclared"
        if not self.bindings(row):
            return "missing" if errors else "default"
        return "invalid" if errors else "valid"

    def secret(self, row: Row | None, name: str) -> bool:
        """Whether the field (or undeclared key) is secret, by the one secrecy decision:
        a value is marked when read; a field with no value by its declaration and name."""
        if row is not None and row.secret is not None:
            return row.secret
        values = [b.value for b in self.bindings(row)] if row else self.offered(None, name)
        if any(v.sensitive for v in values):
            return True
        return is_secret(None, row.spec.name if row else name, None, False)

    def undeclared(self) -> list[str]:
        """The resolved keys no field reads that are worth showing, in resolution order:
        every key of a file or secret store, and from the process environment only keys
        carrying the schema's ``env_prefix`` (PATH is not shown)."""
        view = self.view
        # A key that is not a portable name is reported by its line only (it may be a
        # fragment of a pasted secret): it is not listed by name.
        keys = relevant_keys(self)
        return [k for k in keys if view.field_of(k) is None and portable_name(k)]


class Prepared(NamedTuple):
    """A project, an environment name and a schema, ready to resolve."""

    project: Project
    env: str
    model: type[BaseSettings]


def _no_schema(proj: Project, name: str | None) -> ProjectError:
    where = proj.path or "the current directory (no project file)"
    message = (
        f"no schema given and none named in {where}: pass one (--schema on the command "
        "line), or set schema = 'schemas/app.toml' or 'package.module:Class' in the "
        "project file"
    )
    file = str(proj.path) if proj.path else None
    problem = Problem(None, file, "schema_missing", message, category="project")
    return ProjectError([problem], env=name)


def prepare(
    schema: SchemaRef | None = None,
    *,
    env: str | None = None,
    project: str | os.PathLike[str] | Project | None = None,
    environ: Mapping[str, str] | None = None,
) -> Prepared:
    """Find and parse the project, pick the environment and load the schema (no source I/O).

    Raises:
        ProjectError: for any project-file, environment or schema problem. Its ``env`` is
            the environment asked for (``env``, else ``ENVGUARD_ENV``, else the project's
            ``default_env``), so a report on an unknown environment still names it.
    """
    environ = os.environ if environ is None else environ
    # The name asked for, which an error names even when it is unknown.
    name = env or environ.get("ENVGUARD_ENV") or None
    try:
        proj = project if isinstance(project, Project) else load_project(project)
        name = name or proj.default_env
        name = proj.pick_env(env, environ)  # the same name, or the only environment
        ref: SchemaRef | None = schema if schema is not None else proj.schema
        if ref is None:
            raise _no_schema(proj, name)
        base = proj.base_dir if schema is None else Path.cwd()
        return Prepared(proj, name, load_schema(ref, env=name, base_dir=base))
    except ProjectError as error:
        if error.env is not None or name is None:
            raise
        failure = error
    raise type(failure)(failure.problems, env=name)


def load_model(
    schema: SchemaRef | None = None,
    *,
    env: str | None = None,
    project: str | os.PathLike[str] | None = None,
) -> type[BaseSettings]:
    """The schema alone (for ``docs``): from ``schema``, else the project file's; no source
    is built or read. An ``env`` is checked against the project and decides ``required_in``.

    Raises:
        ProjectError: the project file, the environment or the schema is wrong.
    """
    if schema is not None and project is None and env is None:
        return load_schema(schema, env=None, base_dir=Path.cwd())
    proj = load_project(project)
    if env is not None and proj.path is not None:
        proj.pick_env(env, {})  # an unknown environment is an error, with a suggestion
    ref = schema if schema is not None else proj.schema
    if ref is None:
        raise _no_schema(proj, env)
    return load_schema(ref, env=env, base_dir=proj.base_dir if schema is None else Path.cwd())


def evaluate(
    schema: SchemaRef | None = None,
    *,
    env: str | None = None,
    project: str | os.PathLike[str] | Project | None = None,
    strict: bool = False,
    timeout: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> Outcome:
    """Resolve and validate one environment; never raises for invalid configuration.

    Raises:
        ProjectError: the project file, environment name or schema is wrong (nothing was
            resolved, so there is no outcome to return).
    """
    prepared = prepare(schema, env=env, project=project, environ=environ)
    return evaluate_prepared(prepared, strict=strict, timeout=timeout, environ=environ)


def evaluate_prepared(
    prepared: Prepared,
    *,
    strict: bool = False,
    timeout: float | None = None,
    environ: Mapping[str, str] | None = None,
    shared: dict[str, Any] | None = None,
) -> Outcome:
    """Resolve and validate an already prepared environment.

    Raises:
        ProjectError: ``timeout`` is not a finite number (``inf`` or ``nan``): no deadline
            could be computed from it, so nothing is read.
    """
    proj, name, model = prepared.project, prepared.env, prepared.model
    if timeout is not None and not math.isfinite(timeout):
        problem = Problem(
            None,
            None,
            "timeout_invalid",
            f"the timeout must be a finite number of seconds, got {timeout!r}",
            category="project",
        )
        raise ProjectError([problem], env=name)
    if proj.implicit:
        sources = implicit_sources(model, os.environ if environ is None else environ)
    else:
        sources = proj.build_sources(name, environ=environ, shared=shared)
    deadline = Deadline(timeout if timeout is not None else proj.deadline)
    resolution = resolve(sources, env=name, deadline=deadline)
    checked = validate(model, resolution, env=name)
    scrub = checked.redactor.scrub_problem
    view = view_of(model)
    problems = [scrub(source_problem(view, p)) for p in resolution.problems] + checked.problems
    if strict:  # every warning, from every source, is an error, with the same code
        problems = [replace(p, severity="error") for p in problems]
    # Settings built from an incomplete resolution (a source failed) are not valid settings.
    settings = None if any(p.severity == "error" for p in problems) else checked.settings
    return Outcome(
        name, proj, model, resolution, settings, problems, checked.redactor, checked.read
    )


def relevant_keys(outcome: Outcome) -> list[str]:
    """The resolved keys that concern the schema, in resolution order: the same set on
    every machine for the same project and files.

    A key is relevant when it sets a field, carries the schema's ``env_prefix``, or a
    source other than the process environment (a file, a secret store) offered it; the
    machine's unrelated variables (PATH, HOME) are not, even when one overrides a file.
    """
    view = outcome.view
    from_files = {
        view.norm(key)
        for layer in outcome.resolution.layers
        if layer.matching == "dotenv"
        for key in layer.values
    }
    return [
        key
        for key in outcome.resolution.values
        if view.concerns(key) or view.norm(key) in from_files
    ]


def source_statuses(outcome: Outcome, *, timings: bool = False) -> list[dict[str, Any]]:
    """Each source's status as JSON-ready dicts, in precedence order: the one builder of
    the ``sources`` list of ``check``/``show --format json`` and of :func:`envguard.health`.

    Every dict has ``source`` (its description), ``kind``, ``ok`` and ``code`` (why it
    could not be read, else None). Then either:

    - ``keys`` (the default, for reports that must be byte-stable): how many keys the
      source offered. For the process environment only the keys that concern the schema
      count (see :meth:`~envguard.schema.view.SchemaView.concerns`), so the number does
      not depend on the machine's unrelated variables;
    - ``latency_ms`` with ``timings`` (for health checks): how long reading it took.
    """
    view = outcome.view
    layers = {layer.source: layer for layer in outcome.resolution.layers}
    out = []
    for status in outcome.resolution.statuses:
        entry: dict[str, Any] = {
            "source": status.source,
            "kind": status.kind,
            "ok": status.ok,
            "code": status.code,
        }
        if timings:
            entry["latency_ms"] = round(status.seconds * 1000, 1)
        elif status.matching == "env" and status.source in layers:
            entry["keys"] = sum(1 for k in layers[status.source].values if view.concerns(k))
        else:
            entry["keys"] = status.keys
        out.append(entry)
    return out

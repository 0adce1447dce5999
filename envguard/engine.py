"""The core every entry point shares: project → sources → resolution → validation.

``load()`` and every CLI command call :func:`evaluate` and then only render its
:class:`Outcome`; nothing here prints or exits.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from pydantic_settings import BaseSettings

from envguard.errors import ConfigError, ProjectError, SourceError
from envguard.project import Project, load_project
from envguard.report import Problem, Redactor
from envguard.resolve import Resolution, resolve
from envguard.schema.fields import variables
from envguard.schema.loader import SchemaRef, load_schema
from envguard.sources._retry import Deadline
from envguard.validate import validate

__all__ = [
    "Outcome",
    "Prepared",
    "evaluate",
    "evaluate_prepared",
    "exit_code_for",
    "prepare",
    "relevant_keys",
    "source_statuses",
]


def exit_code_for(problems: list[Problem]) -> int:
    """0 when no errors; else 2 (project), 3 (a source unread), or 1 (invalid)."""
    categories = {p.category for p in problems if p.severity == "error"}
    if not categories:
        return 0
    if "project" in categories:
        return 2
    if "source" in categories:
        return 3
    return 1


@dataclass(slots=True)
class Outcome:
    """Everything one evaluation of an environment produced.

    Attributes:
        env: the environment's name.
        project: the project used (possibly the implicit one).
        model: the settings class validated against.
        resolution: every resolved value with its origin.
        settings: the validated settings object, or None when invalid.
        problems: every problem, redacted: source problems first, then validation.
        redactor: knows the secret values of this environment, to scrub any text.
    """

    env: str
    project: Project
    model: type[BaseSettings]
    resolution: Resolution
    settings: BaseSettings | None
    problems: list[Problem]
    redactor: Redactor = field(default_factory=Redactor)

    @property
    def exit_code(self) -> int:
        return exit_code_for(self.problems)

    def error(self) -> ConfigError:
        """The exception matching :attr:`exit_code` (only meaningful when it is non-zero)."""
        cls = {2: ProjectError, 3: SourceError}.get(self.exit_code, ConfigError)
        return cls(self.problems, env=self.env)


class Prepared(NamedTuple):
    """A project, an environment name and a schema, ready to resolve."""

    project: Project
    env: str
    model: type[BaseSettings]


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
        return Prepared(proj, name, _schema(schema, proj, name))
    except ProjectError as error:
        if error.env is not None or name is None:
            raise
        failure = error
    raise type(failure)(failure.problems, env=name)


def _schema(schema: SchemaRef | None, proj: Project, name: str) -> type[BaseSettings]:
    ref: SchemaRef | None = schema if schema is not None else proj.schema
    if ref is None:
        where = proj.path or "the current directory (no project file)"
        raise ProjectError(
            [
                Problem(
                    None,
                    str(proj.path) if proj.path else None,
                    "schema_missing",
                    f"no schema given and none named in {where}: pass one (--schema on the "
                    "command line), or set "
                    "schema = 'schemas/app.toml' or 'package.module:Class' in the project file",
                    category="project",
                )
            ],
            env=name,
        )
    base = proj.base_dir if schema is None else Path.cwd()
    return load_schema(ref, env=name, base_dir=base)


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
    sources = proj.build_sources(name, environ=environ, shared=shared)
    deadline = Deadline(timeout if timeout is not None else proj.deadline)
    resolution = resolve(sources, env=name, deadline=deadline)
    checked = validate(model, resolution, env=name, strict=strict)
    scrub = checked.redactor.scrub_problem
    problems = [scrub(p) for p in resolution.problems] + checked.problems
    # Settings built from an incomplete resolution (a source failed) are not valid settings.
    settings = None if any(p.severity == "error" for p in problems) else checked.settings
    return Outcome(name, proj, model, resolution, settings, problems, checked.redactor)


def _concerns(model: type[BaseSettings]) -> Callable[[str], bool]:
    """Whether a key of the process environment concerns ``model``: declared (by name or
    alias, or as the base of a nested key) or carrying its ``env_prefix``. PATH does not."""
    config = model.model_config
    case_sensitive = bool(config.get("case_sensitive"))
    prefix = str(config.get("env_prefix") or "").upper()
    delimiter = config.get("env_nested_delimiter")
    names = {n for s in variables(model) for n in (s.name, *s.aliases)}
    known = names if case_sensitive else {n.upper() for n in names}

    def concerns(key: str) -> bool:
        norm = key if case_sensitive else key.upper()
        if norm in known or (delimiter and norm.partition(delimiter)[0] in known):
            return True
        return bool(prefix) and key.upper().startswith(prefix)

    return concerns


def relevant_keys(outcome: Outcome) -> list[str]:
    """The resolved keys that concern the schema, in resolution order: the same set on
    every machine for the same project and files.

    A key is relevant when the schema declares it, it carries the schema's ``env_prefix``,
    or a source other than the process environment (a file, a secret store) offered it;
    the machine's unrelated variables (PATH, HOME) are not, even when one overrides a file.
    """
    concerns = _concerns(outcome.model)
    machine = {s.source for s in outcome.resolution.statuses if s.kind == "env"}
    offered = outcome.resolution.offered
    return [
        key
        for key in outcome.resolution.values
        if concerns(key) or any(v.origin.source not in machine for v in offered.get(key, ()))
    ]


def source_statuses(outcome: Outcome, *, timings: bool = False) -> list[dict[str, Any]]:
    """Each source's status as JSON-ready dicts, in precedence order: the one builder of
    the ``sources`` list of ``check``/``show --format json`` and of :func:`envguard.health`.

    Every dict has ``source`` (its description), ``kind``, ``ok`` and ``code`` (why it
    could not be read, else None). Then either:

    - ``keys`` (the default, for reports that must be byte-stable): how many keys the
      source offered. For the process environment (kind ``env``) only the keys the schema
      declares or that carry its ``env_prefix`` count, so the number does not depend on
      the machine's unrelated variables;
    - ``latency_ms`` with ``timings`` (for health checks): how long reading it took.
    """
    concerns = _concerns(outcome.model)
    offered = outcome.resolution.offered
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
        elif status.kind == "env":
            entry["keys"] = sum(
                1
                for key, values in offered.items()
                if concerns(key) and any(v.origin.source == status.source for v in values)
            )
        else:
            entry["keys"] = status.keys
        out.append(entry)
    return out

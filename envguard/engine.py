"""The core every entry point shares: project → sources → resolution → validation.

``load()`` and every CLI command call :func:`evaluate` and then only render its
:class:`Outcome`; nothing here prints or exits.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from pydantic_settings import BaseSettings

from envguard.errors import ConfigError, ProjectError, SourceError
from envguard.project import Project, load_project
from envguard.report import Problem, Redactor
from envguard.resolve import Resolution, resolve
from envguard.schema.loader import SchemaRef, load_schema
from envguard.sources._retry import Deadline
from envguard.validate import validate

__all__ = ["Outcome", "Prepared", "evaluate", "evaluate_prepared", "exit_code_for", "prepare"]


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
        ProjectError: for any project-file, environment or schema problem.
    """
    environ = os.environ if environ is None else environ
    proj = project if isinstance(project, Project) else load_project(project)
    name = proj.pick_env(env, environ)
    ref: SchemaRef | None = schema if schema is not None else proj.schema
    if ref is None:
        where = proj.path or "the current directory (no project file)"
        raise ProjectError(
            [
                Problem(
                    None,
                    str(proj.path) if proj.path else None,
                    "schema_missing",
                    f"no schema given and none named in {where}: pass one, or set "
                    "schema = 'schemas/app.toml' or 'package.module:Class' in the project file",
                    category="project",
                )
            ],
            env=name,
        )
    base = proj.base_dir if schema is None else Path.cwd()
    return Prepared(proj, name, load_schema(ref, env=name, base_dir=base))


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
    """Resolve and validate an already prepared environment."""
    proj, name, model = prepared.project, prepared.env, prepared.model
    sources = proj.build_sources(name, environ=environ, shared=shared)
    deadline = Deadline(timeout if timeout is not None else proj.deadline)
    resolution = resolve(sources, env=name, deadline=deadline)
    checked = validate(model, resolution, env=name, strict=strict)
    scrub = checked.redactor.scrub_problem
    problems = [scrub(p) for p in resolution.problems] + checked.problems
    # Settings built from an incomplete resolution (a source failed) are not valid settings.
    settings = None if any(p.severity == "error" for p in problems) else checked.settings
    return Outcome(name, proj, model, resolution, settings, problems, checked.redactor)

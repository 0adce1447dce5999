"""The library's two calls that read an environment: :func:`load` and :func:`diff`."""

from __future__ import annotations

import logging
import math
import os
from functools import partial
from typing import TYPE_CHECKING, TypeVar, overload

from pydantic_settings import BaseSettings

from envguard.engine import Outcome, Prepared, evaluate, evaluate_prepared, prepare
from envguard.errors import ProjectError
from envguard.project import load_project
from envguard.report import Problem
from envguard.sources._bounded import Calls, Unfinished
from envguard.sources._retry import Deadline

if TYPE_CHECKING:
    from envguard.diffing import Drift
    from envguard.schema.loader import SchemaRef

__all__ = ["diff", "evaluate_both", "load"]

M = TypeVar("M", bound=BaseSettings)

_log = logging.getLogger("envguard")


@overload
def load(
    schema: type[M],
    *,
    env: str | None = ...,
    project: str | os.PathLike[str] | None = ...,
    strict: bool = ...,
    timeout: float | None = ...,
) -> M: ...


@overload
def load(
    schema: str | None = ...,
    *,
    env: str | None = ...,
    project: str | os.PathLike[str] | None = ...,
    strict: bool = ...,
    timeout: float | None = ...,
) -> BaseSettings: ...


def load(
    schema: type[BaseSettings] | str | None = None,
    *,
    env: str | None = None,
    project: str | os.PathLike[str] | None = None,
    strict: bool = False,
    timeout: float | None = None,
) -> BaseSettings:
    """Resolve an environment, validate it, and return the settings object.

    With no project file, a settings class reads what instantiating it would read (its
    ``env_file``, its ``secrets_dir``, then the process environment, in pydantic-settings'
    precedence) and the result is what ``schema()`` returns; a TOML schema reads ``.env``
    if present, then the process environment.

    Args:
        schema: a settings class, a TOML schema path, ``"package.module:Class"``, or None
            for the schema named in the project file.
        env: the environment; default ``ENVGUARD_ENV``, else the project's ``default_env``.
        project: the project file (default: found by walking up from the current directory).
        strict: treat every warning (undeclared keys, a redefined dotenv key…) as an error.
        timeout: the overall deadline in seconds for remote sources (default: the project
            file's ``deadline``, else 30).

    Returns:
        An instance of the schema class.

    Raises:
        ConfigError: listing every problem at once, with no secret value in it.
            ``ProjectError`` (a subclass) for project-file or schema problems, and
            ``SourceError`` when a source could not be read.
    """
    outcome = evaluate(schema, env=env, project=project, strict=strict, timeout=timeout)
    if outcome.settings is None:
        raise outcome.error()
    for problem in outcome.problems:
        _log.warning("%s: %s", outcome.env, problem)
    return outcome.settings


def evaluate_both(
    env_a: str,
    env_b: str,
    *,
    schema: SchemaRef | None = None,
    project: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> tuple[Outcome, Outcome]:
    """Resolve and validate two environments concurrently (each with its own deadline and
    client cache).

    Raises:
        ProjectError: with the problems of both sides; its ``env`` names the side that
            failed, or is None when both did (or the project file itself is wrong).
    """
    proj = load_project(project)
    problems: list[Problem] = []
    failed: set[str | None] = set()
    prepared: list[Prepared] = []
    for name in (env_a, env_b):
        # Per environment: a TOML schema's ``required_in`` makes the model depend on it.
        try:
            prepared.append(prepare(schema, env=name, project=proj))
        except ProjectError as error:
            problems.extend(error.problems)
            failed.add(error.env)
    outcomes: list[Outcome] = []
    if not problems:
        # Daemon workers (the one deadline primitive): a Ctrl-C is not held up by a side still
        # reading a remote source. Each side is bounded by its own deadline; this one only
        # guards against a side that never returns.
        seconds = timeout if timeout is not None and math.isfinite(timeout) else proj.deadline
        calls = Calls(
            [partial(evaluate_prepared, p, timeout=timeout) for p in prepared],
            Deadline(min(seconds, 86_400.0) + 30.0),
            name="envguard-diff",
        )
        for result in calls.wait():
            if isinstance(result, ProjectError):
                problems.extend(result.problems)
                failed.add(result.env)
            elif isinstance(result, BaseException):
                raise result
            elif isinstance(result, Unfinished):
                raise RuntimeError("an environment was still being evaluated past its deadline")
            else:
                outcomes.append(result)
    if problems:
        env = failed.pop() if len(failed) == 1 else None
        raise ProjectError(list(dict.fromkeys(problems)), env=env)  # one schema error, not two
    return outcomes[0], outcomes[1]


def diff(
    env_a: str,
    env_b: str,
    *,
    schema: SchemaRef | None = None,
    project: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> Drift:
    """Compare two environments key by key, as ``envguard diff ENV_A ENV_B`` does.

    Secret values are compared in constant time and never kept: the result holds, for a
    secret key, only whether it changed.

    Args:
        env_a: the first environment.
        env_b: the second environment.
        schema: as for :func:`load`; default the schema named in the project file.
        project: the project file (default: found by walking up from the current directory).
        timeout: the overall deadline in seconds for each side's remote sources.

    Returns:
        The :class:`~envguard.diffing.Drift`: its ``complete`` is False when a source of
        either side could not be read (then the comparison is not trustworthy), and its
        ``to_dict()`` is what ``envguard diff --format json`` prints.

    Raises:
        ProjectError: the project file, an environment name or the schema is wrong.
    """
    from envguard.diffing import compare

    a, b = evaluate_both(env_a, env_b, schema=schema, project=project, timeout=timeout)
    return compare(a, b)

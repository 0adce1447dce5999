"""The :class:`Settings` base class and :func:`load`."""

from __future__ import annotations

import logging
import os
from typing import TypeVar, overload

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "load"]


class Settings(BaseSettings):
    """Base class for envguard schemas: a pydantic-settings ``BaseSettings``.

    It differs from ``BaseSettings`` only in safer defaults: inputs are hidden from
    validation errors (so a secret never reaches ``str(ValidationError)``), and unknown
    keys are ignored by pydantic since envguard reports them itself. Instantiating it
    directly (``Settings()``) still works exactly as in pydantic-settings.
    """

    model_config = SettingsConfigDict(hide_input_in_errors=True, extra="ignore")


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

    Args:
        schema: a settings class, a TOML schema path, ``"package.module:Class"``, or None
            for the schema named in the project file.
        env: the environment; default ``ENVGUARD_ENV``, else the project's ``default_env``.
        project: the project file (default: found by walking up from the current directory).
        strict: treat undeclared keys as errors.
        timeout: the overall deadline in seconds for remote sources (default: the project
            file's ``deadline``, else 30).

    Returns:
        An instance of the schema class.

    Raises:
        ConfigError: listing every problem at once, with no secret value in it.
            ``ProjectError`` (a subclass) for project-file or schema problems, and
            ``SourceError`` when a source could not be read.
    """
    from envguard.engine import evaluate

    outcome = evaluate(schema, env=env, project=project, strict=strict, timeout=timeout)
    if outcome.settings is None:
        raise outcome.error()
    for problem in outcome.problems:
        _log.warning("%s: %s", outcome.env, problem)
    return outcome.settings

"""The sources of the implicit environment: what a settings class reads with no project file.

For a Python class they are the sources ``S()`` reads, in pydantic-settings' precedence:
its ``secrets_dir`` (each directory, the last winning), its ``env_file`` (each file, the
last winning, with ``env_file_encoding`` and ``env_file_depth``; a missing file is skipped),
then the process environment. A class whose ``settings_customise_sources`` reorders or drops
these built-in sources, or builds its own env, dotenv or secrets-dir source (other files, the
class's matching options), gets that order. A TOML schema, which names no sources, reads ``.env``
in the current directory if present, then the process environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    SecretsSettingsSource,
)

from envguard.errors import ProjectError
from envguard.report import Problem
from envguard.schema.fields import TOML_MARKER
from envguard.sources.base import Source
from envguard.sources.dotenv import DotenvSource
from envguard.sources.env import EnvSource
from envguard.sources.secrets_dir import SecretsDirSource

__all__ = ["implicit_sources"]


class _Env(EnvSettingsSource):
    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {}


class _Dotenv(DotEnvSettingsSource):
    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {}


def _paths(value: Any) -> list[Path]:
    if value is None:
        return []
    if isinstance(value, str | os.PathLike):
        return [Path(value)]
    return [Path(v) for v in value]


def _dotenvs(
    model: type[BaseSettings], environ: Mapping[str, str], source: Any = None
) -> list[Source]:
    """The class's env files, or those of a ``DotEnvSettingsSource`` it builds itself."""
    config = model.model_config
    if source is not None:
        files, encoding, depth = source.env_file, source.env_file_encoding, source.env_file_depth
    else:
        files, encoding = config.get("env_file"), config.get("env_file_encoding")
        depth = config.get("env_file_depth")
    return [
        DotenvSource(
            path.expanduser(),
            optional=True,
            display=path.as_posix(),
            environ=environ,
            encoding=encoding,
            depth=int(depth or 0),
        )
        for path in _paths(files)
    ]


def _secrets(model: type[BaseSettings], source: Any = None) -> list[Source]:
    """The class's secrets directories, or those of a ``SecretsSettingsSource`` it builds."""
    dirs = source.secrets_dir if source is not None else model.model_config.get("secrets_dir")
    return [SecretsDirSource(path, optional=True, display=path.as_posix()) for path in _paths(dirs)]


#: The options that decide how a source's keys meet the fields: envguard reads every source
#: with the class's own, so a source built with other ones is not one it can read.
_MATCHING = (
    "case_sensitive",
    "env_prefix",
    "env_prefix_target",
    "env_ignore_empty",
    "env_parse_none_str",
    "env_parse_enums",
    "env_nested_delimiter",
    "env_nested_max_split",
)


def _same_matching(source: Any, reference: Any) -> bool:
    return all(getattr(source, o) == getattr(reference, o) for o in _MATCHING if hasattr(source, o))


def _customised(model: type[BaseSettings]) -> bool:
    own = model.settings_customise_sources.__func__  # type: ignore[attr-defined]
    return own is not BaseSettings.settings_customise_sources.__func__  # type: ignore[attr-defined]


def implicit_sources(model: type[BaseSettings], environ: Mapping[str, str]) -> list[Source]:
    """The sources, in envguard's precedence (later wins), that ``model()`` would read.

    Raises:
        ProjectError: the class's ``settings_customise_sources`` returns a source other
            than pydantic-settings' built-in env, dotenv and secrets-dir sources.
    """
    if getattr(model, TOML_MARKER, None) is not None:
        return [DotenvSource(".env", optional=True, environ=environ), EnvSource(environ)]
    if not _customised(model):
        return [*_secrets(model), *_dotenvs(model, environ), EnvSource(environ)]
    init = InitSettingsSource(model, init_kwargs={})
    env, dotenv, secrets = _Env(model), _Dotenv(model), SecretsSettingsSource(model)
    chosen = model.settings_customise_sources(
        model,
        init_settings=init,
        env_settings=env,
        dotenv_settings=dotenv,
        file_secret_settings=secrets,
    )
    built: dict[int, Sequence[Source]] = {
        id(init): (),
        id(env): (EnvSource(environ),),
        id(dotenv): _dotenvs(model, environ),
        id(secrets): _secrets(model),
    }
    for source in chosen:
        if id(source) in built or not _same_matching(source, env):
            continue
        if type(source) is EnvSettingsSource:
            built[id(source)] = (EnvSource(environ),)
        elif type(source) is DotEnvSettingsSource:
            built[id(source)] = _dotenvs(model, environ, source)
        elif type(source) is SecretsSettingsSource:
            built[id(source)] = _secrets(model, source)
    unknown = [type(s).__name__ for s in chosen if id(s) not in built]
    if unknown:
        message = (
            f"{model.__qualname__}.settings_customise_sources returns {', '.join(unknown)}, "
            "which envguard does not read: name the environment's sources in a project file"
        )
        problem = Problem(
            None, model.__qualname__, "schema_custom_source", message, category="project"
        )
        raise ProjectError([problem])
    # pydantic-settings' first source wins; envguard's last does.
    return [source for s in reversed(chosen) for source in built[id(s)]]

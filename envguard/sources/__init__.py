"""Sources of configuration values and the registry that maps project-file keys to them.

The registry holds import paths as strings, so a source module (and its SDK) is imported
only when an environment actually uses it.
"""

from __future__ import annotations

import functools
import importlib

from envguard.sources._pydantic import EnvguardSettingsSource, as_pydantic_source
from envguard.sources._retry import Deadline
from envguard.sources.base import BuildContext, Fetched, Origin, Source, Value
from envguard.sources.static import StaticSource

__all__ = [
    "REGISTRY",
    "BuildContext",
    "Deadline",
    "EnvguardSettingsSource",
    "Fetched",
    "Origin",
    "Source",
    "StaticSource",
    "Value",
    "as_pydantic_source",
    "source_class",
]

#: Project-file entry key → ``"module:Class"`` of the source it builds.
REGISTRY: dict[str, str] = {
    "env": "envguard.sources.env:EnvSource",
    "dotenv": "envguard.sources.dotenv:DotenvSource",
    "static": "envguard.sources.static:StaticSource",
    "vault": "envguard.sources.vault:VaultSource",
    "aws_secret": "envguard.sources.aws:AwsSecretSource",
    "aws_ssm": "envguard.sources.aws:AwsParameterSource",
}


@functools.cache
def source_class(kind: str) -> type[Source]:
    """Import and return the source class registered for ``kind`` (a ``KeyError`` if none)."""
    module_name, _, attr = REGISTRY[kind].partition(":")
    cls: type[Source] = getattr(importlib.import_module(module_name), attr)
    return cls

"""Mode (b): instantiating a settings class without arguments goes through ``envguard.load``.

``BaseSettings.__init__`` is replaced by a shim. Called with no arguments, for a class
whose sources envguard reads (pydantic-settings' env, dotenv and secrets-dir sources, in
any order ``settings_customise_sources`` gives them), it returns ``envguard.load(cls)``'s
result, so the test checks envguard's values against pydantic-settings' expectations. When
``load`` fails, the test expects pydantic-settings' own exception, so the shim raises it:
for invalid values, the ``ValidationError`` pydantic raises for the mapping envguard built
(the same data must give the same errors); for a value envguard could not decode or a
source it could not read, a ``SettingsError``. Anything else (arguments, CLI parsing, other
sources) runs pydantic-settings unchanged and does not count as routed.
"""

from __future__ import annotations

from typing import Any

import pydantic_settings
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    SecretsSettingsSource,
    SettingsError,
)
from pydantic_settings.sources import DefaultSettingsSource

import envguard
from conformance._record import (  # noqa: F401 - the hooks are this plugin's
    STATE,
    pytest_runtest_logreport,
    pytest_runtest_setup,
    pytest_sessionfinish,
)
from envguard.engine import Outcome, evaluate
from envguard.errors import ConfigError, ProjectError
from envguard.validate import instantiate

_real_init = BaseSettings.__init__
_DEFAULT_CUSTOMISE = BaseSettings.settings_customise_sources.__func__  # type: ignore[attr-defined]
_SLOTS = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")


_ROUTABLE = (
    InitSettingsSource,
    EnvSettingsSource,
    DotEnvSettingsSource,
    SecretsSettingsSource,
    DefaultSettingsSource,
)
_SOURCE_NAMES = {
    "env": "EnvSettingsSource",
    "dotenv": "DotEnvSettingsSource",
    "secrets": "SecretsSettingsSource",
}


def _customised(cls: type[BaseSettings]) -> bool:
    return cls.settings_customise_sources.__func__ is not _DEFAULT_CUSTOMISE  # type: ignore[attr-defined]


def _undecodable(outcome: Outcome) -> SettingsError:
    """pydantic-settings' error for a value it cannot decode, naming the field and the
    source class that read the variable (from envguard's problem)."""
    problem = outcome.read.problems[0]
    view = outcome.view
    row = view.field_of(problem.key or "")
    matching = next(
        (
            layer.matching
            for layer in reversed(outcome.resolution.layers)
            if any(view.norm(k) == view.norm(problem.key or "") for k in layer.values)
        ),
        "env",
    )
    field = row.field if row is not None else problem.key
    return SettingsError(
        f'error parsing value for field "{field}" from source "{_SOURCE_NAMES[matching]}"'
    )


def _loaded(cls: type[BaseSettings]) -> BaseSettings:
    try:
        return envguard.load(cls)
    except ProjectError:
        raise
    except ConfigError as error:
        failure = error
    outcome = evaluate(cls)
    if outcome.read.problems:
        raise _undecodable(outcome)
    if any(p.category != "validation" for p in failure.errors):
        raise SettingsError(str(failure))
    return instantiate(cls, outcome.read.data)  # raises pydantic's ValidationError


def _shim(self: BaseSettings, **values: Any) -> None:
    cls = type(self)
    if values or cls.model_config.get("cli_parse_args"):
        _real_init(self, **values)
        return
    if _customised(cls):
        # Its sources decide whether envguard can read it; asking the hook once here and
        # handing the sources on keeps the hook's call count what the test expects.
        sources, kwargs = cls._settings_init_sources()
        if any(type(s) not in _ROUTABLE for s in sources):
            _real_init(self, _build_sources=(sources, kwargs))
            return
        try:
            loaded = _loaded(cls)
        except ProjectError as error:
            if any(p.code != "schema_custom_source" for p in error.problems):
                raise
            _real_init(self, _build_sources=(sources, kwargs))
            return
    else:
        loaded = _loaded(cls)
    STATE["routed"] = True
    for slot in _SLOTS:
        object.__setattr__(self, slot, getattr(loaded, slot))


BaseSettings.__init__ = _shim  # type: ignore[method-assign, assignment]
pydantic_settings.BaseSettings = BaseSettings

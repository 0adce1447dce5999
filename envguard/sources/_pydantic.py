"""Any envguard source as an ordinary pydantic-settings source.

So a pydantic-settings user can adopt one piece at a time::

    class Settings(BaseSettings):
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings, *rest):
            vault = VaultSource("myapp/staging", mount="secret")
            return (init_settings, env_settings, as_pydantic_source(settings_cls, vault))

Prefixes, case sensitivity and JSON decoding of complex fields follow pydantic-settings'
own environment source, which this adapter extends. Note that pydantic-settings reads
sources when the settings class is instantiated, so the fetch happens then; a failing
source raises its ``SourceError`` (no secret in it) from the instantiation.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic_settings import BaseSettings, EnvSettingsSource
from pydantic_settings.sources.utils import parse_env_vars

from envguard.sources._retry import Deadline
from envguard.sources.base import Source

__all__ = ["EnvguardSettingsSource", "as_pydantic_source"]


class EnvguardSettingsSource(EnvSettingsSource):
    """A pydantic-settings source that reads its variables from an envguard ``Source``."""

    def __init__(
        self, settings_cls: type[BaseSettings], source: Source, *, timeout: float = 30.0
    ) -> None:
        self.envguard_source = source
        self.timeout = timeout
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        fetched = self.envguard_source.fetch(Deadline(self.timeout))
        raw = {key: value.text for key, value in fetched.values.items()}
        return parse_env_vars(
            raw, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )

    def __repr__(self) -> str:
        return f"EnvguardSettingsSource({self.envguard_source.describe()!r})"


def as_pydantic_source(
    settings_cls: type[BaseSettings], source: Source, *, timeout: float = 30.0
) -> EnvguardSettingsSource:
    """Wrap ``source`` for ``settings_customise_sources``; it is fetched on instantiation."""
    return EnvguardSettingsSource(settings_cls, source, timeout=timeout)

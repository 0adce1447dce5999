"""envguard sources used as ordinary pydantic-settings sources."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from envguard.sources._pydantic import as_pydantic_source
from envguard.sources.static import StaticSource

VALUES = {"APP_PORT": "81", "app_hosts": '["a", "b"]'}


class Settings(BaseSettings):
    model_config = {"env_prefix": "APP_"}
    port: int
    hosts: list[str] = []

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        source = StaticSource(VALUES, name="fixtures")
        return (init_settings, env_settings, as_pydantic_source(settings_cls, source))


def test_values_follow_prefix_case_and_json_decoding(project_dir: object) -> None:
    settings = Settings()
    assert (settings.port, settings.hosts) == (81, ["a", "b"])


def test_earlier_sources_still_win(project_dir: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_PORT", "9000")
    assert Settings().port == 9000


def test_invalid_value_is_a_pydantic_error(
    project_dir: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(VALUES, "APP_PORT", "not-a-port")
    with pytest.raises(ValidationError, match="port"):
        Settings()


def test_repr_names_the_source() -> None:
    adapter = as_pydantic_source(Settings, StaticSource({}, name="fixtures"))
    assert repr(adapter) == "EnvguardSettingsSource('fixtures')"

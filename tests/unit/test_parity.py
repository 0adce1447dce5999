"""Parity: with no project file, ``envguard.load(S)`` returns what ``S()`` returns.

Each case is a settings class and the variables to set. Each runs with the variables in
the process environment, in the class's ``env_file`` and (for flat values) in its
``secrets_dir``; then ``S()`` (pydantic-settings) and ``envguard.load(S)`` must give the
same values, or both fail. Cases cover every matching option pydantic-settings documents.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import pytest
from pydantic import (
    AliasChoices,
    AliasPath,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, ForceDecode, NoDecode, SettingsError

import envguard
from envguard.errors import ConfigError


class Color(enum.Enum):
    red = "r"
    blue = "b"


class Db(BaseModel):
    host: str = "localhost"
    port: int = 5432


class Llm(BaseModel):
    provider: str = "none"
    api_key: str = ""


class Case(NamedTuple):
    config: dict[str, Any]
    fields: Callable[[], dict[str, Any]]  # name -> (annotation, default or FieldInfo)
    values: Mapping[str, str]
    flat: bool = True  # values can be files of a secrets directory too


def _split_list(value: Any) -> Any:
    return value.split(",") if isinstance(value, str) else value


CASES: dict[str, Case] = {
    "prefix": Case(
        {"env_prefix": "PAR_"},
        lambda: {"port": (int, 1), "name": (str, "x")},
        {"PAR_PORT": "8080", "PAR_NAME": "svc"},
    ),
    "prefix-other-case": Case(
        {"env_prefix": "par_"}, lambda: {"port": (int, 1)}, {"PAR_PORT": "8080"}
    ),
    "case-sensitive-exact": Case(
        {"case_sensitive": True}, lambda: {"ParPort": (int, 1)}, {"ParPort": "2"}
    ),
    "case-sensitive-other-case": Case(
        {"case_sensitive": True}, lambda: {"ParPort": (int, 1)}, {"PARPORT": "2"}, flat=False
    ),
    "case-insensitive": Case({}, lambda: {"par_port": (int, 1)}, {"Par_Port": "3"}),
    "alias": Case(
        {}, lambda: {"port": (int, Field(1, alias="PAR_SERVICE_PORT"))}, {"PAR_SERVICE_PORT": "4"}
    ),
    "validation-alias": Case(
        {}, lambda: {"port": (int, Field(1, validation_alias="PAR_SVC"))}, {"PAR_SVC": "5"}
    ),
    "alias-choices-first": Case(
        {},
        lambda: {"url": (str, Field("d", validation_alias=AliasChoices("PAR_A", "PAR_B")))},
        {"PAR_A": "first", "PAR_B": "second"},
    ),
    "alias-choices-second": Case(
        {},
        lambda: {"url": (str, Field("d", validation_alias=AliasChoices("PAR_A", "PAR_B")))},
        {"PAR_B": "second"},
    ),
    "alias-path": Case(
        {},
        lambda: {"port": (int, Field(1, validation_alias=AliasPath("PAR_CFG", "port")))},
        {"PAR_CFG": '{"port": 7}'},
    ),
    "alias-prefix-target-all": Case(
        {"env_prefix": "PAR_", "env_prefix_target": "all"},
        lambda: {"port": (int, Field(1, validation_alias="SVC"))},
        {"PAR_SVC": "9"},
    ),
    "populate-by-name": Case(
        {"populate_by_name": True},
        lambda: {"par_port": (int, Field(1, validation_alias="PAR_SVC_PORT"))},
        {"PAR_PORT": "11"},
    ),
    "nested-delimiter": Case(
        {"env_nested_delimiter": "__", "env_prefix": "PAR_"},
        lambda: {"db": (Db, Db())},
        {"PAR_DB__HOST": "dbhost", "PAR_DB__PORT": "6543"},
        flat=False,
    ),
    "nested-json-and-keys": Case(
        {"env_nested_delimiter": "__"},
        lambda: {"par_db": (Db, Db())},
        {"PAR_DB": '{"host": "a", "port": 1}', "PAR_DB__PORT": "2"},
        flat=False,
    ),
    "nested-max-split": Case(
        {"env_nested_delimiter": "_", "env_nested_max_split": 1, "env_prefix": "PAR_"},
        lambda: {"llm": (Llm, Llm())},
        {"PAR_LLM_PROVIDER": "anthropic", "PAR_LLM_API_KEY": "k"},
        flat=False,
    ),
    "json-list": Case({}, lambda: {"par_ports": (list[int], [])}, {"PAR_PORTS": "[80, 443]"}),
    "json-dict": Case({}, lambda: {"par_limits": (dict[str, int], {})}, {"PAR_LIMITS": '{"a": 1}'}),
    "union-list-or-str-json": Case(
        {}, lambda: {"par_hosts": (list[str] | str, "")}, {"PAR_HOSTS": '["a", "b"]'}
    ),
    "union-list-or-str-plain": Case(
        {}, lambda: {"par_hosts": (list[str] | str, "")}, {"PAR_HOSTS": "a,b"}
    ),
    "optional-list": Case(
        {}, lambda: {"par_hosts": (list[str] | None, None)}, {"PAR_HOSTS": '["x"]'}
    ),
    "no-decode": Case(
        {},
        lambda: {"par_hosts": (Annotated[list[str], NoDecode], [])},
        {"PAR_HOSTS": "a,b"},
    ),
    "force-decode": Case(
        {"enable_decoding": False},
        lambda: {
            "par_hosts": (Annotated[list[str], ForceDecode], []),
            "par_raw": (Annotated[list[str], NoDecode], []),
        },
        {"PAR_HOSTS": '["a"]', "PAR_RAW": "b,c"},
    ),
    "ignore-empty": Case(
        {"env_ignore_empty": True}, lambda: {"par_name": (str, "default")}, {"PAR_NAME": ""}
    ),
    "empty-kept": Case({}, lambda: {"par_name": (str, "default")}, {"PAR_NAME": ""}),
    "parse-none-str": Case(
        {"env_parse_none_str": "null"},
        lambda: {"par_port": (int | None, 5), "par_db": (Db | None, None)},
        {"PAR_PORT": "null", "PAR_DB": "null"},
    ),
    "parse-enums": Case(
        {"env_parse_enums": True}, lambda: {"par_color": (Color, Color.red)}, {"PAR_COLOR": "blue"}
    ),
    "enum-by-value": Case({}, lambda: {"par_color": (Color, Color.red)}, {"PAR_COLOR": "b"}),
    "secret": Case({}, lambda: {"par_token": (SecretStr, SecretStr(""))}, {"PAR_TOKEN": "s3"}),
    "invalid-int": Case({}, lambda: {"par_port": (int, 1)}, {"PAR_PORT": "eighty"}),
    "invalid-json": Case({}, lambda: {"par_ports": (list[int], [])}, {"PAR_PORTS": "[80,"}),
    "missing-required": Case({}, lambda: {"par_needed": (str, ...)}, {}),
    "extra-ignore": Case(
        {"extra": "ignore"}, lambda: {"par_port": (int, 1)}, {"PAR_PORT": "1", "PAR_OTHER": "x"}
    ),
    "extra-allow": Case(
        {"extra": "allow", "env_prefix": "PAR_"},
        lambda: {"port": (int, 1)},
        {"PAR_PORT": "1", "PAR_COLOR": "blue"},
    ),
    "extra-forbid": Case(
        {"extra": "forbid"}, lambda: {"par_port": (int, 1)}, {"PAR_PORT": "1", "PAR_TYPO": "x"}
    ),
}


def _model(case: Case, extra_config: Mapping[str, Any]) -> type[BaseSettings]:
    fields = case.fields()
    namespace: dict[str, Any] = {"__annotations__": {k: v[0] for k, v in fields.items()}}
    namespace.update({k: v[1] for k, v in fields.items() if v[1] is not ...})
    namespace["model_config"] = {**case.config, **extra_config}
    if "par_raw" in fields:
        namespace["_split"] = field_validator("par_raw", mode="before")(_split_list)
    return type("ParitySettings", (BaseSettings,), namespace)


def _result(build: Callable[[], BaseSettings]) -> tuple[str, Any]:
    try:
        settings = build()
    except (ValidationError, SettingsError, ConfigError):
        return ("error", None)
    dumped = settings.model_dump()
    plain = {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in dumped.items()}
    return ("ok", plain)


def _both(model: type[BaseSettings]) -> tuple[tuple[str, Any], tuple[str, Any]]:
    return _result(model), _result(lambda: envguard.load(model))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for key in list(os.environ):
        if key.upper().startswith(("PAR_", "PARPORT", "ENVGUARD_")):
            monkeypatch.delenv(key)
    return monkeypatch


def _dotenv(values: Mapping[str, str]) -> str:
    return "".join(f"{k}='{v}'\n" for k, v in values.items())


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("where", ["env", "dotenv", "secrets"])
def test_load_matches_instantiation(
    name: str, where: str, project_dir: Path, clean_env: pytest.MonkeyPatch
) -> None:
    case = CASES[name]
    if where == "secrets" and not case.flat:
        pytest.skip("nested variables have no secrets-directory form")
    config: dict[str, Any] = {}
    if where == "env":
        for key, value in case.values.items():
            clean_env.setenv(key, value)
    elif where == "dotenv":
        (project_dir / ".env").write_text(_dotenv(case.values))
        config["env_file"] = ".env"
    else:
        secrets = project_dir / "secrets"
        secrets.mkdir()
        for key, value in case.values.items():
            (secrets / key).write_text(value + "\n")
        config["secrets_dir"] = str(secrets)

    expected, got = _both(_model(case, config))

    assert got == expected
    if name.startswith(("invalid", "missing")):
        assert expected[0] == "error"


def test_precedence_env_over_dotenv_over_secrets_per_field(
    project_dir: Path, clean_env: pytest.MonkeyPatch
) -> None:
    secrets = project_dir / "secrets"
    secrets.mkdir()
    for key in ("par_a", "par_b", "par_c"):
        (secrets / key).write_text("from-secrets")
    (project_dir / ".env").write_text("PAR_A=from-dotenv\nPAR_B=from-dotenv\n")
    clean_env.setenv("PAR_A", "from-env")

    class S(BaseSettings):
        model_config = {"env_file": ".env", "secrets_dir": str(secrets)}
        par_a: str = ""
        par_b: str = ""
        par_c: str = ""

    expected, got = _both(S)
    assert (
        got
        == expected
        == ("ok", {"par_a": "from-env", "par_b": "from-dotenv", "par_c": "from-secrets"})
    )


def test_alias_choices_split_across_sources_later_source_wins(
    project_dir: Path, clean_env: pytest.MonkeyPatch
) -> None:
    # The first choice in .env, the second in the environment: the environment wins.
    (project_dir / ".env").write_text("PAR_OPENAI_BASE_URL=from-dotenv\n")
    clean_env.setenv("PAR_OPENAI_API_BASE", "from-env")

    class S(BaseSettings):
        model_config = {"env_file": ".env"}
        base_url: str = Field(
            "default", validation_alias=AliasChoices("PAR_OPENAI_BASE_URL", "PAR_OPENAI_API_BASE")
        )

    expected, got = _both(S)
    assert got == expected == ("ok", {"base_url": "from-env"})


def test_nested_keys_merge_across_sources(project_dir: Path, clean_env: pytest.MonkeyPatch) -> None:
    (project_dir / ".env").write_text('PAR_DB=\'{"host": "file-host", "port": 1}\'\n')
    clean_env.setenv("PAR_DB__PORT", "2")

    class S(BaseSettings):
        model_config = {"env_file": ".env", "env_nested_delimiter": "__"}
        par_db: Db = Db()

    expected, got = _both(S)
    assert got == expected == ("ok", {"par_db": {"host": "file-host", "port": 2}})


@pytest.mark.parametrize(
    "env_file",
    [
        pytest.param(("base.env", "local.env"), id="tuple-later-wins"),
        pytest.param("../outer.env", id="parent-path"),
        pytest.param("missing.env", id="missing-is-skipped"),
    ],
)
def test_env_file_forms(env_file: Any, project_dir: Path, clean_env: pytest.MonkeyPatch) -> None:
    (project_dir / "base.env").write_text("PAR_A=base\nPAR_B=base\n")
    (project_dir / "local.env").write_text("PAR_B=local\n")
    (project_dir.parent / "outer.env").write_text("PAR_A=outer\n")

    class S(BaseSettings):
        model_config = {"env_file": env_file}
        par_a: str = ""
        par_b: str = ""

    expected, got = _both(S)
    assert got == expected


def test_env_file_encoding(project_dir: Path, clean_env: pytest.MonkeyPatch) -> None:
    (project_dir / ".env").write_bytes("PAR_NAME=caf\xe9\n".encode("latin-1"))

    class S(BaseSettings):
        model_config = {"env_file": ".env", "env_file_encoding": "latin-1"}
        par_name: str = ""

    expected, got = _both(S)
    assert got == expected == ("ok", {"par_name": "café"})


def test_customised_source_order(project_dir: Path, clean_env: pytest.MonkeyPatch) -> None:
    (project_dir / ".env").write_text("PAR_A=from-dotenv\n")
    clean_env.setenv("PAR_A", "from-env")

    class FilesFirst(BaseSettings):
        model_config = {"env_file": ".env"}
        par_a: str = ""

        @classmethod
        def settings_customise_sources(  # type: ignore[override]
            cls, settings_cls: Any, init_settings: Any, env_settings: Any, dotenv_settings: Any,
            file_secret_settings: Any,
        ) -> tuple[Any, ...]:  # fmt: skip
            return (init_settings, dotenv_settings, env_settings)

    expected, got = _both(FilesFirst)
    assert got == expected == ("ok", {"par_a": "from-dotenv"})


def test_a_custom_source_is_refused_with_a_clear_error(project_dir: Path) -> None:
    from pydantic_settings import JsonConfigSettingsSource

    class WithJson(BaseSettings):
        par_a: str = ""

        @classmethod
        def settings_customise_sources(  # type: ignore[override]
            cls, settings_cls: Any, *args: Any, **kwargs: Any
        ) -> tuple[Any, ...]:
            return (JsonConfigSettingsSource(settings_cls),)

    with pytest.raises(envguard.ProjectError) as info:
        envguard.load(WithJson)
    assert [p.code for p in info.value.problems] == ["schema_custom_source"]
    assert "JsonConfigSettingsSource" in str(info.value)

"""Validation: every problem at once, keyed by the variable users set, with its origin."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import AliasChoices, AnyHttpUrl, Field, PostgresDsn, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings.version import VERSION

import envguard
from envguard._secrecy import is_secret
from envguard.engine import evaluate
from envguard.report import Problem
from envguard.resolve import Layer, Resolution, resolve
from envguard.schema.fields import variables
from envguard.sources.base import Fetched, Origin, Value
from envguard.sources.env import EnvSource
from envguard.sources.static import StaticSource
from envguard.validate import validate

PS_VERSION = tuple(int(p) for p in VERSION.split(".")[:2])


def resolved(*sources: StaticSource | EnvSource) -> Resolution:
    return resolve(sources, env="test", deadline=5)


def at_line(values: dict[str, tuple[str, int]], file: str = ".env") -> Resolution:
    """A resolution whose values come from ``file`` at the given lines, like a dotenv."""
    result = Resolution(env="test")
    fetched = Fetched(
        {k: Value(text, Origin(f"dotenv {file}", file, line)) for k, (text, line) in values.items()}
    )
    result.values.update(fetched.values)
    result.layers.append(Layer(f"dotenv {file}", "dotenv", fetched.values))
    return result


def rows(problems: list[Problem]) -> list[tuple[str | None, str | None, str, str, str]]:
    return [(p.key, p.source, p.code, p.message, p.severity) for p in problems]


class Lenient(envguard.Settings):
    """Undeclared file keys are warnings (envguard's policy), not pydantic's "forbid"."""

    model_config = SettingsConfigDict(extra="ignore")


class Web(Lenient):
    node_env: Literal["development", "staging", "production"]
    port: int = Field(default=3000, ge=1, le=65535)
    workers: int = 2
    database_url: PostgresDsn
    public_url: AnyHttpUrl = AnyHttpUrl("https://example.com")
    jwt_secret: SecretStr = Field(min_length=32)
    name: str = Field(default="web", min_length=3)
    region: str


BAD_WEB = {
    "NODE_ENV": ("prod", 1),
    "PORT": ("70000", 2),
    "WORKERS": ("many", 3),
    "DATABASE_URL": ("mysql://db.internal/app", 4),
    "PUBLIC_URL": ("ftp://example.com", 5),
    "JWT_SECRET": ("short", 6),
    "NAME": ("ab", 7),
    "DEBUG_TOOLBAR": ("1", 8),
}

EXPECTED_WEB = [
    (
        "NODE_ENV",
        "dotenv .env:1",
        "literal_error",
        "Input should be 'development', 'staging' or 'production'",
        "error",
    ),
    (
        "PORT",
        "dotenv .env:2",
        "less_than_equal",
        "Input should be less than or equal to 65535",
        "error",
    ),
    (
        "WORKERS",
        "dotenv .env:3",
        "int_parsing",
        "Input should be a valid integer, unable to parse string as an integer",
        "error",
    ),
    ("DATABASE_URL", "dotenv .env:4", "url_scheme", None, "error"),
    (
        "PUBLIC_URL",
        "dotenv .env:5",
        "url_scheme",
        "URL scheme should be 'http' or 'https'",
        "error",
    ),
    (
        "JWT_SECRET",
        "dotenv .env:6",
        "too_short",
        "must have at least 32 characters",
        "error",
    ),
    ("NAME", "dotenv .env:7", "string_too_short", "must have at least 3 characters", "error"),
    ("REGION", None, "missing", "required, but not set by any source", "error"),
]


def test_every_problem_is_reported_at_once() -> None:
    checked = validate(Web, at_line(BAD_WEB), env="test")

    assert checked.settings is None
    got = rows(checked.problems)
    # PostgresDsn lists many schemes; compare the start only.
    assert got[3][3].startswith("URL scheme should be 'postgres', 'postgresql', ")
    got[3] = (*got[3][:3], None, got[3][4])
    by_key = {row[0]: row for row in got}
    assert [by_key[row[0]] for row in EXPECTED_WEB] == EXPECTED_WEB
    assert got[-1] == (
        "DEBUG_TOOLBAR",
        "dotenv .env:8",
        "unknown_key",
        "is not declared in the schema",
        "warning",
    )
    assert len(got) == len(EXPECTED_WEB) + 1


def test_problems_point_at_file_and_line() -> None:
    checked = validate(Web, at_line(BAD_WEB, file="config/.env.ci"), env="test")

    port = next(p for p in checked.problems if p.key == "PORT")
    assert (port.file, port.line, port.source) == ("config/.env.ci", 2, "dotenv config/.env.ci:2")
    missing = next(p for p in checked.problems if p.key == "REGION")
    assert (missing.file, missing.line, missing.source) == (None, None, None)


def test_errors_come_before_warnings_in_order_found() -> None:
    checked = validate(Web, at_line(BAD_WEB), env="test")

    severities = [p.severity for p in checked.problems]
    assert severities == sorted(severities, key=lambda s: s != "error")


def test_unknown_keys_are_warnings() -> None:
    class Small(Lenient):
        port: int

    source = StaticSource({"PORT": "1", "PROT": "2"}, name="dotenv .env")
    checked = validate(Small, resolved(source), env="test")

    assert rows(checked.problems) == [
        (
            "PROT",
            "dotenv .env",
            "unknown_key",
            "is not declared in the schema (did you mean PORT?)",
            "warning",
        )
    ]
    assert checked.settings is not None


class Prefixed(Lenient):
    model_config = SettingsConfigDict(env_prefix="APP_", extra="ignore")

    port: int
    debug: bool = False


def test_problems_name_the_prefixed_variable() -> None:
    checked = validate(
        Prefixed, resolved(StaticSource({"APP_PORT": "x", "APP_DEBUG": "maybe"})), env="t"
    )

    assert [p.key for p in checked.problems] == ["APP_PORT", "APP_DEBUG"]
    assert "port" not in {p.key for p in checked.problems}


def test_missing_prefixed_variable() -> None:
    checked = validate(Prefixed, resolved(StaticSource({"PORT": "80"})), env="t")

    assert rows(checked.problems) == [
        ("APP_PORT", None, "missing", "required, but not set by any source", "error"),
        # A file's undeclared key is reported even without the prefix.
        (
            "PORT",
            "static",
            "unknown_key",
            "is not declared in the schema (did you mean APP_PORT?)",
            "warning",
        ),
    ]


def test_process_environment_is_checked_for_prefixed_keys_only() -> None:
    env = EnvSource({"APP_PORT": "80", "APP_PROT": "1", "PATH": "/bin", "HOME": "/root"})

    checked = validate(Prefixed, resolved(env), env="t")

    assert rows(checked.problems) == [
        (
            "APP_PROT",
            "env",
            "unknown_key",
            "is not declared in the schema (did you mean APP_PORT?)",
            "warning",
        )
    ]
    assert checked.settings is not None
    assert checked.settings.port == 80


def test_without_a_prefix_the_process_environment_is_not_checked() -> None:
    class Small(envguard.Settings):
        port: int

    checked = validate(Small, resolved(EnvSource({"PORT": "1", "PATH": "/bin"})), env="t")

    assert checked.problems == []


@pytest.mark.parametrize(
    ("alias", "given", "expected_key"),
    [
        pytest.param(Field(alias="SERVICE_PORT"), "SERVICE_PORT", "SERVICE_PORT", id="alias"),
        pytest.param(
            Field(validation_alias="SERVICE_PORT"),
            "SERVICE_PORT",
            "SERVICE_PORT",
            id="validation-alias",
        ),
        pytest.param(
            Field(validation_alias=AliasChoices("SVC_PORT", "PORT_NUMBER")),
            "SVC_PORT",
            "SVC_PORT",
            id="alias-choices",
        ),
    ],
)
def test_problems_name_the_alias(alias: object, given: str, expected_key: str) -> None:
    class Aliased(envguard.Settings):
        port: int = alias  # type: ignore[assignment]

    checked = validate(Aliased, resolved(StaticSource({given: "eighty"})), env="t")

    assert [(p.key, p.code) for p in checked.problems] == [(expected_key, "int_parsing")]

    missing = validate(Aliased, resolved(StaticSource({})), env="t")
    assert [(p.key, p.code) for p in missing.problems] == [(expected_key, "missing")]


class Complex(envguard.Settings):
    ports: list[int] = Field(default_factory=list)
    limits: dict[str, int] = Field(default_factory=dict)
    hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)


def test_invalid_json_is_one_problem_without_a_missing_duplicate() -> None:
    class Required(envguard.Settings):
        ports: list[int]

    checked = validate(Required, resolved(StaticSource({"PORTS": "[80, 443"})), env="t")

    assert rows(checked.problems) == [
        ("PORTS", "static", "json_invalid", "is not valid JSON (line 1 column 9)", "error")
    ]


def test_valid_json_with_a_bad_item_names_the_item() -> None:
    checked = validate(
        Complex, resolved(StaticSource({"PORTS": '[80, "x"]', "LIMITS": '{"a": "b"}'})), env="t"
    )

    assert rows(checked.problems) == [
        (
            "PORTS",
            "static",
            "int_parsing",
            "1: Input should be a valid integer, unable to parse string as an integer",
            "error",
        ),
        (
            "LIMITS",
            "static",
            "int_parsing",
            "a: Input should be a valid integer, unable to parse string as an integer",
            "error",
        ),
    ]


def test_complex_fields_are_json_decoded() -> None:
    checked = validate(
        Complex, resolved(StaticSource({"PORTS": "[80, 443]", "LIMITS": '{"a": 1}'})), env="t"
    )

    assert checked.problems == []
    assert checked.settings is not None
    assert (checked.settings.ports, checked.settings.limits) == ([80, 443], {"a": 1})


def test_nodecode_fields_are_not_json_decoded() -> None:
    # A NoDecode list gets the raw string, which a plain list[str] then rejects.
    checked = validate(Complex, resolved(StaticSource({"HOSTS": '["a"]'})), env="t")

    assert [(p.key, p.code) for p in checked.problems] == [("HOSTS", "list_type")]


@pytest.mark.parametrize(
    ("case_sensitive", "given", "valid"),
    [
        pytest.param(False, "PORT", True, id="insensitive-upper"),
        pytest.param(False, "port", True, id="insensitive-lower"),
        pytest.param(False, "Port", True, id="insensitive-mixed"),
        pytest.param(True, "port", True, id="sensitive-exact"),
        pytest.param(True, "PORT", False, id="sensitive-other-case"),
    ],
)
def test_case_matching(case_sensitive: bool, given: str, valid: bool) -> None:
    class Cased(envguard.Settings):
        model_config = SettingsConfigDict(case_sensitive=case_sensitive, extra="ignore")

        port: int

    checked = validate(Cased, resolved(StaticSource({given: "8080"})), env="t")

    assert (checked.settings is not None) is valid
    if valid:
        assert checked.settings is not None
        assert checked.settings.port == 8080
        assert checked.problems == []
    else:
        assert [(p.key, p.code) for p in checked.problems] == [
            ("port", "missing"),
            ("PORT", "unknown_key"),
        ]


def test_deprecated_field_warns() -> None:
    class Old(envguard.Settings):
        legacy: str = Field(default="", deprecated="use NEW_NAME")

    checked = validate(Old, resolved(StaticSource({"LEGACY": "x"})), env="t")

    assert rows(checked.problems) == [
        ("LEGACY", "static", "deprecated", "is deprecated: use NEW_NAME", "warning")
    ]
    assert checked.settings is not None


def test_valid_settings_are_typed_and_the_plain_base_settings_works_too() -> None:
    class Plain(BaseSettings):
        port: int
        flag: bool = False

    checked = validate(Plain, resolved(StaticSource({"PORT": "8080", "FLAG": "true"})), env="t")

    assert checked.problems == []
    assert checked.settings == Plain(port=8080, flag=True)


def test_a_list_field_length_is_counted_in_items() -> None:
    class Listy(envguard.Settings):
        hosts: list[str] = Field(default=[], min_length=2)

    checked = validate(Listy, resolved(StaticSource({"HOSTS": '["a"]'})), env="t")

    assert [p.message for p in checked.problems] == ["must have at least 2 items"]


@pytest.mark.parametrize(
    ("name", "value", "declared", "expected"),
    [
        pytest.param("PORT", Value("80", Origin("env")), None, False, id="plain"),
        pytest.param("API_TOKEN", Value("x", Origin("env")), None, True, id="name"),
        pytest.param("DB_PASSWORD", Value("x", Origin("env")), None, True, id="password"),
        pytest.param("PORT", Value("80", Origin("vault"), sensitive=True), None, True, id="source"),
        pytest.param(
            "DSN", Value("postgres://u:p@h/db", Origin("env")), None, True, id="url-credentials"
        ),
        pytest.param("DSN", Value("postgres://h/db", Origin("env")), None, False, id="url"),
        pytest.param("API_TOKEN", Value("x", Origin("env")), False, False, id="declared-public"),
        pytest.param("PORT", Value("80", Origin("env")), True, True, id="declared-secret"),
    ],
)
def test_is_secret(name: str, value: Value, declared: bool | None, expected: bool) -> None:
    class Schema(envguard.Settings):
        field: str = Field(
            default="", json_schema_extra=None if declared is None else {"secret": declared}
        )

    declaration = variables(Schema)[0].secret if declared is not None else None
    assert is_secret(declaration, name, value.text, value.sensitive) is expected


@pytest.mark.parametrize(
    ("spellings", "expected"),
    [
        pytest.param(("port", "PORT", "port"), 3, id="lower-upper-lower"),
        pytest.param(("PORT", "port", "PORT"), 3, id="upper-lower-upper"),
        pytest.param(("PORT", "Port", "port"), 3, id="three-spellings"),
        pytest.param(("port", "PORT", "PORT"), 3, id="upper-twice"),
    ],
)
def test_spellings_of_one_key_follow_precedence(spellings: tuple[str, ...], expected: int) -> None:
    class Cased(envguard.Settings):
        port: int

    sources = [StaticSource({key: str(i)}, name=f"s{i}") for i, key in enumerate(spellings, 1)]

    checked = validate(Cased, resolve(sources, env="t", deadline=5), env="t")

    assert checked.settings is not None
    assert checked.settings.port == expected


def test_every_alias_choice_is_tried_in_order() -> None:
    class Aliased(envguard.Settings):
        name: str = Field(validation_alias=AliasChoices("SERVICE_NAME", "NAME"))

    only_second = validate(Aliased, resolved(StaticSource({"NAME": "svc"})), env="test")
    both = validate(
        Aliased, resolved(StaticSource({"NAME": "second", "SERVICE_NAME": "first"})), env="test"
    )

    assert only_second.settings is not None
    assert only_second.settings.name == "svc"
    assert only_second.problems == []
    assert both.settings is not None
    assert both.settings.name == "first"


def test_nested_models_read_delimited_keys_like_pydantic_settings() -> None:
    from pydantic import BaseModel

    class Conn(BaseModel):
        host: str
        port: int = 5432

    class Nested(envguard.Settings):
        model_config = SettingsConfigDict(env_prefix="APP_", env_nested_delimiter="__")
        db: Conn

    good = validate(
        Nested,
        resolved(StaticSource({"APP_DB__HOST": "dbhost", "APP_DB__PORT": "6543"}, name="f")),
        env="test",
    )
    bad = validate(Nested, resolved(StaticSource({"APP_DB__PORT": "x"}, name="f")), env="test")

    assert good.settings is not None
    assert good.settings.db == Conn(host="dbhost", port=6543)
    assert good.problems == []
    # Each problem names the variable to set or fix, not the field's base name.
    assert [(p.key, p.code, p.message) for p in bad.problems] == [
        ("APP_DB__HOST", "missing", "required, but not set by any source"),
        (
            "APP_DB__PORT",
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
    ]
    as_json = validate(Nested, resolved(StaticSource({"APP_DB": '{"port": "x"}'})), env="t")
    assert [(p.key, p.code, p.message) for p in as_json.problems] == [
        ("APP_DB", "missing", "host: required, but not set by any source"),
        (
            "APP_DB",
            "int_parsing",
            "port: Input should be a valid integer, unable to parse string as an integer",
        ),
    ]


def test_an_undeclared_file_key_is_reported_even_when_the_shell_overrides_it() -> None:
    class Small(Lenient):
        port: int = 3000

    result = validate(
        Small,
        resolved(
            StaticSource({"PORTT": "1"}, name="dotenv .env"),
            EnvSource({"PORTT": "2", "HOME": "/root"}),
        ),
        env="test",
    )

    assert rows(result.problems) == [
        (
            "PORTT",
            "env",
            "unknown_key",
            "is not declared in the schema (did you mean PORT?)",
            "warning",
        )
    ]


def test_extra_forbid_makes_undeclared_file_keys_errors_as_pydantic_settings_does() -> None:
    class Strict(envguard.Settings):  # extra="forbid": pydantic-settings' default
        port: int = 3000

    result = validate(
        Strict,
        resolved(
            StaticSource({"PORTT": "1", "EMPTY": ""}, name="dotenv .env"),
            EnvSource({"PORTT": "2", "HOME": "/root"}),
        ),
        env="test",
    )

    # PORTT reaches the model from the file (the environment never passes extras) and is
    # forbidden; an empty undeclared key is not passed on, so it stays a warning.
    assert rows(result.problems) == [
        (
            "PORTT",
            "dotenv .env",
            "extra_forbidden",
            "is not declared in the schema, which forbids undeclared keys (did you mean PORT?)",
            "error",
        ),
        ("EMPTY", "dotenv .env", "unknown_key", "is not declared in the schema", "warning"),
    ]
    assert result.settings is None


def test_extra_allow_keeps_undeclared_file_keys_on_the_settings() -> None:
    class Open(envguard.Settings):
        model_config = SettingsConfigDict(extra="allow", env_prefix="APP_")
        port: int = 3000

    result = validate(
        Open,
        resolved(StaticSource({"APP_COLOR": "blue", "OTHER": "x"}, name="dotenv .env")),
        env="test",
    )

    assert result.problems == []
    assert result.settings is not None
    # Keys are lower-cased and the prefix stripped, as DotEnvSettingsSource does it
    # (before pydantic-settings 2.16 a prefix written in upper case was kept).
    color = "color" if PS_VERSION >= (2, 16) else "app_color"
    assert result.settings.model_extra == {color: "blue", "other": "x"}


@pytest.mark.parametrize(
    ("text", "spellings", "used_line"),
    [
        pytest.param("port=1\nPORT=2\n", "port (line 1), PORT (line 2)", 2, id="later-wins"),
        # pydantic-settings folds a file's keys in the order each spelling first appears:
        # PORT is redefined on line 3, but port's spelling appeared later, so line 2 wins.
        pytest.param("PORT=1\nport=2\nPORT=3\n", "PORT (line 3), port (line 2)", 2, id="fold"),
    ],
)
def test_spellings_that_differ_only_in_case_are_a_warning_naming_the_line_used(
    project_dir: Path, text: str, spellings: str, used_line: int
) -> None:
    class Case(Lenient):
        model_config = SettingsConfigDict(env_file=".env")
        port: int

    (project_dir / ".env").write_text(text)
    expected = Case()  # type: ignore[call-arg]

    outcome = evaluate(Case, project=None)
    clashes = [p for p in outcome.problems if p.code == "case_clash"]

    assert outcome.settings == expected
    assert [(p.severity, p.line, p.message) for p in clashes] == [
        (
            "warning",
            used_line,
            f"is set as {spellings}, which name one variable (names are not case-sensitive);"
            f" the value of line {used_line} is used",
        )
    ]


def test_case_sensitive_schemas_have_no_case_clash(project_dir: Path) -> None:
    class Exact(Lenient):
        model_config = SettingsConfigDict(case_sensitive=True, env_file=".env")
        port: int = 0
        PORT: int = 0

    (project_dir / ".env").write_text("port=1\nPORT=2\n")

    outcome = evaluate(Exact, project=None)

    assert [p.code for p in outcome.problems] == []
    assert outcome.settings is not None
    assert (outcome.settings.port, outcome.settings.PORT) == (1, 2)  # type: ignore[attr-defined]

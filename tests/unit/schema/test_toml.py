"""Compiling TOML schema files: the model, every type and constraint, names, the cache."""

from __future__ import annotations

import datetime as dt
import os
import pathlib
from typing import Any

import pytest
from pydantic import AnyUrl, Secret, SecretStr, ValidationError

from envguard.errors import ProjectError
from envguard.resolve import resolve
from envguard.schema.fields import MISSING, variables
from envguard.schema.toml import compile_schema
from envguard.settings import Settings
from envguard.sources.static import StaticSource
from envguard.validate import validate
from tests.unit.schema._helpers import (
    DATA,
    DURATION_HINT,
    INT_PARSING,
    TYPES,
    one_var,
    write,
)

# --- the compiled model ----------------------------------------------------------------------


def test_contract_schema_is_described_by_variables() -> None:
    model = compile_schema(DATA / "web.toml")
    assert issubclass(model, Settings)
    assert (model.__name__, model.__module__) == ("WebSchema", "envguard.schema.toml")
    assert (model.model_config["title"], model.__doc__) == ("web", "The web tier")
    assert model.model_config["case_sensitive"] is False
    assert model.model_config["env_prefix"] == ""
    specs = {spec.name: spec for spec in variables(model)}
    assert list(specs) == [
        "DATABASE_URL",
        "PORT",
        "LOG_LEVEL",
        "SENTRY_DSN",
        "APP_NAME",
        "RATIO",
        "DEBUG",
        "ALLOWED_HOSTS",
        "FEATURES",
        "DATA_DIR",
        "ADMIN_EMAIL",
        "REQUEST_TIMEOUT",
    ]
    assert all(spec.key == spec.name for spec in specs.values())
    assert {name: spec.type for name, spec in specs.items()} == {
        "DATABASE_URL": "url",
        "PORT": "int",
        "LOG_LEVEL": "enum",
        "SENTRY_DSN": "url",
        "APP_NAME": "str",
        "RATIO": "float",
        "DEBUG": "bool",
        "ALLOWED_HOSTS": "list",
        "FEATURES": "json",
        "DATA_DIR": "path",
        "ADMIN_EMAIL": "email",
        "REQUEST_TIMEOUT": "duration",
    }
    db = specs["DATABASE_URL"]
    assert (db.field, db.required, db.default, db.secret, db.is_secret) == (
        "database_url",
        True,
        MISSING,
        True,
        True,
    )
    assert db.description == "Primary database"
    assert db.constraints == {"schemes": ["postgres", "postgresql"]}
    assert (specs["PORT"].required, specs["PORT"].default) == (False, 3000)
    assert specs["PORT"].constraints == {"min": 1, "max": 65535}
    assert specs["LOG_LEVEL"].constraints == {"values": ["debug", "info", "warn", "error"]}
    assert (specs["SENTRY_DSN"].required, specs["SENTRY_DSN"].default) == (False, None)
    assert specs["SENTRY_DSN"].required_in == ("production",)
    assert (specs["APP_NAME"].example, specs["ADMIN_EMAIL"].example) == ("shop", "ops@example.com")
    assert (specs["DEBUG"].secret, specs["DEBUG"].is_secret) == (False, False)
    assert specs["ALLOWED_HOSTS"].constraints == {"min_length": 1}
    assert specs["FEATURES"].default == '{"beta": false}'
    assert specs["ADMIN_EMAIL"].deprecated == "use OPS_EMAIL"
    assert specs["REQUEST_TIMEOUT"].constraints == {"min": "1s", "max": "5m"}
    assert not any(spec.decode_json for spec in specs.values())


def test_contract_schema_validates_raw_strings() -> None:
    model = compile_schema(DATA / "web.toml")
    settings = model.model_validate(
        {
            "DATABASE_URL": "postgres://app:hunter2@db:5432/app",
            "PORT": "8080",
            "LOG_LEVEL": "debug",
            "RATIO": "0.25",
            "DEBUG": "true",
            "ALLOWED_HOSTS": "a.example, b.example",
            "FEATURES": '{"beta": true}',
            "DATA_DIR": "/srv/data",
            "REQUEST_TIMEOUT": "1m30s",
        }
    )
    values = settings.model_dump()
    assert isinstance(values["database_url"], Secret)
    assert str(values["database_url"].get_secret_value()) == "postgres://app:hunter2@db:5432/app"
    assert "hunter2" not in repr(settings)
    assert values | {"database_url": None} == {
        "database_url": None,
        "port": 8080,
        "log_level": "debug",
        "sentry_dsn": None,
        "app_name": "app",
        "ratio": 0.25,
        "debug": True,
        "allowed_hosts": ["a.example", "b.example"],
        "features": {"beta": True},
        "data_dir": pathlib.Path("/srv/data"),
        "admin_email": "admin@example.com",
        "request_timeout": dt.timedelta(seconds=90),
    }


def test_contract_schema_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    model = compile_schema(DATA / "web.toml")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/app")
    monkeypatch.setenv("port", "81")  # names are matched in any letter case
    monkeypatch.setenv("Allowed_Hosts", "x,y")
    monkeypatch.setenv("FEATURES", "[1, 2]")
    monkeypatch.setenv("REQUEST_TIMEOUT", "45")
    values = model().model_dump()
    assert (values["port"], values["allowed_hosts"], values["features"]) == (81, ["x", "y"], [1, 2])
    assert values["request_timeout"] == dt.timedelta(seconds=45)


def test_deprecated_variable_warns_on_attribute_access() -> None:
    model = compile_schema(DATA / "web.toml")
    settings = model.model_validate({"DATABASE_URL": "postgres://db/app"})
    with pytest.warns(DeprecationWarning, match="use OPS_EMAIL"):
        assert settings.admin_email == "admin@example.com"  # type: ignore[attr-defined]


# --- every type and constraint, valid and invalid ----------------------------------------------

URL = "https://example.com/x"

VALID = [
    ("", "hello", "hello"),
    ('min_length = 2\nmax_length = 3\npattern = "^[a-z]+$"', "abc", "abc"),
    ('type = "int"', "3000", 3000),
    ('type = "int"\nmin = 1\nmax = 10', "10", 10),
    ('type = "float"', "1.5", 1.5),
    ('type = "float"\nmin = -1.5\nmax = 1', "-1.5", -1.5),
    ('type = "bool"', "true", True),
    ('type = "bool"', "0", False),
    ('type = "url"', URL, AnyUrl(URL)),
    ('type = "url"\nschemes = ["redis"]', "redis://cache:6379/0", AnyUrl("redis://cache:6379/0")),
    ('type = "enum"\nvalues = ["a", "b"]', "b", "b"),
    ('type = "list"', " a , b ", ["a", "b"]),
    ('type = "list"', "", []),
    ('type = "list"\nitem = "int"\nmin_length = 1\nmax_length = 2', "1,2", [1, 2]),
    ('type = "list"\nitem = "enum"\nvalues = ["x", "y"]', "y,x", ["y", "x"]),
    ('type = "list"\nitem = "url"\nschemes = ["https"]', URL, [AnyUrl(URL)]),
    (
        'type = "list"\nitem = "duration"',
        "1s,1m",
        [dt.timedelta(seconds=1), dt.timedelta(minutes=1)],
    ),
    ('type = "json"', '{"a": [1, null]}', {"a": [1, None]}),
    ('type = "path"', "/tmp/x", pathlib.Path("/tmp/x")),
    ('type = "email"', "ops@example.com", "ops@example.com"),
    ('type = "duration"', "250ms", dt.timedelta(milliseconds=250)),
    ('type = "duration"\nmin = "1s"\nmax = 3600', "1h", dt.timedelta(hours=1)),
]


@pytest.mark.parametrize(("body", "raw", "expected"), VALID)
def test_type_accepts(tmp_path: pathlib.Path, body: str, raw: str, expected: Any) -> None:
    model = one_var(tmp_path, body)
    assert model.model_validate({"X": raw}).model_dump() == {"x": expected}


INVALID = [
    ("min_length = 2", "a", "string_too_short", "String should have at least 2 characters"),
    ("max_length = 2", "abc", "string_too_long", "String should have at most 2 characters"),
    (
        'pattern = "^[a-z]$"',
        "A1",
        "string_pattern_mismatch",
        "String should match pattern '^[a-z]$'",
    ),
    ('type = "int"', "3.5", "int_parsing", INT_PARSING),
    (
        'type = "int"\nmin = 1',
        "0",
        "greater_than_equal",
        "Input should be greater than or equal to 1",
    ),
    ('type = "int"\nmax = 10', "11", "less_than_equal", "Input should be less than or equal to 10"),
    (
        'type = "float"',
        "x",
        "float_parsing",
        "Input should be a valid number, unable to parse string as a number",
    ),
    (
        'type = "float"\nmax = 1',
        "1.01",
        "less_than_equal",
        "Input should be less than or equal to 1",
    ),
    (
        'type = "bool"',
        "maybe",
        "bool_parsing",
        "Input should be a valid boolean, unable to interpret input",
    ),
    (
        'type = "url"',
        "not a url",
        "url_parsing",
        "Input should be a valid URL, relative URL without a base",
    ),
    (
        'type = "url"\nschemes = ["postgres", "postgresql"]',
        URL,
        "url_scheme",
        "URL scheme should be 'postgres' or 'postgresql'",
    ),
    ('type = "enum"\nvalues = ["a", "b"]', "A", "literal_error", "Input should be 'a' or 'b'"),
    ('type = "list"\nitem = "int"', "1,x", "int_parsing", INT_PARSING),
    (
        'type = "list"\nmin_length = 1',
        "",
        "too_short",
        "List should have at least 1 item after validation, not 0",
    ),
    (
        'type = "list"\nmax_length = 1',
        "a,b",
        "too_long",
        "List should have at most 1 item after validation, not 2",
    ),
    ('type = "list"\nitem = "enum"\nvalues = ["x"]', "x,z", "literal_error", "Input should be 'x'"),
    (
        'type = "json"',
        "{",
        "json_invalid",
        "Invalid JSON: EOF while parsing an object at line 1 column 1",
    ),
    (
        'type = "email"',
        "nope",
        "value_error",
        "value is not a valid email address: An email address must have an @-sign.",
    ),
    (
        'type = "duration"',
        "soon",
        "value_error",
        f"Value error, invalid duration 'soon': {DURATION_HINT}",
    ),
    (
        'type = "duration"\nmin = "1s"',
        "500ms",
        "greater_than_equal",
        "Input should be greater than or equal to 1s",
    ),
    (
        'type = "duration"\nmax = "1h"',
        "1h1s",
        "less_than_equal",
        "Input should be less than or equal to 1h",
    ),
]


@pytest.mark.parametrize(("body", "raw", "code", "message"), INVALID)
def test_type_rejects(tmp_path: pathlib.Path, body: str, raw: str, code: str, message: str) -> None:
    model = one_var(tmp_path, body)
    with pytest.raises(ValidationError) as info:
        model.model_validate({"X": raw})
    [error] = info.value.errors(include_input=False)
    assert (error["type"], error["msg"]) == (code, message)
    assert error["loc"][0] == "X"


@pytest.mark.parametrize(
    ("body", "raw", "wrapper"),
    [
        ("secret = true", "s3cret-value", SecretStr),
        ('secret = true\nmin_length = 8\npattern = "^[a-z0-9-]+$"', "s3cret-value", SecretStr),
        ('type = "url"\nsecret = true', "https://u:s3cret-value@host/", Secret),
        ('type = "int"\nsecret = true\nmin = 1', "1234", Secret),
        ('type = "list"\nsecret = true', "s3cret-value,b", Secret),
    ],
)
def test_secret_values_are_masked(
    tmp_path: pathlib.Path, body: str, raw: str, wrapper: type
) -> None:
    model = one_var(tmp_path, body)
    settings = model.model_validate({"X": raw})
    value = settings.model_dump()["x"]
    assert isinstance(value, wrapper)
    assert raw not in repr(settings)
    assert str(value) == "**********"


def test_secret_constraint_failure_never_shows_the_value(tmp_path: pathlib.Path) -> None:
    model = one_var(tmp_path, 'secret = true\nmin_length = 40\npattern = "^[a-z]+$"')
    with pytest.raises(ValidationError) as info:
        model.model_validate({"X": "Sup3rSecretValue!"})
    assert "Sup3rSecretValue!" not in str(info.value)
    assert "Sup3rSecretValue!" not in repr(info.value)
    assert [e["type"] for e in info.value.errors()] == ["string_too_short"]


# --- required, default and required_in ------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "env", "required", "default"),
    [
        ("", None, True, MISSING),
        ('default = "d"', None, False, "d"),
        ('required_in = ["production"]', "production", True, MISSING),
        ('required_in = ["production"]', "staging", False, None),
        ('required_in = ["production"]', None, False, None),
        ('required_in = ["production", "staging"]', "staging", True, MISSING),
        ('required_in = ["production"]\ndefault = "dev"', "production", True, MISSING),
        ('required_in = ["production"]\ndefault = "dev"', "development", False, "dev"),
        ("required_in = []", "production", False, None),
    ],
)
def test_required_default_and_required_in(
    tmp_path: pathlib.Path, body: str, env: str | None, required: bool, default: Any
) -> None:
    model = compile_schema(write(tmp_path, f"[vars.X]\n{body}\n"), env=env)
    [spec] = variables(model)
    assert (spec.required, spec.default) == (required, default)
    if required:
        with pytest.raises(ValidationError) as info:
            model.model_validate({})
        assert [e["type"] for e in info.value.errors()] == ["missing"]
    else:
        assert model.model_validate({}).model_dump() == {"x": default}
        assert model.model_validate({"X": "set"}).model_dump() == {"x": "set"}


# --- names -------------------------------------------------------------------------------------


def test_field_names_are_safe_identifiers(tmp_path: pathlib.Path) -> None:
    path = write(
        tmp_path,
        """
        [vars.PORT]
        [vars.JSON]
        [vars.MODEL_CONFIG]
        [vars.VAR_MODEL_CONFIG]
        [vars.CLASS]
        [vars._PRIVATE]
        """,
        name="my-app.v2.toml",
    )
    model = compile_schema(path)
    assert model.__name__ == "MyAppV2Schema"
    assert model.model_config["title"] == "my-app.v2"
    fields = [(spec.name, spec.field) for spec in variables(model)]
    assert fields == [
        ("PORT", "port"),
        ("JSON", "var_json"),
        ("MODEL_CONFIG", "var_model_config"),
        ("VAR_MODEL_CONFIG", "var_model_config_2"),
        ("CLASS", "var_class"),
        ("_PRIVATE", "var__private"),
    ]
    settings = model.model_validate({name: name.lower() for name, _ in fields})
    assert settings.model_dump()["var_model_config_2"] == "var_model_config"


def test_names_are_matched_in_any_case_and_kept_as_written(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "[vars.DB_HOST]\n[vars.log_level]\ndefault = 'info'\n")
    model = compile_schema(path)
    assert [(spec.name, spec.key, spec.field) for spec in variables(model)] == [
        ("DB_HOST", "DB_HOST", "db_host"),
        ("log_level", "log_level", "log_level"),
    ]
    # As an SSM parameter path or a .env file may spell them.
    resolution = resolve(
        [StaticSource({"db_HOST": "db.internal", "LOG_LEVEL": "debug"}, name="ssm")],
        env="test",
        deadline=5,
    )
    result = validate(model, resolution, env="test")
    assert result.problems == []
    assert result.settings is not None
    assert result.settings.model_dump() == {"db_host": "db.internal", "log_level": "debug"}


def test_names_differing_only_in_case_are_each_reported(tmp_path: pathlib.Path) -> None:
    path = write(
        tmp_path,
        """\
        [vars.PORT]
        type = "int"

        [vars.Port]

        [vars.port]
        type = "integer"
        """,
    )
    with pytest.raises(ProjectError) as info:
        compile_schema(path)
    found = [(p.code, p.key, p.line, p.message) for p in info.value.problems]
    clash = "only in letter case; names are matched case-insensitively"
    assert found == [
        ("schema_duplicate_name", "Port", 4, f"variable 'Port' differs from 'PORT' {clash}"),
        ("schema_duplicate_name", "port", 6, f"variable 'port' differs from 'PORT' {clash}"),
        (
            "schema_unknown_type",
            "port",
            7,
            f"unknown type 'integer' (did you mean 'int'?); accepted: {TYPES}",
        ),
    ]


def test_empty_schema_compiles_to_an_empty_model(tmp_path: pathlib.Path) -> None:
    model = compile_schema(write(tmp_path, "# nothing yet\n"))
    assert variables(model) == ()
    assert model.model_validate({"ANY": "x"}).model_dump() == {}


# --- the compile cache ---------------------------------------------------------------------------


def test_compiled_models_are_cached(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "[vars.X]\n")
    model = compile_schema(path)
    assert compile_schema(path) is model
    assert compile_schema(str(path)) is model
    monkeypatch.chdir(tmp_path)
    assert compile_schema("schema.toml") is model
    assert compile_schema(path, env="production") is not model
    assert compile_schema(path, env="production") is compile_schema(path, env="production")


def test_cache_notices_a_changed_file(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "[vars.X]\n")
    model = compile_schema(path)
    path.write_text("[vars.Y]\n", encoding="utf-8")  # same size: the content tells
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    changed = compile_schema(path)
    assert changed is not model
    assert [spec.name for spec in variables(changed)] == ["Y"]


def test_failed_compiles_are_not_cached(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "[vars.X]\ntype = 'nope'\n")
    for _ in range(2):
        with pytest.raises(ProjectError):
            compile_schema(path)

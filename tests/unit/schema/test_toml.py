"""Compiling TOML schema files: the model, every type and constraint, every bad input."""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import textwrap
from typing import Any

import pytest
from pydantic import AnyUrl, Secret, SecretStr, ValidationError

from envguard.errors import ProjectError
from envguard.schema.fields import MISSING, variables
from envguard.schema.toml import compile_schema
from envguard.settings import Settings

DATA = pathlib.Path(__file__).parents[2] / "data" / "schemas"
VAR_KEYS = (
    "default, deprecated, description, example, item, max, max_length, min, min_length, "
    "pattern, required_in, schemes, secret, type, values"
)
TYPES = "bool, duration, email, enum, float, int, json, list, path, str, url"
ITEM_TYPES = "bool, duration, email, enum, float, int, path, str, url"


def write(tmp_path: pathlib.Path, text: str, name: str = "schema.toml") -> pathlib.Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def one_var(tmp_path: pathlib.Path, body: str, name: str = "X") -> type[Settings]:
    return compile_schema(write(tmp_path, f"[vars.{name}]\n{textwrap.dedent(body)}"))


def problems_of(path: pathlib.Path, env: str | None = None) -> list[tuple[str, str | None, str]]:
    with pytest.raises(ProjectError) as info:
        compile_schema(path, env=env)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    for problem in info.value.problems:
        assert (problem.category, problem.severity) == ("project", "error")
        assert problem.source == problem.file == os.fspath(path)
    return [(p.code, p.key, p.message) for p in info.value.problems]


# --- the compiled model ----------------------------------------------------------------------


def test_contract_schema_is_described_by_variables() -> None:
    model = compile_schema(DATA / "web.toml")
    assert issubclass(model, Settings)
    assert (model.__name__, model.__module__) == ("WebSchema", "envguard.schema.toml")
    assert (model.model_config["title"], model.__doc__) == ("web", "The web tier")
    assert model.model_config["case_sensitive"] is True
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
    monkeypatch.setenv("PORT", "81")
    monkeypatch.setenv("port", "99")  # case-sensitive: not PORT
    monkeypatch.setenv("ALLOWED_HOSTS", "x,y")
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


INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"
DURATION_HINT = (
    "expected a number and a unit (ms, s, m, h, d) such as '30s', '5m', '1h30m', or seconds"
)

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
        [vars.port]
        [vars.JSON]
        [vars.MODEL_CONFIG]
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
        ("port", "port_2"),
        ("JSON", "var_json"),
        ("MODEL_CONFIG", "var_model_config"),
        ("CLASS", "var_class"),
        ("_PRIVATE", "var__private"),
    ]
    settings = model.model_validate({name: name.lower() for name, _ in fields})
    assert settings.model_dump()["port_2"] == "port"


# --- bad schema files ----------------------------------------------------------------------------

BAD = [
    (
        "[vars.PORT]\ntype = 'int'\nmaximum = 3",
        "schema_unknown_key",
        "PORT",
        f"unknown key 'maximum' (did you mean 'max'?); accepted: {VAR_KEYS}",
    ),
    (
        "[vars.PORT]\nzzz = 3",
        "schema_unknown_key",
        "PORT",
        f"unknown key 'zzz'; accepted: {VAR_KEYS}",
    ),
    (
        "varz = 1",
        "schema_unknown_key",
        None,
        "unknown top-level key 'varz' (did you mean 'vars'?); accepted: schema, vars",
    ),
    (
        "[schema]\nnam = 'web'",
        "schema_unknown_key",
        None,
        "unknown key 'nam' in [schema] (did you mean 'name'?); accepted: description, name",
    ),
    (
        "[schema]\ndescription = 3",
        "schema_bad_value",
        None,
        "'schema.description' must be a string, got 3",
    ),
    ("schema = 1", "schema_bad_value", None, "'schema' must be a table, not an integer"),
    ("vars = 'PORT'", "schema_bad_value", None, "'vars' must be a table, not a string"),
    ("[vars]\nPORT = 3", "schema_bad_value", "PORT", "must be a table [vars.PORT], not an integer"),
    (
        "[vars.my-var]",
        "schema_bad_name",
        "my-var",
        "invalid variable name 'my-var': use letters, digits and underscores only,"
        " not starting with a digit",
    ),
    (
        "[vars.X]\ntype = 'integer'",
        "schema_unknown_type",
        "X",
        f"unknown type 'integer' (did you mean 'int'?); accepted: {TYPES}",
    ),
    ("[vars.X]\ntype = 3", "schema_bad_value", "X", "'type' must be a string, got 3"),
    (
        "[vars.X]\ntype = 'list'\nitem = 'integer'",
        "schema_unknown_type",
        "X",
        f"unknown item type 'integer' (did you mean 'int'?); accepted: {ITEM_TYPES}",
    ),
    (
        "[vars.X]\ntype = 'list'\nitem = 'list'",
        "schema_unknown_type",
        "X",
        f"unknown item type 'list'; accepted: {ITEM_TYPES}",
    ),
    (
        "[vars.X]\ntype = 'list'\nitem = 3",
        "schema_unknown_type",
        "X",
        f"unknown item type '3'; accepted: {ITEM_TYPES}",
    ),
    (
        "[vars.X]\ntype = 'int'\nschemes = ['http']",
        "schema_bad_constraint",
        "X",
        "'schemes' does not apply to type 'int' (it applies to: url)",
    ),
    (
        "[vars.X]\nitem = 'int'",
        "schema_bad_constraint",
        "X",
        "'item' does not apply to type 'str' (it applies to: list)",
    ),
    (
        "[vars.X]\ntype = 'bool'\nmin = 1",
        "schema_bad_constraint",
        "X",
        "'min' does not apply to type 'bool' (it applies to: duration, float, int)",
    ),
    (
        "[vars.X]\ntype = 'list'\npattern = 'a'",
        "schema_bad_constraint",
        "X",
        "'pattern' does not apply to type 'list' (it applies to: str)",
    ),
    (
        "[vars.X]\ntype = 'url'\nmin_length = 1",
        "schema_bad_constraint",
        "X",
        "'min_length' does not apply to type 'url' (it applies to: list, str)",
    ),
    (
        "[vars.X]\nvalues = ['a']",
        "schema_bad_constraint",
        "X",
        "'values' does not apply to type 'str' (it applies to: enum)",
    ),
    (
        "[vars.X]\npattern = '('",
        "schema_bad_constraint",
        "X",
        "'pattern' is not a valid regular expression: unclosed group",
    ),
    (
        "[vars.X]\npattern = '(?<=a)b'",
        "schema_bad_constraint",
        "X",
        "'pattern' is not a valid regular expression:"
        " look-around, including look-ahead and look-behind, is not supported",
    ),
    ("[vars.X]\npattern = 3", "schema_bad_constraint", "X", "'pattern' must be a string, got 3"),
    (
        "[vars.X]\ntype = 'int'\nmin = '1'",
        "schema_bad_constraint",
        "X",
        "'min' must be a number, got \"1\"",
    ),
    (
        "[vars.X]\ntype = 'float'\nmax = true",
        "schema_bad_constraint",
        "X",
        "'max' must be a number, got true",
    ),
    (
        "[vars.X]\ntype = 'int'\nmin = 5\nmax = 1",
        "schema_bad_constraint",
        "X",
        "'min' (5) is greater than 'max' (1)",
    ),
    (
        "[vars.X]\nmin_length = -1",
        "schema_bad_constraint",
        "X",
        "'min_length' must be a whole number, 0 or more, got -1",
    ),
    (
        "[vars.X]\nmin_length = 3\nmax_length = 2",
        "schema_bad_constraint",
        "X",
        "'min_length' (3) is greater than 'max_length' (2)",
    ),
    (
        "[vars.X]\ntype = 'duration'\nmin = 'soon'",
        "schema_bad_constraint",
        "X",
        "'min' must be a duration such as '30s', or a number of seconds, got \"soon\"",
    ),
    (
        "[vars.X]\ntype = 'duration'\nmin = '1h'\nmax = 60",
        "schema_bad_constraint",
        "X",
        "'min' (\"1h\") is greater than 'max' (60)",
    ),
    (
        "[vars.X]\ntype = 'enum'",
        "schema_bad_constraint",
        "X",
        "type 'enum' needs 'values', an array of strings",
    ),
    (
        "[vars.X]\ntype = 'list'\nitem = 'enum'",
        "schema_bad_constraint",
        "X",
        "type 'enum' needs 'values', an array of strings",
    ),
    (
        "[vars.X]\ntype = 'enum'\nvalues = []",
        "schema_bad_constraint",
        "X",
        "'values' must be a non-empty array of strings, got []",
    ),
    (
        "[vars.X]\ntype = 'enum'\nvalues = [1, 2]",
        "schema_bad_constraint",
        "X",
        "'values' must hold non-empty strings only, got [1, 2]",
    ),
    (
        "[vars.X]\ntype = 'enum'\nvalues = ['a', 'a']",
        "schema_bad_constraint",
        "X",
        '\'values\' must not repeat a value, got ["a", "a"]',
    ),
    (
        "[vars.X]\ntype = 'url'\nschemes = 'https'",
        "schema_bad_constraint",
        "X",
        "'schemes' must be a non-empty array of strings, got \"https\"",
    ),
    (
        "[vars.X]\nsecret = 'yes'",
        "schema_bad_value",
        "X",
        "'secret' must be true or false, got \"yes\"",
    ),
    ("[vars.X]\ndescription = 1", "schema_bad_value", "X", "'description' must be a string, got 1"),
    (
        "[vars.X]\ndeprecated = 1",
        "schema_bad_value",
        "X",
        "'deprecated' must be true, false or a message, got 1",
    ),
    (
        "[vars.X]\nrequired_in = 'production'",
        "schema_bad_value",
        "X",
        "'required_in' must be an array of environment names, got \"production\"",
    ),
    (
        "[vars.X]\nrequired_in = ['']",
        "schema_bad_value",
        "X",
        "'required_in' must be an array of environment names, got [\"\"]",
    ),
    (
        "[vars.X]\ntype = 'int'\ndefault = 'abc'",
        "schema_bad_default",
        "X",
        f'invalid default "abc": {INT_PARSING}',
    ),
    (
        "[vars.X]\ntype = 'int'\nmax = 65535\ndefault = 70000",
        "schema_bad_default",
        "X",
        "invalid default 70000: Input should be less than or equal to 65535",
    ),
    (
        "[vars.X]\ntype = 'int'\ndefault = true",
        "schema_bad_default",
        "X",
        "invalid default true: Input should be a number, not a boolean",
    ),
    (
        "[vars.X]\ndefault = 8080",
        "schema_bad_default",
        "X",
        "invalid default 8080: Input should be a valid string",
    ),
    (
        "[vars.X]\ntype = 'enum'\nvalues = ['a']\ndefault = 'b'",
        "schema_bad_default",
        "X",
        "invalid default \"b\": Input should be 'a'",
    ),
    (
        "[vars.X]\ntype = 'list'\nitem = 'int'\ndefault = [1, 'x']",
        "schema_bad_default",
        "X",
        f'invalid default [1, "x"]: item 2: {INT_PARSING}',
    ),
    (
        "[vars.X]\ntype = 'duration'\ndefault = 'soon'",
        "schema_bad_default",
        "X",
        f"invalid default \"soon\": Value error, invalid duration 'soon': {DURATION_HINT}",
    ),
    (
        "[vars.X]\ndefault = 1979-05-27",
        "schema_bad_default",
        "X",
        'invalid default "1979-05-27": Input should be a valid string',
    ),
    (
        "[vars.X]\ntype = 'url'\nschemes = ['https']\nexample = 'http://x'",
        "schema_bad_example",
        "X",
        "invalid example \"http://x\": URL scheme should be 'https'",
    ),
    (
        "[vars.X]\nmax_length = 3\ndefault = '" + "x" * 60 + "'",
        "schema_bad_default",
        "X",
        'invalid default "' + "x" * 36 + "...: String should have at most 3 characters",
    ),
]


@pytest.mark.parametrize(("text", "code", "key", "message"), BAD)
def test_bad_schema(
    tmp_path: pathlib.Path, text: str, code: str, key: str | None, message: str
) -> None:
    assert problems_of(write(tmp_path, text)) == [(code, key, message)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "secret = true\nmin_length = 32\ndefault = 'hunter2-short'",
            "String should have at least 32 characters",
        ),
        ("type = 'duration'\nsecret = true\ndefault = 'hunter2'", "Input is not a valid duration"),
        ("secret = 'true'\ndefault = 'hunter2-misspelt'\nmax_length = 3", None),
        ("default = 'hunter2-by-name'\nmax_length = 3", "String should have at most 3 characters"),
    ],
)
def test_bad_default_of_a_secret_is_never_shown(
    tmp_path: pathlib.Path, body: str, message: str | None
) -> None:
    path = write(tmp_path, f"[vars.API_TOKEN]\n{body}\n")
    with pytest.raises(ProjectError) as info:
        compile_schema(path)
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(info.value)
    assert all("hunter2" not in str(p.to_dict()) for p in info.value.problems)
    if message is not None:
        [problem] = info.value.problems
        assert problem.message == f"invalid default (hidden: the variable is secret): {message}"


def test_bad_default_of_a_declared_public_value_is_shown(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "[vars.API_TOKEN]\nsecret = false\ndefault = 'public'\nmax_length = 3\n")
    assert problems_of(path) == [
        (
            "schema_bad_default",
            "API_TOKEN",
            'invalid default "public": String should have at most 3 characters',
        )
    ]


def test_every_problem_is_reported_at_once_with_its_line(tmp_path: pathlib.Path) -> None:
    path = write(
        tmp_path,
        """\
        varz = 1

        [vars.PORT]
        type = "int"
        maximum = 3

        [vars.LEVEL]
        type = "enum"
        values = ["a"]
        default = "b"

        [vars.DSN]
        "type" = "uri"
        """,
    )
    with pytest.raises(ProjectError) as info:
        compile_schema(path)
    found = [(p.code, p.key, p.line) for p in info.value.problems]
    assert found == [
        ("schema_unknown_key", None, 1),
        ("schema_unknown_key", "PORT", 5),
        ("schema_bad_default", "LEVEL", 10),
        ("schema_unknown_type", "DSN", 13),
    ]
    assert str(info.value).splitlines()[:3] == [
        "invalid configuration: 4 problems",
        "  error: unknown top-level key 'varz' (did you mean 'vars'?); accepted: schema, vars"
        f" ({path})",
        f"  error: PORT: unknown key 'maximum' (did you mean 'max'?); accepted: {VAR_KEYS}"
        f" ({path})",
    ]
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("[vars.X]\ntype = \n", "invalid TOML at line 2, column 8: Invalid value", 2, 8),
        ("[vars.X]\n[vars.X]\n", "invalid TOML at line 2, column 8: Cannot declare ('vars', 'X') twice", 2, 8),  # noqa: E501
        ("[vars.X]\ntype = [\n", "invalid TOML at end of document: Invalid value", 2, None),
        ('a = "\\q"', "invalid TOML at line 1, column 8: Unescaped '\\' in a string", 1, 8),
    ],
)  # fmt: skip
def test_malformed_toml_names_line_and_column(
    tmp_path: pathlib.Path, text: str, message: str, line: int, column: int | None
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ProjectError) as info:
        compile_schema(path)
    [problem] = info.value.problems
    assert (problem.code, problem.key, problem.message) == ("schema_syntax", None, message)
    assert (problem.file, problem.line, problem.column) == (str(path), line, column)


def test_non_utf8_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[vars.X]\ndescription = "caf\xe9"\n')
    assert problems_of(path) == [
        (
            "schema_unreadable",
            None,
            "schema file is not valid UTF-8 (byte 0xe9 at line 2, column 19)",
        )
    ]


def test_utf8_bom_is_accepted(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b'\xef\xbb\xbf[vars.X]\ndescription = "caf\xc3\xa9"\n')
    assert variables(compile_schema(path))[0].description == "café"


def test_missing_file_and_directory(tmp_path: pathlib.Path) -> None:
    assert problems_of(tmp_path / "nope.toml") == [
        ("schema_not_found", None, "schema file not found")
    ]
    assert problems_of(tmp_path) == [
        ("schema_unreadable", None, "schema path is a directory, not a file")
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_special_file_is_not_opened(tmp_path: pathlib.Path) -> None:
    fifo = tmp_path / "schema.toml"
    os.mkfifo(fifo)
    assert problems_of(fifo) == [("schema_unreadable", None, "schema path is not a regular file")]


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
    path.write_text("[vars.Y]\n", encoding="utf-8")  # same size: only mtime tells
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

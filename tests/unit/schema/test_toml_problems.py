"""Bad TOML schema files: every problem, with its code, variable, exact message and line."""

from __future__ import annotations

import os
import pathlib

import pytest

from envguard.errors import ProjectError
from envguard.schema.fields import variables
from envguard.schema.toml import compile_schema
from tests.unit.schema._helpers import (
    DURATION_HINT,
    INT_PARSING,
    ITEM_TYPES,
    TYPES,
    VAR_KEYS,
    problems_of,
    write,
)

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

# TOML has inf and nan; a bound or default must be a finite number (pydantic crashed on an
# infinite int bound, and a nan bound rejected every value).
NON_FINITE = [
    (
        "[vars.X]\ntype = 'int'\nmin = inf",
        "schema_bad_constraint",
        "X",
        "'min' must be a finite number, got inf",
    ),
    (
        "[vars.X]\ntype = 'int'\nmin = nan",
        "schema_bad_constraint",
        "X",
        "'min' must be a finite number, got nan",
    ),
    (
        "[vars.X]\ntype = 'int'\nmax = -inf",
        "schema_bad_constraint",
        "X",
        "'max' must be a finite number, got -inf",
    ),
    (
        "[vars.X]\ntype = 'float'\nmax = nan",
        "schema_bad_constraint",
        "X",
        "'max' must be a finite number, got nan",
    ),
    (
        "[vars.X]\ntype = 'float'\nmin = -inf\nmax = 1",
        "schema_bad_constraint",
        "X",
        "'min' must be a finite number, got -inf",
    ),
    (
        "[vars.X]\ntype = 'duration'\nmax = inf",
        "schema_bad_constraint",
        "X",
        "'max' must be a finite number, got inf",
    ),
    (
        "[vars.X]\ntype = 'duration'\nmin = nan",
        "schema_bad_constraint",
        "X",
        "'min' must be a finite number, got nan",
    ),
    (
        "[vars.X]\ntype = 'int'\nmin = 1.5",
        "schema_bad_constraint",
        "X",
        "'min' must be a whole number for type 'int', got 1.5",
    ),
    (
        "[vars.X]\ntype = 'float'\nmax = 1" + "0" * 400,
        "schema_bad_constraint",
        "X",
        "'max' is out of range for type 'float', got 1" + "0" * 36 + "...",
    ),
    (
        "[vars.X]\ntype = 'float'\ndefault = nan",
        "schema_bad_default",
        "X",
        "invalid default nan: Input should be a finite number",
    ),
    (
        "[vars.X]\ntype = 'float'\ndefault = -inf",
        "schema_bad_default",
        "X",
        "invalid default -inf: Input should be a finite number",
    ),
    (
        "[vars.X]\ntype = 'float'\ndefault = 'Infinity'",
        "schema_bad_default",
        "X",
        'invalid default "Infinity": Input should be a finite number',
    ),
    (
        "[vars.X]\ntype = 'int'\ndefault = inf",
        "schema_bad_default",
        "X",
        "invalid default inf: Input should be a finite number",
    ),
    (
        "[vars.X]\ntype = 'duration'\ndefault = inf",
        "schema_bad_default",
        "X",
        "invalid default inf: Value error, invalid duration 'inf': out of range",
    ),
    (
        "[vars.X]\ntype = 'list'\nitem = 'float'\ndefault = [1.0, nan]",
        "schema_bad_default",
        "X",
        "invalid default [1.0, nan]: item 2: Input should be a finite number",
    ),
    (
        "[vars.X]\ntype = 'list'\nitem = 'float'\ndefault = '1, nan'",
        "schema_bad_default",
        "X",
        'invalid default "1, nan": item 2: Input should be a finite number',
    ),
    (
        "[vars.X]\ntype = 'json'\ndefault = { ratio = nan }",
        "schema_bad_default",
        "X",
        'invalid default {"ratio": nan}: Input should be a finite number',
    ),
    (
        "[vars.X]\ntype = 'float'\nexample = inf",
        "schema_bad_example",
        "X",
        "invalid example inf: Input should be a finite number",
    ),
]

DUPLICATE = (
    "[vars.PORT]\n[vars.port]",
    "schema_duplicate_name",
    "port",
    "variable 'port' differs from 'PORT' only in letter case; names are matched case-insensitively",
)


@pytest.mark.parametrize(("text", "code", "key", "message"), [*BAD, *NON_FINITE, DUPLICATE])
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
        "invalid project or schema: 4 problems",
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

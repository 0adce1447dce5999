"""Shared helpers of the TOML schema tests: writing a schema, collecting its problems."""

from __future__ import annotations

import os
import pathlib
import textwrap

import pytest

from envguard.errors import ProjectError
from envguard.schema.toml import compile_schema
from envguard.settings import Settings

DATA = pathlib.Path(__file__).parents[2] / "data" / "schemas"
VAR_KEYS = (
    "default, deprecated, description, example, item, max, max_length, min, min_length, "
    "pattern, required_in, schemes, secret, type, values"
)
TYPES = "bool, duration, email, enum, float, int, json, list, path, str, url"
ITEM_TYPES = "bool, duration, email, enum, float, int, path, str, url"
INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"
DURATION_HINT = (
    "expected a number and a unit (ms, s, m, h, d) such as '30s', '5m', '1h30m', or seconds"
)


def write(tmp_path: pathlib.Path, text: str, name: str = "schema.toml") -> pathlib.Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def one_var(tmp_path: pathlib.Path, body: str, name: str = "X") -> type[Settings]:
    return compile_schema(write(tmp_path, f"[vars.{name}]\n{textwrap.dedent(body)}"))


def problems_of(path: pathlib.Path, env: str | None = None) -> list[tuple[str, str | None, str]]:
    """The ``(code, key, message)`` of each problem; every problem names ``path``."""
    with pytest.raises(ProjectError) as info:
        compile_schema(path, env=env)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    for problem in info.value.problems:
        assert (problem.category, problem.severity) == ("project", "error")
        assert problem.source == problem.file == os.fspath(path)
    return [(p.code, p.key, p.message) for p in info.value.problems]

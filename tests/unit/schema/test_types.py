"""Durations and comma-separated lists, alone and inside settings classes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import Field, TypeAdapter, ValidationError

from envguard.schema.fields import variables
from envguard.schema.types import (
    CommaList,
    Duration,
    comma_list,
    format_duration,
    parse_duration,
    split_comma,
)
from envguard.settings import Settings

HINT = "expected a number and a unit (ms, s, m, h, d) such as '30s', '5m', '1h30m', or seconds"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("30s", dt.timedelta(seconds=30)),
        ("5m", dt.timedelta(minutes=5)),
        ("1h30m", dt.timedelta(hours=1, minutes=30)),
        ("30m1h", dt.timedelta(hours=1, minutes=30)),
        ("250ms", dt.timedelta(milliseconds=250)),
        ("1s500ms", dt.timedelta(seconds=1, milliseconds=500)),
        ("2d", dt.timedelta(days=2)),
        ("1.5h", dt.timedelta(minutes=90)),
        ("0", dt.timedelta()),
        ("45", dt.timedelta(seconds=45)),
        ("  10s\n", dt.timedelta(seconds=10)),
        (b"5s", dt.timedelta(seconds=5)),
        (30, dt.timedelta(seconds=30)),
        (2.5, dt.timedelta(seconds=2.5)),
        (dt.timedelta(days=1), dt.timedelta(days=1)),
    ],
)
def test_parse_duration_accepts(raw: Any, expected: dt.timedelta) -> None:
    assert parse_duration(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", f"invalid duration '': {HINT}"),
        ("abc", f"invalid duration 'abc': {HINT}"),
        ("5x", f"invalid duration '5x': {HINT}"),
        ("-5s", f"invalid duration '-5s': {HINT}"),
        ("5 s", f"invalid duration '5 s': {HINT}"),
        ("1H", f"invalid duration '1H': {HINT}"),
        ("s", f"invalid duration 's': {HINT}"),
        ("1.s", f"invalid duration '1.s': {HINT}"),
        ("PT30S", f"invalid duration 'PT30S': {HINT}"),
        ("x" * 25, f"invalid duration (25 characters): {HINT}"),
        ("9" * 5000, f"invalid duration (5000 characters): {HINT}"),
        ("999999999999d", "invalid duration '999999999999d': out of range"),
        (float("inf"), "invalid duration 'inf': out of range"),
        (float("nan"), "invalid duration 'nan': out of range"),
        (True, f"invalid duration: {HINT}"),
        (None, f"invalid duration: {HINT}"),
        ([1], f"invalid duration: {HINT}"),
    ],
)
def test_parse_duration_rejects(raw: Any, message: str) -> None:
    with pytest.raises(ValueError, match=r"^invalid duration") as info:
        parse_duration(raw)
    assert str(info.value) == message
    assert info.value.__context__ is None


def test_duration_in_pydantic_reports_a_value_error() -> None:
    adapter: TypeAdapter[dt.timedelta] = TypeAdapter(Duration)
    assert adapter.validate_python("1h") == dt.timedelta(hours=1)
    assert adapter.validate_json('"2m"') == dt.timedelta(minutes=2)
    with pytest.raises(ValidationError) as info:
        adapter.validate_python("soon")
    [error] = info.value.errors(include_input=False)
    assert error["type"] == "value_error"
    assert error["msg"] == f"Value error, invalid duration 'soon': {HINT}"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.timedelta(), "0s"),
        (dt.timedelta(seconds=30), "30s"),
        (dt.timedelta(minutes=90), "1h30m"),
        (dt.timedelta(days=2, seconds=1), "2d1s"),
        (dt.timedelta(milliseconds=250), "250ms"),
        (dt.timedelta(seconds=-5), "-5s"),
    ],
)
def test_format_duration_round_trips(value: dt.timedelta, text: str) -> None:
    assert format_duration(value) == text
    if value >= dt.timedelta():
        assert parse_duration(text) == value


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", []),
        ("   ", []),
        ("a", ["a"]),
        ("a, b ,c", ["a", "b", "c"]),
        ("a,,b,", ["a", "b"]),
        (b"x,y", ["x", "y"]),
        (["kept", " as is "], ["kept", " as is "]),
        (None, None),
    ],
)
def test_split_comma(raw: Any, expected: Any) -> None:
    assert split_comma(raw) == expected


@pytest.mark.parametrize(
    ("item", "raw", "expected"),
    [
        (str, "a, b", ["a", "b"]),
        (int, "1,2, 3", [1, 2, 3]),
        (float, "1.5", [1.5]),
        (bool, "true,0", [True, False]),
        (Duration, "1s, 2m", [dt.timedelta(seconds=1), dt.timedelta(minutes=2)]),
        (int, "", []),
        (int, [4, "5"], [4, 5]),
    ],
)
def test_comma_list_validates_items(item: Any, raw: Any, expected: list[Any]) -> None:
    adapter: TypeAdapter[list[Any]] = TypeAdapter(comma_list(item))
    assert adapter.validate_python(raw) == expected


@pytest.mark.parametrize(
    ("bounds", "raw", "error"),
    [
        ({"min_length": 1}, "a", None),
        ({"min_length": 1}, "", "List should have at least 1 item after validation, not 0"),
        ({"max_length": 2}, "a,b", None),
        ({"max_length": 2}, "a,b,c", "List should have at most 2 items after validation, not 3"),
        (
            {"min_length": 2, "max_length": 2},
            "a",
            "List should have at least 2 items after validation, not 1",
        ),
    ],
)
def test_comma_list_bounds(bounds: dict[str, int], raw: str, error: str | None) -> None:
    adapter: TypeAdapter[list[str]] = TypeAdapter(comma_list(str, **bounds))
    if error is None:
        assert adapter.validate_python(raw) == split_comma(raw)
        return
    with pytest.raises(ValidationError) as info:
        adapter.validate_python(raw)
    assert [e["msg"] for e in info.value.errors()] == [error]


def test_comma_list_item_errors_point_at_the_item() -> None:
    with pytest.raises(ValidationError) as info:
        TypeAdapter(CommaList[int]).validate_python("1,x")
    [error] = info.value.errors(include_input=False)
    assert (error["type"], error["loc"]) == ("int_parsing", (1,))


class _PythonSchema(Settings):
    timeout: Duration = dt.timedelta(seconds=30)
    hosts: CommaList[str] = Field(default_factory=list)
    ports: comma_list(int, max_length=3) = Field(default_factory=list)  # type: ignore[valid-type]


def test_types_work_in_a_python_settings_class(monkeypatch: pytest.MonkeyPatch) -> None:
    # NoDecode matters here: without it pydantic-settings would JSON-decode "a, b" and fail.
    monkeypatch.setenv("TIMEOUT", "1h30m")
    monkeypatch.setenv("HOSTS", "a.example, b.example")
    monkeypatch.setenv("PORTS", "80,443")
    settings = _PythonSchema()
    assert settings.timeout == dt.timedelta(hours=1, minutes=30)
    assert settings.hosts == ["a.example", "b.example"]
    assert settings.ports == [80, 443]
    assert _PythonSchema.model_validate({"hosts": ""}).hosts == []
    with pytest.raises(ValidationError) as info:
        _PythonSchema.model_validate({"ports": "1,2,3,4"})
    [error] = info.value.errors(include_input=False)
    assert (error["type"], error["msg"]) == (
        "too_long",
        "List should have at most 3 items after validation, not 4",
    )


def test_types_are_described_by_variables() -> None:
    specs = {spec.name: spec for spec in variables(_PythonSchema)}
    assert (specs["TIMEOUT"].type, specs["HOSTS"].type, specs["PORTS"].type) == (
        "duration",
        "list",
        "list",
    )
    assert specs["PORTS"].constraints == {"max_length": 3}
    assert not any(spec.decode_json for spec in specs.values())

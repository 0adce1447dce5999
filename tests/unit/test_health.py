"""``health()``: a value-free summary for a ``/health/detailed`` endpoint, and it never raises."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

import envguard
from envguard import health

CANARY = "CANARY-health-3b8e"


class Settings(envguard.Settings):
    model_config = SettingsConfigDict(extra="ignore")  # EXTRA below is a warning

    port: int = 3000
    api_token: SecretStr = Field(min_length=8)
    region: str = "eu"

    @field_validator("region")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in {"eu", "us"}:
            raise ValueError(f"unknown region {value!r}")  # echoes the value: never shown
        return value


PROJECT = f"""\
schema = "{__name__}:Settings"
default_env = "ok"

[env.ok]
sources = [{{ static = {{ API_TOKEN = "{CANARY}", PORT = "8080" }}, name = "fixtures" }}]

[env.invalid]
sources = [
  {{ static = {{ API_TOKEN = "CANARY!", REGION = "{CANARY}", EXTRA = "x" }}, \
name = "fixtures" }},
]

[env.unread]
sources = [
  {{ dotenv = "missing.env" }},
  {{ static = {{ API_TOKEN = "{CANARY}" }}, name = "fixtures" }},
]
"""


@pytest.fixture(autouse=True)
def project(project_dir: Path) -> Path:
    (project_dir / "envguard.toml").write_text(PROJECT)
    return project_dir


def _without_latency(result: dict[str, Any]) -> dict[str, Any]:
    for source in result["sources"]:
        assert isinstance(source.pop("latency_ms"), float)
    return result


def test_ok() -> None:
    result = health()
    assert result["sources"][0]["latency_ms"] >= 0
    assert _without_latency(result) == {
        "status": "ok",
        "env": "ok",
        "schema": "Settings",
        "problems": 0,
        "warnings": 0,
        "codes": [],
        "sources": [{"source": "fixtures", "kind": "static", "ok": True, "code": None}],
    }


def test_invalid_configuration_is_degraded() -> None:
    result = health(env="invalid")
    assert _without_latency(result) == {
        "status": "degraded",
        "env": "invalid",
        "schema": "Settings",
        "problems": 2,
        "warnings": 1,
        "codes": ["too_short", "value_error"],
        "sources": [{"source": "fixtures", "kind": "static", "ok": True, "code": None}],
    }


def test_an_unreadable_source_is_degraded() -> None:
    result = _without_latency(health(env="unread", timeout=5))
    assert result["status"] == "degraded"
    assert [(s["source"], s["ok"]) for s in result["sources"]] == [
        ("dotenv missing.env", False),
        ("fixtures", True),
    ]
    code = result["sources"][0]["code"]
    assert isinstance(code, str)
    assert result["codes"] == [code]


def test_a_project_error_is_an_error_status_not_an_exception() -> None:
    assert health(env="nope") == {
        "status": "error",
        "env": "nope",  # the environment asked for, though it does not exist
        "schema": None,
        "problems": 1,
        "warnings": 0,
        "codes": ["unknown_env"],
        "sources": [],
    }


def test_a_broken_project_file_names_the_environment_asked_for(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "envguard.toml").write_text("schema = \n")
    assert health()["env"] is None  # none asked for, and no project to read a default from
    monkeypatch.setenv("ENVGUARD_ENV", "ok")
    assert (health()["status"], health()["env"]) == ("error", "ok")


@pytest.mark.parametrize("timeout", [float("inf"), float("-inf"), float("nan")])
def test_a_timeout_that_is_not_finite_is_an_error_status(timeout: float) -> None:
    """Not clamped: inf is a caller's mistake (threading cannot wait that long), so no
    source is read and the result says why, without raising."""
    assert health(env="unread", timeout=timeout) == {
        "status": "error",
        "env": "unread",
        "schema": None,
        "problems": 1,
        "warnings": 0,
        "codes": ["timeout_invalid"],
        "sources": [],
    }


def test_sources_carry_latency_not_keys() -> None:
    (source,) = health()["sources"]
    assert sorted(source) == ["code", "kind", "latency_ms", "ok", "source"]


def test_a_schema_class_and_a_project_path(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project.parent)
    result = health(Settings, env="ok", project=project / "envguard.toml")
    assert (result["status"], result["schema"]) == ("ok", "Settings")


@pytest.mark.parametrize("env", ["ok", "invalid", "unread", "nope"])
def test_json_ready_and_the_canary_never_appears(env: str) -> None:
    text = json.dumps(health(env=env), sort_keys=True)
    assert "CANARY" not in text  # neither the token, nor the short invalid one, nor REGION

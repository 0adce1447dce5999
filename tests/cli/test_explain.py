"""``envguard explain``: origins, overridden sources, schema entries, and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

import envguard
from envguard.engine import evaluate
from tests.cli.conftest import Runner

TOKEN_CANARY = "CANARY-explain-token-41d9"
OLD_TOKEN_CANARY = "CANARY-explain-old-token-77b0"


class Settings(envguard.Settings):
    model_config = SettingsConfigDict(env_prefix="APP_", extra="ignore")

    port: int = Field(3000, ge=1, le=65535, description="HTTP port")
    api_token: SecretStr = Field(min_length=8, description="Calls the billing API")
    region: str = Field(examples=["eu-west-1"], pattern=r"^[a-z]{2}-[a-z]+-\d$")


class CaseSensitive(envguard.Settings):
    model_config = SettingsConfigDict(case_sensitive=True)

    Port: int = 3000


PROJECT = f"""\
schema = "{__name__}:Settings"
default_env = "dev"

[env.dev]
sources = [
  {{ static = {{ APP_PORT = "8000", APP_API_TOKEN = "{OLD_TOKEN_CANARY}" }}, name = "base" }},
  {{ static = {{ APP_PORT = "8080", APP_API_TOKEN = "{TOKEN_CANARY}", APP_MODE = "blue" }}, \
name = "fixtures" }},
  {{ env = true }},
]

[env.unread]
sources = [
  {{ dotenv = "missing.env" }},
  {{ static = {{ APP_API_TOKEN = "{TOKEN_CANARY}" }}, name = "fixtures" }},
]
"""


@pytest.fixture(autouse=True)
def project(project_dir: Path) -> Path:
    (project_dir / "envguard.toml").write_text(PROJECT)
    return project_dir


def test_winner_and_overridden_sources_in_precedence_order(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_PORT", "9000")
    result = cli(["explain", "APP_PORT"])
    assert result.code == 0
    assert result.err == ""
    assert result.out == (
        "APP_PORT in environment 'dev'\n"
        "  status:      valid\n"
        "  value:       9000\n"
        "  origin:      env\n"
        "  overridden:  base      8000\n"
        "               fixtures  8080\n"
        "schema:\n"
        "  type:        int\n"
        "  required:    no\n"
        "  default:     3000\n"
        "  constraints: min=1, max=65535\n"
        "  description: HTTP port\n"
        "  secret:      no\n"
    )


def test_secret_values_are_masked_in_every_source(cli: Runner) -> None:
    result = cli(["explain", "app_api_token", "dev"])  # matched case-insensitively
    assert result.code == 0
    assert result.out == (
        "APP_API_TOKEN in environment 'dev'\n"
        "  status:      valid\n"
        "  value:       ********\n"
        "  origin:      fixtures\n"
        "  overridden:  base  ********\n"
        "schema:\n"
        "  type:        str\n"
        "  required:    yes\n"
        "  constraints: min_length=8\n"
        "  description: Calls the billing API\n"
        "  secret:      yes\n"
    )


def test_a_missing_required_variable(cli: Runner) -> None:
    result = cli(["explain", "APP_REGION"])
    assert result.code == 0
    assert result.out == (
        "APP_REGION in environment 'dev'\n"
        "  status:      missing\n"
        "  value:       (not set)\n"
        "  origin:      -\n"
        "  overridden:  (none)\n"
        "  problem:     error: required, but not set by any source\n"
        "schema:\n"
        "  type:        str\n"
        "  required:    yes\n"
        "  constraints: pattern=^[a-z]{2}-[a-z]+-\\d$\n"
        "  description: (none)\n"
        "  secret:      no\n"
        "  example:     eu-west-1\n"
    )


def test_an_undeclared_key_set_by_a_source(cli: Runner) -> None:
    result = cli(["explain", "APP_MODE"])
    assert result.code == 0
    assert result.out == (
        "APP_MODE in environment 'dev'\n"
        "  status:      undeclared\n"
        "  value:       blue\n"
        "  origin:      fixtures\n"
        "  overridden:  (none)\n"
        "  problem:     warning: is not declared in the schema (did you mean APP_PORT?) "
        "(fixtures)\n"
        "schema: not declared\n"
    )


def test_json_is_complete(cli: Runner) -> None:
    result = cli(["explain", "APP_API_TOKEN", "--format", "json"])
    assert result.code == 0
    assert result.err == ""
    expected: dict[str, Any] = {
        "env": "dev",
        "key": "APP_API_TOKEN",
        "set_as": ["APP_API_TOKEN"],
        "exit_code": 0,
        "status": "valid",
        "secret": True,
        "masked": None,
        "value": "********",
        "origin": "fixtures",
        "overridden": [{"origin": "base", "value": "********"}],
        "problems": [],
        "schema": {
            "type": "str",
            "required": True,
            "default": None,
            "constraints": {"min_length": 8},
            "description": "Calls the billing API",
            "secret": True,
            "aliases": [],
            "example": None,
            "deprecated": None,
            "required_in": None,
        },
    }
    assert result.out == json.dumps(expected, sort_keys=True, indent=2) + "\n"


def test_an_unknown_variable_exits_2_with_a_suggestion(cli: Runner) -> None:
    result = cli(["explain", "APP_PROT"])
    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        "envguard: error: APP_PROT is not declared in the schema of environment 'dev' "
        "and no source sets it (did you mean APP_PORT?)\n"
    )


def test_an_unknown_variable_in_json(cli: Runner) -> None:
    result = cli(["explain", "NOPE_NOTHING_LIKE_IT", "-f", "json"])
    assert result.code == 2
    payload = json.loads(result.out)
    assert payload["exit_code"] == 2
    assert [p["code"] for p in payload["problems"]] == ["unknown_variable"]


def test_a_case_sensitive_schema_matches_exactly(
    cli: Runner, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = PROJECT.replace(":Settings", ":CaseSensitive")
    (project_dir / "envguard.toml").write_text(project)
    monkeypatch.delenv("PORT", raising=False)
    assert cli(["explain", "Port"]).code == 0
    result = cli(["explain", "PORT"])
    assert result.code == 2
    assert result.err.endswith("(did you mean Port?)\n")


def test_an_unreadable_source_exits_3(cli: Runner) -> None:
    result = cli(["explain", "APP_API_TOKEN", "unread"])
    assert result.code == 3
    assert result.out == (
        "APP_API_TOKEN in environment 'unread'\n"
        "  status:      valid\n"
        "  value:       ********\n"
        "  origin:      fixtures\n"
        "  overridden:  (none)\n"
        "schema:\n"
        "  type:        str\n"
        "  required:    yes\n"
        "  constraints: min_length=8\n"
        "  description: Calls the billing API\n"
        "  secret:      yes\n"
    )
    (unread,) = [p for p in evaluate(env="unread").problems if p.category == "source"]
    assert result.err == (
        f"could not read a source for environment 'unread': 1 problem\n  error: {unread}\n"
    )


def test_an_unknown_variable_with_an_unreadable_source_exits_3(cli: Runner) -> None:
    result = cli(["explain", "APP_PROT", "unread"])
    assert result.code == 3
    assert "did you mean APP_PORT?" in result.err


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("var", ["APP_API_TOKEN", "APP_PORT", "APP_COPY", "APP_NOPE"])
@pytest.mark.parametrize("env", ["dev", "unread"])
def test_canary_never_appears(
    cli: Runner, monkeypatch: pytest.MonkeyPatch, env: str, var: str, fmt: str
) -> None:
    monkeypatch.setenv("APP_COPY", f"copy of {TOKEN_CANARY}")
    monkeypatch.setenv("APP_API_TOKEN", "short")  # invalid: too short, overrides both
    result = cli(["explain", var, env, "--format", fmt])
    for canary in (TOKEN_CANARY, OLD_TOKEN_CANARY):
        assert canary not in result.out
        assert canary not in result.err

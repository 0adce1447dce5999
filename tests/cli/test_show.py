"""``envguard show``: whole outputs, exit codes, masking, and a canary that never leaks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

import envguard
from envguard.engine import evaluate
from tests.cli.conftest import Runner

DB_CANARY = "CANARY-show-db-5f1c"
TOKEN_CANARY = "CANARY-show-token-8e27"


class Settings(envguard.Settings):
    model_config = SettingsConfigDict(env_prefix="APP_", extra="ignore")

    database_url: str = Field(description="Primary database", json_schema_extra={"secret": True})
    port: int = Field(3000, ge=1, le=65535)
    log_level: Literal["debug", "info"] = "info"
    api_token: SecretStr
    debug: bool = False


PROJECT = f"""\
schema = "{__name__}:Settings"
default_env = "dev"

[env.dev]
sources = [
  {{ static = {{ APP_DATABASE_URL = "postgres://app:{DB_CANARY}@db/app", \
APP_API_TOKEN = "{TOKEN_CANARY}", APP_PORT = "8080" }}, name = "fixtures" }},
  {{ env = true }},
]

[env.broken]
sources = [
  {{ static = {{ APP_PORT = "http", APP_API_TOKEN = "{TOKEN_CANARY}", \
APP_NOTE = "token={TOKEN_CANARY}", app_extra = "a\\tb" }}, name = "fixtures" }},
  {{ env = true }},
]

[env.unread]
sources = [
  {{ dotenv = "missing.env" }},
  {{ static = {{ APP_DATABASE_URL = "postgres://db/app", APP_API_TOKEN = "{TOKEN_CANARY}" }}, \
name = "fixtures" }},
]
"""


@pytest.fixture(autouse=True)
def project(project_dir: Path) -> Path:
    (project_dir / "envguard.toml").write_text(PROJECT)
    return project_dir


def test_text_lists_schema_keys_and_prefixed_env_keys(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_PORT", "9000")  # the env source comes last: it wins
    monkeypatch.setenv("APP_EXTRA", "x")  # undeclared, carries the prefix: shown
    monkeypatch.setenv("UNRELATED_TOKEN", TOKEN_CANARY)  # no prefix: not shown
    result = cli(["show", "dev"])
    assert result.code == 0
    assert result.err == ""
    assert result.out == (
        "KEY               STATUS      ORIGIN    VALUE\n"
        "APP_DATABASE_URL  valid       fixtures  ********\n"
        "APP_PORT          valid       env       9000\n"
        "APP_LOG_LEVEL     default     -         (not set, default: info)\n"
        "APP_API_TOKEN     valid       fixtures  ********\n"
        "APP_DEBUG         default     -         (not set, default: false)\n"
        "APP_EXTRA         undeclared  env       x\n"
    )


def test_default_env_is_used_without_an_argument(cli: Runner) -> None:
    assert cli(["show"]).out == cli(["show", "dev"]).out


def test_invalid_keys_are_marked_and_problems_go_to_stderr(cli: Runner) -> None:
    result = cli(["show", "broken"])
    assert result.code == 0
    assert result.out == (
        "KEY               STATUS      ORIGIN    VALUE\n"
        "APP_DATABASE_URL  missing     -         (not set, required)\n"
        "APP_PORT          invalid     fixtures  http\n"
        "APP_LOG_LEVEL     default     -         (not set, default: info)\n"
        "APP_API_TOKEN     valid       fixtures  ********\n"
        "APP_DEBUG         default     -         (not set, default: false)\n"
        "APP_NOTE          undeclared  fixtures  token=********\n"
        "app_extra         undeclared  fixtures  a\\tb\n"
    )
    assert result.err == (
        "invalid configuration for environment 'broken': 2 problems, 2 warnings\n"
        "  error: APP_DATABASE_URL: required, but not set by any source\n"
        "  error: APP_PORT: Input should be a valid integer, unable to parse string as an "
        "integer (fixtures)\n"
        "  warning: APP_NOTE: is not declared in the schema (did you mean APP_PORT?) (fixtures)\n"
        "  warning: app_extra: is not declared in the schema (fixtures)\n"
    )


def test_an_unreadable_source_exits_3_and_still_shows_the_rest(cli: Runner) -> None:
    result = cli(["show", "unread"])
    assert result.code == 3
    assert result.out == (
        "KEY               STATUS   ORIGIN    VALUE\n"
        "APP_DATABASE_URL  valid    fixtures  ********\n"
        "APP_PORT          default  -         (not set, default: 3000)\n"
        "APP_LOG_LEVEL     default  -         (not set, default: info)\n"
        "APP_API_TOKEN     valid    fixtures  ********\n"
        "APP_DEBUG         default  -         (not set, default: false)\n"
    )
    (unread,) = evaluate(env="unread").problems  # the dotenv source's own wording
    assert unread.source == "dotenv missing.env"
    assert result.err == (
        f"could not read a source for environment 'unread': 1 problem\n  error: {unread}\n"
    )


def _entry(key: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "key": key,
        "variable": key,  # the schema's name; "key" is the spelling a source used
        "declared": True,
        "secret": False,
        "status": "valid",
        "origin": "fixtures",
        "problems": [],
        "required": False,
        "default": None,
    }
    return base | fields


def test_json_is_complete_and_byte_stable(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_PORT", "9000")
    result = cli(["show", "dev", "--format", "json"])
    assert result.code == 0
    assert result.err == ""
    expected = {
        "env": "dev",
        "schema": "Settings",
        "exit_code": 0,
        "valid": True,
        "keys": [
            _entry("APP_DATABASE_URL", type="str", required=True, secret=True, value="********"),
            _entry("APP_PORT", type="int", default=3000, origin="env", value="9000"),
            _entry(
                "APP_LOG_LEVEL",
                type="enum",
                default="info",
                status="default",
                origin=None,
                value=None,
            ),
            _entry("APP_API_TOKEN", type="str", required=True, secret=True, value="********"),
            _entry(
                "APP_DEBUG", type="bool", default=False, status="default", origin=None, value=None
            ),
        ],
        "problems": [],
        "sources": [
            {"source": "fixtures", "kind": "static", "ok": True, "keys": 3, "code": None},
            # Only APP_PORT: the env source counts keys declared or carrying APP_.
            {"source": "env", "kind": "env", "ok": True, "keys": 1, "code": None},
        ],
    }
    assert result.out == json.dumps(expected, sort_keys=True, indent=2) + "\n"
    for i in range(50):
        monkeypatch.setenv(f"UNRELATED_{i}", "noise")  # another machine: the same document
    assert cli(["show", "dev", "--format", "json"]).out == result.out


def test_json_sources_match_check(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_PORT", "9000")
    show = json.loads(cli(["show", "dev", "--format", "json"]).out)
    check = json.loads(cli(["check", "dev", "--format", "json"]).out)
    assert show["sources"] == check["sources"]


def test_a_key_a_file_sets_is_listed_even_when_the_environment_overrides_it(
    cli: Runner, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which keys are listed depends on the project's files, not on the machine's shell."""
    with (project / "envguard.toml").open("a") as file:
        file.write(
            f'[env.files]\nsources = [{{ static = {{ APP_DATABASE_URL = "postgres://db/app", '
            f'APP_API_TOKEN = "{TOKEN_CANARY}", NOTE = "from a file" }}, name = "fixtures" }}, '
            "{ env = true }]\n"
        )
    table = (
        "KEY               STATUS      ORIGIN    VALUE\n"
        "APP_DATABASE_URL  valid       fixtures  ********\n"
        "APP_PORT          default     -         (not set, default: 3000)\n"
        "APP_LOG_LEVEL     default     -         (not set, default: info)\n"
        "APP_API_TOKEN     valid       fixtures  ********\n"
        "APP_DEBUG         default     -         (not set, default: false)\n"
    )
    assert (
        cli(["show", "files"]).out
        == table + "NOTE              undeclared  fixtures  from a file\n"
    )
    monkeypatch.setenv("NOTE", "from the shell")
    result = cli(["show", "files"])
    assert (result.code, result.err) == (0, "")
    assert result.out == table + "NOTE              undeclared  env       from the shell\n"


def test_json_of_an_unreadable_source(cli: Runner) -> None:
    result = cli(["show", "unread", "-f", "json"])
    assert result.code == 3
    assert result.err == ""
    payload = json.loads(result.out)
    assert payload["exit_code"] == 3
    assert payload["valid"] is False
    assert [s["ok"] for s in payload["sources"]] == [False, True]
    assert [p["category"] for p in payload["problems"]] == ["source"]


def test_an_unknown_environment_is_a_project_error(cli: Runner) -> None:
    result = cli(["show", "prod"])
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith("envguard: error: ")
    assert "unknown environment 'prod'" in result.err


def test_github_format_is_a_usage_error(cli: Runner) -> None:
    result = cli(["show", "dev", "--format", "github"])
    assert result.code == 2
    assert result.out == ""


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("env", ["dev", "broken", "unread"])
def test_canary_never_appears(
    cli: Runner, monkeypatch: pytest.MonkeyPatch, env: str, fmt: str
) -> None:
    monkeypatch.setenv("APP_COPY", f"copy of {TOKEN_CANARY}")  # a plain value holding a secret
    monkeypatch.setenv("UNRELATED_PASSWORD", TOKEN_CANARY)
    result = cli(["show", env, "--format", fmt])
    for canary in (DB_CANARY, TOKEN_CANARY):
        assert canary not in result.out
        assert canary not in result.err

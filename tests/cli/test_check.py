"""``envguard check``: whole outputs and exit codes for every outcome and format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from envguard.sources import REGISTRY
from envguard.sources._retry import Deadline
from envguard.sources.base import BuildContext, Fetched, Source
from tests.cli.conftest import Runner

SCHEMA = """\
[vars.PORT]
type = "int"
default = 3000
min = 1
max = 65535

[vars.DATABASE_URL]
type = "url"
schemes = ["postgres", "postgresql"]
secret = true

[vars.LOG_LEVEL]
type = "enum"
values = ["debug", "info", "warn", "error"]
default = "info"
"""

PROJECT = """\
schema = "schemas/app.toml"
default_env = "development"

[env.development]
sources = [{ dotenv = ".env" }, { env = true }]

[env.staging]
sources = [
  { static = { DATABASE_URL = "postgres://db.staging/app", LOG_LEVEL = "warn" }, name = "stg" },
]

[env.ci]
sources = [{ dotenv = ".env.ci" }, { static = { LOG_LEVEL = "debug" }, name = "ci" }]

[env.broken]
sources = [{ dotenv = ".env.missing" }, { static = { PORT = "0" }, name = "defaults" }]
"""

VALID_ENV = "PORT=8080\nDATABASE_URL=postgres://app:pw@db/app\n"
INVALID_ENV = "PORT=0\nDATABASE_URL=mysql://app:pw@db/app\nLOG_LEVEL=loud\nDEBUG=1\n"


@pytest.fixture(autouse=True)
def project(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The `env` source reads the real environment: keep the schema's variables out of it.
    for name in ("PORT", "DATABASE_URL", "LOG_LEVEL", "DEBUG"):
        monkeypatch.delenv(name, raising=False)
    (project_dir / "schemas").mkdir()
    (project_dir / "schemas/app.toml").write_text(SCHEMA, "utf-8")
    (project_dir / "envguard.toml").write_text(PROJECT, "utf-8")
    return project_dir


# --- text ----------------------------------------------------------------------------------


def test_valid(cli: Runner, project: Path) -> None:
    (project / ".env").write_text(VALID_ENV)

    result = cli(["check"])

    assert (result.code, result.out, result.err) == (
        0,
        "OK: environment 'development' is valid (3 variables from 2 sources)\n",
        "",
    )


def test_valid_with_warnings(cli: Runner, project: Path) -> None:
    (project / ".env").write_text(VALID_ENV + "DEBUG=1\nLOG_LEVL=info\n")

    result = cli(["check"])

    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "OK: environment 'development' is valid (3 variables from 2 sources, 2 warnings)\n"
        "  warning: DEBUG: is not declared in the schema (dotenv .env:3)\n"
        "  warning: LOG_LEVL: is not declared in the schema (did you mean LOG_LEVEL?) "
        "(dotenv .env:4)\n"
    )


def test_invalid_lists_every_problem(cli: Runner, project: Path) -> None:
    (project / ".env").write_text(INVALID_ENV)

    result = cli(["check"])

    assert (result.code, result.err) == (1, "")
    assert result.out == (
        "invalid configuration for environment 'development': 3 problems, 1 warning\n"
        "  error: PORT: Input should be greater than or equal to 1 (dotenv .env:1)\n"
        "  error: DATABASE_URL: URL scheme should be 'postgres' or 'postgresql' (dotenv .env:2)\n"
        "  error: LOG_LEVEL: Input should be 'debug', 'info', 'warn' or 'error' (dotenv .env:3)\n"
        "  warning: DEBUG: is not declared in the schema (dotenv .env:4)\n"
    )


def test_strict_turns_warnings_into_errors(cli: Runner, project: Path) -> None:
    (project / ".env").write_text(VALID_ENV + "DEBUG=1\n")

    result = cli(["check", "--strict"])

    assert (result.code, result.err) == (1, "")
    assert result.out == (
        "invalid configuration for environment 'development': 1 problem\n"
        "  error: DEBUG: is not declared in the schema (dotenv .env:3)\n"
    )


@pytest.mark.parametrize(
    ("dotenv", "code"),
    [
        pytest.param("PORT=1\nPORT=2\n", "dotenv_duplicate_key", id="redefined-key"),
        pytest.param(
            'PORT=1\nLOG_LEVEL="info\nDEBUG=1"\n', "dotenv_unterminated_quote", id="swallowed"
        ),
    ],
)
def test_strict_makes_every_warning_an_error_with_its_code(
    cli: Runner, project: Path, dotenv: str, code: str
) -> None:
    (project / ".env").write_text(VALID_ENV + dotenv)
    lenient = json.loads(cli(["check", "--format", "json"]).out)
    warned = [p["code"] for p in lenient["problems"] if p["severity"] == "warning"]
    assert code in warned, lenient["problems"]

    result = cli(["check", "--strict", "--format", "json"])

    strict = json.loads(result.out)
    assert result.code == 1
    assert [p["severity"] for p in strict["problems"]] == ["error"] * len(strict["problems"])
    assert [p["code"] for p in strict["problems"]] == [p["code"] for p in lenient["problems"]]


def test_env_argument_and_envguard_env(
    cli: Runner, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staging_ok = "OK: environment 'staging' is valid (3 variables from 1 source)\n"

    assert cli(["check", "staging"]).out == staging_ok
    monkeypatch.setenv("ENVGUARD_ENV", "staging")
    assert cli(["check"]).out == staging_ok
    # The argument beats ENVGUARD_ENV.
    (project / ".env").write_text(VALID_ENV)
    assert cli(["check", "development"]).out.startswith("OK: environment 'development'")


def test_project_option(cli: Runner, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = project / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    for given in ("../envguard.toml", str(project / "envguard.toml"), ".."):
        result = cli(["check", "staging", "--project", given])
        assert (result.code, result.out, result.err) == (
            0,
            "OK: environment 'staging' is valid (3 variables from 1 source)\n",
            "",
        ), given


def test_source_that_cannot_be_read_exits_3(cli: Runner) -> None:
    result = cli(["check", "broken"])

    assert (result.code, result.err) == (3, "")
    assert result.out == (
        "could not read a source for environment 'broken': 3 problems\n"
        "  error: .env.missing: file not found (dotenv .env.missing)\n"
        "  error: PORT: Input should be greater than or equal to 1 (defaults)\n"
        "  error: DATABASE_URL: required, but not set by any source\n"
    )


class SlowSource(Source):
    """A remote source that answers only when the test ends."""

    kind = "slow_cli"
    remote = True
    release = threading.Event()

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], ctx: BuildContext) -> SlowSource:
        return cls()

    def describe(self) -> str:
        return "slow remote"

    def fetch(self, deadline: Deadline) -> Fetched:
        self.release.wait()
        return Fetched()


@pytest.fixture
def slow_kind(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(REGISTRY, SlowSource.kind, f"{__name__}:SlowSource")
    SlowSource.release.clear()
    yield
    SlowSource.release.set()


@pytest.mark.usefixtures("slow_kind")
def test_timeout_bounds_remote_sources(cli: Runner, project: Path) -> None:
    (project / "envguard.toml").write_text(
        PROJECT + '[env.remote]\nsources = [{ slow_cli = true }, { static = { PORT = "1" } }]\n'
    )

    start = time.perf_counter()
    result = cli(["check", "remote", "--timeout", "0.3"])

    assert time.perf_counter() - start < 2.0
    assert (result.code, result.err) == (4, "")
    assert result.out == (
        "a source is unavailable for environment 'remote' (retrying may help): 2 problems\n"
        "  error: slow remote: no answer within the 0.3s deadline\n"
        "  error: DATABASE_URL: required, but not set by any source\n"
    )


# --- usage and project-file errors ---------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "message"),
    [
        pytest.param("nowhere.toml", "nowhere.toml: file not found", id="missing-file"),
        pytest.param("schemas", "schemas/envguard.toml: file not found", id="dir-without-file"),
    ],
)
def test_project_option_errors(cli: Runner, given: str, message: str) -> None:
    result = cli(["check", "--project", given])

    assert (result.code, result.out, result.err) == (2, "", f"envguard: error: {message}\n")


@pytest.mark.parametrize(
    ("timeout", "reason"),
    [
        ("0", "must be a finite number of seconds, at least 0.001 (got 0)."),
        ("-1", "must be a finite number of seconds, at least 0.001 (got -1)."),
        ("inf", "must be a finite number of seconds, at least 0.001 (got inf)."),
        ("1e400", "must be a finite number of seconds, at least 0.001 (got inf)."),
        ("-inf", "must be a finite number of seconds, at least 0.001 (got -inf)."),
        ("nan", "must be a finite number of seconds, at least 0.001 (got nan)."),
        ("soon", "Input should be a valid number, unable to parse string as a number"),
    ],
)
def test_bad_timeout_is_a_usage_error(cli: Runner, timeout: str, reason: str) -> None:
    result = cli(["check", "--timeout", timeout])

    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "Usage: envguard check [OPTIONS] [ENV]\n"
        "Try 'envguard check -h' for help.\n"
        "\n"
        f"Error: Invalid value for '--timeout': {reason}\n"
    )


@pytest.mark.usefixtures("slow_kind")
def test_an_infinite_timeout_never_reaches_the_remote_sources(cli: Runner, project: Path) -> None:
    """``inf`` once got as far as threading's wait() and ended in an OverflowError (70)."""
    (project / "envguard.toml").write_text(
        PROJECT + "[env.remote]\nsources = [{ slow_cli = true }]\n"
    )

    result = cli(["check", "remote", "--timeout", "inf"])

    assert (result.code, result.out) == (2, "")
    assert result.err.endswith(
        "Error: Invalid value for '--timeout': must be a finite number "
        "of seconds, at least 0.001 (got inf).\n"
    )


def test_unknown_environment(cli: Runner, project: Path) -> None:
    result = cli(["check", "prod"])

    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"envguard: error: {project.resolve()}/envguard.toml: unknown environment 'prod'; "
        "known: development, staging, ci, broken\n"
    )


def test_malformed_project_file(cli: Runner, project: Path) -> None:
    (project / "envguard.toml").write_text('schema = "schemas/app.toml"\ndefault_env = \n')

    result = cli(["check"])

    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"envguard: error: {project.resolve()}/envguard.toml:2:15: invalid TOML: Invalid value\n"
    )


def test_bad_source_entry(cli: Runner, project: Path) -> None:
    (project / "envguard.toml").write_text(
        'schema = "schemas/app.toml"\n[env.dev]\nsources = [{ env = true, bogus = 1 }]\n'
    )

    result = cli(["check"])

    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"envguard: error: {project.resolve()}/envguard.toml: [env.dev] source 1: "
        "unknown key 'bogus' in env source (accepted: env)\n"
    )


def test_bad_schema_file_names_the_file_line_and_variable(cli: Runner, project: Path) -> None:
    (project / "schemas/app.toml").write_text('[vars.PORT]\ntype = "integer"\n')

    result = cli(["check"])

    assert (result.code, result.out) == (2, "")
    assert result.err == (
        f"envguard: error: {project.resolve()}/schemas/app.toml:2: PORT: unknown type "
        "'integer' (did you mean 'int'?); accepted: bool, duration, email, enum, float, int, "
        "json, list, path, str, url\n"
    )


def test_unknown_option(cli: Runner) -> None:
    result = cli(["check", "--bogus"])

    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "Usage: envguard check [OPTIONS] [ENV]\n"
        "Try 'envguard check -h' for help.\n"
        "\n"
        "Error: No such option: --bogus\n"
    )


# --- json ----------------------------------------------------------------------------------


def test_json_valid(cli: Runner, project: Path) -> None:
    (project / ".env.ci").write_text(VALID_ENV)

    first = cli(["check", "ci", "--format", "json"])
    second = cli(["check", "ci", "--format", "json"])

    assert (first.code, first.err) == (0, "")
    assert first.out == second.out, "json output must be byte-stable"
    assert json.loads(first.out) == {
        "counts": {
            "errors": 0,
            "resolved_keys": 3,
            "sources": 2,
            "variables": 3,
            "warnings": 0,
        },
        "env": "ci",
        "exit_code": 0,
        "retryable": False,
        "problems": [],
        "schema": "AppSchema",
        "sources": [
            {"code": None, "keys": 2, "kind": "dotenv", "ok": True, "source": "dotenv .env.ci"},
            {"code": None, "keys": 1, "kind": "static", "ok": True, "source": "ci"},
        ],
        "valid": True,
    }
    assert first.out.endswith("}\n")
    assert first.out == json.dumps(json.loads(first.out), indent=2, sort_keys=True) + "\n"


def test_json_invalid(cli: Runner, project: Path) -> None:
    (project / ".env.ci").write_text(INVALID_ENV)

    first = cli(["check", "ci", "-f", "json"])
    second = cli(["check", "ci", "-f", "json"])

    assert (first.code, first.err) == (1, "")
    assert first.out == second.out

    def problem(key: str, code: str, message: str, line: int, severity: str = "error") -> dict:
        return {
            "category": "validation",
            "code": code,
            "column": None,
            "file": ".env.ci",
            "key": key,
            "line": line,
            "message": message,
            "severity": severity,
            "source": f"dotenv .env.ci:{line}",
        }

    assert json.loads(first.out) == {
        "counts": {"errors": 2, "resolved_keys": 4, "sources": 2, "variables": 3, "warnings": 1},
        "env": "ci",
        "exit_code": 1,
        "retryable": False,
        "problems": [
            problem("PORT", "greater_than_equal", "Input should be greater than or equal to 1", 1),
            problem(
                "DATABASE_URL", "url_scheme", "URL scheme should be 'postgres' or 'postgresql'", 2
            ),
            # LOG_LEVEL from .env.ci is overridden by the ci source's valid value.
            problem("DEBUG", "unknown_key", "is not declared in the schema", 4, "warning"),
        ],
        "schema": "AppSchema",
        "sources": [
            {"code": None, "keys": 4, "kind": "dotenv", "ok": True, "source": "dotenv .env.ci"},
            {"code": None, "keys": 1, "kind": "static", "ok": True, "source": "ci"},
        ],
        "valid": False,
    }


def test_json_is_the_same_whatever_else_the_process_environment_holds(
    cli: Runner, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The env source counts only keys the schema declares (no env_prefix here): PATH,
    HOME and the rest of the machine change nothing."""
    (project / ".env").write_text(VALID_ENV + "EXTRA=1\n")
    monkeypatch.setenv("LOG_LEVEL", "warn")  # declared: counted, on any machine

    first = cli(["check", "--format", "json"])
    for i in range(50):
        monkeypatch.setenv(f"UNRELATED_{i}", "noise")
    monkeypatch.delenv("PATH", raising=False)
    second = cli(["check", "--format", "json"])

    assert (first.code, first.err, first.out) == (second.code, second.err, second.out)
    assert json.loads(first.out) == {
        # PORT, DATABASE_URL and EXTRA from .env, LOG_LEVEL from the process environment
        "counts": {"errors": 0, "resolved_keys": 4, "sources": 2, "variables": 3, "warnings": 1},
        "env": "development",
        "exit_code": 0,
        "retryable": False,
        "problems": [
            {
                "category": "validation",
                "code": "unknown_key",
                "column": None,
                "file": ".env",
                "key": "EXTRA",
                "line": 3,
                "message": "is not declared in the schema",
                "severity": "warning",
                "source": "dotenv .env:3",
            }
        ],
        "schema": "AppSchema",
        "sources": [
            {"code": None, "keys": 3, "kind": "dotenv", "ok": True, "source": "dotenv .env"},
            {"code": None, "keys": 1, "kind": "env", "ok": True, "source": "env"},
        ],
        "valid": True,
    }


def test_json_source_failure(cli: Runner) -> None:
    result = cli(["check", "broken", "--format", "json"])

    assert result.code == 3
    payload = json.loads(result.out)
    assert payload["exit_code"] == 3
    assert payload["valid"] is False
    assert payload["sources"] == [
        {
            "code": "dotenv_missing",
            "keys": 0,
            "kind": "dotenv",
            "ok": False,
            "source": "dotenv .env.missing",
        },
        {"code": None, "keys": 1, "kind": "static", "ok": True, "source": "defaults"},
    ]
    assert payload["problems"][0] == {
        "category": "source",
        "code": "dotenv_missing",
        "column": None,
        "file": ".env.missing",
        "key": None,
        "line": None,
        "message": ".env.missing: file not found",
        "severity": "error",
        "source": "dotenv .env.missing",
    }


@pytest.mark.parametrize("how", ["argument", "ENVGUARD_ENV"])
def test_json_project_error(
    cli: Runner, project: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "argument":
        result = cli(["check", "prod", "--format", "json"])
    else:
        monkeypatch.setenv("ENVGUARD_ENV", "prod")
        result = cli(["check", "--format", "json"])

    assert (result.code, result.err) == (2, "")
    file = f"{project.resolve()}/envguard.toml"
    assert json.loads(result.out) == {
        "env": "prod",  # the environment asked for, though it does not exist
        "exit_code": 2,
        "retryable": False,
        "problems": [
            {
                "category": "project",
                "code": "unknown_env",
                "column": None,
                "file": file,
                "key": None,
                "line": None,
                "message": f"{file}: unknown environment 'prod'; "
                "known: development, staging, ci, broken",
                "severity": "error",
                "source": file,
            }
        ],
        "valid": False,
    }


# --- github --------------------------------------------------------------------------------


def test_github_annotations(cli: Runner, project: Path) -> None:
    (project / ".env").write_text(INVALID_ENV)

    result = cli(["check", "--format", "github"])

    assert (result.code, result.err) == (1, "")
    assert result.out == (
        "::error file=.env,line=1,title=envguard development PORT::"
        "PORT: Input should be greater than or equal to 1 (dotenv .env:1)\n"
        "::error file=.env,line=2,title=envguard development DATABASE_URL::"
        "DATABASE_URL: URL scheme should be 'postgres' or 'postgresql' (dotenv .env:2)\n"
        "::error file=.env,line=3,title=envguard development LOG_LEVEL::"
        "LOG_LEVEL: Input should be 'debug', 'info', 'warn' or 'error' (dotenv .env:3)\n"
        "::warning file=.env,line=4,title=envguard development DEBUG::"
        "DEBUG: is not declared in the schema (dotenv .env:4)\n"
        "FAILED: environment 'development': 3 problems, 1 warning\n"
    )
    assert cli(["check", "--format", "github"]).out == result.out


def test_github_problem_without_a_file(cli: Runner, project: Path) -> None:
    (project / ".env").write_text("PORT=8080\n")

    result = cli(["check", "-f", "github"])

    assert result.code == 1
    assert result.out == (
        "::error title=envguard development DATABASE_URL::"
        "DATABASE_URL: required, but not set by any source\n"
        "FAILED: environment 'development': 1 problem\n"
    )


def test_github_valid(cli: Runner, project: Path) -> None:
    (project / ".env").write_text(VALID_ENV)

    result = cli(["check", "-f", "github"])

    assert (result.code, result.out, result.err) == (
        0,
        "OK: environment 'development' is valid (3 variables from 2 sources)\n",
        "",
    )


# --- real processes ------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    drop = ("ENVGUARD_", "PORT", "DATABASE_URL", "LOG_LEVEL", "DEBUG")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([sys.executable, "-m", "envguard"], id="python-m"),
        pytest.param([str(Path(sys.executable).with_name("envguard"))], id="console-script"),
    ],
)
def test_in_a_real_process(project: Path, command: list[str]) -> None:
    (project / ".env").write_text(INVALID_ENV)

    done = subprocess.run(
        [*command, "check", "--format", "github"],
        cwd=project,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert (done.returncode, done.stderr) == (1, "")
    assert done.stdout.splitlines()[-1] == (
        "FAILED: environment 'development': 3 problems, 1 warning"
    )

    ok = subprocess.run(
        [*command, "check", "staging"],
        cwd=project,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (ok.returncode, ok.stdout, ok.stderr) == (
        0,
        "OK: environment 'staging' is valid (3 variables from 1 source)\n",
        "",
    )


@pytest.mark.usefixtures("slow_kind")
def test_an_unavailable_source_gives_no_partial_diff_and_explain_reports_it(
    cli: Runner, project: Path
) -> None:
    (project / "envguard.toml").write_text(
        PROJECT
        + '[env.remote]\nsources = [{ slow_cli = true }, { static = { PORT = "1" } }]\n'
        + '[env.local]\nsources = [{ static = { PORT = "1" } }]\n'
    )

    diff = cli(["diff", "remote", "local", "--timeout", "0.3", "--format", "json"])
    explain = cli(["explain", "NOPE", "remote", "--timeout", "0.3", "--format", "json"])

    data = json.loads(diff.out)
    assert (diff.code, data["complete"], data["exit_code"]) == (4, False, 4)
    assert sorted(data) == ["a", "b", "complete", "exit_code"]  # no categories: no diff
    assert explain.code == 4
    codes = [p["code"] for p in json.loads(explain.out)["problems"]]
    assert codes == ["unknown_variable", "source_timeout"]

"""What every command shares: ``--schema``, ``--timeout``, and one way to report an error."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from envguard.errors import SourceError
from envguard.report import Problem
from tests.cli.conftest import Runner

SCHEMA = '[vars.PORT]\ntype = "int"\ndefault = 3000\n\n[vars.NAME]\n'
BAD_SCHEMA = "[vars.A]\ntype = 3\n"
PROJECT = """\
schema = "schemas/app.toml"
default_env = "dev"

[env.dev]
sources = [{ dotenv = ".env" }, { env = true }]
"""

#: One invocation of each command, with ENV ``dev`` wherever it takes one.
COMMANDS = {
    "check": ["check", "dev"],
    "show": ["show", "dev"],
    "explain": ["explain", "PORT", "dev"],
    "diff": ["diff", "dev", "dev"],
    "run": ["run", "dev", "--", "true"],
    "docs": ["docs"],
}


def with_options(args: list[str], *options: str) -> list[str]:
    """``args`` with ``options`` added where envguard reads them: before a run's ``--``."""
    at = args.index("--") if "--" in args else len(args)
    return [*args[:at], *options, *args[at:]]


@pytest.fixture(autouse=True)
def project(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``.env`` and a schema; no project file unless a test writes one. ``run`` never
    execs here: a test that got that far would replace pytest's own process."""
    for name in ("PORT", "NAME"):
        monkeypatch.delenv(name, raising=False)

    def no_exec(*args: object) -> None:
        raise AssertionError("run must not exec in an in-process test")

    monkeypatch.setattr(os, "execve", no_exec)
    (project_dir / "schemas").mkdir()
    (project_dir / "schemas/app.toml").write_text(SCHEMA)
    (project_dir / "schemas/bad.toml").write_text(BAD_SCHEMA)
    (project_dir / ".env").write_text("NAME=demo\nPORT=8080\n")
    return project_dir


# --- one way to print a project error -------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_a_schema_error_names_its_file_line_and_variable_in_every_command(
    cli: Runner, project: Path, command: str
) -> None:
    (project / "envguard.toml").write_text(PROJECT.replace("app.toml", "bad.toml"))

    result = cli(COMMANDS[command])

    assert (result.code, result.out, result.err) == (
        2,
        "",
        f"envguard: error: {project.resolve()}/schemas/bad.toml:2: A: "
        "'type' must be a string, got 3\n",
    )


def test_an_error_that_escapes_a_command_is_printed_the_same_way(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's root reports a ConfigError no command caught with the commands' renderer."""
    import envguard.cli.check as command

    problem = Problem("A", None, "source_denied", "access denied", file="vault.toml", line=4)

    def unreadable(*args: object, **kwargs: object) -> None:
        raise SourceError([problem], env="dev")

    monkeypatch.setattr(command, "evaluate", unreadable)
    result = cli(["check", "--schema", "schemas/app.toml"])
    assert (result.code, result.out, result.err) == (
        3,
        "",
        "envguard: error: vault.toml:4: A: access denied\n",
    )


# --- --schema: no project file needed --------------------------------------------------------

NO_SCHEMA = (
    "envguard: error: no schema given and none named in the current directory (no project "
    "file): pass one (--schema on the command line), or set schema = 'schemas/app.toml' or "
    "'package.module:Class' in the project file\n"
)


@pytest.mark.parametrize("command", ["check", "show", "explain", "diff", "run"])
def test_without_a_project_file_a_schema_must_be_given(cli: Runner, command: str) -> None:
    args = [a if a != "dev" else "default" for a in COMMANDS[command]]
    result = cli(args)
    assert (result.code, result.out, result.err) == (2, "", NO_SCHEMA)


@pytest.mark.parametrize(
    ("args", "out"),
    [
        pytest.param(
            ["check"],
            "OK: environment 'default' is valid (2 variables from 2 sources)\n",
            id="check",
        ),
        pytest.param(
            ["show"],
            "KEY   STATUS  ORIGIN         VALUE\n"
            "PORT  valid   dotenv .env:2  8080\n"
            "NAME  valid   dotenv .env:1  demo\n",
            id="show",
        ),
        pytest.param(
            ["explain", "port"],
            "PORT in environment 'default'\n"
            "  status:      valid\n"
            "  value:       8080\n"
            "  origin:      dotenv .env:2\n"
            "  overridden:  (none)\n"
            "schema:\n"
            "  type:        int\n"
            "  required:    no\n"
            "  default:     3000\n"
            "  constraints: (none)\n"
            "  description: (none)\n"
            "  secret:      no\n",
            id="explain",
        ),
        pytest.param(
            ["diff", "default", "default"],
            "default  valid\ndefault  valid\n\nNo drift: 2 keys unchanged\n",
            id="diff",
        ),
    ],
)
def test_schema_option_uses_the_implicit_environment(
    cli: Runner, args: list[str], out: str
) -> None:
    """No project file: ``.env`` if present, then the process environment."""
    result = cli([*args, "--schema", "schemas/app.toml"])
    assert (result.code, result.out, result.err) == (0, out, "")
    assert cli([*args, "-s", "schemas/app.toml"]).out == out


def test_schema_option_reads_the_process_environment_too(
    cli: Runner, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / ".env").unlink()
    monkeypatch.setenv("NAME", "from-the-shell")
    result = cli(["check", "--schema", "schemas/app.toml", "--format", "json"])
    assert result.code == 0
    assert json.loads(result.out)["sources"] == [
        {"code": None, "keys": 0, "kind": "dotenv", "ok": True, "source": "dotenv .env"},
        {"code": None, "keys": 1, "kind": "env", "ok": True, "source": "env"},
    ]


def test_schema_option_overrides_the_project_s(cli: Runner, project: Path) -> None:
    (project / "envguard.toml").write_text(PROJECT.replace("app.toml", "bad.toml"))
    result = cli(["check", "--schema", "schemas/app.toml"])
    assert (result.code, result.out, result.err) == (
        0,
        "OK: environment 'dev' is valid (2 variables from 2 sources)\n",
        "",
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_schema_option_is_reported_like_any_schema_error(
    cli: Runner, project: Path, command: str
) -> None:
    args = [a if a != "dev" else "default" for a in COMMANDS[command]]
    result = cli(with_options(args, "--schema", "schemas/bad.toml"))
    assert (result.code, result.out, result.err) == (
        2,
        "",
        f"envguard: error: {project.resolve()}/schemas/bad.toml:2: A: "
        "'type' must be a string, got 3\n",
    )


# --- the environment asked for is named in a JSON error --------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["check", "prod"], id="check"),
        pytest.param(["show", "prod"], id="show"),
        pytest.param(["explain", "PORT", "prod"], id="explain"),
        pytest.param(["diff", "dev", "prod"], id="diff"),
    ],
)
def test_json_of_an_unknown_environment_names_it(
    cli: Runner, project: Path, args: list[str]
) -> None:
    (project / "envguard.toml").write_text(PROJECT)
    result = cli([*args, "--format", "json"])
    file = f"{project.resolve()}/envguard.toml"
    message = f"{file}: unknown environment 'prod'; known: dev"
    assert (result.code, result.err) == (2, "")
    assert json.loads(result.out) == {
        "env": "prod",
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
                "message": message,
                "severity": "error",
                "source": file,
            }
        ],
        "valid": False,
    }


def test_json_of_a_diff_of_two_unknown_environments_names_neither(
    cli: Runner, project: Path
) -> None:
    (project / "envguard.toml").write_text(PROJECT)
    result = cli(["diff", "nope", "nada", "--format", "json"])
    payload = json.loads(result.out)
    assert (result.code, payload["env"]) == (2, None)
    assert [p["code"] for p in payload["problems"]] == ["unknown_env", "unknown_env"]


# --- --timeout ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("timeout", ["inf", "nan"])
def test_a_timeout_that_is_not_finite_is_a_usage_error(
    cli: Runner, project: Path, command: str, timeout: str
) -> None:
    (project / "envguard.toml").write_text(PROJECT)
    result = cli(with_options(COMMANDS[command], "--timeout", timeout))
    usage = {
        "check": "check [OPTIONS] [ENV]",
        "show": "show [OPTIONS] [ENV]",
        "explain": "explain [OPTIONS] {VAR} [ENV]",
        "diff": "diff [OPTIONS] {ENV_A} {ENV_B}",
        "run": "run [OPTIONS] {ENV} {-- CMD [ARGS]}...",
        "docs": "docs [OPTIONS]",
    }[command]
    assert (result.code, result.out, result.err) == (
        2,
        "",
        f"Usage: envguard {usage}\n"
        f"Try 'envguard {command} -h' for help.\n"
        "\n"
        "Error: Invalid value for '--timeout': must be a finite number of seconds, at least "
        f"0.001 (got {timeout}).\n",
    )


# --- run: an unknown option before -- ---------------------------------------------------------


def test_run_an_unknown_option_before_the_double_dash_is_a_usage_error(
    cli: Runner, project: Path
) -> None:
    """A typo of --strict once ran as the command (exit 127)."""
    (project / "envguard.toml").write_text(PROJECT)
    result = cli(["run", "dev", "--strcit", "--", "echo", "hi"])
    assert (result.code, result.out, result.err) == (
        2,
        "",
        "Usage: envguard run [OPTIONS] {ENV} {-- CMD [ARGS]}...\n"
        "Try 'envguard run -h' for help.\n"
        "\n"
        "Error: No such option: --strcit (Possible options: --strict)\n",
    )

"""``envguard run`` in real subprocesses: exec, exit status, environment, signals, refusals."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name == "nt", reason="exec semantics are POSIX only")

CANARY = "CANARY-run-token-93ac"

SCHEMA = """\
import envguard
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict


class Settings(envguard.Settings):
    model_config = SettingsConfigDict(env_prefix="APP_", extra="ignore")

    port: int = 3000
    api_token: SecretStr


class FromDotenv(Settings):
    model_config = SettingsConfigDict(env_file=".env")
"""

PROJECT = f"""\
schema = "runschema:Settings"
default_env = "dev"

[env.dev]
sources = [
  {{ static = {{ APP_API_TOKEN = "{CANARY}", APP_PORT = "8080" }}, name = "fixtures" }},
  {{ env = true }},
]

[env.extra]
sources = [
  {{ static = {{ APP_API_TOKEN = "{CANARY}", APP_MODE = "blue" }}, name = "fixtures" }},
]

[env.invalid]
sources = [
  {{ static = {{ APP_API_TOKEN = "{CANARY}", APP_PORT = "http" }}, name = "fixtures" }},
]

[env.unread]
sources = [
  {{ dotenv = "missing.env" }},
  {{ static = {{ APP_API_TOKEN = "{CANARY}" }}, name = "fixtures" }},
]

[env.nul]
sources = [
  {{ static = {{ APP_API_TOKEN = "{CANARY}\\u0000tail" }}, name = "fixtures" }},
]

[env.huge]
sources = [
  {{ static = {{ APP_API_TOKEN = "{CANARY}", APP_BLOB = "{"x" * 200_000}" }}, name = "fixtures" }},
]
"""

#: A child that records what it sees in a file (argv[1]) and exits 7.
PROBE = (
    "import json, os, sys; "
    "json.dump({k: os.environ.get(k) for k in sys.argv[2:]}, open(sys.argv[1], 'w')); "
    "sys.exit(7)"
)
#: A child that would prove it started by creating a marker file.
MARKER = "import pathlib, sys; pathlib.Path(sys.argv[1]).touch()"

Envguard = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def base_env() -> dict[str, str]:
    """The parent's environment without envguard, Vault, AWS or APP_ settings."""
    skip = ("ENVGUARD_", "VAULT_", "AWS_", "APP_")
    return {k: v for k, v in os.environ.items() if not k.startswith(skip)}


@pytest.fixture
def envguard(tmp_path: Path, base_env: dict[str, str]) -> Envguard:
    (tmp_path / "runschema.py").write_text(SCHEMA)
    (tmp_path / "envguard.toml").write_text(PROJECT)

    def invoke(*args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "envguard", *args],
            cwd=tmp_path,
            env=base_env | (extra or {}),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return invoke


def assert_no_canary(result: subprocess.CompletedProcess[str]) -> None:
    assert CANARY not in result.stdout
    assert CANARY not in result.stderr


def test_the_child_sees_the_values_and_its_status_is_envguards(
    envguard: Envguard, tmp_path: Path
) -> None:
    seen = tmp_path / "seen.json"
    names = ["APP_API_TOKEN", "APP_PORT", "ENVGUARD_ENV", "INHERITED"]
    result = envguard(
        "run", "dev", "--", sys.executable, "-c", PROBE, str(seen), *names,
        extra={"APP_PORT": "9000", "INHERITED": "yes"},
    )  # fmt: skip
    assert result.returncode == 7
    assert (result.stdout, result.stderr) == ("", "")
    assert json.loads(seen.read_text()) == {
        "APP_API_TOKEN": CANARY,  # revealed to the child only
        "APP_PORT": "9000",  # the env source is last: it wins, as validated
        "ENVGUARD_ENV": "dev",
        "INHERITED": "yes",
    }


def test_undeclared_keys_are_passed_with_a_warning(envguard: Envguard, tmp_path: Path) -> None:
    seen = tmp_path / "seen.json"
    result = envguard("run", "extra", "--", sys.executable, "-c", PROBE, str(seen), "APP_MODE")
    assert result.returncode == 7
    assert result.stderr == (
        "envguard: warning: APP_MODE: is not declared in the schema (did you mean APP_PORT?) "
        "(fixtures)\n"
    )
    assert json.loads(seen.read_text()) == {"APP_MODE": "blue"}


@pytest.mark.parametrize(
    ("env", "code", "report"),
    [
        (
            "invalid",
            1,
            "invalid configuration for environment 'invalid': 1 problem\n"
            "  error: APP_PORT: Input should be a valid integer, unable to parse string as an "
            "integer (fixtures)\n",
        ),
        ("unread", 3, "could not read a source for environment 'unread': 1 problem\n"),
        ("staging", 2, "envguard: error: "),
    ],
)
def test_the_command_never_starts_when_invalid(
    envguard: Envguard, tmp_path: Path, env: str, code: int, report: str
) -> None:
    marker = tmp_path / "started"
    result = envguard("run", env, "--", sys.executable, "-c", MARKER, str(marker))
    assert result.returncode == code
    assert not marker.exists()
    assert result.stdout == ""
    assert result.stderr.startswith(report)
    assert_no_canary(result)


def test_a_command_not_found_exits_127(envguard: Envguard) -> None:
    result = envguard("run", "dev", "--", "no-such-command-4f2a", "--flag")
    assert result.returncode == 127
    assert (result.stdout, result.stderr) == (
        "",
        "envguard: command not found: no-such-command-4f2a\n",
    )


def test_a_file_that_is_not_executable_exits_126(envguard: Envguard, tmp_path: Path) -> None:
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho hi\n")
    result = envguard("run", "dev", "--", "./script.sh")
    assert result.returncode == 126
    assert result.stderr == "envguard: cannot execute ./script.sh: permission denied\n"


def test_a_file_that_cannot_be_executed_exits_126(envguard: Envguard, tmp_path: Path) -> None:
    script = tmp_path / "noshebang"
    script.write_bytes(b"\x7fELF-not-really")
    script.chmod(0o755)
    result = envguard("run", "dev", "--", "./noshebang")
    assert result.returncode == 126
    assert result.stderr.startswith("envguard: cannot execute ./noshebang: ")


def test_options_after_the_double_dash_belong_to_the_command(envguard: Envguard) -> None:
    code = "import sys; print(sys.argv[1:])"
    args = ["--project", "elsewhere.toml", "-h", "--", "x"]
    result = envguard("run", "dev", "--", sys.executable, "-c", code, *args)
    assert result.returncode == 0
    assert result.stdout == f"{args!r}\n"


def test_options_before_the_double_dash_are_envguards(envguard: Envguard, tmp_path: Path) -> None:
    result = envguard(
        "run", "--timeout", "5", "dev", "--project", str(tmp_path / "envguard.toml"),
        "--", sys.executable, "-c", "print('ran')",
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (0, "ran\n")


def test_without_the_double_dash_a_command_without_options_runs(
    envguard: Envguard, tmp_path: Path
) -> None:
    (tmp_path / "script.py").write_text("import sys; print('ran', sys.argv[1:])")
    result = envguard("run", "dev", sys.executable, "script.py", "arg")
    assert (result.returncode, result.stdout, result.stderr) == (0, "ran ['arg']\n", "")


def test_without_the_double_dash_an_option_of_the_command_is_a_usage_error(
    envguard: Envguard,
) -> None:
    """Before --, every option is envguard's: -c is not one, so nothing runs."""
    result = envguard("run", "dev", sys.executable, "-c", "print('ran')")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "Usage: envguard run [OPTIONS] {ENV} {-- CMD [ARGS]}...\n"
        "Try 'envguard run -h' for help.\n"
        "\n"
        "Error: No such option: -c\n"
    )


def test_schema_option_without_a_project_file(envguard: Envguard, tmp_path: Path) -> None:
    """The implicit environment: what the class reads (its env_file), then the process
    environment, as instantiating it would."""
    (tmp_path / "envguard.toml").unlink()
    (tmp_path / ".env").write_text(f"APP_API_TOKEN={CANARY}\nAPP_PORT=8080\n")
    seen = tmp_path / "seen.json"
    names = ["APP_API_TOKEN", "APP_PORT", "ENVGUARD_ENV"]
    result = envguard(
        "run", "default", "--schema", "runschema:FromDotenv",
        "--", sys.executable, "-c", PROBE, str(seen), *names,
        extra={"APP_PORT": "9000"},
    )  # fmt: skip
    assert (result.returncode, result.stdout, result.stderr) == (7, "", "")
    assert json.loads(seen.read_text()) == {
        "APP_API_TOKEN": CANARY,
        "APP_PORT": "9000",
        "ENVGUARD_ENV": "default",
    }


def test_a_command_is_required(envguard: Envguard) -> None:
    result = envguard("run", "dev")
    assert result.returncode == 2
    assert "Missing argument" in result.stderr


def test_signals_reach_the_child_directly(tmp_path: Path, envguard: Envguard) -> None:
    envguard("run", "dev", "--", "true")  # writes the project files
    child = (
        "import os, signal, sys, time\n"
        "def stop(signum, frame):\n"
        "    print('got SIGTERM', flush=True)\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "print('ready', os.getpid(), flush=True)\n"
        "time.sleep(60)\n"
        "sys.exit(5)\n"
    )
    skip = ("ENVGUARD_", "VAULT_", "AWS_", "APP_")
    with subprocess.Popen(
        [sys.executable, "-m", "envguard", "run", "dev", "--", sys.executable, "-c", child],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith(skip)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        readable, _, _ = select.select([proc.stdout], [], [], 60)
        assert readable, "the child never reported that it was ready"
        ready = proc.stdout.readline()
        assert ready == f"ready {proc.pid}\n"  # exec: the child has envguard's PID
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert out == "got SIGTERM\n"
    assert err == ""


def test_a_nul_byte_is_a_problem_not_an_oserror(envguard: Envguard, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    result = envguard("run", "nul", "--", sys.executable, "-c", MARKER, str(marker))
    assert result.returncode == 1
    assert not marker.exists()
    assert result.stderr == (
        "invalid configuration for environment 'nul': 1 problem\n"
        "  error: APP_API_TOKEN: its value contains a NUL byte, which an environment variable "
        "cannot hold (fixtures)\n"
    )
    assert_no_canary(result)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's MAX_ARG_STRLEN")
def test_a_value_too_long_for_the_environment(envguard: Envguard, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    result = envguard("run", "huge", "--", sys.executable, "-c", MARKER, str(marker))
    assert result.returncode == 1
    assert not marker.exists()
    limit = 32 * os.sysconf("SC_PAGE_SIZE")
    assert result.stderr == (
        "envguard: warning: APP_BLOB: is not declared in the schema (did you mean APP_PORT?) "
        "(fixtures)\n"
        "invalid configuration for environment 'huge': 1 problem\n"
        f"  error: APP_BLOB: its value is too long for an environment variable (limit {limit}) "
        "(fixtures)\n"
    )
    assert "x" * 100 not in result.stderr


def test_an_environment_over_the_system_limit(envguard: Envguard, tmp_path: Path) -> None:
    limit = os.sysconf("SC_ARG_MAX")
    if not 0 < limit <= 16 * 1024 * 1024:
        pytest.skip(f"ARG_MAX is {limit}")
    size = 100_000  # under Linux's per-string limit: only the total is too large
    blobs = [f'APP_K{i:03} = "{"y" * size}"' for i in range(limit // size + 2)]
    values = ", ".join([f'APP_API_TOKEN = "{CANARY}"', *blobs])
    with (tmp_path / "envguard.toml").open("a") as project:
        project.write(f'\n[env.big]\nsources = [{{ static = {{ {values} }}, name = "big" }}]\n')
    marker = tmp_path / "started"
    result = envguard("run", "big", "--", sys.executable, "-c", MARKER, str(marker))
    assert result.returncode == 1
    assert not marker.exists()
    report = result.stderr.splitlines()[-2:]
    assert report[0] == "invalid configuration for environment 'big': 1 problem"
    assert re.fullmatch(
        rf"  error: APP_K000: the environment and arguments would take \d+ bytes, over the "
        rf"system's limit of {limit}; this is the largest variable \(big\)",
        report[1],
    )
    assert "y" * 100 not in result.stderr
    assert_no_canary(result)


def test_the_child_gets_only_the_validated_spelling_of_a_variable(tmp_path: Path) -> None:
    (tmp_path / "schema.toml").write_text('[vars.PORT]\ntype = "int"\n')
    (tmp_path / "envguard.toml").write_text(
        'schema = "schema.toml"\n[env.dev]\nsources = [{ dotenv = ".env" }]\n'
    )
    (tmp_path / ".env").write_text("port=1\nPORT=2\nport=3\n")
    script = (
        "import os, json; print(json.dumps(sorted(k for k in os.environ if k.lower() == 'port')))"
    )
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}

    done = subprocess.run(
        [sys.executable, "-m", "envguard", "run", "dev", "--", sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["PORT"]
    check = subprocess.run(
        [sys.executable, "-m", "envguard", "check", "dev", "--format", "json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    clash = [p for p in json.loads(check.stdout)["problems"] if p["code"] == "case_clash"]
    assert [p["message"] for p in clash] == [
        "is set as port (line 3), PORT (line 2), which name one variable (names are not"
        " case-sensitive); the value of line 2 is used"
    ]


def test_a_script_whose_interpreter_is_missing_is_not_command_not_found(tmp_path: Path) -> None:
    (tmp_path / "schema.toml").write_text('[vars.PORT]\ntype = "int"\ndefault = 1\n')
    (tmp_path / "envguard.toml").write_text('schema = "schema.toml"\n[env.dev]\nsources = []\n')
    script = tmp_path / "tool.sh"
    script.write_text("#!/nonexistent/bin/interp -x\necho hi\n")
    script.chmod(0o755)

    done = subprocess.run(
        [sys.executable, "-m", "envguard", "run", "dev", "--", str(script)],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 126
    assert done.stderr == (
        f"envguard: cannot execute {script}: its interpreter /nonexistent/bin/interp"
        " was not found\n"
    )

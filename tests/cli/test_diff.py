"""``envguard diff``: whole outputs, exit codes, secrets unshown, 80 columns, no stray colour."""

from __future__ import annotations

import io
import json
import re
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from envguard.cli._diff_text import colour_enabled
from envguard.engine import Outcome, Prepared
from envguard.report import render_json
from tests.cli.conftest import Runner

CANARY_STAGING = "canary-jwt-staging-6d1f"
CANARY_PROD = "canary-jwt-production-3a8c"
CANARY_SAME = "canary-token-same-e07b"
HEX_RUN = re.compile(r"[0-9a-fA-F]{32,}")

SCHEMA = """\
[vars.DATABASE_URL]
type = "url"
secret = true

[vars.PORT]
type = "int"
default = 3000

[vars.LOG_LEVEL]
type = "enum"
values = ["debug", "info", "warn"]
default = "info"

[vars.SENTRY_DSN]
type = "url"
required_in = ["production"]

[vars.JWT_SECRET]
min_length = 8

[vars.API_TOKEN]
default = "none"

[vars.WORKERS]
type = "int"
default = 1
"""


def table(values: dict[str, str]) -> str:
    """An inline TOML table of strings."""
    return "{ " + ", ".join(f'{k} = "{v}"' for k, v in values.items()) + " }"


def environment(name: str, values: dict[str, str]) -> str:
    fixtures = f"{{ static = {table(values)}, name = 'fixtures' }}"
    return f"[env.{name}]\nsources = [{fixtures}, {{ env = true }}]\n"


COMMON = {"API_TOKEN": CANARY_SAME, "WORKERS": "2"}
PROJECT = "\n".join(
    [
        'schema = "schema.toml"',
        environment(
            "staging",
            {
                "DATABASE_URL": "postgres://db.staging/app",
                "PORT": "3000",
                "JWT_SECRET": CANARY_STAGING,
            }
            | COMMON
            | {"FEATURE_X": "on"},
        ),
        environment(
            "production",
            {"DATABASE_URL": "postgres://db.prod/app", "PORT": "8080", "JWT_SECRET": CANARY_PROD}
            | COMMON
            | {"CDN_HOST": "cdn.example.com"},
        ),
        environment(
            "qa",
            {"DATABASE_URL": "postgres://db.qa/app", "PORT": "3001", "JWT_SECRET": CANARY_STAGING}
            | COMMON
            | {"FEATURE_X": "on"},
        ),
        '[env.unreadable]\nsources = [{ dotenv = ".env.missing" }, { static = { PORT = "1" } }]',
    ]
)

SCHEMA_KEYS = ("DATABASE_URL", "PORT", "LOG_LEVEL", "SENTRY_DSN", "JWT_SECRET", "API_TOKEN")

TEXT = """\
staging     valid, 1 warning
production  invalid: 1 error (missing), 1 warning

Breaks a deploy (1): valid in one environment, invalid in the other
  SENTRY_DSN    staging: ok (unset); production: missing

Only in staging (1)
  FEATURE_X     on

Only in production (1)
  CDN_HOST      cdn.example.com

Changed (3)
  DATABASE_URL  changed (secret)
  JWT_SECRET    changed (secret)
  PORT          3000 -> 8080

Unchanged: 3 keys
"""


@pytest.fixture
def project(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project above; the process environment adds LOG_LEVEL and unrelated noise."""
    for name in (*SCHEMA_KEYS, "WORKERS", "FEATURE_X", "CDN_HOST", "NO_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOG_LEVEL", "warn")
    monkeypatch.setenv("UNRELATED_NOISE", "from-the-shell")
    (project_dir / "schema.toml").write_text(SCHEMA)
    (project_dir / "envguard.toml").write_text(PROJECT)
    return project_dir


def assert_nothing_secret(text: str) -> None:
    for canary in (CANARY_STAGING, CANARY_PROD, CANARY_SAME):
        assert canary not in text
    assert not HEX_RUN.search(text)


def test_text(cli: Runner, project: Path) -> None:
    result = cli(["diff", "staging", "production"])
    assert (result.code, result.out, result.err) == (0, TEXT, "")
    assert_nothing_secret(result.out)


def test_exit_code_with_drift_that_matters(cli: Runner, project: Path) -> None:
    result = cli(["diff", "staging", "production", "--exit-code"])
    assert (result.code, result.out, result.err) == (1, TEXT, "")


def test_changed_values_alone_do_not_matter(cli: Runner, project: Path) -> None:
    result = cli(["diff", "staging", "qa", "--exit-code"])
    expected = """\
staging  valid, 1 warning
qa       valid, 1 warning

Changed (2)
  DATABASE_URL  changed (secret)
  PORT          3000 -> 3001

Unchanged: 5 keys
"""
    assert (result.code, result.out, result.err) == (0, expected, "")


def test_no_drift(cli: Runner, project: Path) -> None:
    result = cli(["diff", "qa", "qa", "--exit-code"])
    expected = "qa  valid, 1 warning\nqa  valid, 1 warning\n\nNo drift: 7 keys unchanged\n"
    assert (result.code, result.out, result.err) == (0, expected, "")


def test_json(cli: Runner, project: Path) -> None:
    result = cli(["diff", "staging", "production", "--format", "json", "--exit-code"])
    assert (result.code, result.err) == (1, "")
    assert_nothing_secret(result.out)
    data = json.loads(result.out)
    assert result.out == render_json(data)  # sorted keys, two-space indent: byte-stable
    assert cli(["diff", "staging", "production", "-f", "json", "--exit-code"]).out == result.out

    def side(present: bool, valid: bool = True, codes: tuple[str, ...] = (), value=None):  # type: ignore[no-untyped-def]
        origin = "fixtures" if present else None
        return {"codes": list(codes), "origin": origin, "present": present, "valid": valid,
                "value": value}  # fmt: skip

    def key(name: str, a: dict, b: dict, *, secret=False, declared=True, same=None):  # type: ignore[no-untyped-def]
        return {"a": a, "b": b, "declared": declared, "key": name, "same": same, "secret": secret}

    def unknown(name: str) -> dict[str, object]:
        return {"category": "validation", "code": "unknown_key", "column": None, "file": None,
                "key": name, "line": None, "message": "is not declared in the schema",
                "severity": "warning", "source": "fixtures"}  # fmt: skip

    missing = {"category": "validation", "code": "missing", "column": None, "file": None,
               "key": "SENTRY_DSN", "line": None, "message": "required, but not set by any source",
               "severity": "error", "source": None}  # fmt: skip
    assert data == {
        "a": {
            "codes": [],
            "complete": True,
            "env": "staging",
            "problems": [unknown("FEATURE_X")],
            "valid": True,
        },
        "b": {
            "codes": ["missing"],
            "complete": True,
            "env": "production",
            "problems": [missing, unknown("CDN_HOST")],
            "valid": False,
        },
        "broken": [key("SENTRY_DSN", side(False), side(False, False, ("missing",)))],
        "changed": [
            key("DATABASE_URL", side(True), side(True), secret=True, same=False),
            key("JWT_SECRET", side(True), side(True), secret=True, same=False),
            key("PORT", side(True, value="3000"), side(True, value="8080"), same=False),
        ],
        "complete": True,
        "counts": {"broken": 1, "changed": 3, "only_a": 1, "only_b": 1, "unchanged": 3},
        "differs": True,
        "exit_code": 1,
        "matters": True,
        "only_a": [key("FEATURE_X", side(True, value="on"), side(False), declared=False)],
        "only_b": [
            key("CDN_HOST", side(False), side(True, value="cdn.example.com"), declared=False)
        ],
        "unchanged": ["API_TOKEN", "LOG_LEVEL", "WORKERS"],
    }


def test_json_is_the_same_whatever_else_the_process_environment_holds(
    cli: Runner, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only declared keys and keys a file or store sets are compared: PATH is not."""
    first = cli(["diff", "staging", "production", "--format", "json"])
    for i in range(50):
        monkeypatch.setenv(f"UNRELATED_{i}", "noise")
    monkeypatch.delenv("PATH", raising=False)
    second = cli(["diff", "staging", "production", "--format", "json"])
    assert (second.code, second.out, second.err) == (first.code, first.out, first.err)


def test_json_without_exit_code_flag(cli: Runner, project: Path) -> None:
    result = cli(["diff", "staging", "production", "--format", "json"])
    assert (result.code, json.loads(result.out)["exit_code"]) == (0, 0)


def test_unknown_environment_is_a_usage_error(cli: Runner, project: Path) -> None:
    result = cli(["diff", "staging", "prod"])
    path = project / "envguard.toml"
    expected = (
        f"envguard: error: {path}: unknown environment 'prod'; "
        "known: staging, production, qa, unreadable\n"
    )
    assert (result.code, result.out, result.err) == (2, "", expected)


def test_both_unknown_environments_are_reported(cli: Runner, project: Path) -> None:
    result = cli(["diff", "nope", "nada"])
    assert result.code == 2
    assert [line.split(": unknown environment ")[1][:6] for line in result.err.splitlines()] == [
        "'nope'",
        "'nada'",
    ]


def test_missing_argument_is_a_usage_error(cli: Runner, project: Path) -> None:
    result = cli(["diff", "staging"])
    assert (result.code, result.out) == (2, "")
    assert "Missing argument 'ENV_B'" in result.err


def test_unreadable_source_gives_no_partial_diff(cli: Runner, project: Path) -> None:
    result = cli(["diff", "staging", "unreadable", "--exit-code"])
    expected = (
        "envguard: error: unreadable: .env.missing: file not found (dotenv .env.missing)\n"
        "envguard: no diff shown: 'unreadable' could not be read in full\n"
    )
    assert (result.code, result.out, result.err) == (3, "", expected)


def test_unreadable_source_json(cli: Runner, project: Path) -> None:
    result = cli(["diff", "unreadable", "staging", "--format", "json"])
    data = json.loads(result.out)
    assert (result.code, result.err) == (3, "")
    assert sorted(data) == ["a", "b", "complete", "exit_code"]  # no categories: no diff
    assert (data["complete"], data["exit_code"]) == (False, 3)
    assert (data["a"]["complete"], data["b"]["complete"]) == (False, True)
    assert data["a"]["problems"][0]["code"] == data["a"]["codes"][0]
    assert data["a"]["problems"][0]["category"] == "source"
    assert_nothing_secret(result.out)


def test_text_fits_80_columns(cli: Runner, project_dir: Path) -> None:
    """Typical keys (up to 28 characters) and long values stay within 80 columns."""
    keys = [f"SERVICE_{i}_ENDPOINT_URL" for i in range(5)] + ["A_RATHER_LONG_SETTING_NAME_X"]
    long = "https://" + "very-long-host-name." * 6 + "example.com/path?query=1"
    a = dict.fromkeys(keys, f"{long}/a") | {"ONLY_A_WITH_A_LONG_VALUE": long, "TAB": "a\tb"}
    b = dict.fromkeys(keys, f"{long}/b") | {"ONLY_B_WITH_A_LONG_VALUE": long}

    schema = "".join(f'[vars.{k}]\ntype = "url"\n\n' for k in keys)
    schema += '[vars.NEEDED_IN_PROD_ONLY_SETTING]\nrequired_in = ["prod-eu-west-1-blue"]\n'
    (project_dir / "schema.toml").write_text(schema)
    (project_dir / "envguard.toml").write_text(
        'schema = "schema.toml"\n'
        f"[env.staging-eu-west-1-green]\nsources = [{{ static = {table(a)} }}]\n"
        f"[env.prod-eu-west-1-blue]\nsources = [{{ static = {table(b)} }}]\n"
    )
    result = cli(["diff", "staging-eu-west-1-green", "prod-eu-west-1-blue"])
    assert result.code == 0
    lines = result.out.splitlines()
    assert max(len(line) for line in lines) <= 80, result.out
    assert "  TAB                           a\\tb" in lines  # control characters escaped
    # Values that share a long prefix are clipped so that where they differ stays visible.
    changed = "  SERVICE_0_ENDPOINT_URL        ....com/path?query=1/a -> ....com/path?query=1/b"
    assert changed in lines
    # A broken key whose line would be too long shows one line per side.
    at = lines.index("  NEEDED_IN_PROD_ONLY_SETTING   staging-eu-west-1-green: ok (unset)")
    assert lines[at + 1] == " " * 32 + "prod-eu-west-1-blue: missing"
    assert "\x1b" not in result.out


@pytest.mark.parametrize(
    ("tty", "environ", "coloured"),
    [
        pytest.param(True, {}, True, id="tty"),
        pytest.param(True, {"NO_COLOR": "1"}, False, id="tty-no-color"),
        pytest.param(True, {"NO_COLOR": ""}, False, id="tty-no-color-empty"),
        pytest.param(True, {"TERM": "dumb"}, False, id="tty-dumb"),
        pytest.param(False, {}, False, id="pipe"),
    ],
)
def test_colour_only_on_a_terminal(tty: bool, environ: dict[str, str], coloured: bool) -> None:
    stream = io.StringIO()
    stream.isatty = lambda: tty  # type: ignore[method-assign]
    assert colour_enabled(stream, environ) is coloured


@pytest.mark.parametrize("no_color", [None, "1"])
def test_no_escape_codes_unless_a_terminal_allows_them(
    cli: Runner, project: Path, monkeypatch: pytest.MonkeyPatch, no_color: str | None
) -> None:
    assert "\x1b" not in cli(["diff", "staging", "production"]).out  # not a TTY
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    if no_color is not None:
        monkeypatch.setenv("NO_COLOR", no_color)
    result = cli(["diff", "staging", "production"])
    if no_color is not None:
        assert result.out == TEXT
    else:
        assert "\x1b[" in result.out
        assert re.sub(r"\x1b\[[0-9;]*m", "", result.out) == TEXT


def test_both_sides_are_resolved_concurrently(
    cli: Runner, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither side waits for the other: both evaluations are in flight at once."""
    import envguard._api as command

    barrier = threading.Barrier(2, timeout=10)
    real = command.evaluate_prepared

    def meet_then_evaluate(prepared: Prepared, **kwargs: Any) -> Outcome:
        barrier.wait()  # raises BrokenBarrierError (exit 70) if run one after the other
        return real(prepared, **kwargs)

    monkeypatch.setattr(command, "evaluate_prepared", meet_then_evaluate)
    result = cli(["diff", "staging", "production"])
    assert (result.code, result.out) == (0, TEXT)


def test_project_option(cli: Runner, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = project / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (elsewhere / "envguard.toml").write_text("[env.other]\nsources = []\n")
    result = cli(["diff", "--project", str(project / "envguard.toml"), "staging", "production"])
    assert (result.code, result.out, result.err) == (0, TEXT, "")

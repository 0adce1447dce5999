"""``envguard.load()`` in every form of the contract, its errors and its exit codes."""

from __future__ import annotations

import importlib
import logging
import pickle
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

import envguard
from envguard.engine import evaluate, exit_code_for
from envguard.errors import ConfigError, ProjectError, SourceError
from envguard.report import Problem
from envguard.sources import REGISTRY
from envguard.sources._retry import Deadline
from envguard.sources.base import BuildContext, Fetched, Source


class Web(envguard.Settings):
    # With no project file, load() reads what Web() reads: .env, then the environment.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    node_env: Literal["development", "staging", "production"] = "development"
    port: int = 3000
    jwt_secret: SecretStr = Field(min_length=8)


PROJECT = """\
default_env = "development"

[env.development]
sources = [{ dotenv = ".env" }, { env = true }]

[env.staging]
sources = [
  { static = { NODE_ENV = "staging", PORT = "8001" }, name = "staging defaults" },
  { env = true },
]
"""

SCHEMA_MODULE = """\
import envguard

class Settings(envguard.Settings):
    port: int
    name: str = "app"
"""

TOML_SCHEMA = """\
[vars.PORT]
type = "int"
min = 1

[vars.NAME]
type = "str"
default = "toml"
"""


def write(root: Path, files: Mapping[str, str]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, "utf-8")


@pytest.fixture
def fresh_modules() -> Iterator[None]:
    """Forget schema modules imported by a test, so the next test imports its own."""
    before = set(sys.modules)
    importlib.invalidate_caches()
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]


# --- every form of load() ------------------------------------------------------------------


def test_no_project_file_reads_dotenv_then_the_process_environment(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project_dir, {".env": "PORT=1000\nJWT_SECRET=from-dotenv\nNODE_ENV=staging\n"})
    monkeypatch.setenv("PORT", "2000")

    settings = envguard.load(Web)

    assert isinstance(settings, Web)
    assert (settings.node_env, settings.port) == ("staging", 2000)
    assert settings.jwt_secret.get_secret_value() == "from-dotenv"


def test_no_project_file_a_class_without_env_file_reads_no_dotenv(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class EnvOnly(envguard.Settings):
        port: int = 3000

    write(project_dir, {".env": "PORT=1000\n"})

    assert envguard.load(EnvOnly).port == EnvOnly().port == 3000
    monkeypatch.setenv("PORT", "2000")
    assert envguard.load(EnvOnly).port == EnvOnly().port == 2000


def test_no_project_file_and_no_dotenv_uses_the_process_environment(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_SECRET", "from-the-env")

    assert envguard.load(Web).jwt_secret.get_secret_value() == "from-the-env"


def test_named_environment(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(project_dir, {"envguard.toml": PROJECT})
    monkeypatch.setenv("JWT_SECRET", "s3cret-value")

    settings = envguard.load(Web, env="staging")

    assert (settings.node_env, settings.port) == ("staging", 8001)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({}, "development", id="default_env"),
        pytest.param({"ENVGUARD_ENV": "staging"}, "staging", id="ENVGUARD_ENV"),
    ],
)
def test_environment_from_envguard_env_else_default_env(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], expected: str
) -> None:
    write(project_dir, {"envguard.toml": PROJECT, ".env": "NODE_ENV=development\n"})
    monkeypatch.setenv("JWT_SECRET", "s3cret-value")
    for key, value in environ.items():
        monkeypatch.setenv(key, value)

    assert envguard.load(Web).node_env == expected


def test_explicit_project_resolves_paths_against_its_directory(project_dir: Path) -> None:
    write(
        project_dir,
        {
            "envguard.toml": PROJECT,  # must be ignored
            "deploy/envguard.toml": '[env.staging]\nsources = [{ dotenv = ".env.staging" }]\n',
            "deploy/.env.staging": "NODE_ENV=staging\nPORT=9000\nJWT_SECRET=deploy-secret\n",
        },
    )

    settings = envguard.load(Web, env="staging", project="deploy/envguard.toml")

    assert (settings.node_env, settings.port) == ("staging", 9000)


def test_toml_schema_path(project_dir: Path) -> None:
    write(
        project_dir,
        {
            "schemas/web.toml": TOML_SCHEMA,
            "envguard.toml": '[env.staging]\nsources = [{ static = { PORT = "81" } }]\n',
        },
    )

    settings = envguard.load("schemas/web.toml", env="staging")

    assert type(settings).__name__ == "WebSchema"
    assert settings.model_dump() == {"port": 81, "name": "toml"}


@pytest.mark.parametrize(
    ("schema", "files"),
    [
        pytest.param("app_settings:Settings", {"app_settings.py": SCHEMA_MODULE}, id="module"),
        pytest.param(
            "pkg.conf:Settings",
            {"pkg/__init__.py": "", "pkg/conf.py": SCHEMA_MODULE},
            id="package-module",
        ),
        pytest.param("schemas/app.toml", {"schemas/app.toml": TOML_SCHEMA}, id="toml"),
    ],
)
@pytest.mark.usefixtures("fresh_modules")
def test_schema_named_in_the_project_file(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, schema: str, files: dict[str, str]
) -> None:
    write(
        project_dir,
        {
            "envguard.toml": f'schema = "{schema}"\n'
            '[env.ci]\nsources = [{ static = { PORT = "8080" } }]\n',
            **files,
        },
    )
    # The schema is found relative to the project file, not the current directory.
    (project_dir / "sub/dir").mkdir(parents=True)
    monkeypatch.chdir(project_dir / "sub/dir")

    settings = envguard.load()

    assert settings.model_dump()["port"] == 8080
    assert str(project_dir) not in sys.path


# --- failures ------------------------------------------------------------------------------


def test_invalid_configuration_raises_config_error_with_every_problem(
    project_dir: Path,
) -> None:
    write(project_dir, {".env": "NODE_ENV=prod\nPORT=http\nJWT_SECRET=short\n"})

    with pytest.raises(ConfigError) as exc:
        envguard.load(Web)

    err = exc.value
    assert type(err) is ConfigError
    assert isinstance(err, ValueError)
    assert err.exit_code == 1
    assert err.env == "default"
    assert [(p.key, p.source, p.code) for p in err.problems] == [
        ("NODE_ENV", "dotenv .env:1", "literal_error"),
        ("PORT", "dotenv .env:2", "int_parsing"),
        ("JWT_SECRET", "dotenv .env:3", "too_short"),
    ]
    assert str(err) == (
        "invalid configuration for environment 'default': 3 problems\n"
        "  error: NODE_ENV: Input should be 'development', 'staging' or 'production' "
        "(dotenv .env:1)\n"
        "  error: PORT: Input should be a valid integer, unable to parse string as an integer "
        "(dotenv .env:2)\n"
        "  error: JWT_SECRET: must have at least 8 characters (dotenv .env:3)"
    )
    assert repr(err) == (
        "ConfigError(env='default', errors=3, codes=[int_parsing, literal_error, too_short])"
    )


def test_strict_turns_unknown_keys_into_errors(project_dir: Path) -> None:
    write(project_dir, {".env": "JWT_SECRET=long-enough\nPROT=1\n"})

    assert envguard.load(Web).port == 3000
    with pytest.raises(ConfigError) as exc:
        envguard.load(Web, strict=True)

    assert [(p.key, p.code, p.severity) for p in exc.value.problems] == [
        ("PROT", "unknown_key", "error")
    ]


def test_warnings_are_logged_on_success(
    project_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(project_dir, {".env": "JWT_SECRET=long-enough\nPROT=1\n"})

    with caplog.at_level(logging.WARNING, logger="envguard"):
        envguard.load(Web)

    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "envguard",
            "WARNING",
            "default: PROT: is not declared in the schema (did you mean PORT?) (dotenv .env:2)",
        )
    ]


def test_nothing_is_logged_for_a_clean_configuration(
    project_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(project_dir, {".env": "JWT_SECRET=long-enough\n"})

    with caplog.at_level(logging.DEBUG):
        envguard.load(Web)

    assert caplog.records == []


def test_an_unreadable_source_raises_source_error_with_the_other_problems(
    project_dir: Path,
) -> None:
    write(project_dir, {"envguard.toml": PROJECT})

    with pytest.raises(SourceError) as exc:
        envguard.load(Web, env="development")

    assert exc.value.exit_code == 3
    assert [(p.key, p.code, p.category) for p in exc.value.problems] == [
        (None, "dotenv_missing", "source"),
        ("JWT_SECRET", "missing", "validation"),
    ]


def test_an_unreadable_source_fails_even_when_the_rest_validates(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Defaults and the environment satisfy the schema, but validation was incomplete.
    write(project_dir, {"envguard.toml": PROJECT})
    monkeypatch.setenv("JWT_SECRET", "long-enough")

    with pytest.raises(SourceError) as exc:
        envguard.load(Web, env="development")

    assert [p.code for p in exc.value.problems] == ["dotenv_missing"]
    outcome = evaluate(Web, env="development")
    assert (outcome.settings, outcome.exit_code) == (None, 3)


class HangingSource(Source):
    """A remote source that answers only when the test ends."""

    kind = "hang"
    remote = True
    release = threading.Event()

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], ctx: BuildContext) -> HangingSource:
        return cls()

    def describe(self) -> str:
        return "hang"

    def fetch(self, deadline: Deadline) -> Fetched:
        self.release.wait()
        return Fetched()


@pytest.fixture
def hang_kind(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(REGISTRY, "hang", f"{__name__}:HangingSource")
    HangingSource.release.clear()
    yield
    HangingSource.release.set()


@pytest.mark.parametrize(
    ("deadline_line", "timeout", "shown"),
    [
        pytest.param("deadline = 0.3\n", None, "0.3s", id="project-deadline"),
        pytest.param("", 0.4, "0.4s", id="timeout-argument"),
        pytest.param("deadline = 60\n", 0.2, "0.2s", id="timeout-beats-deadline"),
    ],
)
@pytest.mark.usefixtures("hang_kind")
def test_the_deadline_bounds_remote_sources(
    project_dir: Path, deadline_line: str, timeout: float | None, shown: str
) -> None:
    write(
        project_dir,
        {
            "envguard.toml": deadline_line
            + '[env.prod]\nsources = [{ hang = true }, { static = { JWT_SECRET = "12345678" } }]\n'
        },
    )

    start = time.perf_counter()
    with pytest.raises(SourceError) as exc:
        envguard.load(Web, env="prod", timeout=timeout)

    assert time.perf_counter() - start < 2.0
    assert [p.message for p in exc.value.problems] == [
        f"hang: no answer within the {shown} deadline"
    ]


# --- schema references ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "files", "code", "message"),
    [
        pytest.param(
            "nosuchmodule_x1:Settings",
            {},
            "schema_import",
            "cannot import schema module 'nosuchmodule_x1': no module named 'nosuchmodule_x1'",
            id="module-not-found",
        ),
        pytest.param(
            "pkg_a.missing:Settings",
            {"pkg_a/__init__.py": ""},
            "schema_import",
            "cannot import schema module 'pkg_a.missing': no module named 'pkg_a.missing'",
            id="submodule-not-found",
        ),
        pytest.param(
            "needs_dep:Settings",
            {"needs_dep.py": "import not_installed_dep_q\n"},
            "schema_import",
            "cannot import schema module 'needs_dep': no module named 'not_installed_dep_q'",
            id="dependency-not-found",
        ),
        pytest.param(
            "raises_at_import:Settings",
            {"raises_at_import.py": 'raise RuntimeError("no DATABASE_URL\\nsecond line")\n'},
            "schema_import",
            "importing schema module 'raises_at_import' failed: "
            "RuntimeError at raises_at_import.py:1",
            id="raises-at-import",
        ),
        pytest.param(
            "syntax_error_mod:Settings",
            {"syntax_error_mod.py": "class Settings(:\n"},
            "schema_import",
            "importing schema module 'syntax_error_mod' failed: SyntaxError: "
            "invalid syntax (syntax_error_mod.py, line 1)",
            id="syntax-error",
        ),
        pytest.param(
            "plain_mod:Missing",
            {"plain_mod.py": "X = 1\n"},
            "schema_import",
            "module 'plain_mod' has no attribute 'Missing'",
            id="no-such-attribute",
        ),
        pytest.param(
            "plain_mod2:X",
            {"plain_mod2.py": "X = 1\n"},
            "schema_not_settings",
            "schema 'plain_mod2:X' is not a settings class "
            "(a subclass of envguard.Settings or pydantic_settings.BaseSettings)",
            id="not-a-class",
        ),
        pytest.param(
            "model_mod:M",
            {"model_mod.py": "import pydantic\nclass M(pydantic.BaseModel):\n    x: int = 1\n"},
            "schema_not_settings",
            "schema 'model_mod:M' is not a settings class "
            "(a subclass of envguard.Settings or pydantic_settings.BaseSettings)",
            id="base-model-not-settings",
        ),
        pytest.param(
            "just_a_name",
            {},
            "schema_bad_reference",
            "schema 'just_a_name' must be a .toml path or 'package.module:ClassName'",
            id="bad-reference",
        ),
        pytest.param(
            "mod:",
            {},
            "schema_bad_reference",
            "schema 'mod:' must be a .toml path or 'package.module:ClassName'",
            id="no-attribute",
        ),
    ],
)
@pytest.mark.usefixtures("fresh_modules")
def test_bad_schema_reference(
    project_dir: Path, schema: str, files: dict[str, str], code: str, message: str
) -> None:
    write(project_dir, {"envguard.toml": f'schema = "{schema}"\n[env.ci]\nsources = []\n', **files})

    with pytest.raises(ProjectError) as exc:
        envguard.load()

    [problem] = exc.value.problems
    assert (problem.code, problem.message, problem.source) == (code, message, schema)
    assert problem.category == "project"
    assert "\n" not in problem.message
    assert exc.value.__cause__ is None
    assert exc.value.__context__ is None


def test_a_class_that_is_not_settings_is_refused(project_dir: Path) -> None:
    class NotSettings:
        pass

    with pytest.raises(ProjectError) as exc:
        envguard.load(NotSettings)  # type: ignore[call-overload]

    assert [p.code for p in exc.value.problems] == ["schema_not_settings"]


def test_no_schema_anywhere(project_dir: Path) -> None:
    write(project_dir, {"envguard.toml": "[env.ci]\nsources = []\n"})

    with pytest.raises(ProjectError) as exc:
        envguard.load()

    file = project_dir / "envguard.toml"
    assert [(p.code, p.message) for p in exc.value.problems] == [
        (
            "schema_missing",
            f"no schema given and none named in {file.resolve()}: pass one (--schema on the "
            "command line), or set "
            "schema = 'schemas/app.toml' or 'package.module:Class' in the project file",
        )
    ]


def test_project_errors_come_before_any_source_is_read(project_dir: Path) -> None:
    write(project_dir, {"envguard.toml": "[env.ci]\nsources = [{ dotenv = 'missing.env' }]\n"})

    with pytest.raises(ProjectError) as exc:
        envguard.load(Web, env="prod")

    assert [p.code for p in exc.value.problems] == ["unknown_env"]


# --- exit codes ----------------------------------------------------------------------------


def _p(category: str, severity: str = "error") -> Problem:
    return Problem("K", None, "c", "m", severity=severity, category=category)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("problems", "expected"),
    [
        pytest.param([], 0, id="none"),
        pytest.param([_p("validation", "warning"), _p("source", "warning")], 0, id="warnings-only"),
        pytest.param([_p("validation")], 1, id="invalid"),
        pytest.param([_p("validation"), _p("source")], 3, id="source-beats-invalid"),
        pytest.param([_p("source"), _p("validation")], 3, id="source-first"),
        pytest.param([_p("project"), _p("source"), _p("validation")], 2, id="project-beats-all"),
        pytest.param([_p("unavailable")], 4, id="unavailable"),
        pytest.param([_p("validation"), _p("unavailable")], 4, id="unavailable-beats-invalid"),
        pytest.param([_p("unavailable"), _p("source")], 3, id="source-beats-unavailable"),
        pytest.param([_p("unavailable"), _p("project")], 2, id="project-beats-unavailable"),
        pytest.param(
            [_p("project", "warning"), _p("validation")], 1, id="warning-category-ignored"
        ),
    ],
)
def test_exit_code_for(problems: list[Problem], expected: int) -> None:
    assert exit_code_for(problems) == expected


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        pytest.param(ConfigError, 1, id="config"),
        pytest.param(ProjectError, 2, id="project"),
        pytest.param(SourceError, 3, id="source"),
        pytest.param(envguard.SourceUnavailable, 4, id="unavailable"),
        pytest.param(envguard.SourceDenied, 3, id="denied"),
        pytest.param(envguard.SourceNotFound, 3, id="not-found"),
    ],
)
def test_each_error_class_maps_to_one_exit_code(cls: type[ConfigError], code: int) -> None:
    assert cls.exit_code == code
    assert issubclass(cls, ValueError)


def test_config_error_survives_pickling(project_dir: Path) -> None:
    # Errors cross process boundaries (multiprocessing, pytest-xdist): keep env and problems.
    write(project_dir, {".env": "PORT=http\n"})
    with pytest.raises(ConfigError) as exc:
        envguard.load(Web)

    copy = pickle.loads(pickle.dumps(exc.value))

    assert type(copy) is ConfigError
    assert (copy.env, copy.problems, str(copy)) == (
        exc.value.env,
        exc.value.problems,
        str(exc.value),
    )


def test_plain_instantiation_still_reads_the_environment(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_SECRET", "long-enough")
    monkeypatch.setenv("PORT", "4000")

    assert Web().port == 4000  # type: ignore[call-arg]


class SelfReferencing(envguard.Settings):
    """A model that refers to itself: its core schema is a definitions schema."""

    port: int
    child: SelfReferencing | None = None


@pytest.mark.parametrize("schema", [Web, SelfReferencing], ids=["plain", "self-referencing"])
def test_validation_never_reads_the_process_environment(
    schema: type[envguard.Settings], project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project whose only source is a dotenv file is checked against that file alone,
    whatever the developer's shell holds (and the class's own env_file is not read)."""
    write(
        project_dir,
        {
            "envguard.toml": '[env.production]\nsources = [{ dotenv = "prod.env" }]\n',
            "prod.env": "NODE_ENV=production\n",
            ".env": "PORT=1\nJWT_SECRET=from-dot-env\n",
        },
    )
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("JWT_SECRET", "from-the-shell")

    outcome = evaluate(schema, env="production")

    assert outcome.settings is None
    missing = {p.key for p in outcome.problems if p.code == "missing"}
    assert ("PORT" in missing) is (schema is SelfReferencing)
    assert ("JWT_SECRET" in missing) is (schema is Web)

"""Project files: discovery, parsing, every bad input's message, and picking the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from envguard.errors import ProjectError
from envguard.project import (
    DEFAULT_DEADLINE,
    IMPLICIT_ENV,
    Project,
    find_project,
    load_project,
)

TWO_ENVS = """\
schema = "app:Settings"
default_env = "development"

[env.development]
sources = [{ static = { PORT = "1" } }, { env = true }]

[env.staging]
sources = [{ env = true }]
"""

ONE_ENV = """\
[env.only]
sources = [{ env = true }]
"""

PYPROJECT_WITH_TABLE = """\
[project]
name = "app"

[tool.envguard]
default_env = "ci"

[tool.envguard.env.ci]
sources = [{ env = true }]
"""

PYPROJECT_WITHOUT_TABLE = """\
[project]
name = "app"
# the [tool.envguard] table lives in envguard.toml
"""


def write(root: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, "utf-8")


def problem_of(exc: pytest.ExceptionInfo[ProjectError]) -> tuple[str, str]:
    """The (code, message) of a one-problem project error."""
    [problem] = exc.value.problems
    assert problem.category == "project"
    assert problem.severity == "error"
    return problem.code, problem.message


# --- discovery -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "cwd", "expected"),
    [
        pytest.param({"envguard.toml": ONE_ENV}, ".", "envguard.toml", id="in-cwd"),
        pytest.param({"envguard.toml": ONE_ENV}, "a/b/c", "envguard.toml", id="walks-up"),
        pytest.param(
            {"envguard.toml": ONE_ENV, "pyproject.toml": PYPROJECT_WITH_TABLE},
            "a",
            "envguard.toml",
            id="envguard-toml-preferred-over-pyproject",
        ),
        pytest.param(
            {"pyproject.toml": PYPROJECT_WITH_TABLE}, "src", "pyproject.toml", id="pyproject-table"
        ),
        pytest.param(
            {"envguard.toml": ONE_ENV, "a/pyproject.toml": PYPROJECT_WITHOUT_TABLE},
            "a/b",
            "envguard.toml",
            id="pyproject-without-table-skipped",
        ),
        pytest.param(
            {"envguard.toml": ONE_ENV, "a/envguard.toml": ONE_ENV},
            "a/b",
            "a/envguard.toml",
            id="nearest-wins",
        ),
        pytest.param(
            {"pyproject.toml": PYPROJECT_WITH_TABLE, "a/pyproject.toml": PYPROJECT_WITHOUT_TABLE},
            "a",
            "pyproject.toml",
            id="skips-to-parent-pyproject",
        ),
        pytest.param({"a/pyproject.toml": PYPROJECT_WITHOUT_TABLE}, "a", None, id="none"),
    ],
)
def test_discovery(
    project_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str],
    cwd: str,
    expected: str | None,
) -> None:
    write(project_dir, files)
    start = project_dir / cwd
    start.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(start)

    found = find_project()

    assert found == (None if expected is None else (project_dir / expected).resolve())
    if expected is not None:
        assert load_project().path == found


def test_discovery_from_an_explicit_start(project_dir: Path) -> None:
    write(project_dir, {"svc/envguard.toml": ONE_ENV})
    (project_dir / "svc/deep").mkdir()

    assert find_project(project_dir / "svc/deep") == (project_dir / "svc/envguard.toml").resolve()


def test_pyproject_table_is_parsed(project_dir: Path) -> None:
    write(project_dir, {"pyproject.toml": PYPROJECT_WITH_TABLE})

    project = load_project()

    assert project.path == (project_dir / "pyproject.toml").resolve()
    assert project.default_env == "ci"
    assert project.envs == {"ci": ({"env": True},)}
    assert project.pick_env(None, {}) == "ci"


def test_full_file_is_parsed(project_dir: Path) -> None:
    write(project_dir, {"envguard.toml": "deadline = 2.5\n" + TWO_ENVS})

    project = load_project()

    assert project == Project(
        path=(project_dir / "envguard.toml").resolve(),
        base_dir=project_dir.resolve(),
        schema="app:Settings",
        default_env="development",
        deadline=2.5,
        envs={
            "development": ({"static": {"PORT": "1"}}, {"env": True}),
            "staging": ({"env": True},),
        },
        tables={},
    )


def test_source_family_tables_are_kept(project_dir: Path) -> None:
    write(
        project_dir,
        {"envguard.toml": ONE_ENV + '[vault]\nauth = "approle"\n[aws]\nregion = "eu-west-1"\n'},
    )

    project = load_project()

    assert project.tables == {"vault": {"auth": "approle"}, "aws": {"region": "eu-west-1"}}
    assert project.deadline == DEFAULT_DEADLINE


@pytest.mark.parametrize(
    ("files", "given", "expected"),
    [
        pytest.param({"deploy/envguard.toml": ONE_ENV}, "deploy/envguard.toml", None, id="file"),
        pytest.param({"deploy/envguard.toml": ONE_ENV}, "deploy", "envguard.toml", id="directory"),
        pytest.param(
            {"deploy/pyproject.toml": PYPROJECT_WITH_TABLE},
            "deploy",
            "pyproject.toml",
            id="directory-with-pyproject",
        ),
        pytest.param(
            {"deploy/pyproject.toml": PYPROJECT_WITH_TABLE, "deploy/envguard.toml": ONE_ENV},
            "deploy",
            "envguard.toml",
            id="directory-prefers-envguard-toml",
        ),
        pytest.param({"deploy/other.toml": ONE_ENV}, "deploy/other.toml", None, id="any-name"),
    ],
)
def test_explicit_project(
    project_dir: Path, files: dict[str, str], given: str, expected: str | None
) -> None:
    # A project file in the current directory must not win over the explicit one.
    write(project_dir, {"envguard.toml": TWO_ENVS, **files})

    project = load_project(given)

    assert project.path == (Path(given) if expected is None else Path(given) / expected)
    assert project.base_dir == Path("deploy")


def test_explicit_project_as_pathlike(project_dir: Path) -> None:
    write(project_dir, {"deploy/envguard.toml": ONE_ENV})

    assert load_project(project_dir / "deploy").env_names == ["only"]


def test_relative_project_path_is_not_shared_across_directories(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parsed files are cached; one file reached by two relative paths is two Projects,
    # since each keeps the path as given and resolves its sources against its directory.
    write(project_dir, {"envguard.toml": ONE_ENV, "sub/.keep": ""})

    monkeypatch.chdir(project_dir / "sub")
    first = load_project("../envguard.toml")
    monkeypatch.chdir(project_dir)
    second = load_project("envguard.toml")

    assert (first.path, first.base_dir) == (Path("../envguard.toml"), Path(".."))
    assert (second.path, second.base_dir) == (Path("envguard.toml"), Path("."))


def test_no_project_file_gives_the_implicit_environment(project_dir: Path) -> None:
    project = load_project()

    # Its one environment reads what the schema names (see envguard._implicit).
    assert project == Project(
        path=None, base_dir=project_dir, envs={IMPLICIT_ENV: ()}, implicit=True
    )
    assert project.pick_env(None, {}) == IMPLICIT_ENV == "default"


# --- bad input: one problem each, with its exact message -----------------------------------

KNOWN_KINDS = "aws_secret, aws_ssm, dotenv, env, static, vault"


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        pytest.param(
            'schema = "x"\ndefault_env = \n',
            "project_syntax",
            "{file}:2:15: invalid TOML: Invalid value",
            id="malformed-toml",
        ),
        pytest.param(
            "[env.dev\n",
            "project_syntax",
            "{file}:1:9: invalid TOML: Expected ']' at the end of a table declaration",
            id="malformed-table-header",
        ),
        pytest.param(
            "[env.dev]\nsources = [{ env = true }\n",
            "project_syntax",
            "{file}:2: invalid TOML: Unclosed array (at end of file)",
            id="malformed-unclosed-array",
        ),
        pytest.param(
            b'schema = "ok"\n\ndefault_env = "caf\xe9"\n',
            "project_encoding",
            "{file}:3: is not valid UTF-8",
            id="not-utf8",
        ),
        pytest.param(
            'defualt_env = "dev"\n' + ONE_ENV,
            "project_unknown_key",
            "{file}: unknown key 'defualt_env' (did you mean 'default_env'?)",
            id="unknown-top-level-key",
        ),
        pytest.param(
            'colour = "blue"\n',
            "project_unknown_key",
            "{file}: unknown key 'colour'",
            id="unknown-top-level-key-no-suggestion",
        ),
        pytest.param(
            "[env.dev]\nsources = []\nsourcse = []\n",
            "project_unknown_key",
            "{file}: [env.dev]: unknown key 'sourcse' (did you mean 'sources'?)",
            id="unknown-env-key",
        ),
        pytest.param(
            '[env.dev]\nsources = [{ dotnev = ".env" }]\n',
            "project_unknown_source",
            "{file}: [env.dev] source 1: unknown source kind (did you mean 'dotenv'?); "
            f"known kinds: {KNOWN_KINDS}",
            id="unknown-source-kind",
        ),
        pytest.param(
            '[env.dev]\nsources = [{ env = true }, { consul = "x" }]\n',
            "project_unknown_source",
            "{file}: [env.dev] source 2: unknown source kind; known kinds: " + KNOWN_KINDS,
            id="unknown-source-kind-no-suggestion",
        ),
        pytest.param(
            '[env.dev]\nsources = [{ env = true, static = { A = "1" } }]\n',
            "project_unknown_source",
            "{file}: [env.dev] source 1: names 2 kinds (env, static); use one per entry",
            id="two-kinds-in-one-entry",
        ),
        pytest.param(
            '[env.dev]\nsources = ["env"]\n',
            "project_bad_value",
            "{file}: [env.dev] source 1: must be a table like { env = true }",
            id="source-entry-not-a-table",
        ),
        pytest.param(
            '[env.dev]\nsources = "env"\n',
            "project_bad_value",
            "{file}: [env.dev]: sources must be a list of source tables",
            id="sources-not-a-list",
        ),
        pytest.param(
            "[env.dev]\ndescription = 'no sources'\n",
            "project_bad_value",
            "{file}: [env.dev]: sources must be a list of source tables",
            id="sources-missing",
        ),
        pytest.param(
            "[env]\ndev = 1\n",
            "project_bad_value",
            "{file}: [env.dev] must be a table with a sources list",
            id="env-not-a-table",
        ),
        pytest.param(
            "env = 3\n",
            "project_bad_value",
            "{file}: env must be a table of environments ([env.NAME])",
            id="envs-not-a-table",
        ),
        pytest.param(
            "schema = 3\n" + ONE_ENV,
            "project_bad_value",
            "{file}: schema must be a string (a .toml path or 'module:Class')",
            id="schema-not-a-string",
        ),
        pytest.param(
            "default_env = ['a']\n" + ONE_ENV,
            "project_bad_value",
            "{file}: default_env must be a string",
            id="default-env-not-a-string",
        ),
        pytest.param(
            "deadline = 0\n" + ONE_ENV,
            "project_bad_value",
            "{file}: deadline must be a positive, finite number of seconds",
            id="deadline-zero",
        ),
        pytest.param(
            "deadline = -1.5\n" + ONE_ENV,
            "project_bad_value",
            "{file}: deadline must be a positive, finite number of seconds",
            id="deadline-negative",
        ),
        pytest.param(
            'deadline = "5s"\n' + ONE_ENV,
            "project_bad_value",
            "{file}: deadline must be a positive, finite number of seconds",
            id="deadline-string",
        ),
        pytest.param(
            "deadline = true\n" + ONE_ENV,
            "project_bad_value",
            "{file}: deadline must be a positive, finite number of seconds",
            id="deadline-bool",
        ),
        pytest.param(
            'default_env = "prodution"\n'
            "[env.development]\nsources = [{ env = true }]\n"
            "[env.production]\nsources = [{ env = true }]\n",
            "unknown_env",
            "{file}: default_env 'prodution' is not defined (did you mean 'production'?); "
            "known: development, production",
            id="default-env-not-defined",
        ),
        pytest.param(
            'vault = "http://vault"\n' + ONE_ENV,
            "project_bad_value",
            "{file}: [vault] must be a table",
            id="vault-not-a-table",
        ),
    ],
)
def test_bad_project_file(project_dir: Path, content: str | bytes, code: str, message: str) -> None:
    write(project_dir, {"envguard.toml": content})
    file = project_dir / "envguard.toml"

    with pytest.raises(ProjectError) as exc:
        load_project(file)

    assert problem_of(exc) == (code, message.replace("{file}", str(file)))
    [problem] = exc.value.problems
    assert problem.file == str(file)
    assert exc.value.exit_code == 2
    # No TOMLDecodeError or UnicodeDecodeError (which holds the raw bytes) is chained.
    assert (exc.value.__cause__, exc.value.__context__) == (None, None)


@pytest.mark.parametrize(
    ("content", "line", "column"),
    [
        pytest.param('schema = "x"\ndefault_env = \n', 2, 15, id="syntax"),
        pytest.param(b'schema = "ok"\n\ndefault_env = "caf\xe9"\n', 3, None, id="encoding"),
    ],
)
def test_bad_file_problems_carry_line_and_column(
    project_dir: Path, content: str | bytes, line: int, column: int | None
) -> None:
    write(project_dir, {"envguard.toml": content})

    with pytest.raises(ProjectError) as exc:
        load_project("envguard.toml")

    [problem] = exc.value.problems
    assert (problem.file, problem.line, problem.column) == ("envguard.toml", line, column)


def test_every_problem_of_a_file_is_reported_at_once(project_dir: Path) -> None:
    write(
        project_dir,
        {
            "envguard.toml": 'colour = "x"\ndeadline = 0\n'
            '[env.dev]\nsources = [{ bogus = 1 }, "env"]\nextra = 1\n'
        },
    )

    with pytest.raises(ProjectError) as exc:
        load_project("envguard.toml")

    assert [(p.code, p.message) for p in exc.value.problems] == [
        ("project_unknown_key", "envguard.toml: unknown key 'colour'"),
        (
            "project_bad_value",
            "envguard.toml: deadline must be a positive, finite number of seconds",
        ),
        ("project_unknown_key", "envguard.toml: [env.dev]: unknown key 'extra'"),
        (
            "project_unknown_source",
            f"envguard.toml: [env.dev] source 1: unknown source kind; known kinds: {KNOWN_KINDS}",
        ),
        (
            "project_bad_value",
            "envguard.toml: [env.dev] source 2: must be a table like { env = true }",
        ),
    ]


@pytest.mark.parametrize(
    ("files", "given", "code", "message"),
    [
        pytest.param(
            {}, "nowhere.toml", "project_missing", "nowhere.toml: file not found", id="missing"
        ),
        pytest.param(
            {}, ".", "project_missing", "envguard.toml: file not found", id="directory-without-file"
        ),
        pytest.param(
            {"pyproject.toml": PYPROJECT_WITHOUT_TABLE},
            "pyproject.toml",
            "project_missing",
            "pyproject.toml: has no [tool.envguard] table",
            id="pyproject-without-table",
        ),
    ],
)
def test_explicit_project_errors(
    project_dir: Path, files: dict[str, str], given: str, code: str, message: str
) -> None:
    write(project_dir, files)

    with pytest.raises(ProjectError) as exc:
        load_project(given)

    assert problem_of(exc) == (code, message)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        pytest.param(
            "{ env = true, bogus = 1 }",
            "unknown key 'bogus' in env source (accepted: env)",
            id="unknown-key-in-env-entry",
        ),
        pytest.param(
            '{ static = { A = "1" }, nmae = "x" }',
            "unknown key 'nmae' in static source (accepted: name, sensitive, static)",
            id="unknown-key-in-static-entry",
        ),
        pytest.param(
            "{ env = false }", "an env source is written { env = true }", id="env-not-true"
        ),
        pytest.param(
            '{ static = "A=1" }',
            "a static source takes a table of KEY = value pairs",
            id="static-not-a-table",
        ),
    ],
)
def test_bad_source_entry(project_dir: Path, entry: str, message: str) -> None:
    # Entries are checked by their source when the environment is built (still no I/O).
    write(project_dir, {"envguard.toml": f"[env.dev]\nsources = [{{ env = true }}, {entry}]\n"})
    project = load_project("envguard.toml")

    with pytest.raises(ProjectError) as exc:
        project.build_sources("dev", environ={})

    assert problem_of(exc)[1] == f"envguard.toml: [env.dev] source 2: {message}"
    assert exc.value.env == "dev"


def test_every_bad_source_entry_is_reported(project_dir: Path) -> None:
    write(
        project_dir,
        {"envguard.toml": "[env.dev]\nsources = [{ env = 1 }, { env = true, x = 1 }]\n"},
    )

    with pytest.raises(ProjectError) as exc:
        load_project("envguard.toml").build_sources("dev", environ={})

    assert [p.message for p in exc.value.problems] == [
        "envguard.toml: [env.dev] source 1: an env source is written { env = true }",
        "envguard.toml: [env.dev] source 2: unknown key 'x' in env source (accepted: env)",
    ]


# --- picking the environment ---------------------------------------------------------------

THREE_ENVS = "".join(
    f"[env.{name}]\nsources = [{{ env = true }}]\n" for name in ("development", "staging", "prod")
)


@pytest.mark.parametrize(
    ("default_env", "explicit", "envguard_env", "expected"),
    [
        pytest.param("development", None, None, "development", id="default-env"),
        pytest.param("development", None, "staging", "staging", id="ENVGUARD_ENV-beats-default"),
        pytest.param("development", "prod", "staging", "prod", id="explicit-beats-ENVGUARD_ENV"),
        pytest.param("development", "prod", None, "prod", id="explicit-beats-default"),
        pytest.param(None, None, "staging", "staging", id="ENVGUARD_ENV-alone"),
        pytest.param("development", None, "", "development", id="empty-ENVGUARD_ENV-ignored"),
    ],
)
def test_env_precedence(
    project_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    default_env: str | None,
    explicit: str | None,
    envguard_env: str | None,
    expected: str,
) -> None:
    head = f'default_env = "{default_env}"\n' if default_env else ""
    write(project_dir, {"envguard.toml": head + THREE_ENVS})
    project = load_project()

    environ = {} if envguard_env is None else {"ENVGUARD_ENV": envguard_env}
    assert project.pick_env(explicit, environ) == expected

    # Without an explicit mapping, the process environment is what counts.
    if envguard_env is not None:
        monkeypatch.setenv("ENVGUARD_ENV", envguard_env)
    assert project.pick_env(explicit, os.environ) == expected


def test_a_single_environment_needs_no_name(project_dir: Path) -> None:
    write(project_dir, {"envguard.toml": ONE_ENV})

    assert load_project().pick_env(None, {}) == "only"


@pytest.mark.parametrize(
    ("head", "explicit", "environ", "code", "message"),
    [
        pytest.param(
            "",
            None,
            {},
            "project_no_env",
            "{file}: no environment named; pass one, set ENVGUARD_ENV, or set default_env "
            "(known: development, staging, prod)",
            id="several-envs-none-named",
        ),
        pytest.param(
            "",
            "stagin",
            {},
            "unknown_env",
            "{file}: unknown environment 'stagin' (did you mean 'staging'?); "
            "known: development, staging, prod",
            id="unknown-explicit",
        ),
        pytest.param(
            "",
            None,
            {"ENVGUARD_ENV": "qa"},
            "unknown_env",
            "{file}: unknown environment 'qa'; known: development, staging, prod",
            id="unknown-ENVGUARD_ENV",
        ),
    ],
)
def test_env_errors(
    project_dir: Path,
    head: str,
    explicit: str | None,
    environ: dict[str, str],
    code: str,
    message: str,
) -> None:
    write(project_dir, {"envguard.toml": head + THREE_ENVS})
    project = load_project()

    with pytest.raises(ProjectError) as exc:
        project.pick_env(explicit, environ)

    assert problem_of(exc) == (code, message.replace("{file}", str(project.path)))


def test_named_env_without_a_project_file(project_dir: Path) -> None:
    with pytest.raises(ProjectError) as exc:
        load_project().pick_env("staging", {})

    assert problem_of(exc) == (
        "project_not_found",
        "environment 'staging' needs a project file, and none was found (looked for "
        f"envguard.toml or [tool.envguard] in pyproject.toml from {project_dir} upwards)",
    )


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("tool = 3\n# tool.envguard\n", id="tool-is-a-number"),
        pytest.param('tool = "x"\n# tool.envguard\n', id="tool-is-a-string"),
    ],
)
def test_a_pyproject_whose_tool_is_not_a_table_is_no_project(
    project_dir: Path, content: str
) -> None:
    (project_dir / "pyproject.toml").write_text(content, "utf-8")

    assert find_project(project_dir) is None
    with pytest.raises(ProjectError) as info:
        load_project(project_dir / "pyproject.toml")
    assert [p.code for p in info.value.problems] == ["project_missing"]


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_a_non_finite_deadline_is_refused(project_dir: Path, value: str) -> None:
    (project_dir / "envguard.toml").write_text(
        f"deadline = {value}\n[env.dev]\nsources = [{{ env = true }}]\n", "utf-8"
    )

    with pytest.raises(ProjectError) as info:
        load_project()
    assert [p.code for p in info.value.problems] == ["project_bad_value"]


def test_a_static_sources_sensitive_flag_must_be_a_boolean(project_dir: Path) -> None:
    (project_dir / "envguard.toml").write_text(
        '[env.dev]\nsources = [{ static = { A = "1" }, sensitive = "no" }]\n', "utf-8"
    )

    with pytest.raises(ProjectError) as info:
        load_project().build_sources("dev", environ={})
    file = project_dir / "envguard.toml"
    assert [p.message for p in info.value.problems] == [
        f"{file}: [env.dev] source 1: sensitive must be true or false in a static source"
    ]

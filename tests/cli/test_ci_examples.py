"""The CI workflow example and the pre-commit hooks run what they say, on the quick-start."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.conftest import Runner

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).parent.parent.parent
QUICKSTART = ROOT / "examples" / "quickstart"


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text("utf-8"))


def _workflow_commands() -> dict[str, list[str]]:
    """Each ``envguard …`` step of the workflow, by step name, as an argument list."""
    steps = _load(ROOT / "examples" / "github-actions" / "envguard.yml")["jobs"]["config"]["steps"]
    return {
        step["name"]: shlex.split(step["run"])
        for step in steps
        if step.get("run", "").startswith("envguard ")
    }


def _hooks() -> dict[str, list[str]]:
    return {
        hook["id"]: shlex.split(hook["entry"]) for hook in _load(ROOT / ".pre-commit-hooks.yaml")
    }


@pytest.fixture
def quickstart(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the quick-start project, without generated docs, in a clean environment."""
    shutil.copytree(QUICKSTART, project_dir, dirs_exist_ok=True)
    (project_dir / "docs" / "ENV.md").unlink(missing_ok=True)
    (project_dir / "docs").mkdir(exist_ok=True)  # docs --output never creates a directory
    schema = tomllib.loads((project_dir / "schemas" / "app.toml").read_text("utf-8"))
    for name in schema["vars"]:
        monkeypatch.delenv(name, raising=False)  # the process environment is a source
    return project_dir


def test_the_workflow_runs_check_and_docs() -> None:
    assert list(_workflow_commands().values()) == [
        ["envguard", "check", "staging", "--format", "github"],
        ["envguard", "docs", "--output", "docs/ENV.md", "--check"],
    ]


def test_workflow_check_annotates_the_broken_staging_file(cli: Runner, quickstart: Path) -> None:
    args = _workflow_commands()["Validate the staging environment"]
    result = cli(args[1:])
    assert result.code == 1
    assert result.out.startswith(
        "::error file=.env.staging,line=3,title=envguard staging APP_ENV::"
    )
    assert result.out.endswith("FAILED: environment 'staging': 4 problems, 1 warning\n")


def test_workflow_docs_check(cli: Runner, quickstart: Path) -> None:
    args = _workflow_commands()["Check that docs/ENV.md is up to date"][1:]
    missing = cli(args)
    assert (missing.code, missing.err) == (
        1,
        "envguard: docs/ENV.md does not exist; regenerate it with:\n"
        "  envguard docs --output docs/ENV.md\n",
    )
    # Run the command it prints, then the check passes...
    assert cli(shlex.split(missing.err.splitlines()[1])[1:]).code == 0
    assert cli(args).code == 0
    # ...until the schema changes.
    schema = quickstart / "schemas" / "app.toml"
    schema.write_text(schema.read_text().replace("default = 3000", "default = 8080"))
    assert cli(args).code == 1


def test_pre_commit_hooks(cli: Runner, quickstart: Path) -> None:
    hooks = _hooks()
    assert hooks == {
        "envguard-docs": ["envguard", "docs", "--check"],
        "envguard-check": ["envguard", "check"],
    }
    for hook in _load(ROOT / ".pre-commit-hooks.yaml"):
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
    # pre-commit appends the user's args to the entry.
    docs = [*hooks["envguard-docs"][1:], "--output", "docs/ENV.md"]
    assert cli(docs).code == 1
    assert cli(["docs", "--output", "docs/ENV.md"]).code == 0
    assert cli(docs).code == 0
    result = cli([*hooks["envguard-check"][1:], "development"])
    assert (result.code, result.out) == (
        0,
        "OK: environment 'development' is valid (8 variables from 2 sources)\n",
    )

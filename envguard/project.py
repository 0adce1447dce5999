"""Finding and parsing the project file (``envguard.toml`` or ``[tool.envguard]``).

The project file names the schema, the default environment, and for each environment an
ordered list of sources (later sources override earlier ones). Parsing does no I/O beyond
reading the file; sources are built here but fetched by :mod:`envguard.resolve`.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from envguard._toml import TomlCache, read_toml
from envguard.errors import ProjectError
from envguard.report import Problem
from envguard.sources import REGISTRY, BuildContext, Source, source_class

__all__ = ["DEFAULT_DEADLINE", "IMPLICIT_ENV", "Project", "find_project", "load_project"]

PROJECT_FILE = "envguard.toml"
#: The environment used when there is no project file: what the schema itself names.
IMPLICIT_ENV = "default"
DEFAULT_DEADLINE = 30.0

_TOP_KEYS = frozenset({"schema", "default_env", "deadline", "env", "vault", "aws"})
_ENV_KEYS = frozenset({"sources", "description"})


def _suggest(word: str, choices: list[str] | frozenset[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True, slots=True)
class Project:
    """A parsed project file, or the implicit project when there is none.

    Attributes:
        path: the project file, or None for the implicit project.
        base_dir: relative paths in the file resolve against this directory.
        schema: the schema reference (``schemas/web.toml`` or ``pkg.mod:Class``), or None.
        default_env: the environment used when none is named.
        deadline: the overall deadline in seconds for reading remote sources.
        envs: each environment's raw source entries, in precedence order.
        tables: the source-family tables (``vault``, ``aws``).
        implicit: True for the project used when there is no project file: its one
            environment reads what the schema itself names (see :mod:`envguard._implicit`).
    """

    path: Path | None
    base_dir: Path
    schema: str | None = None
    default_env: str | None = None
    deadline: float = DEFAULT_DEADLINE
    envs: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    implicit: bool = False

    @property
    def env_names(self) -> list[str]:
        return list(self.envs)

    def _error(self, code: str, message: str) -> ProjectError:
        file = str(self.path) if self.path else None
        return ProjectError([Problem(None, file, code, message, category="project", file=file)])

    def pick_env(self, env: str | None, environ: Mapping[str, str]) -> str:
        """The environment to use: ``env``, else ``ENVGUARD_ENV``, else ``default_env``."""
        name = env or environ.get("ENVGUARD_ENV") or self.default_env
        if name is None:
            if self.path is None:
                return IMPLICIT_ENV
            if len(self.envs) == 1:
                return next(iter(self.envs))
            raise self._error(
                "project_no_env",
                f"{self.path}: no environment named; pass one, set ENVGUARD_ENV, or set "
                f"default_env (known: {', '.join(self.envs)})",
            )
        if name not in self.envs:
            if self.path is None:
                raise self._error(
                    "project_not_found",
                    f"environment {name!r} needs a project file, and none was found "
                    f"(looked for {PROJECT_FILE} or [tool.envguard] in pyproject.toml from "
                    f"{Path.cwd()} upwards)",
                )
            known = ", ".join(self.envs) or "none"
            raise self._error(
                "unknown_env",
                f"{self.path}: unknown environment {name!r}"
                f"{_suggest(name, list(self.envs))}; known: {known}",
            )
        return name

    def build_sources(
        self,
        env: str,
        *,
        environ: Mapping[str, str] | None = None,
        shared: MutableMapping[str, Any] | None = None,
    ) -> list[Source]:
        """Build ``env``'s sources, in precedence order, without I/O."""
        ctx = BuildContext(
            env_name=env,
            base_dir=self.base_dir,
            project_file=self.path,
            environ=os.environ if environ is None else environ,
            tables=self.tables,
            shared={} if shared is None else shared,
        )
        sources: list[Source] = []
        problems: list[Problem] = []
        where = f"{self.path}: [env.{env}]" if self.path else f"[env.{env}]"
        for index, entry in enumerate(self.envs[env], start=1):
            try:
                sources.append(source_class(_kind_of(entry)).from_entry(entry, ctx))
            except ProjectError as exc:
                # Name the file, environment and entry, as parse-time problems do.
                prefix = f"{where} source {index}: "
                problems.extend(replace(p, message=prefix + p.message) for p in exc.problems)
        if problems:
            raise ProjectError(problems, env=env)
        return sources


def _kind_of(entry: Mapping[str, Any]) -> str:
    kinds = [k for k in entry if k in REGISTRY]
    return kinds[0]


def find_project(start: Path | None = None) -> Path | None:
    """Walk up from ``start`` (default: cwd) to the first ``envguard.toml`` or a
    ``pyproject.toml`` holding a ``[tool.envguard]`` table."""
    # os.path rather than pathlib: load() runs this on every call, and it is 5x cheaper.
    folder = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(folder, PROJECT_FILE)
        if os.path.isfile(candidate):
            return Path(candidate)
        pyproject = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(pyproject) and _has_envguard_table(Path(pyproject)):
            return Path(pyproject)
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _has_envguard_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text("utf-8", errors="replace")
    except OSError:
        return False
    # A cheap pre-check avoids parsing every pyproject.toml on the way up.
    if "tool.envguard" not in text:
        return False
    tool = read_toml(pyproject).get("tool")
    return isinstance(tool, dict) and "envguard" in tool


def load_project(path: str | os.PathLike[str] | None = None) -> Project:
    """Parse the project file at ``path``, or the discovered one, or the implicit project.

    Raises:
        ProjectError: with every problem of the file (unknown keys, unknown source kinds,
            malformed TOML with line and column).
    """
    if path is None:
        found = find_project()
        if found is None:
            return Project(path=None, base_dir=Path.cwd(), envs={IMPLICIT_ENV: ()}, implicit=True)
        file = found
    else:
        file = Path(path)
        if file.is_dir():
            # A directory means its own project file, as discovery would find it there.
            pyproject = file / "pyproject.toml"
            use_pyproject = not (file / PROJECT_FILE).is_file() and pyproject.is_file()
            file = pyproject if use_pyproject else file / PROJECT_FILE
    return _load_file(file)


def _load_file(file: Path) -> Project:
    # The path as given is part of the key: a relative path's Project keeps it (for
    # messages and base_dir), so it must not be shared with another working directory.
    key = (str(file), str(file.absolute()))
    return _CACHE.build(file, key, lambda toml: _parse_file(file, toml.data))


#: Parsed project files by path and content: ``load()`` in a loop reparses nothing.
_CACHE: TomlCache[Project] = TomlCache()


def _parse_file(file: Path, data: dict[str, Any]) -> Project:
    if file.name == "pyproject.toml":
        tool = data.get("tool")
        table = tool.get("envguard") if isinstance(tool, dict) else None
        if not isinstance(table, dict):
            raise ProjectError(
                [
                    Problem(
                        None,
                        str(file),
                        "project_missing",
                        f"{file}: has no [tool.envguard] table",
                        category="project",
                        file=str(file),
                    )
                ]
            )
        data = table
    return _parse(file, data)


def _parse(file: Path, data: Mapping[str, Any]) -> Project:
    problems: list[Problem] = []

    def bad(code: str, message: str) -> None:
        problems.append(
            Problem(None, str(file), code, f"{file}: {message}", category="project", file=str(file))
        )

    for key in data:
        if key not in _TOP_KEYS:
            bad("project_unknown_key", f"unknown key {key!r}{_suggest(key, _TOP_KEYS)}")
    schema = data.get("schema")
    if schema is not None and not isinstance(schema, str):
        bad("project_bad_value", "schema must be a string (a .toml path or 'module:Class')")
    default_env = data.get("default_env")
    if default_env is not None and not isinstance(default_env, str):
        bad("project_bad_value", "default_env must be a string")
    deadline = data.get("deadline", DEFAULT_DEADLINE)
    if (
        isinstance(deadline, bool)
        or not isinstance(deadline, int | float)
        or not math.isfinite(deadline)
        or deadline <= 0
    ):
        bad("project_bad_value", "deadline must be a positive, finite number of seconds")
        deadline = DEFAULT_DEADLINE
    envs: dict[str, tuple[Mapping[str, Any], ...]] = {}
    raw_envs = data.get("env", {})
    if not isinstance(raw_envs, dict):
        bad("project_bad_value", "env must be a table of environments ([env.NAME])")
        raw_envs = {}
    for name, table in raw_envs.items():
        envs[name] = _parse_env(name, table, bad)
    if isinstance(default_env, str) and envs and default_env not in envs:
        bad(
            "unknown_env",
            f"default_env {default_env!r} is not defined{_suggest(default_env, list(envs))}; "
            f"known: {', '.join(envs)}",
        )
    tables = {k: data[k] for k in ("vault", "aws") if k in data}
    for name, table in tables.items():
        if not isinstance(table, dict):
            bad("project_bad_value", f"[{name}] must be a table")
    if problems:
        raise ProjectError(problems)
    return Project(
        path=file,
        base_dir=file.parent,
        schema=schema,
        default_env=default_env,
        deadline=float(deadline),
        envs=envs,
        tables=tables,
    )


def _parse_env(name: str, table: Any, bad: Any) -> tuple[Mapping[str, Any], ...]:
    where = f"[env.{name}]"
    if not isinstance(table, dict):
        bad("project_bad_value", f"{where} must be a table with a sources list")
        return ()
    for key in table:
        if key not in _ENV_KEYS:
            bad("project_unknown_key", f"{where}: unknown key {key!r}{_suggest(key, _ENV_KEYS)}")
    sources = table.get("sources")
    if not isinstance(sources, list):
        bad("project_bad_value", f"{where}: sources must be a list of source tables")
        return ()
    entries = []
    for index, entry in enumerate(sources, start=1):
        if not isinstance(entry, dict):
            bad(
                "project_bad_value",
                f"{where} source {index}: must be a table like {{ env = true }}",
            )
            continue
        kinds = [k for k in entry if k in REGISTRY]
        if len(kinds) != 1:
            known = ", ".join(sorted(REGISTRY))
            if kinds:
                detail = f"names {len(kinds)} kinds ({', '.join(kinds)}); use one per entry"
            else:
                first = next(iter(entry), "")
                hint = _suggest(first, frozenset(REGISTRY))
                detail = f"unknown source kind{hint}; known kinds: {known}"
            bad("project_unknown_source", f"{where} source {index}: {detail}")
            continue
        entries.append(entry)
    return tuple(entries)

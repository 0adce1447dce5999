"""Compiling TOML schema files (``schemas/*.toml``) into :class:`~envguard.settings.Settings`.

A schema file holds one table per environment variable, and optionally a ``[schema]`` table::

    [schema]                     # optional
    name = "web"                 # the model's title (default: the file stem)
    description = "Web tier"     # the model's docstring

    [vars.PORT]
    type = "int"                 # default "str"
    default = 3000
    min = 1
    max = 65535

Types: ``bool``, ``duration`` (``30s``, ``5m``, ``1h30m``, ``250ms``, ``2d``, whole seconds),
``email``, ``enum``, ``float``, ``int``, ``json``, ``list`` (comma separated), ``path``, ``str``
and ``url``.

Keys of a variable, and the types they apply to:

- ``min``, ``max``: int, float, duration (a duration string or seconds);
- ``min_length``, ``max_length``: str, list; ``pattern`` (a regular expression): str;
- ``values`` (required): enum, or a list whose ``item`` is enum; ``schemes``: url, or a list
  whose ``item`` is url; ``item`` (any type but list and json, default str): list;
- ``type``, ``default``, ``description``, ``example``, ``secret`` (true, or false to declare a
  public value), ``deprecated`` (true or a message) and ``required_in`` (environment names):
  any type.

Variable names are letters, digits and underscores, not starting with a digit. They are
matched case-insensitively, as pydantic-settings does by default (``PORT`` is also read from
``port``), so two names that differ only in letter case are a problem.

Values are read as the environment holds them: ``"3000"``, ``"true"``, ``"a, b"`` (a list:
items trimmed, empty ones dropped), ``"30s"``, JSON text. A ``default`` (or ``example``) is
written as a TOML value (``3000``, ``["a", "b"]``, a table for ``json``) or in that
environment form, and must pass the variable's own type and constraints. Bounds, defaults and
examples are finite numbers: TOML's ``inf`` and ``nan`` are refused.

A variable without ``default`` is required. With ``required_in`` it is required only when the
environment being loaded is listed; elsewhere it takes its ``default``, or None.

``secret = true`` makes the value a ``SecretStr`` (type str) or a ``pydantic.Secret`` of its
type, masked in ``repr``. The default or example of a secret never appears in a message, nor
that of a variable whose name looks secret (``*_TOKEN``) unless it says ``secret = false``.

Every problem in a file is reported at once, as one :class:`~envguard.errors.ProjectError`
whose problems name the file (``source``, ``file``, ``line``) and the variable (``key``).
Codes: ``schema_not_found``, ``schema_unreadable``, ``schema_syntax``, ``schema_unknown_key``,
``schema_unknown_type``, ``schema_bad_value``, ``schema_bad_name``, ``schema_duplicate_name``,
``schema_bad_constraint``, ``schema_bad_default``, ``schema_bad_example``.
"""

from __future__ import annotations

import keyword
import os
import re
from pathlib import Path
from typing import Any

from pydantic import create_model

from envguard._toml import TomlCache, TomlFile
from envguard.errors import ProjectError
from envguard.schema._toml_constraints import CONSTRAINTS, ITEM_TYPES, TYPES  # noqa: F401
from envguard.schema._toml_problems import Problems, kind, show, unknown
from envguard.schema._toml_vars import VAR_KEYS, VAR_NAME, compile_var  # noqa: F401
from envguard.schema.fields import TOML_MARKER
from envguard.settings import Settings

__all__ = ["compile_schema"]

# The format's vocabulary sits with its description: TYPES, ITEM_TYPES, CONSTRAINTS and
# VAR_KEYS are imported above (noqa: F401) so that schemas/envguard-schema.schema.json's
# tests can check it against this module.
TOP_KEYS = ("schema", "vars")
SCHEMA_KEYS = ("description", "name")

#: Compiled models by file (resolved path), content and
#: environment: at most 64, so a process compiling many schemas does not keep them all.
_cache: TomlCache[type[Settings]] = TomlCache(64)


def compile_schema(path: str | os.PathLike[str], *, env: str | None = None) -> type[Settings]:
    """Compile a TOML schema file into a :class:`~envguard.settings.Settings` subclass.

    Each ``[vars.NAME]`` becomes a field named ``name`` (lowercased) whose alias is ``NAME``,
    so ``Model.model_validate({"PORT": "3000"})`` reads the variable as written and
    ``Model()`` reads it from ``os.environ`` in any letter case. Models are cached per file
    (its path and content) and environment, so repeated loads do not recompile.

    Args:
        path: the schema file; messages name it as given here.
        env: the environment being loaded; decides which ``required_in`` variables are
            required. None treats every ``required_in`` variable as optional.

    Raises:
        ProjectError: the file is missing, unreadable, not TOML, or not a valid schema. It
            lists every problem of the file, never the default of a secret variable.
    """
    shown = os.fspath(path)
    resolved = Path(shown).resolve()

    def make(file: TomlFile) -> type[Settings]:
        return _compile(file.data, Problems(shown, file.text.splitlines()), resolved, env)

    return _cache.build(shown, (str(resolved), env), make, code_prefix="schema")


def _compile(doc: dict[str, Any], out: Problems, resolved: Path, env: str | None) -> type[Settings]:
    for key in doc:
        if key not in TOP_KEYS:
            out.add("schema_unknown_key", unknown("unknown top-level key", key, TOP_KEYS), at=key)
    meta = _schema_table(doc.get("schema", {}), out)
    variables = doc.get("vars", {})
    if not isinstance(variables, dict):
        out.add("schema_bad_value", f"'vars' must be a table, not {kind(variables)}", at="vars")
        variables = {}
    fields: dict[str, Any] = {}
    used: set[str] = set()
    first_of: dict[str, str] = {}  # upper-cased name -> the name as first written
    for name, table in variables.items():
        if VAR_NAME.fullmatch(name):
            first = first_of.setdefault(name.upper(), name)
            if first != name:
                message = (
                    f"variable {name!r} differs from {first!r} only in letter case;"
                    " names are matched case-insensitively"
                )
                out.add("schema_duplicate_name", message, var=name)
        compiled = compile_var(name, table, env, out)
        if compiled is not None:
            fields[_field_name(name, used)] = compiled
    if out.items:
        raise ProjectError(out.items)
    model = create_model(
        _class_name(resolved.stem),
        __base__=Settings,
        __module__=__name__,
        __doc__=meta.get("description") or f"Settings compiled from the schema {resolved.name}.",
        __cls_kwargs__={
            "env_prefix": "",
            "case_sensitive": False,
            # A TOML schema has no model_config: undeclared keys follow envguard's policy
            # (warnings, errors with --strict), not pydantic-settings' default "forbid".
            "extra": "ignore",
            "title": meta.get("name") or resolved.stem,
        },
        **fields,
    )
    setattr(model, TOML_MARKER, str(resolved))
    return model


def _schema_table(table: Any, out: Problems) -> dict[str, str]:
    if not isinstance(table, dict):
        out.add("schema_bad_value", f"'schema' must be a table, not {kind(table)}", at="schema")
        return {}
    for key, value in table.items():
        if key not in SCHEMA_KEYS:
            message = unknown("unknown key", key, SCHEMA_KEYS, " in [schema]")
            out.add("schema_unknown_key", message, table="schema", at=key)
        elif not isinstance(value, str):
            message = f"'schema.{key}' must be a string, got {show(value)}"
            out.add("schema_bad_value", message, table="schema", at=key)
    return {k: v for k, v in table.items() if k in SCHEMA_KEYS and isinstance(v, str)}


def _field_name(var: str, used: set[str]) -> str:
    """A Python identifier for ``var`` that shadows nothing on the model."""
    base = var.lower()
    if (
        keyword.iskeyword(base)
        or base.startswith(("_", "model_", "settings_"))
        or hasattr(Settings, base)
    ):
        base = f"var_{base}"
    # MODEL_CONFIG and VAR_MODEL_CONFIG would both be var_model_config.
    name, n = base, 2
    while name in used:
        name, n = f"{base}_{n}", n + 1
    used.add(name)
    return name


def _class_name(stem: str) -> str:
    words = [w for w in re.split(r"[^0-9A-Za-z]+", stem) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words) + "Schema"
    return name if name[0].isalpha() else f"Schema{name}"

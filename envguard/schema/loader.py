"""Turning a schema reference into a settings class.

A reference is a settings class, a TOML schema path (``schemas/web.toml``) or an import
path (``package.module:ClassName``). Import failures become one-line ``ProjectError``s.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from pathlib import Path

from pydantic_settings import BaseSettings

from envguard.errors import ProjectError
from envguard.report import Problem

__all__ = ["SchemaRef", "load_schema"]

SchemaRef = str | type[BaseSettings]


def _error(ref: str, code: str, message: str, file: str | None = None) -> ProjectError:
    return ProjectError([Problem(None, ref, code, message, category="project", file=file)])


def load_schema(ref: SchemaRef, *, env: str | None, base_dir: Path) -> type[BaseSettings]:
    """Resolve ``ref`` to a settings class; TOML paths are relative to ``base_dir``."""
    if isinstance(ref, type):
        if issubclass(ref, BaseSettings):
            return ref
        raise _error(ref.__name__, "schema_not_settings", _not_settings(ref.__qualname__))
    if ref.endswith(".toml") or ("/" in ref and ":" not in ref):
        from envguard.schema.toml import compile_schema

        path = Path(ref)
        return compile_schema(path if path.is_absolute() else base_dir / path, env=env)
    return _import_class(ref, base_dir)


def _not_settings(name: str) -> str:
    return (
        f"schema {name!r} is not a settings class "
        "(a subclass of envguard.Settings or pydantic_settings.BaseSettings)"
    )


def _import_class(ref: str, base_dir: Path) -> type[BaseSettings]:
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise _error(
            ref,
            "schema_bad_reference",
            f"schema {ref!r} must be a .toml path or 'package.module:ClassName'",
        )
    # Like `uvicorn --app-dir`: the project's directory is importable for its schema.
    added = str(base_dir) not in sys.path
    if added:
        sys.path.insert(0, str(base_dir))
    reason: str | None = None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        reason = f"cannot import schema module {module_name!r}: no module named {exc.name!r}"
    except SyntaxError as exc:
        reason = f"importing schema module {module_name!r} failed: SyntaxError: {exc}"
    except Exception as exc:  # noqa: BLE001 - any import-time failure is reported in one line
        # Name the exception and where it was raised, not its message: a module that
        # parses the environment at import time could echo a value in it.
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" at {_shorten(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
        reason = f"importing schema module {module_name!r} failed: {type(exc).__name__}{where}"
    finally:
        if added:
            sys.path.remove(str(base_dir))
    if reason is not None:
        raise _error(ref, "schema_import", reason)
    cls = getattr(module, attr, None)
    if cls is None:
        raise _error(ref, "schema_import", f"module {module_name!r} has no attribute {attr!r}")
    if not (isinstance(cls, type) and issubclass(cls, BaseSettings)):
        raise _error(ref, "schema_not_settings", _not_settings(ref))
    return cls


def _shorten(path: str) -> str:
    """``path`` relative to the current directory when it lies below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return path if relative.startswith("..") else relative

"""Validate a resolution against a schema: one pass, every problem, nothing secret.

The schema's view (:mod:`envguard.schema.view`) turns the resolved layers into the mapping
pydantic-settings would validate; pydantic-core validates it with the call
``BaseModel.__init__`` makes (``validate_python(data, self_instance=...)``), so neither
``BaseSettings.__init__`` nor anything else reads ``os.environ`` or a file behind the
resolution's back. Problems are built from ``ValidationError.errors(include_input=False)``
inside the ``except`` block and returned after it, so no exception chain carries a value.
"""

from __future__ import annotations

import difflib
import inspect
import os
import sysconfig
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from pydantic import ValidationError
from pydantic.errors import PydanticUserError
from pydantic_core import PydanticKnownError
from pydantic_settings import BaseSettings

from envguard._secrecy import is_secret, portable_name
from envguard.errors import ConfigError, ProjectError
from envguard.report import Problem, Redactor
from envguard.resolve import Resolution
from envguard.schema.fields import model_field_names
from envguard.schema.view import Binding, Read, Row, SchemaView, view_of
from envguard.sources._dotenv_parse import undefined_hidden

__all__ = ["Validated", "classify", "instantiate", "validate"]

M = TypeVar("M", bound=BaseSettings)


@dataclass(slots=True)
class Validated(Generic[M]):
    """The outcome of validation: the settings object (when valid) and every problem.

    Attributes:
        settings: the settings object, or None when invalid.
        problems: every problem, redacted; errors first.
        redactor: knows every secret value of the environment.
        read: what each field was read from (the variables behind every value).
    """

    settings: M | None
    problems: list[Problem]
    redactor: Redactor
    read: Read


def instantiate(model: type[M], data: Mapping[str, Any]) -> M:
    """``model(**data)`` as pydantic's own ``__init__`` validates it, without running
    ``BaseSettings.__init__`` (which would read the process environment and ``.env``).

    Raises:
        pydantic.ValidationError: as instantiating the model would.
        ProjectError: the class is not fully defined (an unresolved forward reference).
    """
    failure: str | None = None
    try:
        instance = model.__new__(model)
        validated = model.__pydantic_validator__.validate_python(data, self_instance=instance)
    except PydanticUserError as exc:
        failure = f"schema class {model.__qualname__} is not fully defined ({exc.code})"
    if failure is not None:
        name = model.__qualname__
        raise ProjectError([Problem(None, name, "schema_incomplete", failure, category="project")])
    return validated if isinstance(validated, model) else instance


def classify(view: SchemaView, resolution: Resolution) -> Redactor:
    """Decide once which values are secret, and mark them so (``Value.sensitive``) in the
    resolution, every offered copy of a secret key included; values of a field declared
    public are unmarked. Returns a redactor that knows every secret value.

    From the process environment only keys that concern the schema are looked at.
    """
    redactor = Redactor()
    secret: set[str] = set()
    public: set[str] = set()
    norm = view.norm
    for layer in resolution.layers:
        ambient = layer.matching != "dotenv"
        for name, value in layer.values.items():
            key = norm(name)
            row = view.field_of_norm(key)
            if row is None and ambient and not view.carries_prefix(key):
                continue
            declared = row.secret if row is not None else None
            if declared is False:
                public.add(key)
            elif is_secret(declared, name, value.text, value.sensitive):
                secret.add(key)
    secret -= public
    if not secret and not public:
        return redactor
    for layer in resolution.layers:
        values = layer.values
        for name, value in values.items():
            key = norm(name)
            if key in secret:
                redactor.add(value.text)
                if not value.sensitive:
                    values[name] = value._replace(sensitive=True)
            elif key in public and value.sensitive:
                values[name] = value._replace(sensitive=False)
    # The merged values are each the last layer's copy: assigning in layer order keeps that.
    merged = resolution.values
    changed = secret | public
    for layer in resolution.layers:
        for name, value in layer.values.items():
            if name in merged and norm(name) in changed:
                merged[name] = value
    return redactor


def _origin_fields(value: Any) -> dict[str, Any]:
    if value is None:
        return {"source": None}
    o = value.origin
    return {"source": str(o), "file": o.file, "line": o.line}


#: Codes whose message a user's validator wrote: it may contain the value.
_CUSTOM_CODES = frozenset({"value_error", "assertion_error"})


def _pydantic_wrote(error: Mapping[str, Any]) -> bool:
    """Whether pydantic itself wrote the error's message: a built-in error type rendered
    from its own template. A ``PydanticCustomError`` (any type name, any message) or a
    validator's ``ValueError`` was written by the user and may quote the value in any form
    (upper-cased, sliced), which scrubbing exact copies cannot catch."""
    code = str(error["type"])
    if code in _CUSTOM_CODES:
        return False
    try:
        expected = PydanticKnownError(code, error.get("ctx")).message()  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - not a built-in type: the user's own
        return False
    return bool(expected == error["msg"])


_LENGTH_MESSAGES = {
    "too_short": "must have at least {min_length} {unit}",
    "string_too_short": "must have at least {min_length} {unit}",
    "too_long": "must have at most {max_length} {unit}",
    "string_too_long": "must have at most {max_length} {unit}",
}


def _message(error: Mapping[str, Any], row: Row | None) -> tuple[str, str]:
    """A stable code and a plain-words message; lengths of secrets are not disclosed."""
    code = str(error["type"])
    if code == "missing":
        return code, "required, but not set by any source"
    if code == "extra_forbidden":
        return code, "is not declared in the schema, which forbids undeclared keys"
    template = _LENGTH_MESSAGES.get(code)
    ctx = error.get("ctx") or {}
    if template is not None and ("min_length" in ctx or "max_length" in ctx):
        unit = "items" if row is not None and row.spec.type == "list" else "characters"
        return code, template.format(unit=unit, **ctx)
    return code, str(error["msg"])


def _best(bindings: list[Binding], rest: tuple[Any, ...], exact: bool) -> Binding | None:
    """The binding whose nested path is the longest prefix of an error's location."""
    best: Binding | None = None
    parts = [str(p) if exact else str(p).lower() for p in rest]
    for binding in bindings:
        path = binding.path
        fits = len(path) <= len(parts) and list(path) == parts[: len(path)]
        if fits and (best is None or len(path) > len(best.path)):
            best = binding
    return best


def _variable(view: SchemaView, row: Row, rest: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """The variable to set for a location no value covers, and what is left of it."""
    delimiter = view.delimiter
    if delimiter and rest and all(isinstance(p, str) for p in rest):
        parts = [p if view.case_sensitive else p.upper() for p in rest]
        return delimiter.join([row.spec.name, *parts]), ()
    return row.spec.name, rest


def _did_you_mean(view: SchemaView, name: str) -> str:
    close = difflib.get_close_matches(name.upper(), [k.upper() for k in view.known], n=1)
    if not close:
        return ""
    spelled = {k.upper(): k for k in view.known}
    return f" (did you mean {spelled[close[0]]}?)"


def _errors(exc: ValidationError, view: SchemaView, read: Read, failed: set[str]) -> list[Problem]:
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = tuple(error.get("loc") or ())
        first = str(loc[0]) if loc else ""
        row = view.row_of_key(first) if loc else None
        if row is not None and row.field in failed and error["type"] == "missing":
            continue  # its value was malformed JSON, reported already
        rest = loc[1:]
        binding = _best(read.bindings.get(first, []), rest, view.case_sensitive)
        code, message = _message(error, row)
        name: str | None
        if binding is not None:
            name, value = binding.name, binding.value
            rest = rest[len(binding.path) :]
        elif row is not None:
            (name, rest), value = _variable(view, row, rest), None
        else:
            name, value = ".".join(map(str, loc)) or None, None
        if code == "extra_forbidden" and name:
            message += _did_you_mean(view, name)
        secret = (value is not None and value.sensitive) or (row is not None and row.secret)
        if secret and not _pydantic_wrote(error):
            # A validator's own message may echo the value in any form (upper-cased,
            # sliced): for a secret, say only that it failed.
            message = "failed the schema's validator (message hidden: the value is secret)"
        if rest:
            message = f"{'.'.join(map(str, rest))}: {message}"
        problems.append(Problem(name, code=code, message=message, **_origin_fields(value)))
    return problems


def _case_clashes(view: SchemaView, resolution: Resolution) -> list[Problem]:
    """A source (a file, a secret store) that sets one variable under spellings differing
    only in case, when names match case-insensitively: a warning naming both and the one
    whose value is used (and the only one ``run`` passes on).

    As pydantic-settings folds a file's keys (in the order each spelling first appears),
    the spelling that appears first *last* wins, which is not always the last line.
    """
    if view.case_sensitive:
        return []
    problems = []
    for layer in resolution.layers:
        if layer.matching == "env" or len(layer.values) < 2:
            continue
        spellings: dict[str, list[str]] = {}
        for name in layer.values:
            spellings.setdefault(name.lower(), []).append(name)
        for names in spellings.values():
            if len(names) < 2:
                continue
            winner = layer.values[names[-1]]
            lines = [layer.values[name].origin.line for name in names]
            shown = [
                f"{name} (line {line})" if line else name
                for name, line in zip(names, lines, strict=True)
            ]
            used = f"line {winner.origin.line}" if winner.origin.line else names[-1]
            if not all(map(portable_name, names)):  # maybe pasted secrets: lines only
                shown = [f"line {line}" for line in lines if line] or ["several keys"]
            message = (
                f"is set as {', '.join(shown)}, which name one variable (names are not"
                f" case-sensitive); the value of {used} is used"
            )
            problems.append(
                Problem(
                    names[-1] if portable_name(names[-1]) else None,
                    code="case_clash",
                    message=message,
                    severity="warning",
                    **_origin_fields(winner),
                )
            )
    return problems


def _undeclared(view: SchemaView, resolution: Resolution, read: Read) -> list[Problem]:
    """Keys a source set that no field reads, as warnings.

    Every undeclared key of a file or secret store is reported, but from the process
    environment (and a secrets directory) only keys carrying the schema's ``env_prefix``:
    PATH is not a typo. Keys the model keeps (``extra="allow"``) or forbids (pydantic
    reports ``extra_forbidden`` for them) are not reported again.
    """
    norm = view.norm
    reported: set[str] = set()
    for layer in resolution.layers:
        from_file = layer.matching == "dotenv"
        for name in layer.values:
            if not from_file and not (view.prefix and norm(name).startswith(view.prefix)):
                continue
            if view.field_of(name) is None:
                reported.add(norm(name))
    if not reported:
        return []
    passed = {norm(b.name) for key in read.extras for b in read.bindings.get(key, ())}
    if view.extra == "allow":
        reported -= passed
    elif view.extra == "forbid":
        reported -= {n for n in passed if n in reported}
    problems = []
    seen: set[str] = set()
    for name, value in resolution.values.items():  # in resolution order, as users set them
        key = norm(name)
        if key not in reported or key in seen:
            continue
        seen.add(key)
        if not portable_name(name):  # maybe a fragment of a pasted secret: its line only
            where = value.origin.line
            line = f" on line {where}" if where else ""
            problems.append(
                Problem(
                    None,
                    code="unknown_key",
                    message=f"a key{line} that is not a valid variable name is not declared"
                    " in the schema",
                    severity="warning",
                    **_origin_fields(value),
                )
            )
            continue
        problems.append(
            Problem(
                name,
                code="unknown_key",
                message=f"is not declared in the schema{_did_you_mean(view, name)}",
                severity="warning",
                **_origin_fields(value),
            )
        )
    return problems


def _add_strings(redactor: Redactor, decoded: Any, names: frozenset[str]) -> None:
    """Teach ``redactor`` every string of a secret field's decoded JSON value: its values and
    the keys of its dicts, which are data, but not the keys that name a nested model's
    fields (``names``): scrubbing ``password`` out of ``db.password`` would hide where the
    problem is."""
    todo = [decoded]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            redactor.add(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if isinstance(key, str) and key not in names:
                    redactor.add(key)
                todo.append(value)
        elif isinstance(item, list):
            todo.extend(item)


def _library_dirs() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Where envguard, pydantic and the standard library live; and every site directory."""
    import pydantic
    import pydantic_core
    import pydantic_settings

    import envguard

    modules = (pydantic, pydantic_core, pydantic_settings, envguard)
    libraries = [os.path.dirname(m.__file__ or "") for m in modules]
    libraries.append(sysconfig.get_paths()["stdlib"])
    sites = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    return (
        tuple(d + os.sep for d in libraries if d),
        tuple(d + os.sep for d in sites if d),
    )


_LIBRARIES, _SITES = _library_dirs()


def _user_frame(exc: BaseException) -> tuple[str, int, str] | None:
    """The innermost frame of the user's own code in ``exc``'s traceback: outside
    envguard, pydantic and the standard library, and outside site-packages when there is
    such a frame (the schema called into a dependency that raised)."""
    ours: tuple[str, int, str] | None = None
    anywhere: tuple[str, int, str] | None = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        name = frame.f_code.co_filename
        if not os.path.isabs(name) or name.startswith(_LIBRARIES):
            continue
        anywhere = (name, line, frame.f_code.co_name)
        if not name.startswith(_SITES):
            ours = anywhere
    return ours or anywhere


def _schema_code_failed(model: type[BaseSettings], exc: Exception) -> Problem:
    """The problem for an exception pydantic does not turn into a validation error (a
    validator, ``default_factory`` or ``model_post_init`` raising ``RuntimeError``,
    ``KeyError``…): the user's file and line and the exception's type, never its message,
    which may quote a value (a secret's, for all envguard knows)."""
    where = _user_frame(exc)
    if where is None:
        try:
            where = (inspect.getsourcefile(model) or "", 0, "")
        except TypeError:
            where = ("", 0, "")
    file, line, function = where
    shown = os.path.relpath(file) if file and not os.path.relpath(file).startswith("..") else file
    place = f"{shown}:{line}: " if file and line else (f"{shown}: " if file else "")
    inside = f" in {function}()" if function and function != "<module>" else ""
    message = (
        f"{place}the schema's code raised {type(exc).__name__}{inside} while validating "
        f"{model.__qualname__} (its message is not shown: it may quote a value)"
    )
    return Problem(
        None,
        model.__qualname__,
        "schema_code_failed",
        message,
        category="project",
        file=shown or None,
        line=line or None,
    )


def source_problem(view: SchemaView, problem: Problem) -> Problem:
    """A source's problem as it may be shown once the schema's secrecy is known: a dotenv
    reader cannot know that ``SIGNING`` is ``secret = true``, so an undefined reference it
    quoted from the value is hidden here."""
    if problem.code != "dotenv_undefined_variable" or not problem.key or problem.line is None:
        return problem
    row = view.field_of(problem.key)
    if row is None or not row.secret:
        return problem
    message = f"{problem.file}:{problem.line}: {undefined_hidden(problem.key)}"
    return replace(problem, message=message)


def validate(model: type[M], resolution: Resolution, *, env: str) -> Validated[M]:
    """Validate ``resolution`` against ``model``; collect every problem at once.

    Secret values are marked in ``resolution`` first (see :func:`classify`).

    Args:
        model: the settings class.
        resolution: the merged values with their origins.
        env: the environment's name (for messages).

    Warnings stay warnings here; ``strict`` (every warning an error) is applied by the
    engine to the whole report, source problems included.
    """
    view = view_of(model)
    redactor = classify(view, resolution)
    read = view.read(resolution.layers)
    problems: list[Problem] = list(read.problems)
    failed = {row.field for p in read.problems if (row := view.field_of(p.key or "")) is not None}
    for key, bindings in read.bindings.items():
        row = view.row_of_key(key)
        if row is not None and row.secret and isinstance(read.data.get(key), dict | list):
            annotation = view.model.model_fields[row.field].annotation
            _add_strings(redactor, read.data[key], model_field_names(annotation))
        if row is not None and row.spec.deprecated and bindings:
            problems.append(
                Problem(
                    bindings[0].name,
                    code="deprecated",
                    message=f"is deprecated: {row.spec.deprecated}",
                    severity="warning",
                    **_origin_fields(bindings[0].value),
                )
            )
    problems += _case_clashes(view, resolution)
    problems += _undeclared(view, resolution, read)
    settings: M | None = None
    try:
        settings = instantiate(model, read.data)
    except ValidationError as exc:
        problems += _errors(exc, view, read, failed)
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - the schema's own code raised: a set-up problem
        problems.append(_schema_code_failed(model, exc))
    if any(p.severity == "error" for p in problems):
        settings = None
    problems.sort(key=lambda p: p.severity != "error")  # stable: errors, then warnings
    return Validated(settings, [redactor.scrub_problem(p) for p in problems], redactor, read)

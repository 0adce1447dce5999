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

Variable names are letters, digits and underscores, not starting with a digit. Values are
read as the environment holds them: ``"3000"``, ``"true"``, ``"a, b"`` (a list: items trimmed,
empty ones dropped), ``"30s"``, JSON text. A ``default`` (or ``example``) is written as a TOML
value (``3000``, ``["a", "b"]``, a table for ``json``) or in that environment form, and must
pass the variable's own type and constraints.

A variable without ``default`` is required. With ``required_in`` it is required only when the
environment being loaded is listed; elsewhere it takes its ``default``, or None.

``secret = true`` makes the value a ``SecretStr`` (type str) or a ``pydantic.Secret`` of its
type, masked in ``repr``. The default or example of a secret never appears in a message, nor
that of a variable whose name looks secret (``*_TOKEN``) unless it says ``secret = false``.

Every problem in a file is reported at once, as one :class:`~envguard.errors.ProjectError`
whose problems name the file (``source``, ``file``, ``line``) and the variable (``key``).
Codes: ``schema_not_found``, ``schema_unreadable``, ``schema_syntax``, ``schema_unknown_key``,
``schema_unknown_type``, ``schema_bad_value``, ``schema_bad_name``, ``schema_bad_constraint``,
``schema_bad_default``, ``schema_bad_example``.
"""

from __future__ import annotations

import codecs
import collections
import datetime as dt
import difflib
import functools
import json
import keyword
import os
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import annotated_types as at
from pydantic import (
    AfterValidator,
    AnyUrl,
    BeforeValidator,
    EmailStr,
    Field,
    Json,
    Secret,
    SecretStr,
    StringConstraints,
    TypeAdapter,
    UrlConstraints,
    ValidationError,
    create_model,
)
from pydantic_core import PydanticCustomError, SchemaError

from envguard.errors import ProjectError
from envguard.report import Problem
from envguard.schema.fields import looks_secret
from envguard.schema.types import Duration, comma_list, format_duration, parse_duration
from envguard.settings import Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["compile_schema"]

TYPES = ("bool", "duration", "email", "enum", "float", "int", "json", "list", "path", "str", "url")
ITEM_TYPES = tuple(t for t in TYPES if t not in ("json", "list"))
#: The types each constraint applies to; ``values`` and ``schemes`` also apply to a list
#: whose ``item`` is ``enum`` or ``url``.
CONSTRAINTS: dict[str, tuple[str, ...]] = {
    "min": ("duration", "float", "int"),
    "max": ("duration", "float", "int"),
    "min_length": ("list", "str"),
    "max_length": ("list", "str"),
    "pattern": ("str",),
    "values": ("enum",),
    "schemes": ("url",),
    "item": ("list",),
}
_SHOWN_LENGTH = 40
_JSON: Any = cast(Any, Json)[Any]

TOP_KEYS = ("schema", "vars")
SCHEMA_KEYS = ("description", "name")
METADATA_KEYS = ("default", "deprecated", "description", "example", "required_in", "secret", "type")
VAR_KEYS = tuple(sorted((*METADATA_KEYS, *CONSTRAINTS)))

_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")
_CACHE_SIZE = 64

_cache: collections.OrderedDict[tuple[str, int, int, str | None], type[Settings]] = (
    collections.OrderedDict()
)
_cache_lock = threading.Lock()


def compile_schema(path: str | os.PathLike[str], *, env: str | None = None) -> type[Settings]:
    """Compile a TOML schema file into a :class:`~envguard.settings.Settings` subclass.

    Each ``[vars.NAME]`` becomes a field named ``name`` (lowercased) whose alias is ``NAME``,
    so ``Model.model_validate({"PORT": "3000"})`` and ``Model()`` (from ``os.environ``) both
    read the variable exactly as written. Models are cached per file (resolved path,
    modification time and size) and environment, so repeated loads do not recompile.

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
    try:
        st = resolved.stat()
    except OSError:
        pass  # _read says why
    else:
        key = (str(resolved), st.st_mtime_ns, st.st_size, env)
        with _cache_lock:
            cached = _cache.get(key)
            if cached is not None:
                _cache.move_to_end(key)
                return cached
    read = _read(resolved, _Problems(shown))
    if isinstance(read, Problem):
        raise ProjectError([read])
    data, st = read
    model = _compile(data, shown, resolved, env)
    with _cache_lock:
        _cache[(str(resolved), st.st_mtime_ns, st.st_size, env)] = model
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return model


def _read(path: Path, out: _Problems) -> tuple[bytes, os.stat_result] | Problem:
    """The file's bytes and the stat they were read under, or why they cannot be read."""
    if path.is_dir():
        return out.problem("schema_unreadable", "schema path is a directory, not a file")
    if path.exists() and not path.is_file():  # a FIFO or device: opening it could block
        return out.problem("schema_unreadable", "schema path is not a regular file")
    try:
        with path.open("rb") as fh:
            st = os.fstat(fh.fileno())  # before reading: a later change must miss the cache
            return fh.read(), st
    except FileNotFoundError:
        return out.problem("schema_not_found", "schema file not found")
    except PermissionError:
        return out.problem("schema_unreadable", "cannot read schema file: permission denied")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return out.problem("schema_unreadable", f"cannot read schema file: {reason}")


@dataclass
class _Problems:
    """The problems of one schema file, each pointing at the line that holds it."""

    file: str
    lines: list[str] = field(default_factory=list)
    items: list[Problem] = field(default_factory=list)

    def problem(
        self,
        code: str,
        message: str,
        *,
        var: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> Problem:
        return Problem(
            key=var,
            source=self.file,
            code=code,
            message=message,
            category="project",
            file=self.file,
            line=line,
            column=column,
        )

    def add(
        self,
        code: str,
        message: str,
        *,
        var: str | None = None,
        at: str | None = None,
        table: str | None = None,
    ) -> None:
        """Record a problem at key ``at`` of ``[vars.<var>]``, ``[<table>]`` or the top level."""
        line = _locate(self.lines, ("vars", var) if var else (table,) if table else (), at)
        self.items.append(self.problem(code, message, var=var, line=line))


def _locate(lines: list[str], table: tuple[str, ...], key: str | None) -> int | None:
    """The 1-based line of ``key`` in ``table`` (best effort: ``[table]`` headers only)."""

    def quoted(name: str) -> str:
        name = re.escape(name)
        return rf"\s*(?:{name}|\"{name}\"|'{name}')\s*"

    key_re = re.compile(rf"{quoted(key)}[=.]") if key else None
    if not table:  # a top-level key, or the header of a top-level table
        top = re.compile(rf"\[*{quoted(key)}[\].=]") if key else None
        return next((n for n, text in enumerate(lines, 1) if top and top.match(text)), None)
    header = re.compile(r"\s*\[" + r"\.".join(quoted(part) for part in table) + r"\]")
    start = None
    for number, text in enumerate(lines, 1):
        if start is None:
            if header.match(text):
                start = number
                if key_re is None:
                    return start
        elif text.lstrip().startswith("["):
            break
        elif key_re is not None and key_re.match(text):
            return number
    return start


def _unknown(what: str, got: str, accepted: tuple[str, ...], where: str = "") -> str:
    close = difflib.get_close_matches(got, accepted, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{what} {got!r}{where}{hint}; accepted: {', '.join(accepted)}"


def _compile(data: bytes, shown: str, resolved: Path, env: str | None) -> type[Settings]:
    out = _Problems(shown)
    doc = _parse(data, out)
    if doc is None:
        raise ProjectError(out.items)
    for key in doc:
        if key not in TOP_KEYS:
            out.add("schema_unknown_key", _unknown("unknown top-level key", key, TOP_KEYS), at=key)
    meta = _schema_table(doc.get("schema", {}), out)
    variables = doc.get("vars", {})
    if not isinstance(variables, dict):
        out.add("schema_bad_value", f"'vars' must be a table, not {_kind(variables)}", at="vars")
        variables = {}
    fields: dict[str, Any] = {}
    used: set[str] = set()
    for name, table in variables.items():
        compiled = _compile_var(name, table, env, out)
        if compiled is not None:
            fields[_field_name(name, used)] = compiled
    if out.items:
        raise ProjectError(out.items)
    return create_model(
        _class_name(resolved.stem),
        __base__=Settings,
        __module__=__name__,
        __doc__=meta.get("description") or f"Settings compiled from the schema {resolved.name}.",
        __cls_kwargs__={
            "env_prefix": "",
            "case_sensitive": True,
            "title": meta.get("name") or resolved.stem,
        },
        **fields,
    )


def _parse(data: bytes, out: _Problems) -> dict[str, Any] | None:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        bad = data[exc.start : exc.start + 1].hex()
        message = f"schema file is not valid UTF-8 (byte 0x{bad} at line {line}, column {column})"
        out.items.append(out.problem("schema_unreadable", message, line=line, column=column))
        return None
    out.lines = text.splitlines()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        out.items.append(_syntax_problem(exc, out))
        return None


def _syntax_problem(exc: tomllib.TOMLDecodeError, out: _Problems) -> Problem:
    message = str(getattr(exc, "msg", None) or exc)
    line: int | None = getattr(exc, "lineno", None)
    column: int | None = getattr(exc, "colno", None)
    match = _TOML_POSITION.search(message)
    if match:
        message = message[: match.start()]
        if match.group(1):
            line, column = int(match.group(1)), int(match.group(2))
        elif line is None:  # "at end of document"
            line = max(len(out.lines), 1)
    where = f"line {line}, column {column}" if column else "end of document"
    return out.problem(
        "schema_syntax", f"invalid TOML at {where}: {message}", line=line, column=column
    )


def _schema_table(table: Any, out: _Problems) -> dict[str, str]:
    if not isinstance(table, dict):
        out.add("schema_bad_value", f"'schema' must be a table, not {_kind(table)}", at="schema")
        return {}
    for key, value in table.items():
        if key not in SCHEMA_KEYS:
            message = _unknown("unknown key", key, SCHEMA_KEYS, " in [schema]")
            out.add("schema_unknown_key", message, table="schema", at=key)
        elif not isinstance(value, str):
            message = f"'schema.{key}' must be a string, got {_show(value)}"
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
    name, n = base, 2
    while name in used:
        name, n = f"{base}_{n}", n + 1
    used.add(name)
    return name


def _class_name(stem: str) -> str:
    words = [w for w in re.split(r"[^0-9A-Za-z]+", stem) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words) + "Schema"
    return name if name[0].isalpha() else f"Schema{name}"


def _kind(value: Any) -> str:
    kinds: tuple[tuple[type, str], ...] = ((bool, "a boolean"), (int, "an integer"))
    kinds += ((float, "a float"), (str, "a string"), (list, "an array"), (dict, "a table"))
    return next((name for tp, name in kinds if isinstance(value, tp)), "a date or time")


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _SHOWN_LENGTH else f"{text[: _SHOWN_LENGTH - 3]}..."


def _compile_var(name: str, table: Any, env: str | None, out: _Problems) -> tuple[Any, Any] | None:
    """The ``(annotation, FieldInfo)`` of one ``[vars.NAME]`` table, or None after a problem."""
    if not _VAR_NAME.fullmatch(name):
        message = f"invalid variable name {name!r}: use letters, digits and underscores only"
        out.add("schema_bad_name", message + ", not starting with a digit", var=name)
        return None
    if not isinstance(table, dict):
        out.add("schema_bad_value", f"must be a table [vars.{name}], not {_kind(table)}", var=name)
        return None
    before = len(out.items)
    bad = functools.partial(out.add, var=name)
    for key in table:
        if key not in VAR_KEYS:
            bad("schema_unknown_key", _unknown("unknown key", key, VAR_KEYS), at=key)
    _check_metadata(table, bad)
    typing_ok = len(out.items)
    type_name = _check_type(table, bad)
    cons = _check_constraints(type_name, table, bad) if type_name else {}
    if type_name is None or len(out.items) > typing_ok:
        return None  # the default cannot be checked against a type that is wrong
    secret = table.get("secret") is True
    # A misspelt `secret = "true"`, or an undeclared secret-looking name, still hides values.
    hide = secret or table.get("secret", looks_secret(name)) is not False
    base = _annotation(type_name, cons)
    for key in ("default", "example"):
        if key in table:
            reason = _check_value(base, _env_form(type_name, table[key]), type_name, hide)
            if reason is not None:
                shown = "(hidden: the variable is secret)" if hide else _show(table[key])
                bad(f"schema_bad_{key}", f"invalid {key} {shown}: {reason}", at=key)
    if len(out.items) > before:
        return None

    required_in = table.get("required_in")
    if required_in is not None:
        required = env is not None and env in required_in
    else:
        required = "default" not in table
    annotation = _secret(type_name, base) if secret else base
    if not required and table.get("default") is None:
        annotation = annotation | None
    extra: dict[str, Any] = {"type": type_name}
    extra.update({k: table[k] for k in ("secret", "required_in") if k in table})
    constraints = {k: table[k] for k in CONSTRAINTS if k in table}
    if constraints:
        extra["constraints"] = constraints
    info = Field(
        ... if required else _env_form(type_name, table.get("default")),
        validation_alias=name,
        description=table.get("description"),
        examples=[_env_form(type_name, table["example"])] if "example" in table else None,
        deprecated=table.get("deprecated") or None,
        json_schema_extra=extra,
    )
    return annotation, info


def _check_metadata(table: dict[str, Any], bad: Callable[..., None]) -> None:
    checks: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
        ("description", lambda v: isinstance(v, str), "a string"),
        ("secret", lambda v: isinstance(v, bool), "true or false"),
        ("deprecated", lambda v: isinstance(v, bool | str), "true, false or a message"),
        (
            "required_in",
            lambda v: isinstance(v, list) and all(isinstance(e, str) and e for e in v),
            "an array of environment names",
        ),
    )
    for key, ok, want in checks:
        if key in table and not ok(table[key]):
            bad("schema_bad_value", f"'{key}' must be {want}, got {_show(table[key])}", at=key)


def _check_type(table: dict[str, Any], bad: Callable[..., None]) -> str | None:
    type_name = table.get("type", "str")
    if not isinstance(type_name, str):
        bad("schema_bad_value", f"'type' must be a string, got {_show(type_name)}", at="type")
        return None
    if type_name not in TYPES:
        bad("schema_unknown_type", _unknown("unknown type", type_name, TYPES), at="type")
        return None
    return type_name


def _check_constraints(
    type_name: str, table: dict[str, Any], bad: Callable[..., None]
) -> dict[str, Any]:
    """Each constraint checked and normalized (durations parsed), by key."""
    applies = {type_name}
    if type_name == "list":
        item = table.get("item", "str")
        if not isinstance(item, str) or item not in ITEM_TYPES:
            bad(
                "schema_unknown_type",
                _unknown("unknown item type", str(item), ITEM_TYPES),
                at="item",
            )
            return {}
        if item in ("enum", "url"):  # their values or schemes apply to each item
            applies.add(item)
    cons: dict[str, Any] = {}
    for key, types in CONSTRAINTS.items():
        if key not in table:
            continue
        if not applies.intersection(types):
            message = (
                f"'{key}' does not apply to type '{type_name}' (it applies to: {', '.join(types)})"
            )
            bad("schema_bad_constraint", message, at=key)
            continue
        value, reason = _constraint(key, table[key], type_name)
        if reason is not None:
            bad("schema_bad_constraint", f"'{key}' {reason}", at=key)
        else:
            cons[key] = value
    for low, high in (("min", "max"), ("min_length", "max_length")):
        if low in cons and high in cons and cons[low] > cons[high]:
            message = (
                f"'{low}' ({_show(table[low])}) is greater than '{high}' ({_show(table[high])})"
            )
            bad("schema_bad_constraint", message, at=low)
    if "enum" in applies and "values" not in table:
        bad("schema_bad_constraint", "type 'enum' needs 'values', an array of strings", at="type")
    return cons


def _constraint(key: str, value: Any, type_name: str) -> tuple[Any, str | None]:
    """``(normalized value, None)``, or ``(None, why it is invalid)``."""
    got = f", got {_show(value)}"
    if key in ("min", "max") and type_name == "duration":
        try:
            return parse_duration(value), None
        except ValueError:
            return None, f"must be a duration such as '30s', or a number of seconds{got}"
    if key in ("min", "max"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return (value, None) if ok else (None, f"must be a number{got}")
    if key in ("min_length", "max_length"):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return (value, None) if ok else (None, f"must be a whole number, 0 or more{got}")
    if key == "pattern":
        reason = _pattern_error(value) if isinstance(value, str) else f"must be a string{got}"
        return (value, None) if reason is None else (None, reason)
    if key in ("values", "schemes"):
        if not isinstance(value, list) or not value:
            return None, f"must be a non-empty array of strings{got}"
        if not all(isinstance(v, str) and v for v in value):
            return None, f"must hold non-empty strings only{got}"
        if len(set(value)) != len(value):
            return None, f"must not repeat a value{got}"
    return value, None  # item is checked by the caller


def _pattern_error(pattern: str) -> str | None:
    """Why pydantic's regex engine rejects ``pattern``, or None."""
    try:
        TypeAdapter(Annotated[str, StringConstraints(pattern=pattern)])
    except SchemaError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        why = next((ln[len("error:") :] for ln in lines if ln.startswith("error:")), lines[-1])
        return f"is not a valid regular expression: {why.strip()}"
    return None


def _annotated(tp: Any, *metadata: Any) -> Any:
    args = (tp, *metadata)
    return cast(Any, Annotated)[args] if metadata else tp


def _annotation(type_name: str, cons: dict[str, Any]) -> Any:
    """The type of a variable, constraints included, before ``secret`` and optionality."""
    if type_name == "list":
        item_cons: dict[str, Any] = {k: cons[k] for k in ("values", "schemes") if k in cons}
        item = _annotation(cons.get("item", "str"), item_cons)
        return comma_list(
            item, min_length=cons.get("min_length"), max_length=cons.get("max_length")
        )
    bounds: list[Any] = [at.Ge(cons["min"])] if "min" in cons else []
    bounds += [at.Le(cons["max"])] if "max" in cons else []
    if type_name == "str":
        keys = [k for k in ("min_length", "max_length", "pattern") if k in cons]
        return _annotated(str, StringConstraints(**{k: cons[k] for k in keys})) if keys else str
    if type_name == "duration":
        has_bounds = "min" in cons or "max" in cons
        return (
            _annotated(Duration, _duration_range(cons.get("min"), cons.get("max")))
            if has_bounds
            else Duration
        )
    if type_name == "enum":
        return cast(Any, Literal)[tuple(cons["values"])]
    if type_name == "url" and "schemes" in cons:
        return _annotated(AnyUrl, UrlConstraints(allowed_schemes=cons["schemes"]))
    simple = {"bool": bool, "email": EmailStr, "float": float, "int": int, "json": _JSON}
    simple.update({"path": Path, "url": AnyUrl})
    return _annotated(simple[type_name], *bounds)


def _duration_range(low: dt.timedelta | None, high: dt.timedelta | None) -> AfterValidator:
    """Bounds for a duration, with messages in duration syntax (``1h``, not ``timedelta(...)``)."""

    def check(value: dt.timedelta) -> dt.timedelta:
        if low is not None and value < low:
            template = "Input should be greater than or equal to {ge}"
            raise PydanticCustomError("greater_than_equal", template, {"ge": format_duration(low)})
        if high is not None and value > high:
            template = "Input should be less than or equal to {le}"
            raise PydanticCustomError("less_than_equal", template, {"le": format_duration(high)})
        return value

    return AfterValidator(check)


def _secret(type_name: str, base: Any) -> Any:
    """``SecretStr`` for strings (constraints checked on the plain value), else ``Secret[T]``."""
    if type_name != "str":
        return Secret[base]
    if base is str:
        return SecretStr
    adapter: TypeAdapter[str] = TypeAdapter(base)

    def check(value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return adapter.validate_python(value)

    return Annotated[SecretStr, BeforeValidator(check)]


def _env_form(type_name: str, value: Any) -> Any:
    """A TOML value as the environment would hold it: json tables become JSON text."""
    if type_name == "json" and value is not None and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _check_value(annotation: Any, value: Any, type_name: str, secret: bool) -> str | None:
    """Why ``value`` fails the variable's type or constraints, or None."""
    if isinstance(value, bool) and type_name in ("float", "int"):
        return "Input should be a number, not a boolean"
    try:
        TypeAdapter(annotation).validate_python(value)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
    else:
        return None
    reasons = []
    for error in errors:
        message = error["msg"]
        if secret and error["type"] in ("value_error", "assertion_error"):
            message = f"Input is not a valid {type_name}"  # its own message may echo it
        index = next((p for p in error["loc"] if isinstance(p, int)), None)
        reasons.append(message if index is None else f"item {index + 1}: {message}")
    return "; ".join(reasons)

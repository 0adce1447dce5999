"""What a schema asks for, one :class:`VarSpec` per environment variable.

Both kinds of schema (a Python settings class and a compiled TOML file) are described the
same way here, so validation, ``docs`` and secret detection share one reading of a model.
Per-field envguard metadata lives in ``json_schema_extra``: ``secret`` (True, or False to
declare a public value), ``required_in``, and ``type`` (the TOML type name).
"""

from __future__ import annotations

import datetime as dt
import enum
import pathlib
import types
import typing
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

import annotated_types
from pydantic import BaseModel, Json, Secret, SecretBytes, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

from envguard._secrecy import looks_secret, url_has_credentials

__all__ = [
    "MISSING",
    "TOML_MARKER",
    "VarSpec",
    "build_spec",
    "holds_secret",
    "looks_secret",
    "url_has_credentials",
    "variables",
]

#: The class attribute the TOML compiler sets on the models it builds (the schema's path).
TOML_MARKER = "__envguard_schema_file__"

#: Marks a variable with no default (a required one).
MISSING: Any = PydanticUndefined


class VarSpec(NamedTuple):
    """One environment variable a schema reads.

    Attributes:
        name: the variable's name as users set it (``APP_PORT``).
        field: the model field it fills.
        key: the key to validate it under (the field's alias, else the field name).
        type: a short type label (``int``, ``url``, ``enum``, ``list``, ``str`` …).
        required: True when the variable has no default.
        default: the default, or :data:`MISSING`; None when ``factory`` makes it (read
            :attr:`default_value` to get it).
        secret: True (secret), False (declared public) or None (undeclared).
        description: the field's description.
        example: an example value, or None.
        deprecated: a deprecation message, or None.
        required_in: the environments that require it (TOML ``required_in``), or None.
        constraints: ``min``, ``max``, ``min_length``, ``max_length``, ``pattern``,
            ``values``, ``schemes`` — whichever apply.
        decode_json: True when the value is JSON-decoded before validation, as
            pydantic-settings does for complex fields (lists, dicts, models).
        aliases: other names the variable may be set under (the later choices of an
            ``AliasChoices``), tried in order after ``name``.
        factory: the field's ``default_factory``, called only by :attr:`default_value`
            (documentation), never when values are loaded.
    """

    name: str
    field: str
    key: str
    type: str
    required: bool
    default: Any = MISSING
    secret: bool | None = None
    description: str | None = None
    example: Any = None
    deprecated: str | None = None
    required_in: tuple[str, ...] | None = None
    constraints: Mapping[str, Any] = MappingProxyType({})
    decode_json: bool = False
    aliases: tuple[str, ...] = ()
    factory: Callable[[], Any] | None = None

    @property
    def default_value(self) -> Any:
        """The default, made by the field's ``default_factory`` if it has one."""
        return self.factory() if self.factory is not None else self.default

    @property
    def is_secret(self) -> bool:
        """Secret by declaration, or by name unless declared public."""
        if self.secret is not None:
            return self.secret
        return looks_secret(self.name)


def _strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _strip_optional(args[0])
    if origin is typing.Annotated:
        return _strip_optional(typing.get_args(annotation)[0])
    return annotation


def _is_subclass(tp: Any, base: type | tuple[type, ...]) -> bool:
    return isinstance(tp, type) and issubclass(tp, base)


def _type_label(annotation: Any) -> str:
    tp = _strip_optional(annotation)
    origin = typing.get_origin(tp)
    if origin is Literal or _is_subclass(tp, enum.Enum):
        return "enum"
    if origin in (list, set, tuple, frozenset):
        return "list"
    if origin is dict or _is_subclass(tp, BaseModel) or tp is Json or origin is Json:
        return "json"
    if _is_subclass(tp, SecretBytes):
        return "bytes"
    if tp is bool:
        return "bool"
    if tp is int:
        return "int"
    if tp is float:
        return "float"
    if _is_subclass(tp, dt.timedelta):
        return "duration"
    if _is_subclass(tp, pathlib.PurePath):
        return "path"
    name = getattr(tp, "__name__", "")
    if "Url" in name or "Dsn" in name:
        return "url"
    if name in {"EmailStr", "NameEmail"}:
        return "email"
    return "str"


def _enum_values(annotation: Any) -> list[Any] | None:
    tp = _strip_optional(annotation)
    if typing.get_origin(tp) is Literal:
        return list(typing.get_args(tp))
    if _is_subclass(tp, enum.Enum):
        return [m.value for m in tp]
    return None


def _constraints(info: FieldInfo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for meta in info.metadata:
        if isinstance(meta, annotated_types.Ge):
            out["min"] = meta.ge
        elif isinstance(meta, annotated_types.Gt):
            out["gt"] = meta.gt
        elif isinstance(meta, annotated_types.Le):
            out["max"] = meta.le
        elif isinstance(meta, annotated_types.Lt):
            out["lt"] = meta.lt
        elif isinstance(meta, annotated_types.MinLen):
            out["min_length"] = meta.min_length
        elif isinstance(meta, annotated_types.MaxLen):
            out["max_length"] = meta.max_length
        elif getattr(meta, "pattern", None) is not None:
            out["pattern"] = str(meta.pattern)
    values = _enum_values(info.annotation)
    if values is not None:
        out["values"] = values
    return out


def _secret_type(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, SecretStr | SecretBytes | Secret)


def _declared_secret(info: FieldInfo) -> bool:
    extra = info.json_schema_extra
    return isinstance(extra, Mapping) and extra.get("secret") is True


def holds_secret(annotation: Any, seen: set[int] | None = None) -> bool:
    """Whether a ``SecretStr``/``SecretBytes``/``Secret`` appears anywhere in ``annotation``:
    inside ``Optional``, unions, lists, dicts and the fields of nested models, so secrecy
    follows a secret field into the model that holds it."""
    seen = set() if seen is None else seen
    if id(annotation) in seen:
        return False
    seen.add(id(annotation))
    if _secret_type(annotation) or _secret_type(typing.get_origin(annotation)):
        return True
    if _is_subclass(annotation, BaseModel):
        return any(
            _declared_secret(f) or holds_secret(f.annotation, seen)
            for f in annotation.model_fields.values()
        )
    return any(holds_secret(arg, seen) for arg in typing.get_args(annotation))


def model_field_names(annotation: Any, seen: set[int] | None = None) -> frozenset[str]:
    """The field names and aliases of every model inside ``annotation``: the keys of a JSON
    value that name fields, as opposed to the keys of a ``dict``, which are data."""
    seen = set() if seen is None else seen
    if id(annotation) in seen:
        return frozenset()
    seen.add(id(annotation))
    names: set[str] = set()
    if _is_subclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            names.add(name)
            if isinstance(info.alias, str):
                names.add(info.alias)
            if isinstance(info.validation_alias, str):
                names.add(info.validation_alias)
            names |= model_field_names(info.annotation, seen)
        return frozenset(names)
    for arg in typing.get_args(annotation):
        names |= model_field_names(arg, seen)
    return frozenset(names)


def build_spec(
    field: str, info: FieldInfo, key: str, names: tuple[str, ...], *, decode_json: bool
) -> VarSpec:
    """The :class:`VarSpec` of one field, whose variable names the schema view found.

    Args:
        field: the field's name.
        info: its ``FieldInfo``.
        key: the key its value is validated under.
        names: the variable's spellings, the preferred one first.
        decode_json: whether its value is JSON-decoded.
    """
    extra: Mapping[str, Any] = (
        info.json_schema_extra if isinstance(info.json_schema_extra, Mapping) else {}
    )
    label = str(extra.get("type") or _type_label(info.annotation))
    secret = extra.get("secret")
    if secret is None and holds_secret(info.annotation):
        secret = True
    required_in = extra.get("required_in")
    constraints = _constraints(info)
    constraints.update(extra.get("constraints") or {})
    deprecated = info.deprecated
    required = info.is_required()
    return VarSpec(
        name=names[0],
        field=field,
        key=key,
        type=label,
        required=required,
        default=MISSING
        if required
        else None
        if info.default_factory is not None
        else info.get_default(call_default_factory=False),
        secret=None if secret is None else bool(secret),
        description=info.description,
        example=info.examples[0] if info.examples else extra.get("example"),
        deprecated=(deprecated if isinstance(deprecated, str) else "deprecated")
        if deprecated
        else None,
        required_in=tuple(required_in) if required_in else None,
        constraints=constraints,
        decode_json=decode_json,
        aliases=names[1:],
        factory=None
        if required or info.default_factory_takes_validated_data
        else info.default_factory,  # type: ignore[arg-type]
    )


def variables(model: type[BaseSettings]) -> tuple[VarSpec, ...]:
    """The variables ``model`` reads, in field order (see :mod:`envguard.schema.view`)."""
    from envguard.schema.view import view_of

    return view_of(model).specs

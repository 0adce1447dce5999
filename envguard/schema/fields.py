"""What a schema asks for, one :class:`VarSpec` per environment variable.

Both kinds of schema (a Python settings class and a compiled TOML file) are described the
same way here, so validation, ``docs`` and secret detection share one reading of a model.
Per-field envguard metadata lives in ``json_schema_extra``: ``secret`` (True, or False to
declare a public value), ``required_in``, and ``type`` (the TOML type name).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import pathlib
import re
import types
import typing
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

import annotated_types
from pydantic import AliasChoices, BaseModel, Json, SecretBytes, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings, NoDecode

__all__ = ["MISSING", "VarSpec", "looks_secret", "url_has_credentials", "variables"]

#: Marks a variable with no default (a required one).
MISSING: Any = PydanticUndefined

_SECRET_NAME = re.compile(
    r"(^|_)(SECRET|TOKEN|PASSWORD|PASSWD|PASS|KEY|PRIVATE_KEY|API_KEY|CREDENTIALS?)$",
    re.IGNORECASE,
)
_URL_CREDENTIALS = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@\s]*:[^/@\s]*@")


@functools.lru_cache(maxsize=8192)
def looks_secret(name: str) -> bool:
    """Whether a variable name looks like it holds a secret (``*_TOKEN``, ``DB_PASSWORD``)."""
    return bool(_SECRET_NAME.search(name))


def url_has_credentials(value: str) -> bool:
    """Whether ``value`` is a URL with a password in it (``postgres://u:p@host/db``)."""
    return "@" in value and bool(_URL_CREDENTIALS.match(value))


class VarSpec(NamedTuple):
    """One environment variable a schema reads.

    Attributes:
        name: the variable's name as users set it (``APP_PORT``).
        field: the model field it fills.
        key: the key to validate it under (the field's alias, else the field name).
        type: a short type label (``int``, ``url``, ``enum``, ``list``, ``str`` …).
        required: True when the variable has no default.
        default: the default, or :data:`MISSING`.
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


def _decode_json(info: FieldInfo) -> bool:
    if any(m is NoDecode or isinstance(m, NoDecode) for m in info.metadata):
        return False
    from pydantic_settings.sources.utils import _annotation_is_complex

    return bool(_annotation_is_complex(info.annotation, info.metadata))


def _key_and_name(
    field: str, info: FieldInfo, config: Mapping[str, Any]
) -> tuple[str, str, tuple[str, ...]]:
    """The validation key, the variable's name, and its other accepted names."""
    alias = info.validation_alias if info.validation_alias is not None else info.alias
    if isinstance(alias, AliasChoices):
        choices = [c for c in alias.choices if isinstance(c, str)]
        if choices:
            return choices[0], choices[0], tuple(choices[1:])
        alias = None
    if isinstance(alias, str):
        return alias, alias, ()
    prefix = str(config.get("env_prefix") or "")
    name = f"{prefix}{field}"
    return field, name if config.get("case_sensitive") else name.upper(), ()


@functools.cache
def variables(model: type[BaseSettings]) -> tuple[VarSpec, ...]:
    """The variables ``model`` reads, in field order (computed once per class)."""
    config = model.model_config
    out = []
    for field, info in model.model_fields.items():
        key, name, aliases = _key_and_name(field, info, config)
        extra: Mapping[str, Any] = (
            info.json_schema_extra if isinstance(info.json_schema_extra, Mapping) else {}
        )
        label = str(extra.get("type") or _type_label(info.annotation))
        secret = extra.get("secret")
        if secret is None and _is_subclass(
            _strip_optional(info.annotation), (SecretStr, SecretBytes)
        ):
            secret = True
        required_in = extra.get("required_in")
        constraints = _constraints(info)
        constraints.update(extra.get("constraints") or {})
        deprecated = info.deprecated
        out.append(
            VarSpec(
                name=name,
                field=field,
                key=key,
                type=label,
                required=info.is_required(),
                default=info.get_default(call_default_factory=True)
                if not info.is_required()
                else MISSING,
                secret=None if secret is None else bool(secret),
                description=info.description,
                example=info.examples[0] if info.examples else extra.get("example"),
                deprecated=(deprecated if isinstance(deprecated, str) else "deprecated")
                if deprecated
                else None,
                required_in=tuple(required_in) if required_in else None,
                constraints=constraints,
                decode_json=_decode_json(info),
                aliases=aliases,
            )
        )
    return tuple(out)

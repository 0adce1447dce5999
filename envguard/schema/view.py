"""One reading of a settings class: which variable sets which field, as pydantic-settings reads it.

:func:`view_of` gives the :class:`SchemaView` of a model, built once per class (and again
after ``model_rebuild()``). Everything that asks "which field does this variable set, under
which spelling, is it declared, does it concern this schema" asks it: validation, ``show``,
``explain``, ``diff``, ``docs`` and health checks.

The view takes its answers from pydantic-settings itself: the spellings of each field come
from ``EnvSettingsSource._extract_field_info`` (``env_prefix``, ``env_prefix_target``,
``case_sensitive``, ``alias``/``validation_alias``/``AliasChoices``/``AliasPath``,
``populate_by_name``), and whether a field is JSON-decoded from ``_field_is_complex``. At load
time :meth:`SchemaView.read` turns each source's values into the dict of field values that
pydantic-settings' matching source would build from them — ``EnvSettingsSource`` for the
process environment, ``DotEnvSettingsSource`` (undeclared keys passed on as extras) for files
and secret stores, ``SecretsSettingsSource`` for a secrets directory — and merges them per
field, later sources winning, as ``BaseSettings`` deep-merges its sources. Plain fields (most
of them) are read inline; every other field goes through pydantic-settings' own methods
(``prepare_field_value``, ``explode_env_vars`` …), fed only the variables that can concern it.
Each value keeps the variables that set it, so a problem names the variable to fix.
"""

from __future__ import annotations

import enum
import json
import threading
import typing
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pydantic.fields import FieldInfo
from pydantic.types import Strict
from pydantic_settings import BaseSettings, EnvSettingsSource
from pydantic_settings.sources import PydanticBaseSettingsSource
from pydantic_settings.sources.types import EnvNoneType, ForceDecode, NoDecode
from pydantic_settings.sources.utils import _get_field_metadata
from pydantic_settings.version import VERSION as PS_VERSION

from envguard.report import Problem
from envguard.resolve import Layer
from envguard.schema.fields import VarSpec, build_spec
from envguard.sources.base import Value

__all__ = ["Binding", "Read", "Row", "SchemaView", "view_of"]


class Binding(NamedTuple):
    """One variable that set (part of) a field.

    Attributes:
        name: the variable as its source spelled it (``DB_URL``, ``APP_DB__PORT``).
        value: its value and origin.
        path: ``()`` when it sets the whole field, else the nested keys it sets
            (``("port",)``), lower-cased unless the schema is case sensitive.
    """

    name: str
    value: Value
    path: tuple[str, ...] = ()


class Row(NamedTuple):
    """One field of the model, as pydantic-settings reads it from variables.

    Attributes:
        field: the field's name.
        spec: its documentation-facing description.
        envs: the normalized variable names that set it, in pydantic-settings' order.
        keys: the key the value is validated under, for each of ``envs``.
        complex: per ``envs``, whether pydantic-settings decodes that value as JSON.
        none_key: the key of a value built from nested variables alone.
        simple: the value is passed to pydantic as the raw string (no JSON, no enum
            names, no strict coercion): read inline, without pydantic-settings' methods.
        prefixes: ``env + delimiter`` of each name, when nested variables can set the field.
        secret: the schema's declaration (``SecretStr`` anywhere in the field's type counts),
            False for a field declared public, None when undeclared.
        json: for a complex field whose value pydantic-settings decodes as plain JSON and
            passes on unchanged unless it is an object (a list, a set, a tuple: no union, no
            ``AliasPath``, no enum names), whether it is decoded (False under ``NoDecode``);
            None for every other field.
    """

    field: str
    spec: VarSpec
    envs: tuple[str, ...]
    keys: tuple[str, ...]
    complex: tuple[bool, ...]
    none_key: str
    simple: bool
    prefixes: tuple[str, ...]
    secret: bool | None
    json: bool | None = None


@dataclass(slots=True)
class Read:
    """What :meth:`SchemaView.read` made of an environment's layers.

    Attributes:
        data: the mapping pydantic validates (field keys, and extras).
        bindings: for each key of ``data``, the variables that set it (winners only).
        extras: the keys of ``data`` that no field declares (undeclared file keys).
        problems: values that could not be decoded (malformed JSON), naming the variable.
    """

    data: dict[str, Any] = field(default_factory=dict)
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    extras: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)


class _Reader(EnvSettingsSource):
    """pydantic-settings' environment source, reading the mapping it is handed.

    What it works out about a field (its names, whether it is complex) depends on the
    field alone, so it is remembered for the life of the reader (one ``read``); the cache
    holds the field, so an ``id`` in a key is never reused while the reader lives.
    """

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {}

    def _extract_field_info(self, field: FieldInfo, field_name: str, *rest: Any) -> Any:
        cache: dict[tuple[Any, ...], Any] = self.__dict__.setdefault("_eg_info", {})
        key = (id(field), field_name, *map(id, rest))
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = (field, rest, super()._extract_field_info(field, field_name, *rest))
        return hit[2]

    def _field_is_complex(self, field: FieldInfo) -> tuple[bool, bool]:
        cache: dict[int, Any] = self.__dict__.setdefault("_eg_complex", {})
        hit = cache.get(id(field))
        if hit is None:
            hit = cache[id(field)] = (field, super()._field_is_complex(field))
        return hit[1]


def _plain(annotation: Any, seen: set[int] | None = None) -> bool:
    """Whether pydantic-settings passes a non-complex value of this type on as the raw
    string: no ``Strict`` marker and no enum member inside a ``Literal`` (both make it coerce
    the string first), and no type alias it would resolve. Unsure means not plain."""
    seen = set() if seen is None else seen
    if id(annotation) in seen:
        return True
    seen.add(id(annotation))
    if type(annotation).__name__ == "TypeAliasType":
        return False
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return not any(isinstance(a, enum.Enum) for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        inner, *meta = typing.get_args(annotation)
        return not any(isinstance(m, Strict) for m in meta) and _plain(inner, seen)
    return all(_plain(arg, seen) for arg in typing.get_args(annotation))


def _has_enum(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return True
    return any(_has_enum(a) for a in typing.get_args(annotation))


class SchemaView:
    """A model's fields as variables: the one answer to "which variable sets which field".

    Attributes:
        model: the settings class.
        rows: one :class:`Row` per field, in field order.
        specs: each row's :class:`~envguard.schema.fields.VarSpec`.
        case_sensitive: whether variable names match exactly (else lower-cased).
        prefix: the normalized ``env_prefix``.
        delimiter: ``env_nested_delimiter``, or None.
        extra: the model's ``extra`` setting (``forbid``, ``ignore`` or ``allow``).
    """

    def __init__(self, model: type[BaseSettings]) -> None:
        config = model.model_config
        # Weakly: the view is cached beside its class, and must not keep it alive.
        self._model = weakref.ref(model)
        self.case_sensitive = bool(config.get("case_sensitive"))
        raw_prefix = str(config.get("env_prefix") or "")
        self.raw_prefix = raw_prefix
        self.prefix = self.norm(raw_prefix)
        self.delimiter: str | None = config.get("env_nested_delimiter") or None
        max_split = config.get("env_nested_max_split")
        self.maxsplit = (max_split or 0) - 1
        self.none_str: str | None = config.get("env_parse_none_str")
        self.ignore_empty = bool(config.get("env_ignore_empty"))
        self.parse_enums = bool(config.get("env_parse_enums"))
        self.extra = str(config.get("extra") or "ignore")
        self.filtering: str | None = config.get("dotenv_filtering")
        self.partial_defaults = bool(config.get("nested_model_default_partial_update"))
        reader = _Reader(model)
        spelled = _Reader(model, case_sensitive=True)
        strict = bool(config.get("strict"))
        rows = []
        for name, info in model.model_fields.items():
            rows.append(self._row(reader, spelled, name, info, strict))
        self.rows: tuple[Row, ...] = tuple(rows)
        self._rich = any(not r.simple for r in rows)
        self._nests = any(r.prefixes for r in rows)
        self.specs: tuple[VarSpec, ...] = tuple(r.spec for r in rows)
        self.field_names = frozenset(model.model_fields)
        self._by_env: dict[str, Row] = {}
        self._by_key: dict[str, Row] = {}
        self._nested: dict[str, Row] = {}
        self._nested_rows: dict[str, list[Row]] = {}
        for row in rows:
            for env in row.envs:
                self._by_env.setdefault(env, row)
            for key in (row.field, *row.keys, row.none_key):
                self._by_key.setdefault(key, row)
            for prefix in row.prefixes:
                self._nested.setdefault(prefix, row)
                self._nested_rows.setdefault(prefix, []).append(row)
        self.known = sorted(
            {s.name for s in self.specs} | {a for s in self.specs for a in s.aliases}
        )

    @property
    def model(self) -> type[BaseSettings]:
        model = self._model()
        if model is None:  # pragma: no cover - a view outliving its class is not used
            raise ReferenceError("the settings class of this view no longer exists")
        return model

    # -- the questions every command asks ------------------------------------------------

    def norm(self, name: str) -> str:
        """``name`` as matched: unchanged when case sensitive, else lower-cased."""
        return name if self.case_sensitive else name.lower()

    def field_of(self, name: str) -> Row | None:
        """The field variable ``name`` sets (by any spelling, or as a nested key), or None."""
        return self.field_of_norm(self.norm(name))

    def field_of_norm(self, norm: str) -> Row | None:
        """:meth:`field_of` for a name already passed through :meth:`norm`."""
        row = self._by_env.get(norm)
        if row is not None or not self._nested:
            return row
        delimiter = self.delimiter or ""
        cut = norm.find(delimiter)
        while cut != -1:
            row = self._nested.get(norm[: cut + len(delimiter)])
            if row is not None:
                return row
            cut = norm.find(delimiter, cut + 1)
        return None

    def row_of_key(self, key: str) -> Row | None:
        """The field a key of the validated mapping (a pydantic error's ``loc[0]``) fills."""
        return self._by_key.get(key)

    def concerns(self, name: str) -> bool:
        """Whether ``name`` concerns this schema: it sets a field, or carries its prefix."""
        norm = self.norm(name)
        return self.field_of_norm(norm) is not None or self.carries_prefix(norm)

    def carries_prefix(self, norm: str) -> bool:
        """Whether a normalized name carries the schema's ``env_prefix``."""
        return bool(self.prefix) and norm.startswith(self.prefix)

    # -- building ------------------------------------------------------------------------

    def _row(
        self, reader: _Reader, spelled: _Reader, name: str, info: FieldInfo, strict: bool
    ) -> Row:
        found = reader._extract_field_info(info, name)
        written = spelled._extract_field_info(info, name)
        envs = tuple(env for _, env, _ in found)
        complexity = tuple(c for _, _, c in found)
        validate_by_name = _by_name(self.model.model_config)
        preferred_key, _, preferred_complex = found[0]
        keys = []
        for key, _, value_complex in found:
            if value_complex or (validate_by_name and key == name) or preferred_complex:
                keys.append(key)
            else:
                keys.append(preferred_key)
        last_key, _, last_complex = found[-1]
        if last_complex or (validate_by_name and last_key == name) or preferred_complex:
            none_key = last_key
        else:
            none_key = preferred_key
        is_complex, allow_failure = reader._field_is_complex(info)
        simple = (
            not is_complex
            and not any(complexity)
            and not strict
            and _plain(info.annotation)
            and not any(isinstance(m, Strict) for m in info.metadata)
            and not (self.parse_enums and _has_enum(info.annotation))
        )
        prefixes: tuple[str, ...] = ()
        if self.delimiter and (is_complex or any(complexity)):
            prefixes = tuple(env + self.delimiter for env in envs)
        # A name made from the field (with the prefix: the last entry, present when the
        # field has no alias or is also read by name) is shown upper-cased, as it is
        # usually written; an alias as the schema writes it.
        aliased = (info.validation_alias or info.alias) is not None
        from_name = len(written) - 1 if not aliased or validate_by_name else -1
        spellings: list[str] = []
        for index, (_, env, _) in enumerate(written):
            shown = env.upper() if not self.case_sensitive and index == from_name else env
            if shown not in spellings:
                spellings.append(shown)
        decodes = (is_complex or any(complexity)) and _decodes(info, self.model.model_config)
        spec = build_spec(name, info, keys[0], tuple(spellings), decode_json=decodes)
        plain_json = (
            is_complex
            and not allow_failure
            and not any(complexity)
            and not (self.parse_enums and _has_enum(info.annotation))
        )
        # No FieldInfo is kept: its annotation may name the class (a self-referencing
        # model), and the view must not keep its class alive.
        return Row(
            name,
            spec,
            envs,
            tuple(keys),
            complexity,
            none_key,
            simple,
            prefixes,
            spec.secret,
            decodes if plain_json else None,
        )

    # -- reading an environment -----------------------------------------------------------

    def read(self, layers: Sequence[Layer]) -> Read:
        """The mapping pydantic-settings would validate for these layers (later ones win),
        with the variables behind each value."""
        out = Read()
        reader = _Reader(self.model) if self._rich else None
        reads = [self._read_layer(layer, out, reader) for layer in layers]
        data: dict[str, Any] = {}
        bindings = out.bindings
        for layer_data, layer_bindings in reads:
            for key, value in layer_data.items():
                old = data.get(key)
                if isinstance(old, dict) and isinstance(value, dict):
                    data[key] = _deep_update(old, value)
                    bindings[key] = _merge_bindings(bindings[key], layer_bindings[key])
                else:
                    data[key] = value
                    bindings[key] = layer_bindings[key]
        if self.partial_defaults:
            data = self._with_partial_defaults(data)
        out.data = data
        out.extras.intersection_update(data)
        for key in list(out.extras):
            if self.row_of_key(key) is not None:
                out.extras.discard(key)
        return out

    def _with_partial_defaults(self, data: dict[str, Any]) -> dict[str, Any]:
        """``nested_model_default_partial_update``: nested defaults merged under the values,
        then defaults left unchanged dropped, as ``BaseSettings`` does."""
        from pydantic_settings.sources import DefaultSettingsSource

        source = DefaultSettingsSource(self.model)
        source._set_current_state(data)
        defaults = source()
        merged = _deep_update(defaults, data)
        return {k: v for k, v in merged.items() if k not in defaults or defaults[k] != v}

    def _normalized(self, layer: Layer) -> dict[str, tuple[str, Value]]:
        items: Iterable[tuple[str, Value]] = layer.values.items()
        if self.ignore_empty and layer.matching != "secrets":
            items = [(k, v) for k, v in items if v.text != ""]
        if self.case_sensitive:
            return {k: (k, v) for k, v in items}
        return {k.lower(): (k, v) for k, v in items}

    def _read_layer(
        self, layer: Layer, out: Read, reader: _Reader | None
    ) -> tuple[dict[str, Any], dict[str, list[Binding]]]:
        env = self._normalized(layer)
        data: dict[str, Any] = {}
        bindings: dict[str, list[Binding]] = {}
        if not env:
            return data, bindings
        none_str = self.none_str if layer.matching != "secrets" else None
        get = env.get
        nested: dict[str, list[Binding]] = {}
        if self.delimiter and self._nests and layer.matching != "secrets":
            nested = self._nested_bindings(env)
        for row in self.rows:
            hit, found = -1, None
            for index, name in enumerate(row.envs):
                found = get(name)
                if found is not None:
                    hit = index
                    break
            if not row.simple:
                offered = nested.get(row.field, [])
                if self._read_json(row, hit, found, offered, none_str, layer, data, bindings, out):
                    continue
                # pydantic-settings' own code, fed only what can concern the field.
                assert reader is not None  # built when a row is not simple
                self._read_rich(reader, row, found, offered, none_str, layer, data, bindings, out)
            elif found is not None:
                spelling, value = found
                text: Any = value.text
                key = row.keys[hit]
                data[key] = None if none_str is not None and text == none_str else text
                bindings[key] = [Binding(spelling, value)]
        if layer.matching == "dotenv":
            self._extras(env, data, bindings, out)
        return data, bindings

    def _nested_bindings(self, env: dict[str, tuple[str, Value]]) -> dict[str, list[Binding]]:
        """The layer's variables that set keys nested in a field (``DB__HOST``), by field,
        in the layer's order. A variable is offered to every field one of whose
        ``name + delimiter`` prefixes it starts with, as pydantic-settings offers it."""
        delimiter = self.delimiter or ""
        step = len(delimiter)
        out: dict[str, list[Binding]] = {}
        for norm, (spelling, value) in env.items():
            cut = norm.find(delimiter)
            if cut == -1:
                continue
            candidates: list[Row] = []
            while cut != -1:
                for row in self._nested_rows.get(norm[: cut + step], ()):
                    if row not in candidates:
                        candidates.append(row)
                cut = norm.find(delimiter, cut + 1)
            for row in candidates:
                prefix = next(p for p in row.prefixes if norm.startswith(p))
                rest = norm[len(prefix) :].split(delimiter, self.maxsplit)
                out.setdefault(row.field, []).append(Binding(spelling, value, tuple(rest)))
        return out

    def _read_json(
        self,
        row: Row,
        hit: int,
        found: tuple[str, Value] | None,
        nested: list[Binding],
        none_str: str | None,
        layer: Layer,
        data: dict[str, Any],
        bindings: dict[str, list[Binding]],
        out: Read,
    ) -> bool:
        """A complex field set by one variable holding a JSON array (or any JSON but an
        object), read inline as ``EnvSettingsSource.prepare_field_value`` reads it: decoded
        (unless ``NoDecode``), malformed JSON an error. False when the field needs
        pydantic-settings' own methods (nested variables, an object, ``None`` strings)."""
        if row.json is None or found is None or nested or layer.matching == "secrets":
            return False
        text = found[1].text
        if none_str is not None and text == none_str:
            return False
        value: Any = text
        if row.json:
            try:
                value = json.loads(text)
            except ValueError:
                out.problems.append(_json_problem(found))
                return True
        if isinstance(value, dict):
            return False
        key = row.keys[hit]
        data[key] = value
        bindings[key] = [Binding(*found)]
        return True

    def _read_rich(
        self,
        reader: _Reader,
        row: Row,
        found: tuple[str, Value] | None,
        nested: list[Binding],
        none_str: str | None,
        layer: Layer,
        data: dict[str, Any],
        bindings: dict[str, list[Binding]],
        out: Read,
    ) -> None:
        subset = {self.norm(b.name): b.value.text for b in nested}
        if found is not None:
            subset[self.norm(found[0])] = found[1].text
        if not subset:
            return
        value, key, failed = self._prepare(reader, row, subset, none_str, layer)
        if failed:
            out.problems.append(_json_problem(found or (nested[0].name, nested[0].value)))
        elif value is not None:
            data[key] = value
            top = [Binding(*found)] if found is not None else []
            bindings[key] = top + (nested if isinstance(value, dict) else [])

    def _prepare(
        self,
        reader: _Reader,
        row: Row,
        subset: dict[str, str],
        none_str: str | None,
        layer: Layer,
    ) -> tuple[Any, str, bool | None]:
        """One field through pydantic-settings' source methods: the body of its
        ``PydanticBaseEnvSettingsSource.__call__`` for one field."""
        if none_str is not None:
            reader.env_vars = {k: EnvNoneType(v) if v == none_str else v for k, v in subset.items()}
        else:
            reader.env_vars = subset
        name = row.field
        info = self.model.model_fields[name]
        try:
            value, key, value_complex = reader._get_resolved_field_value(info, name)
            if layer.matching == "secrets":
                value = PydanticBaseSettingsSource.prepare_field_value(
                    reader, name, info, value, value_complex
                )
            else:
                value = reader.prepare_field_value(name, info, value, value_complex)
        except ValueError:
            return None, name, True
        if value is None:
            return None, key, None
        if none_str is not None:
            if isinstance(value, dict):
                value = reader._replace_env_none_type_values(value)
            elif isinstance(value, EnvNoneType):
                value = None
        if not self.case_sensitive and isinstance(value, dict):
            value = reader._replace_field_names_case_insensitively(info, value)
        return value, key, None

    def _extras(
        self,
        env: dict[str, tuple[str, Value]],
        data: dict[str, Any],
        bindings: dict[str, list[Binding]],
        out: Read,
    ) -> None:
        """Undeclared keys of a dotenv-like layer, passed on as ``DotEnvSettingsSource``
        passes them: the model's ``extra`` then keeps, ignores or forbids them."""
        if self.filtering == "only_existing":
            return
        prefix = self.prefix
        if self.filtering == "match_prefix":
            for norm, (spelling, value) in env.items():
                if not norm.startswith(prefix):
                    continue
                stripped = norm[len(prefix) :]
                delimiter = self.delimiter
                if delimiter and delimiter in stripped and stripped.partition(delimiter)[0] in data:
                    continue
                if stripped not in data:
                    data[stripped] = value.text
                    bindings[stripped] = [Binding(spelling, value)]
                    out.extras.add(stripped)
            return
        allowed = self.extra != "forbid"
        # Before 2.16 pydantic-settings compared the prefix as written with the normalized
        # name, so a prefix in upper case was never stripped from an extra.
        prefix = prefix if _EXTRAS_NORMALIZED_PREFIX else self.raw_prefix
        for norm, (spelling, value) in env.items():
            if not value.text or norm in data:
                continue
            if self.raw_prefix and norm in self.field_names:
                continue
            if self.field_of(norm) is not None:
                continue
            key = norm[len(prefix) :] if allowed and norm.startswith(prefix) else norm
            data[key] = value.text
            bindings[key] = [Binding(spelling, value)]
            out.extras.add(key)


_EXTRAS_NORMALIZED_PREFIX = tuple(int(p) for p in PS_VERSION.split(".")[:2]) >= (2, 16)


def _decodes(info: FieldInfo, config: Mapping[str, Any]) -> bool:
    """Whether a complex field's value is JSON-decoded: ``decode_complex_value``'s rule,
    on the metadata pydantic-settings collects (a type alias's included)."""
    metadata = _get_field_metadata(info)
    return NoDecode not in metadata and (
        config.get("enable_decoding") is not False or ForceDecode in metadata
    )


def _by_name(config: Mapping[str, Any]) -> bool:
    """pydantic's ``validate_by_name``, resolved as pydantic resolves it."""
    by_name = config.get("validate_by_name")
    if by_name is not None:
        return bool(by_name)
    populate = config.get("populate_by_name")
    if populate is not None:
        return bool(populate)
    return config.get("validate_by_alias") is False


def _deep_update(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """pydantic's ``deep_update``: nested dicts merged, anything else replaced."""
    merged = base.copy()
    for key, value in update.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = _deep_update(old, value)
        else:
            merged[key] = value
    return merged


def _merge_bindings(old: list[Binding], new: list[Binding]) -> list[Binding]:
    """The bindings of a deep-merged value: the later layer's, then earlier ones it kept."""
    covered = {b.path for b in new}
    return new + [b for b in old if b.path not in covered]


def _json_problem(culprit: tuple[str, Value]) -> Problem:
    name, value = culprit
    origin = value.origin
    where = ""
    try:
        json.loads(value.text)
    except json.JSONDecodeError as exc:  # its message holds no input (its .doc does)
        where = f" (line {exc.lineno} column {exc.colno})"
    except ValueError:
        pass
    return Problem(
        name,
        str(origin),
        "json_invalid",
        f"is not valid JSON{where}",
        file=origin.file,
        line=origin.line,
    )


_views: weakref.WeakKeyDictionary[type[BaseSettings], tuple[int, SchemaView]] = (
    weakref.WeakKeyDictionary()
)
_views_lock = threading.Lock()


def view_of(model: type[BaseSettings]) -> SchemaView:
    """The :class:`SchemaView` of ``model``: built once per class, and again after
    ``model_rebuild()`` (which gives the class a new validator). Classes are held weakly."""
    # The validator's id, not the validator: it refers to the class, which the cache must
    # not keep alive. A rebuild makes the new validator while the old one still exists, so
    # the two ids differ.
    stamp = id(model.__dict__.get("__pydantic_validator__"))
    cached = _views.get(model)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    view = SchemaView(model)
    with _views_lock:
        _views[model] = (stamp, view)
    return view

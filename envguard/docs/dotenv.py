"""The schema's variables as a commented ``.env.example``."""

from __future__ import annotations

import re

from pydantic_settings import BaseSettings

from envguard.docs._common import (
    GENERATED,
    constraint_texts,
    default_text,
    example_text,
    model_name,
    required_text,
    type_text,
)
from envguard.schema.fields import VarSpec, variables

__all__ = ["render_dotenv"]

# Values that read back the same unquoted: no spaces, quotes, comments or interpolation.
_BARE = re.compile(r"[A-Za-z0-9_@%+=:,./~^-]*")


def _quoted(value: str) -> str:
    """``value`` written so that envguard's dotenv parser reads it back unchanged.

    Single quotes are literal there (no ``${VAR}`` interpolation) and take ``\\'`` and
    ``\\\\`` escapes; a value spanning lines goes in double quotes, whose ``\\n``
    escapes keep the file one line per variable, unless it holds a ``${`` to protect.
    """
    if _BARE.fullmatch(value):
        return value
    if ("\n" in value or "\r" in value) and "${" not in value:
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r") + '"'
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _comment(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    return [f"# {line}".rstrip() for line in lines]


def _block(model: type[BaseSettings], spec: VarSpec) -> list[str]:
    out = _comment(spec.description) if spec.description else []
    out += _comment("; ".join([f"type: {type_text(model, spec)}", *constraint_texts(spec)]))
    default = default_text(spec)
    status = {"yes": "required", "no": "optional"}.get(required_text(spec))
    status = status or f"required {required_text(spec)}"
    if default is not None and spec.default_value is not None:
        status += f" (default: {default})" if default else ' (default: "")'
    elif not spec.required and spec.default_value is not None:  # a secret, or has credentials
        status += " (default hidden)"
    out += _comment("; ".join([status, *(["secret"] if spec.is_secret else [])]))
    example = example_text(spec)
    if example is not None:
        out += _comment(f"example: {example}")
    if spec.deprecated:
        out += _comment(f"deprecated: {spec.deprecated}")
    if spec.required:  # with required_in: the schema was compiled for such an environment
        out.append(f"{spec.name}=")
    elif default is not None and spec.default_value is not None:
        out.append(f"{spec.name}={_quoted(default)}")
    else:
        out.append(f"# {spec.name}=")
    return out


def render_dotenv(model: type[BaseSettings]) -> str:
    """Document ``model``'s variables as a commented ``.env.example``.

    Required variables are uncommented and empty (``DATABASE_URL=``), variables with a
    default carry it (``PORT=3000``), and the rest are commented out. A secret's value is
    never written, not even its default.
    """
    lines = [
        f"# Environment variables of {model_name(model)}.",
        f"# {GENERATED}",
        "# Copy it to .env and fill in the empty values; never commit real secrets.",
    ]
    for spec in variables(model):
        lines += ["", *_block(model, spec)]
    lines.append("")
    return "\n".join(lines)

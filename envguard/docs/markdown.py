"""The schema's variables as a Markdown table, for a README or ``docs/ENV.md``."""

from __future__ import annotations

from pydantic_settings import BaseSettings

from envguard.docs._common import (
    GENERATED,
    constraint_texts,
    default_text,
    example_text,
    model_doc,
    model_name,
    required_text,
    type_text,
)
from envguard.schema.fields import variables

__all__ = ["render_markdown"]

_COLUMNS = (
    "Variable",
    "Type",
    "Required",
    "Default",
    "Allowed values / constraints",
    "Secret",
    "Description",
    "Example",
    "Deprecated",
)
_NONE = "-"  # ASCII: the output may go to a console that cannot encode a dash


def _cell(text: str) -> str:
    """``text`` safe inside a table cell: pipes escaped, line breaks as ``<br>``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return text.replace("|", "\\|").replace("\n", "<br>")


def _code(text: str) -> str:
    """``text`` as inline code (plain when it spans lines, which code spans cannot)."""
    if not text or "\n" in text or "\r" in text:
        return _cell(text)
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" or text.startswith("`") else ""
    return _cell(f"{fence}{pad}{text}{pad}{fence}")


def render_markdown(model: type[BaseSettings], *, title: str | None = None) -> str:
    """Document ``model``'s variables as a Markdown page: a heading and one table row each.

    Secret variables never show their default. The output is byte-for-byte the same for
    the same schema, so it can be committed and checked with ``envguard docs --check``.
    """
    specs = variables(model)
    lines = [
        f"<!-- {GENERATED} -->",
        "",
        f"# {title or f'Environment variables of {model_name(model)}'}",
        "",
    ]
    doc = model_doc(model)
    if doc:
        lines += [doc, ""]
    if not specs:
        return "\n".join([*lines, "The schema declares no variables.", ""])
    required = sum(1 for s in specs if s.required and not s.required_in)
    secret = sum(1 for s in specs if s.is_secret)
    lines += [
        f"{len(specs)} variable{'' if len(specs) == 1 else 's'}: {required} required, "
        f"{secret} secret.",
        "",
        "| " + " | ".join(_COLUMNS) + " |",
        "|" + " --- |" * len(_COLUMNS),
    ]
    for spec in specs:
        default = default_text(spec)
        if spec.required:
            shown_default = _NONE
        elif spec.default_value is None:
            shown_default = "(unset)"
        elif default is None:
            shown_default = "(hidden)"  # a secret, or a URL with credentials
        else:
            shown_default = _code(default) if default else '`""`'
        example = example_text(spec)
        shown_example = "" if spec.example is None else _code(example) if example else "(hidden)"
        cells = [
            _code(spec.name),
            _cell(type_text(model, spec)),
            _cell(required_text(spec)),
            shown_default,
            _cell("; ".join(constraint_texts(spec))),
            "yes" if spec.is_secret else "no",
            _cell(spec.description or ""),
            shown_example,
            _cell(spec.deprecated or ""),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)

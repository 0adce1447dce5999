"""Documenting a schema's variables: Markdown, a commented ``.env.example``, JSON Schema.

Every renderer is a pure function of the settings class: it reads only
:func:`~envguard.schema.fields.variables` and the model's metadata, never a source or a
secret value, and returns the same bytes for the same schema.
"""

from envguard.docs.dotenv import render_dotenv
from envguard.docs.json_schema import render_json_schema
from envguard.docs.markdown import render_markdown

__all__ = ["render_dotenv", "render_json_schema", "render_markdown"]

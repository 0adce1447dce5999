"""Schemas: reading settings classes as variables, and compiling TOML schema files."""

"""The editor JSON Schemas in ``schemas/`` stay in step with the parsers they describe.

Every key a parser accepts is in its JSON Schema (and no other), and every document in the
tables below gets the same verdict from the JSON Schema as from envguard itself.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from envguard.errors import ProjectError
from envguard.project import _ENV_KEYS, _TOP_KEYS, load_project
from envguard.schema import toml as toml_schema
from envguard.schema.toml import compile_schema
from envguard.sources import REGISTRY, source_class
from envguard.sources._aws_client import AWS_TABLE_KEYS
from envguard.sources._vault_config import AUTH_METHODS, TABLE_KEYS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).parent.parent.parent
PROJECT = json.loads((ROOT / "schemas" / "envguard-project.schema.json").read_text("utf-8"))
SCHEMA = json.loads((ROOT / "schemas" / "envguard-schema.schema.json").read_text("utf-8"))
DEFS = PROJECT["definitions"]


def _props(node: dict[str, Any]) -> set[str]:
    return set(node["properties"])


@pytest.mark.parametrize("schema", [PROJECT, SCHEMA], ids=["project", "schema"])
def test_is_a_valid_draft_07_schema(schema: dict[str, Any]) -> None:
    # Draft-07, not 2020-12: taplo (Even Better TOML) validated every schema as draft-07
    # until jsonschema-rs 0.19 (tamasfe/taplo#497), and editors in the field still ship it.
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "properties" in node and "type" in node:
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


@pytest.mark.parametrize("schema", [PROJECT, SCHEMA], ids=["project", "schema"])
def test_every_table_rejects_unknown_keys(schema: dict[str, Any]) -> None:
    """Like the parsers: an unknown key anywhere is an error (a typo never passes silently)."""
    tables = list(_objects(schema))
    assert tables
    for table in tables:
        assert table["additionalProperties"] is False, sorted(table["properties"])


def test_project_keys() -> None:
    assert _props(PROJECT) == _TOP_KEYS
    assert _props(DEFS["environment"]) == _ENV_KEYS
    assert _props(DEFS["vaultTable"]) == set(TABLE_KEYS)
    assert _props(DEFS["awsTable"]) == AWS_TABLE_KEYS
    assert DEFS["vaultTable"]["properties"]["auth"]["enum"] == list(AUTH_METHODS)


def test_every_source_kind_has_a_branch() -> None:
    refs = [branch["$ref"] for branch in DEFS["source"]["anyOf"]]
    assert refs == [f"#/definitions/{kind}Source" for kind in REGISTRY]


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_source_entry_keys(kind: str) -> None:
    branch = DEFS[f"{kind}Source"]
    assert _props(branch) == source_class(kind).entry_keys | {kind}
    assert branch["required"] == [kind]


def test_schema_file_keys() -> None:
    variable = SCHEMA["definitions"]["variable"]
    assert _props(SCHEMA) == set(toml_schema.TOP_KEYS)
    assert _props(SCHEMA["properties"]["schema"]) == set(toml_schema.SCHEMA_KEYS)
    assert _props(variable) == set(toml_schema.VAR_KEYS)
    assert variable["properties"]["type"]["enum"] == list(toml_schema.TYPES)
    assert variable["properties"]["item"]["enum"] == list(toml_schema.ITEM_TYPES)


def _project_parser_accepts(path: Path) -> bool:
    """What envguard says: the file parses and every environment's sources build."""
    try:
        project = load_project(path)
        for env in project.env_names:
            project.build_sources(env, environ={})
    except ProjectError as error:
        if any(p.code == "missing_extra" for p in error.problems):
            pytest.skip("building these sources needs the vault/aws extras")
        return False
    return True


HEAD = "[env.dev]\nsources = [{ env = true }]\n"

PROJECT_CASES: dict[str, tuple[bool, str]] = {
    # -- accepted by both
    "minimal": (True, HEAD),
    "contract example": (
        True,
        'schema = "schemas/web.toml"\ndefault_env = "development"\n'
        '[env.development]\nsources = [{ dotenv = ".env" }, { env = true }]\n'
        "[env.staging]\n"
        'sources = [{ dotenv = ".env.staging", optional = true },\n'
        '  { vault = "myapp/staging", mount = "secret" },\n'
        '  { aws_secret = "myapp/staging" },\n'
        '  { aws_secret = "myapp/staging/db-password", key = "DB_PASSWORD" },\n'
        "  { env = true }]\n",
    ),
    "every option": (
        True,
        'schema = "app.settings:Settings"\ndefault_env = "dev"\ndeadline = 12.5\n'
        '[env.dev]\ndescription = "Laptops"\n'
        'sources = [{ dotenv = ".env", optional = true, interpolate = false },\n'
        '  { static = { PORT = 8080, DEBUG = true, NAME = "x" }, name = "d", sensitive = true },\n'
        '  { vault = "a/b", mount = "kv", kv_version = 2, version = 3, keys = ["A"],'
        ' public = ["A"] },\n'
        '  { vault = "a/c", kv_version = 1 },\n'
        '  { aws_secret = "s", key = "K", version_stage = "AWSPREVIOUS", version_id = "v1" },\n'
        '  { aws_ssm = "/app/dev/" }]\n'
        '[vault]\naddress = "https://vault:8200"\nnamespace = "team"\nauth = "approle"\n'
        'role_id = "r"\nsecret_id_env = "VAULT_SECRET_ID"\nmount_point = "approle2"\n'
        '[aws]\nregion = "eu-west-1"\nprofile = "dev"\nendpoint_url = "http://localhost:4566"\n',
    ),
    "vault kubernetes": (
        True,
        HEAD + '[vault]\nauth = "kubernetes"\nrole = "app"\njwt_path = "/var/run/token"\n',
    ),
    "vault token auth with the default jwt_path": (
        True,
        HEAD + '[vault]\njwt_path = "/var/run/secrets/kubernetes.io/serviceaccount/token"\n',
    ),
    # -- rejected by both
    "unknown top-level key": (False, 'schemas = "x.toml"\n' + HEAD),
    "schema not a string": (False, "schema = 3\n" + HEAD),
    "default_env not a string": (False, "default_env = 1\n" + HEAD),
    "deadline zero": (False, "deadline = 0\n" + HEAD),
    "deadline negative": (False, "deadline = -1\n" + HEAD),
    "deadline a string": (False, 'deadline = "30"\n' + HEAD),
    "deadline a boolean": (False, "deadline = true\n" + HEAD),
    "env not a table": (False, 'env = "dev"\n'),
    "environment without sources": (False, '[env.dev]\ndescription = "x"\n'),
    "sources not a list": (False, '[env.dev]\nsources = "env"\n'),
    "source not a table": (False, '[env.dev]\nsources = ["env"]\n'),
    "unknown key in an environment": (False, "[env.dev]\nsources = []\nsource = []\n"),
    "unknown source kind": (False, '[env.dev]\nsources = [{ vaultt = "x" }]\n'),
    "two kinds in one entry": (False, '[env.dev]\nsources = [{ env = true, dotenv = ".env" }]\n'),
    "env = false": (False, "[env.dev]\nsources = [{ env = false }]\n"),
    "env with an option": (False, "[env.dev]\nsources = [{ env = true, optional = true }]\n"),
    "dotenv empty": (False, '[env.dev]\nsources = [{ dotenv = "" }]\n'),
    "dotenv optional not a boolean": (
        False,
        '[env.dev]\nsources = [{ dotenv = ".env", optional = "yes" }]\n',
    ),
    "dotenv unknown option": (False, '[env.dev]\nsources = [{ dotenv = ".env", required = 1 }]\n'),
    "static not a table": (False, '[env.dev]\nsources = [{ static = "A=1" }]\n'),
    "static unknown option": (False, "[env.dev]\nsources = [{ static = {}, public = true }]\n"),
    "vault unknown option": (False, '[env.dev]\nsources = [{ vault = "a", path = "b" }]\n'),
    "vault kv_version 3": (False, '[env.dev]\nsources = [{ vault = "a", kv_version = 3 }]\n'),
    "vault version 0": (False, '[env.dev]\nsources = [{ vault = "a", version = 0 }]\n'),
    "vault version with kv 1": (
        False,
        '[env.dev]\nsources = [{ vault = "a", kv_version = 1, version = 2 }]\n',
    ),
    "vault keys a string": (False, '[env.dev]\nsources = [{ vault = "a", keys = "A" }]\n'),
    "vault public empty name": (False, '[env.dev]\nsources = [{ vault = "a", public = [""] }]\n'),
    "vault empty mount": (False, '[env.dev]\nsources = [{ vault = "a", mount = "/" }]\n'),
    "aws_secret empty": (False, '[env.dev]\nsources = [{ aws_secret = " " }]\n'),
    "aws_secret key with =": (False, '[env.dev]\nsources = [{ aws_secret = "s", key = "A=B" }]\n'),
    "aws_secret empty stage": (
        False,
        '[env.dev]\nsources = [{ aws_secret = "s", version_stage = "" }]\n',
    ),
    "aws_secret region in the entry": (
        False,
        '[env.dev]\nsources = [{ aws_secret = "s", region = "eu-west-1" }]\n',
    ),
    "aws_ssm relative path": (False, '[env.dev]\nsources = [{ aws_ssm = "app/dev" }]\n'),
    "aws_ssm unknown option": (
        False,
        '[env.dev]\nsources = [{ aws_ssm = "/app", recursive = true }]\n',
    ),
    "vault table a string": (
        False,
        'vault = "https://vault"\n' + HEAD.replace("env = true", 'vault = "a"'),
    ),
    "vault table token in the file": (
        False,
        HEAD.replace("env = true", 'vault = "a"') + '[vault]\ntoken = "s.x"\n',
    ),
    "vault unknown auth": (
        False,
        HEAD.replace("env = true", 'vault = "a"') + '[vault]\nauth = "ldap"\n',
    ),
    "approle without role_id": (
        False,
        HEAD.replace("env = true", 'vault = "a"') + '[vault]\nauth = "approle"\n',
    ),
    "role_id with token auth": (
        False,
        HEAD.replace("env = true", 'vault = "a"') + '[vault]\nrole_id = "r"\n',
    ),
    "kubernetes without role": (
        False,
        HEAD.replace("env = true", 'vault = "a"') + '[vault]\nauth = "kubernetes"\n',
    ),
    "jwt_path with approle": (
        False,
        HEAD.replace("env = true", 'vault = "a"')
        + '[vault]\nauth = "approle"\nrole_id = "r"\njwt_path = "/t"\n',
    ),
    "secret_id_env not a name": (
        False,
        HEAD.replace("env = true", 'vault = "a"')
        + '[vault]\nauth = "approle"\nrole_id = "r"\nsecret_id_env = "s3cr3t value"\n',
    ),
    "vault address without scheme": (
        False,
        HEAD.replace("env = true", 'vault = "a"') + '[vault]\naddress = "vault:8200"\n',
    ),
    "aws table typo": (
        False,
        HEAD.replace("env = true", 'aws_ssm = "/a"') + '[aws]\nregin = "x"\n',
    ),
    "aws region empty": (
        False,
        HEAD.replace("env = true", 'aws_ssm = "/a"') + '[aws]\nregion = ""\n',
    ),
}


@pytest.mark.parametrize(("valid", "text"), PROJECT_CASES.values(), ids=PROJECT_CASES.keys())
def test_project_schema_agrees_with_the_parser(valid: bool, text: str, tmp_path: Path) -> None:
    validator = jsonschema.Draft7Validator(PROJECT)
    assert validator.is_valid(tomllib.loads(text)) is valid
    (tmp_path / "envguard.toml").write_text(text, "utf-8")
    assert _project_parser_accepts(tmp_path / "envguard.toml") is valid
    # The same keys under [tool.envguard] in pyproject.toml.
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(_as_tool_table(text), "utf-8")
    table = tomllib.loads(pyproject.read_text("utf-8"))["tool"]["envguard"]
    assert validator.is_valid(table) is valid
    assert _project_parser_accepts(pyproject) is valid


def _as_tool_table(text: str) -> str:
    """``text`` moved under ``[tool.envguard]``: top-level keys first, tables re-rooted."""
    out = ["[project]", 'name = "app"', "", "[tool.envguard]"]
    for line in text.splitlines():
        out.append("[tool.envguard." + line[1:] if line.startswith("[") else line)
    return "\n".join(out) + "\n"


def test_the_quickstart_project_is_valid() -> None:
    path = ROOT / "examples" / "quickstart" / "envguard.toml"
    jsonschema.Draft7Validator(PROJECT).validate(tomllib.loads(path.read_text("utf-8")))


def _schema_parser_accepts(path: Path) -> bool:
    try:
        compile_schema(path)
    except ProjectError:
        return False
    return True


# A valid value for each constraint; the tables below decide where each one applies.
SAMPLES = {
    "min": 1,
    "max": 5,
    "min_length": 1,
    "max_length": 5,
    "pattern": "^a",
    "values": ["a", "b"],
    "schemes": ["https"],
    "item": "int",
}


def _constraint_cases() -> Iterator[Any]:
    """Every type (and every list item type) with every constraint."""
    types = [(t, None) for t in toml_schema.TYPES]
    types += [("list", item) for item in toml_schema.ITEM_TYPES]
    types += [(None, None)]  # no type: "str"
    for type_name, item in types:
        for key in toml_schema.CONSTRAINTS:
            if key == "item" and item is not None:
                continue
            table: dict[str, Any] = {} if type_name is None else {"type": type_name}
            if item is not None:
                table["item"] = item
            if "enum" in (type_name, item) and key != "values":
                table["values"] = ["a", "b"]
            table[key] = SAMPLES[key]
            name = f"{type_name or 'untyped'}{f'[{item}]' if item else ''}-{key}"
            yield pytest.param(table, id=name)


@pytest.mark.parametrize("table", list(_constraint_cases()))
def test_constraints_apply_to_the_same_types(table: dict[str, Any], tmp_path: Path) -> None:
    text = "[vars.X]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
    (tmp_path / "s.toml").write_text(text, "utf-8")
    parser = _schema_parser_accepts(tmp_path / "s.toml")
    assert jsonschema.Draft7Validator(SCHEMA).is_valid({"vars": {"X": table}}) is parser


SCHEMA_CASES: dict[str, tuple[bool, str]] = {
    "empty": (True, ""),
    "metadata": (
        True,
        '[schema]\nname = "web"\ndescription = "Web"\n'
        '[vars.A]\ndefault = "x"\ndescription = "d"\nexample = "e"\nsecret = false\n'
        'deprecated = "use B"\nrequired_in = ["production"]\n'
        "[vars.B]\ndeprecated = true\nsecret = true\n",
    ),
    "duration bounds as strings": (True, '[vars.T]\ntype = "duration"\nmin = "1s"\nmax = 60\n'),
    "unknown top-level key": (False, '[variables.A]\ntype = "str"\n'),
    "unknown key in [schema]": (False, '[schema]\ntitle = "web"\n'),
    "schema name not a string": (False, "[schema]\nname = 3\n"),
    "vars not a table": (False, 'vars = "A"\n'),
    "var not a table": (False, '[vars]\nA = "str"\n'),
    "bad variable name": (False, '[vars."1A"]\ntype = "str"\n'),
    "unknown key": (False, '[vars.A]\nrequried_in = ["production"]\n'),
    "unknown type": (False, '[vars.A]\ntype = "integer"\n'),
    "type not a string": (False, "[vars.A]\ntype = 1\n"),
    "secret not a boolean": (False, '[vars.A]\nsecret = "yes"\n'),
    "deprecated a number": (False, "[vars.A]\ndeprecated = 1\n"),
    "required_in a string": (False, '[vars.A]\nrequired_in = "production"\n'),
    "required_in with an empty name": (False, '[vars.A]\nrequired_in = [""]\n'),
    "enum without values": (False, '[vars.A]\ntype = "enum"\n'),
    "list of enum without values": (False, '[vars.A]\ntype = "list"\nitem = "enum"\n'),
    "empty values": (False, '[vars.A]\ntype = "enum"\nvalues = []\n'),
    "repeated values": (False, '[vars.A]\ntype = "enum"\nvalues = ["a", "a"]\n'),
    "values not strings": (False, '[vars.A]\ntype = "enum"\nvalues = [1, 2]\n'),
    "list of lists": (False, '[vars.A]\ntype = "list"\nitem = "list"\n'),
    "negative min_length": (False, "[vars.A]\nmin_length = -1\n"),
    "min_length a float": (False, "[vars.A]\nmin_length = 1.5\n"),
    "int bound a string": (False, '[vars.A]\ntype = "int"\nmin = "1"\n'),
    "pattern not a string": (False, "[vars.A]\npattern = 1\n"),
}


@pytest.mark.parametrize(("valid", "text"), SCHEMA_CASES.values(), ids=SCHEMA_CASES.keys())
def test_schema_file_schema_agrees_with_the_compiler(
    valid: bool, text: str, tmp_path: Path
) -> None:
    assert jsonschema.Draft7Validator(SCHEMA).is_valid(tomllib.loads(text)) is valid
    (tmp_path / "s.toml").write_text(text, "utf-8")
    assert _schema_parser_accepts(tmp_path / "s.toml") is valid


@pytest.mark.parametrize(
    "path",
    [
        ROOT / "examples" / "quickstart" / "schemas" / "app.toml",
        ROOT / "tests/data/docs/schema.toml",
    ],
    ids=["quickstart", "docs"],
)
def test_real_schema_files_are_valid(path: Path) -> None:
    jsonschema.Draft7Validator(SCHEMA).validate(tomllib.loads(path.read_text("utf-8")))

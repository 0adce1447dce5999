"""``check``, ``show``, ``explain`` and ``diff`` tell the same story about every variable.

One table of schemas and sources; for each, the four commands run on the same project and
must agree on whether the field is valid, which variable set it, and whether it is secret.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.cli.conftest import Runner

CANARY = "CANARY-agreement-61c2"

SCHEMAS = """\
from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict
import envguard


class Aliased(envguard.Settings):
    database_url: str = Field(validation_alias=AliasChoices("DATABASE_URL", "DB_URL"))


class AliasedSecret(envguard.Settings):
    api_key: SecretStr = Field(validation_alias=AliasChoices("API_KEY", "SERVICE_TOKEN"))


class Db(BaseModel):
    host: str
    port: int = 5432


class Nested(envguard.Settings):
    model_config = SettingsConfigDict(env_nested_delimiter="__", env_prefix="APP_")
    db: Db


class NestedSecret(BaseModel):
    password: SecretStr


class WithSecretInside(envguard.Settings):
    model_config = SettingsConfigDict(env_nested_delimiter="__")
    db: NestedSecret


class Prefixed(envguard.Settings):
    model_config = SettingsConfigDict(env_prefix="APP_")
    port: int = 3000
"""


class Row(NamedTuple):
    schema: str
    values: dict[str, str]  # what the file sets
    name: str  # the schema's variable
    set_as: list[str]  # the variables that set it
    valid: bool
    secret: bool


ROWS = {
    "alias-second-choice": Row("Aliased", {"DB_URL": "postgres://db/app"}, "DATABASE_URL",
                               ["DB_URL"], True, False),
    "alias-secret": Row("AliasedSecret", {"SERVICE_TOKEN": CANARY}, "API_KEY",
                        ["SERVICE_TOKEN"], True, True),
    "nested": Row("Nested", {"APP_DB__HOST": "h", "APP_DB__PORT": "1"}, "APP_DB",
                  ["APP_DB__HOST", "APP_DB__PORT"], True, False),
    "nested-invalid": Row("Nested", {"APP_DB__HOST": "h", "APP_DB__PORT": "x"}, "APP_DB",
                          ["APP_DB__HOST", "APP_DB__PORT"], False, False),
    "nested-secret": Row("WithSecretInside", {"DB__PASSWORD": CANARY}, "DB",
                         ["DB__PASSWORD"], True, True),
    "prefixed-invalid": Row("Prefixed", {"APP_PORT": "http"}, "APP_PORT", ["APP_PORT"],
                            False, False),
}  # fmt: skip


def _project(row: Row) -> str:
    values = ", ".join(f'{k} = "{v}"' for k, v in row.values.items())
    sources = f'[{{ static = {{ {values} }}, name = "file" }}]'
    return (
        f'schema = "agreement_schemas:{row.schema}"\ndefault_env = "a"\n\n'
        f"[env.a]\nsources = {sources}\n\n[env.b]\nsources = {sources}\n"
    )


@pytest.fixture
def setup(project_dir: Path) -> Any:
    (project_dir / "agreement_schemas.py").write_text(SCHEMAS)
    yield project_dir
    sys.modules.pop("agreement_schemas", None)


def _json(cli: Runner, *args: str) -> Any:
    result = cli([*args, "--format", "json"])
    assert CANARY not in result.out + result.err
    return json.loads(result.out)


@pytest.mark.parametrize("case", sorted(ROWS))
def test_the_four_commands_agree(case: str, cli: Runner, setup: Path) -> None:
    row = ROWS[case]
    (setup / "envguard.toml").write_text(_project(row))

    check = _json(cli, "check")
    show = _json(cli, "show")
    explain = _json(cli, "explain", row.name)
    diff = _json(cli, "diff", "a", "b")

    assert check["valid"] is row.valid
    assert check["exit_code"] == (0 if row.valid else 1)
    # show lists the field under the variables that set it, never as "undeclared".
    mine = [k for k in show["keys"] if k["variable"] == row.name]
    assert sorted(k["key"] for k in mine) == sorted(row.set_as)
    assert {k["status"] for k in mine} == {"valid" if row.valid else "invalid"}
    assert all(k["secret"] is row.secret for k in mine)
    assert not [k for k in show["keys"] if k["status"] == "undeclared"]
    # explain finds it by its schema name, and says what set it.
    assert explain["key"] == row.name
    assert sorted(explain["set_as"]) == sorted(row.set_as)
    assert explain["status"] == ("valid" if row.valid else "invalid")
    assert explain["secret"] is row.secret
    if row.secret:
        assert "********" in explain["value"]
    # explain finds it by each spelling that set it, too.
    for spelling in row.set_as:
        assert _json(cli, "explain", spelling)["key"] == row.name
    # diff compares the field once, as secret when the others say so, and unchanged.
    entries = diff["unchanged"] + [d["key"] for kind in ("changed", "broken") for d in diff[kind]]
    assert entries.count(row.name) == 1
    assert row.name in diff["unchanged"]


def test_a_secret_set_through_an_alias_is_compared_in_constant_time(
    cli: Runner, setup: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hmac

    calls: list[int] = []
    real = hmac.compare_digest

    def counting(a: Any, b: Any) -> bool:
        calls.append(1)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    (setup / "envguard.toml").write_text(_project(ROWS["alias-secret"]))
    result = cli(["diff", "a", "b", "--format", "json"])
    assert json.loads(result.out)["unchanged"] == ["API_KEY"]
    assert calls, "the aliased secret was compared with a plain =="

"""Secrets stay hidden in hostile cases: nested models, every validator error type, pasted
lines in dotenv files. Canary values are planted and every output of every command is
searched for them (and for transformed copies), in real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from envguard.sources._dotenv_parse import parse_dotenv

TAG = uuid.uuid4().hex[:10]
CANARIES = {
    "nested": f"CANARYnested{TAG}",
    "json": f"CANARYjson{TAG}",
    "list": f"CANARYlist{TAG}",
    "dict": f"CANARYdict{TAG}",
    "custom": f"canarycustom{TAG}",
    "union": f"CANARYunion{TAG}",
    "extra": f"CANARYextra{TAG}",
}
#: What a validator could print instead of the value: the forms scrubbing cannot catch.
TRANSFORMED = [CANARIES["custom"].upper(), CANARIES["union"][2:], CANARIES["extra"][::-1]]

SCHEMA = textwrap.dedent(
    """
    from typing import Annotated, Literal, Union

    from pydantic import BaseModel, Field, SecretStr, field_validator
    from pydantic_core import PydanticCustomError
    from pydantic_settings import BaseSettings, SettingsConfigDict


    class Db(BaseModel):
        host: str = "h"
        password: SecretStr

        @field_validator("password", mode="before")
        @classmethod
        def _short(cls, v):
            if len(str(v)) < 100:
                raise ValueError(f"password {v} is too short")
            return v


    class Other(BaseModel):
        # Declared secret without a Secret type, inside a nested model.
        note: str = Field(json_schema_extra={"secret": True})

        @field_validator("note")
        @classmethod
        def _n(cls, v):
            raise ValueError(f"reversed: {v[::-1]}")


    class Custom(BaseModel):
        token: SecretStr

        @field_validator("token", mode="before")
        @classmethod
        def _c(cls, v):
            raise PydanticCustomError("weird_token", "token {t} bad", {"t": str(v).upper()})


    class A(BaseModel):
        kind: Literal["a"]
        key: SecretStr

        @field_validator("key", mode="before")
        @classmethod
        def _k(cls, v):
            raise ValueError(f"bad key {v[2:]}")


    class B(BaseModel):
        kind: Literal["b"]
        other: str


    class S(BaseSettings):
        model_config = SettingsConfigDict(
            env_nested_delimiter="__", env_file=".env", extra="ignore"
        )
        db: Db
        db2: Db | None = None
        dbs: list[Db] = []
        dmap: dict[str, Db] = {}
        other: Other | None = None
        custom: Custom | None = None
        choice: Annotated[Union[A, B], Field(discriminator="kind")] | None = None
    """
)
DOTENV = "\n".join(
    [
        f"DB__PASSWORD={CANARIES['nested']}",
        'DB2={"password": "' + CANARIES["json"] + '"}',
        'DBS=[{"password": "' + CANARIES["list"] + '"}]',
        'DMAP={"k": {"password": "' + CANARIES["dict"] + '"}}',
        'OTHER={"note": "' + CANARIES["extra"] + '"}',
        'CUSTOM={"token": "' + CANARIES["custom"] + '"}',
        'CHOICE={"kind": "a", "key": "' + CANARIES["union"] + '"}',
        "",
    ]
)


def _envguard(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "envguard", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    (root / "hostile_schema.py").write_text(SCHEMA)
    (root / ".env").write_text(DOTENV)
    return root


COMMANDS = [
    ["check"],
    ["check", "--format", "json"],
    ["check", "--format", "github"],
    ["show"],
    ["show", "--format", "json"],
    ["explain", "DB__PASSWORD"],
    ["explain", "DB2", "--format", "json"],
    ["explain", "CUSTOM"],
    ["docs"],
    ["run", "default", "--", sys.executable, "-c", "pass"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_no_secret_in_any_output_of_a_nested_or_custom_validator_failure(
    project: Path, args: list[str]
) -> None:
    command = args[0]
    result = _envguard(project, *args[:1], "--schema", "hostile_schema:S", *args[1:])
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    for canary in [*CANARIES.values(), *TRANSFORMED]:
        assert canary not in output, f"{command}: {canary}"
    if command in ("check", "run"):
        assert result.returncode == 1, output
        assert output.count("message hidden: the value is secret") >= 7 or "json" in args


def test_field_names_in_locations_are_not_scrubbed(project: Path) -> None:
    result = _envguard(project, "check", "--schema", "hostile_schema:S")
    assert "DBS: 0.password: failed the schema's validator" in result.stdout
    assert "CUSTOM: token: failed the schema's validator" in result.stdout


# --- dotenv lines that are not KEY=value: never echoed --------------------------------------

PEM_LINE = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" + TAG + "=="


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"A=1\n{PEM_LINE}\n", id="pasted-base64-line"),
        pytest.param(f"A=1\n{PEM_LINE[:-1]}\n", id="pasted-base64-single-pad"),
        pytest.param(f"A=1\n{PEM_LINE[:-2]}\nB=2\n{PEM_LINE[:-2]}\n", id="bare-token-twice"),
        pytest.param(f"A=1\nk+{TAG}/x=1\nk+{TAG}/x=2\n", id="non-identifier-key-twice"),
        pytest.param(f"k+{TAG}/x=a #b\n", id="non-identifier-inline-comment"),
    ],
)
def test_pasted_secret_lines_are_reported_by_line_only(text: str) -> None:
    fetched = parse_dotenv(text, file=".env", source="dotenv .env")
    shown = repr(fetched.problems)
    assert TAG not in shown
    assert all(p.key is None or p.key.isidentifier() for p in fetched.problems)
    assert fetched.problems, "the line must be reported"
    if "+" not in text:  # a pasted base64 line sets nothing (a "k+…/x=1" key is bound)
        assert all(TAG not in key for key in fetched.values)


def test_a_pasted_key_is_not_shown_as_an_undeclared_key(project: Path, tmp_path: Path) -> None:
    (tmp_path / "hostile_schema.py").write_text(SCHEMA)
    (tmp_path / ".env").write_text(DOTENV + f"{PEM_LINE}\nk+{TAG}/x=1\n")
    for args in (
        ["check"],
        ["check", "--format", "github"],
        ["show"],
        ["show", "--format", "json"],
    ):
        result = _envguard(tmp_path, args[0], "--schema", "hostile_schema:S", *args[1:])
        assert TAG not in result.stdout + result.stderr, args


def test_an_undefined_reference_inside_a_secret_value_is_not_quoted(tmp_path: Path) -> None:
    (tmp_path / "schema.toml").write_text('[vars.SIGNING]\ntype = "str"\nsecret = true\n')
    (tmp_path / "envguard.toml").write_text(
        'schema = "schema.toml"\n[env.dev]\nsources = [{ dotenv = ".env" }]\n'
    )
    (tmp_path / ".env").write_text(f"SIGNING=abc${{x{TAG}}}def\n")
    result = _envguard(tmp_path, "check", "dev")
    assert result.returncode == 1
    assert TAG not in result.stdout + result.stderr
    assert "SIGNING uses an undefined ${…} reference" in result.stdout

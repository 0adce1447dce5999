"""The canary suite: a planted secret must never appear in any error, log or CLI output.

Each case plants :data:`CANARY` where a careless implementation would echo it, makes the
configuration fail, and then looks for the canary everywhere a user or a log collector could
see it: ``str``/``repr`` of the error, every field of every problem, the whole exception
chain, the formatted traceback, every log record, and ``envguard check`` in each format.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from pydantic import Field, SecretStr, ValidationError, field_validator

import envguard
from envguard.errors import ConfigError
from envguard.report import MASK, Redactor
from envguard.sources.base import Origin, Value
from tests.cli import conftest as cli_conftest
from tests.cli.conftest import Runner

#: The one CLI runner fixture, shared with tests/cli (fixtures are found by module name).
cli = cli_conftest.cli

CANARY = "CANARY-7f3a9-do-not-print"


class Case(NamedTuple):
    schema: str  # the body of a settings class named Settings
    dotenv: str  # the .env file
    extra_sources: str = ""  # project-file source entries after the dotenv one
    strict: bool = False


HEADER = """\
from typing import Any
from pydantic import Field, PostgresDsn, SecretStr, field_validator
import envguard

class Settings(envguard.Settings):
    model_config = {"env_file": ".env"}  # what load() reads with no project file
"""

CASES = {
    "a-secretstr-too-short": Case(
        "    jwt_secret: SecretStr = Field(min_length=64)\n",
        f"JWT_SECRET={CANARY}\n",
    ),
    "a-secret-name-pattern": Case(
        '    stripe_secret: str = Field(pattern=r"^sk_[a-z]+$")\n',
        f"STRIPE_SECRET={CANARY}\n",
    ),
    "a-str-declared-secret-too-long": Case(
        '    signing: str = Field(max_length=5, json_schema_extra={"secret": True})\n',
        f"SIGNING={CANARY}\n",
    ),
    "b-token-not-an-int": Case("    api_token: int\n", f"API_TOKEN={CANARY}\n"),
    "b-password-not-an-int": Case("    db_password: int\n", f"DB_PASSWORD={CANARY}\n"),
    "c-url-credentials-bad-scheme": Case(
        "    database_url: PostgresDsn\n",
        f"DATABASE_URL=mysql://admin:{CANARY}@db.internal:3306/app\n",
    ),
    "d-validator-echoes-secret-name": Case(
        "    webhook_secret: str\n"
        "    @field_validator('webhook_secret')\n"
        "    @classmethod\n"
        "    def check(cls, v: str) -> str:\n"
        "        raise ValueError(f'bad value {v}')\n",
        f"WEBHOOK_SECRET={CANARY}\n",
    ),
    "d-validator-echoes-secretstr-before": Case(
        "    signing_key: SecretStr\n"
        "    @field_validator('signing_key', mode='before')\n"
        "    @classmethod\n"
        "    def check(cls, v: Any) -> Any:\n"
        "        raise ValueError(f'bad value {v}')\n",
        f"SIGNING_KEY={CANARY}\n",
    ),
    "d-validator-echoes-declared-secret": Case(
        '    signer: str = Field(json_schema_extra={"secret": True})\n'
        "    @field_validator('signer')\n"
        "    @classmethod\n"
        "    def check(cls, v: str) -> str:\n"
        "        raise ValueError(f'bad value {v!r} (expected hex)')\n",
        f"SIGNER={CANARY}\n",
    ),
    "e-secret-json-invalid": Case(
        '    service_account: dict[str, str] = Field(json_schema_extra={"secret": True})\n',
        f'SERVICE_ACCOUNT=\'{{"private_key": "{CANARY}"\'\n',
    ),
    "e-secret-json-key-in-error-location": Case(
        '    service_account: dict[str, int] = Field(json_schema_extra={"secret": True})\n',
        f'SERVICE_ACCOUNT=\'{{"{CANARY}": "not-an-int"}}\'\n',
    ),
    "e-secret-json-list-item": Case(
        '    api_keys: list[int] = Field(json_schema_extra={"secret": True})\n',
        f"API_KEYS='[\"{CANARY}\"]'\n",
    ),
    "f-undeclared-dotenv-secret-strict": Case(
        "    port: int = 80\n", f"EXTRA_PASSWORD={CANARY}\n", strict=True
    ),
    "f-undeclared-dotenv-secret-with-other-error": Case(
        "    port: int\n", f"LEGACY_TOKEN={CANARY}\nPORT=x\n"
    ),
    "f-undeclared-static-secret": Case(
        "    port: int\n",
        "",
        extra_sources=f'{{ static = {{ STRIPE_API_KEY = "{CANARY}" }}, name = "defaults" }}',
    ),
    "g-dotenv-unterminated-quote": Case("    port: int = 80\n", f'API_TOKEN="{CANARY}\nPORT=1\n'),
}


@pytest.fixture
def fresh_modules() -> Iterator[None]:
    before = set(sys.modules)
    importlib.invalidate_caches()
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest, project_dir: Path, fresh_modules: None) -> Case:
    """Write the case's schema module, .env and project file into the project directory."""
    planted: Case = CASES[request.param]
    module = f"canary_{request.param.replace('-', '_')}"
    (project_dir / f"{module}.py").write_text(HEADER + planted.schema, "utf-8")
    (project_dir / ".env").write_text(planted.dotenv, "utf-8")
    extra = f", {planted.extra_sources}" if planted.extra_sources else ""
    (project_dir / "envguard.toml").write_text(
        f'schema = "{module}:Settings"\n[env.ci]\nsources = [{{ dotenv = ".env" }}{extra}]\n',
        "utf-8",
    )
    return planted


def chain(err: BaseException) -> Iterator[BaseException]:
    """``err`` and every exception reachable through ``__cause__`` and ``__context__``."""
    seen: set[int] = set()
    todo = [err]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo.extend(e for e in (item.__cause__, item.__context__) if e is not None)


def assert_no_canary(text: str, where: str) -> None:
    assert CANARY not in text, f"the canary leaked into {where}"
    # A partial leak is a leak too: the value's distinctive middle part.
    assert "7f3a9" not in text, f"part of the canary leaked into {where}"


def test_load_never_shows_the_canary(case: Case, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ConfigError) as info:
        envguard.load(strict=case.strict)

    err = info.value
    assert err.errors, "the case must make the configuration invalid"
    assert_no_canary(str(err), "str(err)")
    assert_no_canary(repr(err), "repr(err)")
    assert_no_canary(repr(err.args), "err.args")
    for problem in err.problems:
        for field in dataclasses.fields(problem):
            assert_no_canary(str(getattr(problem, field.name)), f"Problem.{field.name}")
        assert_no_canary(str(problem), "str(problem)")
        assert_no_canary(repr(problem), "repr(problem)")
    for linked in chain(err):
        assert_no_canary(str(linked), f"{type(linked).__name__} in the chain")
        assert_no_canary(repr(linked), f"repr of {type(linked).__name__} in the chain")
        assert_no_canary(repr(getattr(linked, "args", ())), "args in the chain")
    assert_no_canary("".join(traceback.format_exception(err)), "the formatted traceback")
    for record in caplog.records:
        assert_no_canary(record.getMessage(), f"log record of {record.name}")
        assert_no_canary(repr(record.args), f"log record args of {record.name}")
        assert_no_canary(str(record.exc_text or ""), f"log traceback of {record.name}")
    assert_no_canary(caplog.text, "the captured log")


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_check_never_shows_the_canary(
    case: Case, cli: Runner, fmt: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    args = ["check", "--format", fmt] + (["--strict"] if case.strict else [])

    result = cli(args)

    assert result.code in {1, 3}, result
    assert result.out, "check must report the problems"
    assert_no_canary(result.out, f"stdout of check --format {fmt}")
    assert_no_canary(result.err, f"stderr of check --format {fmt}")
    assert_no_canary(caplog.text, "the captured log")


def test_a_secret_fields_validator_message_is_replaced(project_dir: Path) -> None:
    # A validator may echo a secret in any form (upper-cased, sliced), which scrubbing the
    # exact value cannot catch: for a secret field the message is replaced, the error kept.
    case = CASES["d-validator-echoes-secret-name"]
    (project_dir / "mod_mask.py").write_text(HEADER + case.schema, "utf-8")
    (project_dir / ".env").write_text(case.dotenv, "utf-8")

    sys.path.insert(0, str(project_dir))
    try:
        settings_cls = importlib.import_module("mod_mask").Settings
        with pytest.raises(ConfigError) as info:
            envguard.load(settings_cls)
    finally:
        sys.path.remove(str(project_dir))
        sys.modules.pop("mod_mask", None)

    assert [(p.code, p.message) for p in info.value.problems] == [
        ("value_error", "failed the schema's validator (message hidden: the value is secret)")
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            Value(CANARY, Origin("vault secret/app"), sensitive=True),
            f"Value({MASK}, origin='vault secret/app', sensitive=True)",
            id="sensitive",
        ),
        pytest.param(
            Value("8080", Origin("dotenv .env", ".env", 3)),
            "Value('8080', origin='dotenv .env:3', sensitive=False)",
            id="public",
        ),
    ],
)
def test_value_repr(value: Value, expected: str) -> None:
    assert repr(value) == expected
    assert str(value) == expected
    if value.sensitive:
        assert_no_canary(repr([value]), "the repr of a list of values")
        assert_no_canary(repr({"K": value}), "the repr of a dict of values")


def test_direct_instantiation_hides_the_input(monkeypatch: pytest.MonkeyPatch) -> None:
    # envguard.Settings sets hide_input_in_errors: pydantic's own error text stays clean.
    class Direct(envguard.Settings):
        api_token: int
        jwt_secret: SecretStr = Field(min_length=64)

    monkeypatch.setenv("API_TOKEN", CANARY)
    monkeypatch.setenv("JWT_SECRET", CANARY)

    with pytest.raises(ValidationError) as info:
        Direct()  # type: ignore[call-arg]

    assert info.value.error_count() == 2
    assert_no_canary(str(info.value), "str(ValidationError)")
    assert_no_canary(repr(info.value), "repr(ValidationError)")


def test_a_transformed_echo_of_a_secret_never_appears(project_dir: Path) -> None:
    class Settings(envguard.Settings):
        api_token: SecretStr

        @field_validator("api_token")
        @classmethod
        def _check(cls, value: SecretStr) -> SecretStr:
            raw = value.get_secret_value()
            raise ValueError(f"bad {raw.upper()} {raw[:8]} {raw[::-1]}")

    (project_dir / ".env").write_text(f"API_TOKEN={CANARY}\n", "utf-8")
    with pytest.raises(ConfigError) as info:
        envguard.load(Settings)
    text = str(info.value)
    for variant in (CANARY, CANARY.upper(), CANARY[:8], CANARY[::-1]):
        assert variant not in text


def test_a_url_password_is_masked_where_it_appears_alone() -> None:
    # show/explain/diff scrub non-secret values with the environment's redactor.
    password = "pw-" + CANARY
    redactor = Redactor()
    redactor.add(f"postgres://app:{password}@db/app")
    assert redactor.scrub(f"the password is {password}") == f"the password is {MASK}"

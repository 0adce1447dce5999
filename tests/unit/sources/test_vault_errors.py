"""The Vault source's error table, and the project-file errors it reports before any I/O."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import hvac.exceptions
import pytest
import requests.exceptions
from urllib3.exceptions import MaxRetryError, NewConnectionError

from envguard.errors import (
    ProjectError,
    SourceDenied,
    SourceError,
    SourceNotFound,
    SourceUnavailable,
)
from envguard.sources._bounded import CallTimedOut
from envguard.sources._retry import Deadline, DeadlineExceeded
from envguard.sources._vault_errors import (
    RULES,
    UNKNOWN,
    Failure,
    classify,
    connection_detail,
    is_transient,
    translate,
)
from envguard.sources.base import BuildContext
from envguard.sources.vault import SHARED_KEY, VaultConnection, VaultSource, _as_text

HVAC_CLASSES = [
    cls
    for _, cls in inspect.getmembers(hvac.exceptions, inspect.isclass)
    if issubclass(cls, BaseException) and cls.__module__ == "hvac.exceptions"
]


@pytest.mark.parametrize("cls", HVAC_CLASSES, ids=lambda c: c.__name__)
def test_every_hvac_exception_has_its_own_rule(cls: type[BaseException]) -> None:
    assert f"hvac.exceptions.{cls.__name__}" in RULES
    assert classify(cls("boom")) is RULES[f"hvac.exceptions.{cls.__name__}"]


def test_no_rule_names_a_class_that_does_not_exist() -> None:
    modules: dict[str, Any] = {
        "hvac.exceptions": hvac.exceptions,
        "requests.exceptions": requests.exceptions,
        "envguard.sources._retry": sys.modules["envguard.sources._retry"],
        "envguard.sources._bounded": sys.modules["envguard.sources._bounded"],
    }
    for name in RULES:
        module, _, attr = name.rpartition(".")
        assert isinstance(getattr(modules[module], attr), type), name


@pytest.mark.parametrize(
    ("status", "transient", "error", "code"),
    [
        (400, False, SourceError, "vault_bad_request"),
        (401, False, SourceDenied, "vault_token_invalid"),
        (403, False, SourceDenied, "vault_permission_denied"),
        (404, False, SourceNotFound, "vault_not_found"),
        (412, True, SourceUnavailable, "vault_server_error"),
        (429, True, SourceUnavailable, "vault_rate_limited"),
        (500, True, SourceUnavailable, "vault_server_error"),
        (501, False, SourceUnavailable, "vault_not_initialized"),
        (502, True, SourceUnavailable, "vault_server_error"),
        (503, True, SourceUnavailable, "vault_sealed"),
        (504, True, SourceUnavailable, "vault_server_error"),
    ],
)
def test_http_status_classes(
    status: int, transient: bool, error: type[SourceError], code: str
) -> None:
    exc = hvac.exceptions.VaultError.from_status(status, "msg", method="get", url="/v1/x")
    rule = classify(exc)
    assert (rule.transient, rule.error, rule.code) == (transient, error, code)
    assert is_transient(exc) is transient


def _refused() -> requests.exceptions.ConnectionError:
    new = NewConnectionError(None, "Failed to establish a new connection")  # type: ignore[arg-type]
    new.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/v1/x", reason=new))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "transient", "code"),
    [
        (_refused(), True, "vault_unreachable"),
        (requests.exceptions.ConnectTimeout(), True, "vault_timeout"),
        (requests.exceptions.ReadTimeout(), True, "vault_timeout"),
        (requests.exceptions.SSLError(), False, "vault_tls"),
        (requests.exceptions.ProxyError(), True, "vault_unreachable"),
        (requests.exceptions.ChunkedEncodingError(), True, "vault_unreachable"),
        (requests.exceptions.MissingSchema(), False, "vault_bad_address"),
        (requests.exceptions.InvalidURL(), False, "vault_bad_address"),
        (requests.exceptions.RetryError(), False, "vault_unreachable"),
        (DeadlineExceeded(), True, "vault_timeout"),
        (CallTimedOut(), True, "vault_timeout"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else None,
)
def test_transport_failures(exc: BaseException, transient: bool, code: str) -> None:
    rule = classify(exc)
    assert (rule.transient, rule.code, rule.error) == (transient, code, SourceUnavailable)


def test_unknown_exceptions_are_permanent_and_generic() -> None:
    assert classify(KeyError("client_token")) is UNKNOWN
    assert not is_transient(RuntimeError("x"))


def test_connection_detail() -> None:
    assert connection_detail(_refused()) == "connection refused"
    assert connection_detail(requests.exceptions.ConnectionError("x")) is None


def test_reasons_name_only_the_address() -> None:
    for rule in [*RULES.values(), UNKNOWN]:
        assert rule.reason.replace("{addr}", "").count("{") == 0
    failure = Failure.from_rule(RULES["requests.exceptions.ConnectionError"], "http://v:1", "x")
    assert str(failure) == "cannot connect to Vault at http://v:1 (x)"
    assert failure.error is SourceUnavailable


def _vault_error(status: int, **kwargs: Any) -> hvac.exceptions.VaultError:
    return hvac.exceptions.VaultError.from_status(status, None, method="get", url="/v1/x", **kwargs)


@pytest.mark.parametrize(
    ("exc", "code", "reason", "hint"),
    [
        (
            _vault_error(503, errors=["Vault is sealed"]),
            "vault_sealed",
            "Vault at A is sealed",
            None,
        ),
        (
            _vault_error(503, errors=["standby"]),
            "vault_unavailable",
            "Vault at A is unavailable",
            None,
        ),
        (
            _vault_error(
                404,
                errors=["no handler for route 'x/data/y'"],
                json={"errors": ["no handler for route 'x/data/y'"]},
            ),
            "vault_not_found",
            "nothing found at this path (404)",
            "no_route",
        ),
        (
            # A 404 whose body is not Vault's JSON: another server at VAULT_ADDR.
            _vault_error(404, text="<html>Not Found</html>"),
            "vault_not_vault",
            "the server at A answered 404 without a Vault error body: is VAULT_ADDR the"
            " address of a Vault server?",
            None,
        ),
        (
            _vault_error(404, errors=[], json={"warnings": ["Invalid path for a versioned K/V"]}),
            "vault_not_found",
            "nothing found at this path (404)",
            "versioned",
        ),
        (
            _vault_error(404, json={"data": {"metadata": {"deletion_time": "2026-01-01"}}}),
            "vault_not_found",
            "nothing found at this path (404)",
            "deleted",
        ),
        (
            _vault_error(404, json={"data": {"metadata": {"destroyed": True}}}),
            "vault_not_found",
            "nothing found at this path (404)",
            "destroyed",
        ),
        (
            KeyError("s3cr3t"),
            "vault_error",
            "unexpected error talking to Vault at A (KeyError)",
            None,
        ),
    ],
)
def test_translate_reads_only_known_facts(
    exc: BaseException, code: str, reason: str, hint: str | None
) -> None:
    failure = translate(exc, "A", Deadline(10))
    assert (failure.code, failure.reason, failure.hint) == (code, reason, hint)


def test_translate_timeout_names_the_deadline() -> None:
    failure = translate(requests.exceptions.ReadTimeout(), "A", Deadline(0))
    assert failure.reason == "no answer from Vault at A within the 0s deadline"
    assert failure.error is SourceUnavailable


# --- project-file errors, raised while building (no I/O) -----------------------------------


def _ctx(table: Any = None, environ: dict[str, str] | None = None) -> BuildContext:
    return BuildContext(
        env_name="staging",
        base_dir=Path("/proj"),
        project_file=Path("/proj/envguard.toml"),
        environ=environ or {},
        tables={"vault": table} if table is not None else {},
    )


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"adress": "http://v"}, "unknown key 'adress' in the [vault] table (accepted: address"),
        ({"token": "hvs.x"}, "secrets do not belong in the project file: set VAULT_TOKEN"),
        ({"auth": "ldap"}, "auth must be one of 'token', 'approle', 'kubernetes'"),
        ({"auth": "approle"}, 'auth = "approle" needs role_id'),
        ({"auth": "kubernetes"}, 'auth = "kubernetes" needs role'),
        ({"role_id": "r"}, 'role_id applies only to auth = "approle"'),
        ({"jwt_path": "/t"}, 'jwt_path applies only to auth = "kubernetes"'),
        ({"address": "vault:8200"}, "address must start with http:// or https://"),
        ({"namespace": 3}, "namespace must be a non-empty string"),
        ([1], "[vault] must be a table"),
    ],
)
def test_vault_table_problems(table: Any, words: str) -> None:
    with pytest.raises(ProjectError) as info:
        VaultSource.from_entry({"vault": "app"}, _ctx(table))
    [problem] = info.value.problems
    assert words in problem.message
    assert problem.source == "/proj/envguard.toml [vault]"
    assert problem.category == "project"


def test_a_secret_id_pasted_into_secret_id_env_is_not_echoed() -> None:
    table = {"auth": "approle", "role_id": "r", "secret_id_env": "s3cr3t-9f8e-value"}
    with pytest.raises(ProjectError) as info:
        VaultSource.from_entry({"vault": "app"}, _ctx(table))
    assert "s3cr3t" not in str(info.value)
    assert "not the secret id" in str(info.value)


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"vault": "app", "path": "x"}, "unknown key 'path' in vault source"),
        ({"vault": ""}, "the path must be a non-empty string"),
        ({"vault": "app", "kv_version": 3}, "kv_version must be 1 or 2"),
        ({"vault": "app", "version": 0}, "version must be a positive integer"),
        ({"vault": "app", "kv_version": 1, "version": 2}, "cannot go with kv_version = 1"),
        ({"vault": "app", "keys": "A"}, "keys must be a list of key names"),
        ({"vault": "app", "public": [1]}, "public must be a list of key names"),
    ],
)
def test_entry_problems(entry: dict[str, Any], words: str) -> None:
    with pytest.raises(ProjectError, match=words) as info:
        VaultSource.from_entry(entry, _ctx())
    assert info.value.__context__ is None


def test_building_does_no_io_and_shares_one_connection() -> None:
    ctx = _ctx({"address": "https://vault.invalid:8200"}, {"VAULT_NAMESPACE": "team"})
    a = VaultSource.from_entry({"vault": "/myapp/staging/", "mount": "kv/"}, ctx)
    b = VaultSource.from_entry({"vault": "other"}, ctx)
    assert a.connection is b.connection is ctx.shared[SHARED_KEY]
    assert isinstance(a.connection, VaultConnection)
    assert a.describe() == "vault kv/myapp/staging"
    assert repr(b) == "<VaultSource vault secret/other>"
    assert (a.connection.address, a.connection.namespace) == ("https://vault.invalid:8200", "team")
    env_wins = VaultConnection({"VAULT_ADDR": "http://127.0.0.1:1/"}, a.connection.config)
    assert env_wins.address == "http://127.0.0.1:1"


def test_values_as_text() -> None:
    assert [_as_text(v) for v in ["x", 3, 1.5, True, False, None, {"a": [1]}]] == [
        "x",
        "3",
        "1.5",
        "true",
        "false",
        "null",
        '{"a": [1]}',
    ]


def test_importing_the_source_does_not_import_hvac() -> None:
    code = (
        "import sys, envguard.sources.vault; "
        "assert not {'hvac', 'requests'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_hvac_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hvac", None)
    with pytest.raises(ProjectError, match=r"pip install 'envguard\[vault\]'"):
        VaultSource.from_entry({"vault": "app"}, _ctx())


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("http://admin:vaultpw99@127.0.0.1:1", "http://127.0.0.1:1"),
        ("https://token@vault.internal:8200/", "https://vault.internal:8200"),
        ("http://127.0.0.1:8200", "http://127.0.0.1:8200"),
        ("http://127.0.0.1:1/v?token=vaultpw99", "http://127.0.0.1:1/v"),
        ("http://127.0.0.1:1#vaultpw99", "http://127.0.0.1:1"),
        ("http://u:vaultpw99@[::1]:1/p?x=vaultpw99#vaultpw99", "http://[::1]:1/p"),
        ("http://127.0.0.1:99999999?vaultpw99", "(an unparsable address)"),
    ],
)
def test_credentials_in_the_address_are_never_shown(address: str, shown: str) -> None:
    connection = VaultConnection({"VAULT_ADDR": address, "VAULT_TOKEN": "t"})

    assert connection.shown_address == shown
    assert "vaultpw99" not in repr(connection)
    with pytest.raises(SourceUnavailable) as info:
        VaultSource("app", connection=connection).fetch(Deadline(0.5))
    assert shown in str(info.value)
    assert "@" not in str(info.value)
    assert "vaultpw99" not in str(info.value) + repr(info.value.problems)

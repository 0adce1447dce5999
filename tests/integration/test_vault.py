"""The Vault source against real OpenBao dev servers: reads, auth methods, failures, secrecy."""

from __future__ import annotations

import base64
import http.server
import json
import secrets
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from urllib3.exceptions import InsecureRequestWarning

from envguard.errors import (
    ProjectError,
    SourceDenied,
    SourceError,
    SourceNotFound,
    SourceUnavailable,
)
from envguard.sources._retry import Deadline
from envguard.sources._vault_auth import VaultConnection
from envguard.sources._vault_config import VaultConfig
from envguard.sources._vault_errors import Failure
from envguard.sources.base import BuildContext, Fetched
from envguard.sources.vault import VaultSource
from tests.integration._http import serving
from tests.integration._openbao import OpenBao
from tests.integration._stalling import StallingServer

pytestmark = pytest.mark.integration

CANARY = f"canary-{secrets.token_hex(12)}"
PATH: dict[str, Any] = {"vault": "myapp/staging", "mount": "secret"}
LATEST = {
    "DATABASE_URL": "postgres://db.internal/app",
    "PORT": 5432,
    "DEBUG": True,
    "RATIO": 0.5,
    "FEATURES": {"beta": ["a", "b"]},
    "API_KEY": CANARY,
}
READER = """
path "secret/data/myapp/*" { capabilities = ["read"] }
path "kv1/myapp/*" { capabilities = ["read"] }
"""
SA_UID = "6f1c1d9e-0000-4000-8000-000000000001"


def _b64(data: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


#: A service-account token as the Kubernetes auth method parses it (it does not check the
#: signature itself: the TokenReview API below vouches for the token).
SA_JWT = ".".join(
    [
        _b64({"alg": "RS256", "typ": "JWT"}),
        _b64(
            {
                "iss": "kubernetes/serviceaccount",
                "sub": "system:serviceaccount:default:app",
                "kubernetes.io/serviceaccount/namespace": "default",
                "kubernetes.io/serviceaccount/service-account.name": "app",
                "kubernetes.io/serviceaccount/service-account.uid": SA_UID,
            }
        ),
        _b64({"signature": "unchecked"}),
    ]
)
#: Any parseable CA certificate: the auth method insists on one, the stand-in API is HTTP.
FAKE_K8S_CA = """-----BEGIN CERTIFICATE-----
MIIBgTCCASegAwIBAgIUfGa6Y9IPJlUGWMhREhQfv7r18cowCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLZmFrZS1rOHMtY2EwHhcNMjYxMTI2MTAyMTA2WhcNMzYxMTIz
MTAyMTA2WjAWMRQwEgYDVQQDDAtmYWtlLWs4cy1jYTBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABNLutN4SW317u3QFaiDgkISZYA+fO6PB8Sav9V86hJHp0rmX0oPF
hTZefRA4BdUYihYSrlR7Wz8zfdx0snVKyT6jUzBRMB0GA1UdDgQWBBStv1kxXnuT
8nxVRiEaHn2SXa/K9zAfBgNVHSMEGDAWgBStv1kxXnuT8nxVRiEaHn2SXa/K9zAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIGOeGu3h1e4kwdU2IMIc
Kj8KuuM76O4YEB/5lOmdz3oKAiEAt7DDX0Et3H3saQyHnq+DiFIyFcP06Cgry5xF
cT0dqPA=
-----END CERTIFICATE-----
"""


# --- loopback stand-ins ------------------------------------------------------------------


class _TokenReview(http.server.BaseHTTPRequestHandler):
    """POST /apis/authentication.k8s.io/v1/tokenreviews: authenticates SA_JWT only."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        ok = self.path == "/apis/authentication.k8s.io/v1/tokenreviews" and (
            body.get("spec", {}).get("token") == SA_JWT
        )
        user = {"username": "system:serviceaccount:default:app", "uid": SA_UID}
        status = {"authenticated": True, "user": user} if ok else {"authenticated": False}
        answer = json.dumps(
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status}
        ).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def tokenreview_api() -> Iterator[str]:
    with serving(_TokenReview) as url:
        yield url


# --- the seeded server -------------------------------------------------------------------


@dataclass
class Seeded:
    bao: OpenBao
    reader: str
    narrow: str
    kv1only: str
    role_id: str
    secret_id: str
    jwt_path: Path
    ns_role_id: str
    ns_secret_id: str

    def env(self, **extra: str) -> dict[str, str]:
        return self.bao.environ(**extra)


@pytest.fixture(scope="module")
def seeded(
    openbao: OpenBao, tokenreview_api: str, tmp_path_factory: pytest.TempPathFactory
) -> Seeded:
    root = openbao.client()
    kv2 = root.secrets.kv.v2
    kv2.create_or_update_secret("myapp/staging", {"PORT": "1"}, mount_point="secret")
    kv2.create_or_update_secret("myapp/staging", LATEST, mount_point="secret")
    for n in (1, 2, 3):
        kv2.create_or_update_secret("myapp/removed", {"N": str(n)}, mount_point="secret")
    kv2.delete_secret_versions("myapp/removed", [1, 3], mount_point="secret")
    kv2.destroy_secret_versions("myapp/removed", [2], mount_point="secret")
    root.sys.enable_secrets_engine("kv", path="kv1", options={"version": "1"})
    root.secrets.kv.v1.create_or_update_secret(
        "myapp/staging", {"LEGACY": "yes", "API_KEY": CANARY}, mount_point="kv1"
    )
    root.sys.create_or_update_policy("reader", READER)
    root.sys.create_or_update_policy(
        "narrow", 'path "secret/data/other" { capabilities = ["read"] }'
    )
    root.sys.create_or_update_policy("kv1only", 'path "kv1/*" { capabilities = ["read"] }')

    def token(policy: str) -> str:
        made = root.write_data("auth/token/create", data={"policies": [policy], "ttl": "1h"})
        return str(made["auth"]["client_token"])

    root.sys.enable_auth_method("approle")
    root.write_data("auth/approle/role/app", data={"token_policies": ["reader"]})
    role_id = root.read("auth/approle/role/app/role-id")["data"]["role_id"]
    secret_id = root.write_data("auth/approle/role/app/secret-id", data={})["data"]["secret_id"]

    root.sys.enable_auth_method("kubernetes")
    root.write_data(
        "auth/kubernetes/config",
        data={
            "kubernetes_host": tokenreview_api,
            "kubernetes_ca_cert": FAKE_K8S_CA,
            "disable_local_ca_jwt": True,
            "token_reviewer_jwt": "reviewer-token",
        },
    )
    root.write_data(
        "auth/kubernetes/role/app",
        data={
            "bound_service_account_names": ["app"],
            "bound_service_account_namespaces": ["default"],
            "token_policies": ["reader"],
        },
    )
    jwt_path = tmp_path_factory.mktemp("k8s") / "token"
    jwt_path.write_text(SA_JWT)

    # A namespace holding its own KV mount, policy and AppRole: it exists nowhere else, so a
    # successful login and read prove that both requests carried X-Vault-Namespace.
    root.sys.create_namespace("team-a")
    ns = openbao.client(namespace="team-a")
    ns.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    ns.secrets.kv.v2.create_or_update_secret("myapp/staging", {"TEAM": "a"}, mount_point="secret")
    ns.sys.create_or_update_policy("reader", READER)
    ns.sys.enable_auth_method("approle")
    ns.write_data("auth/approle/role/ns-app", data={"token_policies": ["reader"]})
    ns_role_id = ns.read("auth/approle/role/ns-app/role-id")["data"]["role_id"]
    ns_secret = ns.write_data("auth/approle/role/ns-app/secret-id", data={})["data"]["secret_id"]
    return Seeded(
        openbao,
        token("reader"),
        token("narrow"),
        token("kv1only"),
        role_id,
        secret_id,
        jwt_path,
        ns_role_id,
        ns_secret,
    )


# --- helpers -----------------------------------------------------------------------------


def context(
    environ: Mapping[str, str],
    table: Mapping[str, Any] | None = None,
    shared: dict[str, Any] | None = None,
) -> BuildContext:
    return BuildContext(
        env_name="staging",
        base_dir=Path.cwd(),
        environ=environ,
        tables={"vault": table} if table is not None else {},
        shared={} if shared is None else shared,
    )


def fetch(
    entry: Mapping[str, Any],
    environ: Mapping[str, str],
    table: Mapping[str, Any] | None = None,
    seconds: float = 10.0,
) -> Fetched:
    return VaultSource.from_entry(entry, context(environ, table)).fetch(Deadline(seconds))


def texts(fetched: Fetched) -> dict[str, str]:
    return {key: value.text for key, value in fetched.values.items()}


def fail(
    entry: Mapping[str, Any],
    environ: Mapping[str, str],
    table: Mapping[str, Any] | None = None,
    seconds: float = 2.0,
) -> SourceError:
    """Fetch expecting failure within the deadline; the error must chain nothing."""
    start = time.monotonic()
    with pytest.raises(SourceError) as info:
        fetch(entry, environ, table, seconds)
    assert time.monotonic() - start < seconds + 0.5
    err = info.value
    assert err.__cause__ is None
    assert err.__context__ is None
    [problem] = err.problems
    # One remedy: SourceUnavailable's problems are "unavailable" (exit 4), others "source".
    assert problem.category == type(err).category
    assert problem.source == f"vault {entry.get('mount', 'secret')}/{entry['vault']}"
    assert problem.message.startswith(f"cannot read {problem.source}: ")
    return err


# --- reading -----------------------------------------------------------------------------


def test_kv2_every_key_becomes_a_sensitive_string(seeded: Seeded) -> None:
    entry = {**PATH, "public": ["PORT"]}
    fetched = fetch(entry, seeded.env(VAULT_TOKEN=seeded.reader))
    assert texts(fetched) == {
        "DATABASE_URL": "postgres://db.internal/app",
        "PORT": "5432",
        "DEBUG": "true",
        "RATIO": "0.5",
        "FEATURES": '{"beta": ["a", "b"]}',
        "API_KEY": CANARY,
    }
    assert {str(v.origin) for v in fetched.values.values()} == {"vault secret/myapp/staging"}
    assert [k for k, v in fetched.values.items() if not v.sensitive] == ["PORT"]
    assert fetched.problems == []


@pytest.mark.parametrize("kv_version", [1, None], ids=["explicit", "detected"])
def test_kv1_mount(seeded: Seeded, kv_version: int | None) -> None:
    entry: dict[str, Any] = {"vault": "myapp/staging", "mount": "kv1"}
    if kv_version:
        entry["kv_version"] = kv_version
    fetched = fetch(entry, seeded.env(VAULT_TOKEN=seeded.reader))
    assert texts(fetched) == {"LEGACY": "yes", "API_KEY": CANARY}


def test_kv2_detected_with_root(seeded: Seeded) -> None:
    fetched = fetch(PATH, seeded.env(VAULT_TOKEN=seeded.bao.root_token))
    assert texts(fetched)["PORT"] == "5432"


def test_pinned_version_and_keys_subset(seeded: Seeded) -> None:
    env = seeded.env(VAULT_TOKEN=seeded.reader)
    assert texts(fetch({**PATH, "version": 1}, env)) == {"PORT": "1"}
    fetched = fetch({**PATH, "keys": ["PORT", "MISSING"]}, env)
    assert texts(fetched) == {"PORT": "5432"}
    [problem] = fetched.problems
    assert (problem.key, problem.code) == ("MISSING", "vault_key_missing")
    assert "vault secret/myapp/staging" in problem.message


def test_token_from_vault_token_file(seeded: Seeded, tmp_path: Path) -> None:
    (tmp_path / ".vault-token").write_text(seeded.reader + "\n")
    assert "PORT" in texts(fetch(PATH, {"VAULT_ADDR": seeded.bao.address, "HOME": str(tmp_path)}))
    # VAULT_TOKEN wins over the file, as with the Vault CLI.
    env = {"VAULT_ADDR": seeded.bao.address, "HOME": str(tmp_path), "VAULT_TOKEN": "hvs.bogus"}
    assert fail(PATH, env).problems[0].code == "vault_token_invalid"


def test_approle_login(seeded: Seeded) -> None:
    table = {"auth": "approle", "role_id": seeded.role_id, "secret_id_env": "APP_SECRET_ID"}
    fetched = fetch(PATH, seeded.env(APP_SECRET_ID=seeded.secret_id), table)
    assert texts(fetched)["PORT"] == "5432"


def _short_lived_role(seeded: Seeded, name: str, uses: int) -> tuple[str, str]:
    """An AppRole whose tokens live one second, and a secret id good for ``uses`` logins."""
    root = seeded.bao.client()
    root.write_data(
        f"auth/approle/role/{name}",
        data={"token_policies": ["reader"], "token_ttl": "1s", "token_max_ttl": "1s"},
    )
    role_id = root.read(f"auth/approle/role/{name}/role-id")["data"]["role_id"]
    data = {"num_uses": uses} if uses else {}
    secret_id = root.write_data(f"auth/approle/role/{name}/secret-id", data=data)
    return role_id, secret_id["data"]["secret_id"]


def _wait_until_expired(connection: VaultConnection) -> None:
    token = connection._client.adapter.token
    lookup = connection._client.adapter
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            lookup.get("/v1/auth/token/lookup-self", timeout=2)
        except Exception:
            return
        time.sleep(0.2)
    pytest.fail(f"token {token[:6]}… did not expire")


def test_an_expired_login_token_is_obtained_again_once(seeded: Seeded) -> None:
    role_id, secret_id = _short_lived_role(seeded, "brief", uses=0)
    config = VaultConfig(auth="approle", role_id=role_id, secret_id_env="SID")
    connection = VaultConnection(seeded.env(SID=secret_id), config)
    path = "secret/data/myapp/staging"
    assert connection.read(path, Deadline(5))["data"]["data"]["PORT"] == 5432
    first = connection._client.adapter.token
    _wait_until_expired(connection)

    # A long-running process reads again an hour later: one new login, then the read.
    assert connection.read(path, Deadline(5))["data"]["data"]["PORT"] == 5432
    assert connection._client.adapter.token != first


def test_an_expired_login_token_that_cannot_be_renewed_is_reported_as_expired(
    seeded: Seeded,
) -> None:
    role_id, secret_id = _short_lived_role(seeded, "once", uses=1)
    config = VaultConfig(auth="approle", role_id=role_id, secret_id_env="SID")
    connection = VaultConnection(seeded.env(SID=secret_id), config)
    path = "secret/data/myapp/staging"
    assert connection.read(path, Deadline(5))["data"]["data"]["PORT"] == 5432
    _wait_until_expired(connection)

    with pytest.raises(Failure) as failed:
        connection.read(path, Deadline(5))

    assert (failed.value.error, failed.value.code) == (SourceDenied, "vault_token_expired")
    assert failed.value.reason == (
        "the token from approle login has expired, and logging in again failed:"
        " Vault refused the approle login at auth/approle (check role_id and the secret id)"
    )
    assert failed.value.__context__ is None


def test_kubernetes_login(seeded: Seeded) -> None:
    table = {"auth": "kubernetes", "role": "app", "jwt_path": str(seeded.jwt_path)}
    assert texts(fetch(PATH, seeded.env(), table))["PORT"] == "5432"


@pytest.mark.parametrize("via", ["table", "VAULT_NAMESPACE"])
def test_namespace_carried_by_login_and_read(seeded: Seeded, via: str) -> None:
    table: dict[str, Any] = {"auth": "approle", "role_id": seeded.ns_role_id}
    table["secret_id_env"] = "NS_SECRET_ID"
    env = seeded.env(NS_SECRET_ID=seeded.ns_secret_id)
    if via == "table":
        table["namespace"] = "team-a"
    else:
        env["VAULT_NAMESPACE"] = "team-a"
    assert texts(fetch(PATH, env, table)) == {"TEAM": "a"}


def test_parallel_sources_share_one_login(seeded: Seeded) -> None:
    # A secret id good for one login only: a second login would fail.
    root = seeded.bao.client()
    once = root.write_data("auth/approle/role/app/secret-id", data={"num_uses": 1})
    table = {"auth": "approle", "role_id": seeded.role_id, "secret_id_env": "ONCE"}
    ctx = context(seeded.env(ONCE=once["data"]["secret_id"]), table)
    entries: list[dict[str, Any]] = [
        PATH,
        {**PATH, "version": 1},
        {"vault": "myapp/staging", "mount": "kv1"},
    ] * 3
    sources = [VaultSource.from_entry(e, ctx) for e in entries]
    deadline = Deadline(10)
    with ThreadPoolExecutor(len(sources)) as pool:
        results = list(pool.map(lambda s: s.fetch(deadline), sources))
    assert [len(r.values) for r in results] == [6, 1, 2] * 3


# --- failures caused for real -------------------------------------------------------------


def test_wrong_token(seeded: Seeded) -> None:
    err = fail(PATH, seeded.env(VAULT_TOKEN="hvs.not-a-real-token"))
    assert isinstance(err, SourceDenied)
    [problem] = err.problems
    assert problem.code == "vault_token_invalid"
    assert "permission denied: the token from VAULT_TOKEN is invalid or expired" in problem.message


@pytest.mark.parametrize("policy", ["narrow", "kv1only"])
def test_policy_denial(seeded: Seeded, policy: str) -> None:
    # kv1only may not even look at the secret/ mount, so the KV version cannot be detected:
    # the source falls back to version 2, hence the secret/data/ path in the message.
    err = fail(PATH, seeded.env(VAULT_TOKEN=getattr(seeded, policy)))
    assert isinstance(err, SourceDenied)
    assert err.problems[0].code == "vault_permission_denied"
    assert err.problems[0].message == (
        "cannot read vault secret/myapp/staging: "
        "permission denied by policy for read on secret/data/myapp/staging"
    )


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"vault": "myapp/nope"}, "no secret at secret/myapp/nope"),
        ({**PATH, "version": 99}, "no secret at secret/myapp/staging with version 99"),
        ({"vault": "x", "mount": "nomount"}, "no secrets engine is mounted at nomount/"),
        ({"vault": "secret/myapp/staging"}, "did you mean 'myapp/staging'?"),
        ({"vault": "myapp/removed"}, "the latest version of secret/myapp/removed is deleted"),
        ({"vault": "myapp/removed", "version": 1}, "version 1 of secret/myapp/removed is deleted"),
        (
            {"vault": "myapp/removed", "version": 2},
            "version 2 of secret/myapp/removed is destroyed",
        ),
        (
            {"vault": "myapp/staging", "mount": "kv1", "kv_version": 2},
            "(if kv1/ is a KV version 1 mount, set kv_version = 1)",
        ),
    ],
)
def test_not_found(seeded: Seeded, entry: dict[str, Any], reason: str) -> None:
    err = fail(entry, seeded.env(VAULT_TOKEN=seeded.bao.root_token))
    assert isinstance(err, SourceNotFound)
    assert err.problems[0].code == "vault_not_found"
    assert reason in err.problems[0].message


def test_kv_version_mismatch(seeded: Seeded) -> None:
    err = fail({**PATH, "kv_version": 1}, seeded.env(VAULT_TOKEN=seeded.bao.root_token))
    assert err.problems[0].code == "vault_kv_version"
    assert "secret/ is a KV version 2 mount" in err.problems[0].message


def test_login_failures(seeded: Seeded, tmp_path: Path) -> None:
    approle = {"auth": "approle", "role_id": seeded.role_id, "secret_id_env": "SID"}
    err = fail(PATH, seeded.env(SID="wrong"), approle)
    assert (type(err), err.problems[0].code) == (SourceDenied, "vault_login_failed")
    err = fail(PATH, seeded.env(), approle)
    assert err.problems[0].code == "vault_no_credentials"
    assert "SID is not set" in err.problems[0].message
    (tmp_path / "jwt").write_text(SA_JWT + "tampered")
    k8s = {"auth": "kubernetes", "role": "app", "jwt_path": str(tmp_path / "jwt")}
    assert fail(PATH, seeded.env(), k8s).problems[0].code == "vault_login_failed"
    k8s["jwt_path"] = str(tmp_path / "absent")
    assert fail(PATH, seeded.env(), k8s).problems[0].code == "vault_no_credentials"
    err = fail(PATH, {"VAULT_ADDR": seeded.bao.address, "HOME": str(tmp_path)})
    assert err.problems[0].code == "vault_no_token"


def test_sealed(spare_openbao: OpenBao) -> None:
    spare_openbao.bao("operator", "seal")
    err = fail(PATH, spare_openbao.environ(VAULT_TOKEN=spare_openbao.root_token), seconds=1.5)
    assert isinstance(err, SourceUnavailable)
    assert err.problems[0].code == "vault_sealed"
    assert f"Vault at {spare_openbao.address} is sealed" in err.problems[0].message


def test_stopped_server(spare_openbao: OpenBao) -> None:
    spare_openbao.stop()
    err = fail(PATH, spare_openbao.environ(VAULT_TOKEN="t"), seconds=1.5)
    assert isinstance(err, SourceUnavailable)
    assert err.problems[0].code == "vault_unreachable"
    assert "(connection refused)" in err.problems[0].message


def test_server_that_never_finishes_answering(stalling_server: StallingServer) -> None:
    env = {"VAULT_ADDR": stalling_server.address, "VAULT_TOKEN": "t", "HOME": "/nonexistent"}
    err = fail({**PATH, "kv_version": 2}, env, seconds=2.0)
    assert isinstance(err, SourceUnavailable)
    assert err.problems[0].code == "vault_timeout"
    assert "within the 2s deadline" in err.problems[0].message


# --- TLS ---------------------------------------------------------------------------------


def test_tls(openbao_tls: OpenBao) -> None:
    openbao_tls.client().secrets.kv.v2.create_or_update_secret(
        "myapp/staging", {"TLS": "ok"}, mount_point="secret"
    )
    env = openbao_tls.environ(VAULT_TOKEN=openbao_tls.root_token)
    assert texts(fetch(PATH, {**env, "VAULT_CACERT": str(openbao_tls.ca_cert)})) == {"TLS": "ok"}
    assert fail(PATH, env).problems[0].code == "vault_tls"
    with pytest.warns(InsecureRequestWarning):
        assert texts(fetch(PATH, {**env, "VAULT_SKIP_VERIFY": "true"})) == {"TLS": "ok"}


def test_bad_vault_table_is_a_project_error(seeded: Seeded) -> None:
    with pytest.raises(ProjectError, match=r"\[vault\]"):
        VaultSource.from_entry(PATH, context(seeded.env(), {"auth": "approle", "secret_id": "x"}))


# --- the canary --------------------------------------------------------------------------


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        yield from _chain(exc.__cause__)
        exc = exc.__context__


def test_canary_never_leaks(seeded: Seeded, tmp_path: Path) -> None:
    """A secret value, a token and a secret id equal to it never show in any failure."""
    root = seeded.bao.client()
    # The canary is a real token too: a valid one lacking the policy, then a revoked one.
    root.write_data("auth/token/create", data={"id": CANARY, "policies": ["narrow"], "ttl": "1h"})
    approle = {"auth": "approle", "role_id": seeded.role_id, "secret_id_env": "SID"}
    attempts: list[tuple[Mapping[str, Any], dict[str, str], Mapping[str, Any] | None]] = [
        (PATH, seeded.env(VAULT_TOKEN=CANARY), None),
        ({**PATH, "keys": ["NOPE"]}, seeded.env(VAULT_TOKEN=seeded.reader), None),
        ({**PATH, "kv_version": 1}, seeded.env(VAULT_TOKEN=seeded.bao.root_token), None),
        ({**PATH, "version": 7}, seeded.env(VAULT_TOKEN=seeded.reader), None),
        (PATH, seeded.env(SID=CANARY), approle),
        (PATH, seeded.env(VAULT_TOKEN=seeded.reader), None),
    ]
    seen: list[object] = []
    for entry, env, table in attempts:
        try:
            fetched = fetch(entry, env, table, seconds=3)
        except SourceError as exc:
            seen.extend(_chain(exc))
            seen.extend(exc.problems)
        else:
            seen.extend(fetched.problems)
            seen.extend(fetched.values.values())
    root.write_data("auth/token/revoke", data={"token": CANARY})
    try:
        fetch(PATH, seeded.env(VAULT_TOKEN=CANARY), seconds=3)
    except SourceError as exc:
        seen.extend(_chain(exc))
        seen.extend(exc.problems)
    assert len(seen) > 8
    for item in seen:
        for text in (str(item), repr(item)):
            assert CANARY not in text
        if isinstance(item, BaseException):
            assert item.__cause__ is None
            assert item.__context__ is None

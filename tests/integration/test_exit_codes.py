"""Exit codes by remedy, over every failure class, against real OpenBao and moto servers.

| code | remedy |
| 1 | fix a value (validation; a dotenv file's content; a secret's malformed JSON) |
| 2 | fix the project, schema or command line (the schema's own code raising included) |
| 3 | fix access or the reference (403, 404, missing file, KV mismatch, deleted secret) |
| 4 | nothing to fix: the source is unavailable now, retrying may help |

Each case runs ``envguard check --format json`` in-process and checks the exit code, the
``retryable`` flag, the problem codes, and that the Python API raises the matching class.
"""

from __future__ import annotations

import http.server
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import envguard
from envguard.cli.app import run
from tests.integration._http import serving
from tests.integration._moto import MotoServer
from tests.integration._openbao import OpenBao

pytestmark = pytest.mark.integration

CANARY = f"canary-{uuid.uuid4().hex}"
SCHEMA = """
from pydantic import field_validator
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    port: int = 8000
    api_token: str = "unset"

    @field_validator("api_token")
    @classmethod
    def _not_the_boom(cls, value: str) -> str:
        if value.startswith("boom"):
            raise RuntimeError(f"cannot use {value}")  # the user's own code
        return value
"""
CLASSES: dict[int, type[envguard.ConfigError]] = {
    1: envguard.ConfigError,
    2: envguard.ProjectError,
    3: envguard.SourceError,
    4: envguard.SourceUnavailable,
}


@dataclass
class Case:
    """A project (``envguard.toml`` sources and files), the environment, what to expect."""

    sources: str
    code: int
    problems: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    environ: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)


class _Throttling(http.server.BaseHTTPRequestHandler):
    """Answers every request as a throttled server: 429 for Vault, ThrottlingException for AWS."""

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("X-Amz-Target"):
            body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
            status = 400
        else:
            body = json.dumps({"errors": ["request path rate limit exceeded"]})
            status = 429
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def throttling() -> Iterator[str]:
    with serving(_Throttling) as url:
        yield url


@pytest.fixture(scope="module")
def stores(openbao: OpenBao, moto: MotoServer) -> dict[str, str]:
    """Seed the servers once: a KV v2 secret, a narrow token, two AWS secrets."""
    root = openbao.client()
    root.secrets.kv.v2.create_or_update_secret("codes/app", {"PORT": "9000"}, mount_point="secret")
    root.sys.create_or_update_policy(
        "codes-narrow", 'path "secret/data/other/*" { capabilities = ["read"] }'
    )
    narrow = root.auth.token.create(policies=["codes-narrow"], ttl="1h")["auth"]["client_token"]
    sm = moto.client("secretsmanager")
    broken, doomed = f"codes/broken-{uuid.uuid4().hex}", f"codes/doomed-{uuid.uuid4().hex}"
    sm.create_secret(Name=broken, SecretString='{"API_TOKEN": "' + CANARY)
    sm.create_secret(Name=doomed, SecretString='{"PORT": "1"}')
    sm.delete_secret(SecretId=doomed, RecoveryWindowInDays=7)
    return {"narrow": narrow, "broken": broken, "doomed": doomed, "root": openbao.root_token}


def _cases(stores: dict[str, str], openbao: OpenBao, throttling: str) -> dict[str, Case]:
    vault = {"VAULT_ADDR": openbao.address, "VAULT_TOKEN": stores["root"]}
    kv2 = '{ vault = "codes/app", mount = "secret" }'
    return {
        # 1: the configuration's content is wrong
        "validation": Case("[{ dotenv = '.env' }]", 1, ["int_parsing"], {".env": b"PORT=abc\n"}),
        "dotenv-malformed": Case(
            "[{ dotenv = '.env' }]", 1, ["dotenv_syntax"], {".env": b"PORT=1\nnot a line\n"}
        ),
        "dotenv-encoding": Case(
            "[{ dotenv = '.env' }]", 1, ["dotenv_encoding"], {".env": b"PORT=1\nX=\xff\n"}
        ),
        "dotenv-nul": Case(
            "[{ dotenv = '.env' }]", 1, ["dotenv_encoding"], {".env": b"PORT=1\nX=a\0b\n"}
        ),
        "dotenv-undefined": Case(
            "[{ dotenv = '.env' }]",
            1,
            ["dotenv_undefined_variable"],
            {".env": b"API_TOKEN=${NOT_SET_ANYWHERE}\n"},
        ),
        "secret-malformed-json": Case(
            f"[{{ aws_secret = '{stores['broken']}' }}]", 1, ["aws_bad_secret_shape"]
        ),
        # 2: envguard's own set-up is wrong
        "project-file": Case("[{ dotenv = '.env', colour = 'red' }]", 2, ["project_unknown_key"]),
        "unknown-env": Case("[{ env = true }]", 2, ["unknown_env"], args=["nope"]),
        "schema-code-raises": Case(
            "[{ dotenv = '.env' }]",
            2,
            ["schema_code_failed"],
            {".env": f"API_TOKEN=boom-{CANARY}\n".encode()},
        ),
        # 3: a source refused or lacks what was asked
        "missing-file": Case("[{ dotenv = '.env.absent' }]", 3, ["dotenv_missing"]),
        "file-is-a-directory": Case(
            "[{ dotenv = 'conf' }]", 3, ["dotenv_not_a_file"], {"conf/keep": b""}
        ),
        "vault-wrong-token": Case(
            f"[{kv2}]", 3, ["vault_token_invalid"], environ={**vault, "VAULT_TOKEN": "wrong"}
        ),
        "vault-narrow-policy": Case(
            f"[{kv2}]",
            3,
            ["vault_permission_denied"],
            environ={**vault, "VAULT_TOKEN": stores["narrow"]},
        ),
        "vault-not-found": Case(
            '[{ vault = "codes/absent", mount = "secret" }]', 3, ["vault_not_found"], environ=vault
        ),
        "vault-kv-mismatch": Case(
            '[{ vault = "codes/app", mount = "secret", kv_version = 1 }]',
            3,
            ["vault_kv_version"],
            environ=vault,
        ),
        "aws-missing-secret": Case(
            f"[{{ aws_secret = 'codes/absent-{uuid.uuid4().hex}' }}]", 3, ["aws_not_found"]
        ),
        "aws-deleted-secret": Case(
            f"[{{ aws_secret = '{stores['doomed']}' }}]", 3, ["aws_scheduled_for_deletion"]
        ),
        # 4: a source is unavailable right now
        "vault-throttled": Case(
            f"[{kv2}]", 4, ["vault_rate_limited"], environ={**vault, "VAULT_ADDR": throttling}
        ),
        "aws-throttled": Case(
            "[{ aws_secret = 'codes/app' }]",
            4,
            ["aws_throttled"],
            environ={"AWS_ENDPOINT_URL": throttling},
        ),
        # several at once: 2, else 3, else 4, else 1
        "access-beats-content": Case(
            "[{ dotenv = '.env' }, { dotenv = '.env.absent' }]",
            3,
            ["dotenv_missing", "int_parsing"],
            {".env": b"PORT=abc\n"},
        ),
        "access-beats-unavailable": Case(
            f"[{kv2}, {{ dotenv = '.env.absent' }}]",
            3,
            ["dotenv_missing", "vault_rate_limited"],
            environ={**vault, "VAULT_ADDR": throttling},
        ),
        "setup-beats-everything": Case(
            "[{ dotenv = '.env.absent' }, { dotenv = '.env' }]",
            2,
            ["dotenv_missing", "schema_code_failed"],
            {".env": f"API_TOKEN=boom-{CANARY}\n".encode()},
        ),
    }


CASE_NAMES = [
    "validation",
    "dotenv-malformed",
    "dotenv-encoding",
    "dotenv-nul",
    "dotenv-undefined",
    "secret-malformed-json",
    "project-file",
    "unknown-env",
    "schema-code-raises",
    "missing-file",
    "file-is-a-directory",
    "vault-wrong-token",
    "vault-narrow-policy",
    "vault-not-found",
    "vault-kv-mismatch",
    "aws-missing-secret",
    "aws-deleted-secret",
    "vault-throttled",
    "aws-throttled",
    "access-beats-content",
    "access-beats-unavailable",
    "setup-beats-everything",
]


@pytest.fixture
def check(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    aws_env: dict[str, str],
) -> Callable[[Case], tuple[int, dict[str, Any], str]]:
    def invoke(case: Case) -> tuple[int, dict[str, Any], str]:
        for name, content in case.files.items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_bytes(content)
        (tmp_path / "codes_schema.py").write_text(SCHEMA)
        (tmp_path / "envguard.toml").write_text(
            'schema = "codes_schema:Settings"\n\n[env.dev]\nsources = ' + case.sources + "\n"
        )
        for name, value in case.environ.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.delitem(sys.modules, "codes_schema", raising=False)
        capsys.readouterr()
        code = run(["check", *(case.args or ["dev"]), "--format", "json", "--timeout", "3"])
        out, err = capsys.readouterr()
        return code, json.loads(out), err

    return invoke


@pytest.mark.parametrize("name", CASE_NAMES)
def test_exit_code_names_the_remedy(
    name: str,
    check: Callable[[Case], tuple[int, dict[str, Any], str]],
    stores: dict[str, str],
    openbao: OpenBao,
    throttling: str,
) -> None:
    case = _cases(stores, openbao, throttling)[name]

    code, report, err = check(case)

    assert (code, report["exit_code"], report["retryable"]) == (case.code, case.code, code == 4)
    errors = sorted({p["code"] for p in report["problems"] if p["severity"] == "error"})
    assert errors == sorted(case.problems)
    assert CANARY not in json.dumps(report) + err
    # The Python API raises the class of that exit code (and nothing more general).
    with pytest.raises(envguard.ConfigError) as raised:
        envguard.load(env=(case.args or ["dev"])[0], timeout=3)
    assert type(raised.value) is CLASSES[case.code] or (
        case.code == 3 and isinstance(raised.value, envguard.SourceError)
    )
    assert type(raised.value).exit_code == case.code
    assert CANARY not in f"{raised.value}{raised.value!r}"


def test_the_schema_code_failure_names_the_users_file_line_and_exception_type(
    check: Callable[[Case], tuple[int, dict[str, Any], str]],
    stores: dict[str, str],
    openbao: OpenBao,
    throttling: str,
) -> None:
    code, report, _ = check(_cases(stores, openbao, throttling)["schema-code-raises"])

    line = SCHEMA.splitlines().index(next(t for t in SCHEMA.splitlines() if "raise" in t)) + 1
    (problem,) = report["problems"]
    assert code == 2
    assert (problem["file"], problem["line"]) == ("codes_schema.py", line)
    assert problem["message"] == (
        f"codes_schema.py:{line}: the schema's code raised RuntimeError in _not_the_boom() "
        "while validating Settings (its message is not shown: it may quote a value)"
    )


def test_a_lone_surrogate_or_control_character_from_a_secret_store_is_printed_escaped(
    moto: MotoServer, aws_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import subprocess

    base = f"/odd{uuid.uuid4().hex}"
    ssm = moto.client("ssm")
    # SSM String parameters are not secret, so show prints them: the hostile characters
    # reach the output path.
    ssm.put_parameter(Name=f"{base}/PLAIN", Value="a\udc80b\x1b[2Jc", Type="String")
    ssm.put_parameter(Name=f"{base}/PORT", Value="1", Type="String")
    (tmp_path / "schema.toml").write_text('[vars.PORT]\ntype = "int"\n[vars.PLAIN]\ntype = "str"\n')
    (tmp_path / "envguard.toml").write_text(
        f'schema = "schema.toml"\n[env.dev]\nsources = [{{ aws_ssm = "{base}/" }}]\n'
    )
    env = {**aws_env, "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    for args in (["show", "dev"], ["show", "dev", "--format", "json"], ["check", "dev"]):
        done = subprocess.run(
            [sys.executable, "-m", "envguard", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        output = done.stdout + done.stderr
        assert b"Traceback" not in output, args
        assert b"\x1b" not in output, args
        output.decode("utf-8")  # valid UTF-8: the lone surrogate was escaped
        assert done.returncode in (0, 1), (args, output)
        if args[0] == "show":
            assert b"\\udc80" in output, output  # shown, escaped

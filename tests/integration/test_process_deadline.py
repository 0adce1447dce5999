"""The deadline holds for the whole process: ``envguard … --timeout N`` has *exited* by N + 1.5 s.

Each remote kind (Vault, Secrets Manager, SSM) is pointed at an endpoint that trickles its
answer, stays silent, or never accepts the connection, and envguard runs in a subprocess:
what is measured is the time until the process is gone, interpreter exit included (a
worker thread that Python joins at exit would keep it alive until the trickle ends).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration._stalling import StallingServer

pytestmark = pytest.mark.integration

TIMEOUT = 2.0
SLACK = 1.5

SOURCES = {
    "vault": '{ vault = "myapp/staging", mount = "secret", kv_version = 2 }',
    "secrets-manager": '{ aws_secret = "myapp/staging" }',
    "ssm": '{ aws_ssm = "/myapp/staging/" }',
}
TIMEOUT_CODES = {"vault": "vault_timeout", "secrets-manager": "aws_timeout", "ssm": "aws_timeout"}


def _project(root: Path, kind: str) -> Path:
    root.mkdir(exist_ok=True)
    (root / "schema.toml").write_text('[vars.GREETING]\ntype = "str"\ndefault = "hello"\n')
    (root / "envguard.toml").write_text(
        f'schema = "schema.toml"\n\n[env.remote]\nsources = [{SOURCES[kind]}]\n'
    )
    return root


def _environ(kind: str, server: StallingServer, home: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if kind == "vault":
        return {**env, "VAULT_ADDR": server.address, "VAULT_TOKEN": "t"}
    return {
        **env,
        "AWS_ENDPOINT_URL": server.address,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, str, str]:
    """Run ``args``; the seconds until the process had exited, its code and output."""
    start = time.monotonic()
    process = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"still running after 60 s: {out}{err}")
    return time.monotonic() - start, process.returncode, out, err


@pytest.mark.parametrize("kind", list(SOURCES))
def test_check_exits_within_the_timeout(
    kind: str, stalling_server: StallingServer, tmp_path: Path
) -> None:
    root = _project(tmp_path / "project", kind)
    env = _environ(kind, stalling_server, tmp_path)
    args = [sys.executable, "-m", "envguard", "check", "remote", "--timeout", f"{TIMEOUT:g}"]

    seconds, code, out, err = _run([*args, "--format", "json"], root, env)

    assert seconds < TIMEOUT + SLACK, f"{stalling_server.mode}: exited after {seconds:.2f}s"
    assert (code, err) == (4, ""), out
    report = json.loads(out)
    assert report["retryable"] is True
    assert [p["code"] for p in report["problems"]] == [TIMEOUT_CODES[kind]]


@pytest.mark.parametrize("kind", list(SOURCES))
def test_run_exits_within_the_timeout_without_starting_the_command(
    kind: str, tmp_path: Path
) -> None:
    server = StallingServer("trickle")
    try:
        root = _project(tmp_path / "project", kind)
        env = _environ(kind, server, tmp_path)
        marker = tmp_path / "started"
        command = [sys.executable, "-c", f"open({str(marker)!r}, 'w')"]
        args = [sys.executable, "-m", "envguard", "run", "remote", "--timeout", f"{TIMEOUT:g}"]

        seconds, code, _, err = _run([*args, "--", *command], root, env)
    finally:
        server.close()

    assert seconds < TIMEOUT + SLACK, f"exited after {seconds:.2f}s"
    assert code == 4, err
    assert not marker.exists()


@pytest.mark.parametrize("kind", list(SOURCES))
def test_health_returns_and_the_process_exits_within_the_timeout(kind: str, tmp_path: Path) -> None:
    server = StallingServer("trickle")
    try:
        root = _project(tmp_path / "project", kind)
        env = _environ(kind, server, tmp_path)
        script = (
            "import json, envguard; "
            f"print(json.dumps(envguard.health(env='remote', timeout={TIMEOUT})))"
        )
        seconds, code, out, err = _run([sys.executable, "-c", script], root, env)
    finally:
        server.close()

    assert seconds < TIMEOUT + SLACK, f"exited after {seconds:.2f}s"
    assert code == 0, err
    status = json.loads(out)
    assert status["status"] == "degraded"  # GREETING has a default: valid, a source down
    assert [s["code"] for s in status["sources"]] == [TIMEOUT_CODES[kind]]


@pytest.mark.parametrize("command", ["check", "show", "diff", "run"])
# 0.15 s: while typer and pydantic load (Python's own start-up and ``import envguard``, the
# first ~40 ms, come before any envguard code can handle the signal).
@pytest.mark.parametrize("after", [0.15, 1.0], ids=["while-importing", "while-reading"])
def test_ctrl_c_ends_every_command_at_once_with_130_and_no_traceback(
    command: str, after: float, tmp_path: Path
) -> None:
    server = StallingServer("silent")
    try:
        root = _project(tmp_path / "project", "vault")
        (root / "envguard.toml").write_text(
            (root / "envguard.toml").read_text() + "[env.local]\nsources = []\n"
        )
        env = _environ("vault", server, tmp_path)
        args = {
            "check": ["check", "remote"],
            "show": ["show", "remote"],
            "diff": ["diff", "remote", "local"],
            "run": ["run", "remote", "--timeout", "20", "--", sys.executable, "-c", "pass"],
        }[command]
        if command != "run":
            args += ["--timeout", "20"]
        process = subprocess.Popen(
            [sys.executable, "-m", "envguard", *args],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(after)
        process.send_signal(signal.SIGINT)
        start = time.monotonic()
        time.sleep(0.05)
        process.send_signal(signal.SIGINT)  # a second Ctrl-C changes nothing
        try:
            _, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            pytest.fail(f"{command} still running 10 s after Ctrl-C")
        seconds = time.monotonic() - start
    finally:
        server.close()

    assert process.returncode in (130, -signal.SIGINT), err
    assert seconds < 2.0, f"{command} took {seconds:.2f}s to stop"
    assert "Traceback" not in err
    if process.returncode == 130:
        assert err.endswith("envguard: interrupted\n"), err

"""Fixtures that run a real moto server on a free loopback port, always stopped after.

``moto`` is one server for the whole session (``moto_endpoint`` is its URL); tests that stop
a server start their own with :func:`start_moto`. ``aws_env`` points the process environment
at the session server with fake credentials and temporary AWS config files, so the
developer's real ``~/.aws`` and credentials are never read. A missing ``moto_server``
binary fails the run: it never skips.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from typing import Any

import pytest

__all__ = ["MotoServer", "aws_env", "moto", "moto_endpoint", "start_moto"]

START_TIMEOUT = 30.0
REGION = "us-east-1"
#: Fake credentials moto accepts while IAM is not enforced.
ACCESS_KEY = "testing"
SECRET_KEY = "testing"


def moto_binary() -> str:
    """The ``moto_server`` next to this interpreter (the venv's), else on ``PATH``."""
    beside = Path(sys.executable).with_name("moto_server")
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    if not found:
        pytest.fail(
            "the moto server binary `moto_server` was not found: install the dev extra "
            "(pip install -e '.[dev]', which provides moto[server])",
            pytrace=False,
        )
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# Never route loopback calls through a proxy from the developer's environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class MotoServer:
    """A running moto server: its endpoint, its work directory, and the process started."""

    endpoint: str
    workdir: Path
    process: subprocess.Popen[bytes]
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def config_files(self) -> tuple[Path, Path]:
        """Empty AWS config and credentials files, so no real ``~/.aws`` file is read."""
        config, credentials = self.workdir / "aws-config", self.workdir / "aws-credentials"
        for path in (config, credentials):
            path.touch()
        return config, credentials

    def environ(self, **extra: str) -> dict[str, str]:
        """A minimal AWS environment pointing at this server, with fake credentials."""
        config, credentials = self.config_files()
        env = {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        }
        env.update(extra)
        return env

    def client(self, service: str) -> Any:
        """A boto3 client for test setup (one per service), with the fake credentials."""
        if service not in self._clients:
            import boto3
            import botocore.session

            core = botocore.session.Session()
            config, credentials = self.config_files()
            core.set_config_variable("config_file", str(config))
            core.set_config_variable("credentials_file", str(credentials))
            session = boto3.Session(
                botocore_session=core,
                aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY,
                region_name=REGION,
            )
            self._clients[service] = session.client(service, endpoint_url=self.endpoint)
        return self._clients[service]

    def _post(self, path: str, body: bytes) -> Any:
        # text/plain: with a form content type Flask would consume the body before moto.
        request = urllib.request.Request(
            f"{self.endpoint}{path}",
            data=body,
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with _OPENER.open(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")

    @contextlib.contextmanager
    def iam_enforced(self) -> Iterator[None]:
        """Enforce IAM policies (moto's ``INITIAL_NO_AUTH_ACTION_COUNT`` = 0) for a block.

        Requests then need the keys of an IAM user created on this server; the fake
        ``testing`` keys are rejected. Set up users and data before entering.
        """
        self._post("/moto-api/reset-auth", b"0")
        try:
            yield
        finally:
            self._post("/moto-api/reset-auth", b"inf")

    def warm_up(self, *services: str) -> None:
        """Make the server import its ``services`` now, on a background thread.

        moto imports a service's backend on its first request, and SSM's pulls in EC2:
        seconds of work the server can do while the first tests run.
        """
        targets = {
            "ssm": "AmazonSSM.DescribeParameters",
            "secretsmanager": "secretsmanager.ListSecrets",
        }

        def poke() -> None:
            for service in services:
                request = urllib.request.Request(
                    f"{self.endpoint}/",
                    data=b"{}",
                    method="POST",
                    headers={
                        "Content-Type": "application/x-amz-json-1.1",
                        "X-Amz-Target": targets[service],
                        "Authorization": "AWS4-HMAC-SHA256 Credential="
                        f"{ACCESS_KEY}/20240101/{REGION}/{service}/aws4_request, "
                        "SignedHeaders=host, Signature=0",
                    },
                )
                with contextlib.suppress(OSError, HTTPException), _OPENER.open(request, timeout=60):
                    pass

        threading.Thread(target=poke, name="moto-warm-up", daemon=True).start()

    def stop(self, *, force: bool = False) -> None:
        """Terminate (or with ``force``, kill) exactly the process started, then wait."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        if self.process.poll() is None and force:
            self.process.kill()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _log_tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-30:])


def _ready(endpoint: str) -> bool:
    try:
        with _OPENER.open(f"{endpoint}/moto-api/", timeout=1) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def start_moto(workdir: Path) -> MotoServer:
    """Start ``moto_server`` on a free loopback port; the caller must stop it."""
    workdir.mkdir(parents=True, exist_ok=True)
    binary = moto_binary()
    for _ in range(3):
        port = _free_port()
        log = workdir / f"moto-{port}.log"
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(workdir)}
        with log.open("wb") as out:
            process = subprocess.Popen(
                [binary, "-H", "127.0.0.1", "-p", str(port)],
                env=env,
                cwd=workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = MotoServer(f"http://127.0.0.1:{port}", workdir, process)
        give_up = time.monotonic() + START_TIMEOUT
        while time.monotonic() < give_up:
            if process.poll() is not None:
                break
            if _ready(server.endpoint):
                return server
            time.sleep(0.05)
        server.stop()
        if "Address already in use" not in log.read_text(errors="replace"):
            pytest.fail(f"moto_server did not become ready:\n{_log_tail(log)}", pytrace=False)
    pytest.fail("could not bind moto_server to a free loopback port", pytrace=False)


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """One moto server for the session."""
    server = start_moto(tmp_path_factory.mktemp("moto"))
    server.warm_up("secretsmanager", "ssm")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_endpoint(moto: MotoServer) -> str:
    """The session moto server's URL (``http://127.0.0.1:<port>``)."""
    return moto.endpoint


@pytest.fixture
def aws_env(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point the process environment at the session server; return the same settings.

    Every ``AWS_*`` variable of the developer's environment is removed first; instance
    metadata lookups are disabled and loopback calls bypass any proxy.
    """
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    env = moto.environ()
    for name, value in {**env, "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return env

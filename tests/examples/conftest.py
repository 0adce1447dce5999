"""Booting the web app example in a subprocess on a free loopback port."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEBAPP = ROOT / "examples" / "webapp"
CANARY = "CANARY-webapp-6d0f"

#: A valid production configuration; both secrets carry the canary.
VALID = {
    "APP_ENV": "production",
    "DATABASE_URL": f"postgresql://webapp:{CANARY}@db.internal:5432/webapp",
    "SESSION_SECRET": f"{CANARY}-0123456789abcdefghijklmnop",
}
_SCHEMA_KEYS = ("APP_ENV", "HOST", "PORT", "DATABASE_URL", "SESSION_SECRET", "LOG_LEVEL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def is_listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def webapp(tmp_path: Path) -> Path:
    """A copy of the example (so no ``.env`` or bytecode lands in the repository)."""
    target = tmp_path / "webapp"
    shutil.copytree(WEBAPP, target, ignore=shutil.ignore_patterns("__pycache__", ".env"))
    return target


@pytest.fixture
def clean_env() -> dict[str, str]:
    """The test's environment without the app's variables or envguard's own settings."""
    skip = ("ENVGUARD_", "VAULT_", "AWS_")
    return {k: v for k, v in os.environ.items() if not k.startswith(skip) and k not in _SCHEMA_KEYS}


class Running:
    """A started process, its first stdout line, and a way to stop it."""

    def __init__(self, proc: subprocess.Popen[str], first_line: str | None) -> None:
        self.proc = proc
        self.first_line = first_line

    def get(self, port: int, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def get_json(self, port: int, path: str) -> tuple[int, dict[str, object]]:
        status, body = self.get(port, path)
        return status, json.loads(body)

    def stop(self) -> tuple[int, str, str]:
        """SIGTERM, then the exit status and the rest of stdout and stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, out, err


Start = Callable[[Sequence[str], Path, dict[str, str]], Running]


@pytest.fixture
def start() -> Iterator[Start]:
    """``start(argv, cwd, env)``: run until its first stdout line (or its exit)."""
    started: list[Running] = []

    def launch(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> Running:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        assert proc.stdout is not None
        stdout = proc.stdout
        reader = threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True)
        reader.start()
        reader.join(60)  # an exited process: its first line, or EOF, is on its way
        first = None if lines.empty() else (lines.get() or None)
        running = Running(proc, first)
        started.append(running)
        return running

    yield launch
    for running in started:
        running.stop()

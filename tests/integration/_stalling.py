"""Endpoints that never finish answering, on 127.0.0.1: for deadline tests of every source.

- ``trickle``: accepts, reads the request, then sends an endless HTTP response one byte
  every ``interval`` seconds (each read succeeds, so no per-read timeout ever fires);
- ``silent``: accepts and reads, then never writes;
- ``unaccepted``: listens but never accepts (the kernel completes the handshake from the
  backlog, so the client connects and waits for an answer no one will send).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Literal

import pytest

__all__ = ["MODES", "StallingServer", "stalling_server"]

Mode = Literal["trickle", "silent", "unaccepted"]
MODES: tuple[Mode, ...] = ("trickle", "silent", "unaccepted")


class StallingServer:
    def __init__(self, mode: Mode, *, interval: float = 0.3) -> None:
        self.mode = mode
        self.interval = interval
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.address = f"http://127.0.0.1:{self.port}"
        self.threads: list[threading.Thread] = []
        if mode != "unaccepted":
            self._spawn(self._accept)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self.threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(0.5)
            with contextlib.suppress(OSError):
                conn.recv(65536)  # the request's head, so the client is waiting to read
            if self.mode == "trickle":
                answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: "
                answer += b"a" * 100_000
                for byte in answer:
                    if self.stop.wait(self.interval):
                        return
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        return
            self.stop.wait()

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(5)
        self.sock.close()


@pytest.fixture(params=MODES)
def stalling_server(request: pytest.FixtureRequest) -> Iterator[StallingServer]:
    server = StallingServer(request.param)
    yield server
    server.close()

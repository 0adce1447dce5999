"""A loopback TCP proxy that adds network latency and counts HTTP requests (stdlib only).

Latency model: every byte is delayed by ``delay`` seconds in each direction, like a link
with a one-way propagation delay. Each chunk read from one side is stamped with the time it
arrived and written to the other side ``delay`` seconds later, by a writer thread per
direction, so the chunks of one message overlap in flight instead of adding up: a request
costs ``delay`` however many TCP segments carry it, and so does its response, so an HTTP
exchange costs one round trip of ``2 × delay``. Opening a connection costs nothing extra
(a real network would add a round trip for TCP's handshake, two more for TLS), so the
model favours clients that open many connections, never those that reuse them.

Keep-alive connections work: the proxy forwards bytes until either side closes. Requests
are counted by parsing the client→server stream (request line, headers, and a body of
``Content-Length`` bytes, or chunked up to its last chunk), so a body that arrives in its
own chunk is never counted as a request. Each request keeps its method, path (without the
query) and ``X-Amz-Target`` header, never other headers (tokens, signatures).

Use it in-process::

    with LatencyProxy(target_port, delay=0.02) as proxy:
        ...  # talk to proxy.url
        proxy.requests  # a list of Request records since the last reset()

or in a process of its own, so that its threads never compete for the measured process's
GIL (the benchmarks do this), with the same attributes, controlled over a pipe::

    with ProxyProcess(target_port, delay=0.02) as proxy:
        ...

Run alone: ``python benchmarks/latency_proxy.py TARGET_PORT [--delay 0.02]`` prints its
port, then reads commands on stdin (``delay S``, ``reset``, ``stats``) until end of file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["LatencyProxy", "ProxyProcess", "Request"]

_CHUNK = 65536
_MAX_HEAD = 1 << 20
#: Chunks in flight one way, each with the time it is due at the other side (None: EOF).
_Pipe = queue.SimpleQueue[tuple[float, bytes | None]]
_METHODS = (b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"PATCH", b"OPTIONS", b"LIST")


class Request(NamedTuple):
    """One HTTP request seen on the way to the server."""

    method: str
    path: str
    target: str | None  # the X-Amz-Target header (an AWS JSON protocol operation)


class _RequestParser:
    """Splits a client→server byte stream into HTTP/1.1 requests; calls ``on_request``."""

    def __init__(self, on_request: Callable[[Request], None]) -> None:
        self._on_request = on_request
        self._buf = bytearray()
        self._body_left = 0  # bytes of a Content-Length body still to skip
        self._chunked = False  # skipping a chunked body, up to its last chunk

    def feed(self, data: bytes) -> None:
        while data:
            if self._body_left:
                taken = min(self._body_left, len(data))
                self._body_left -= taken
                data = data[taken:]
                continue
            self._buf += data
            data = b""
            if self._chunked:
                end = self._buf.find(b"\r\n0\r\n\r\n")
                if end < 0:
                    del self._buf[: max(0, len(self._buf) - 6)]  # keep a possible split end
                    return
                data = bytes(self._buf[end + 7 :])
                self._buf.clear()
                self._chunked = False
                continue
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buf) > _MAX_HEAD:  # not HTTP after all: stop parsing
                    self._buf.clear()
                return
            head = bytes(self._buf[:end])
            data = bytes(self._buf[end + 4 :])
            self._buf.clear()
            self._request(head)

    def _request(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) < 3 or parts[0] not in _METHODS:
            return
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        target = headers.get(b"x-amz-target")
        self._on_request(
            Request(
                parts[0].decode("latin-1"),
                parts[1].split(b"?", 1)[0].decode("latin-1"),
                target.decode("latin-1") if target else None,
            )
        )
        if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            self._chunked = True
            self._buf += b"\r\n"  # so a body that is only the last chunk ends the same way
        else:
            self._body_left = int(headers.get(b"content-length", b"0") or 0)


class LatencyProxy:
    """Forward ``127.0.0.1:{port}`` to ``127.0.0.1:{target_port}``, ``delay`` s each way.

    ``delay`` may be changed between measurements; it applies to chunks read after the
    change. Counters (``requests``, ``connections``) are reset by :meth:`reset`.
    """

    def __init__(self, target_port: int, *, delay: float = 0.020, host: str = "127.0.0.1") -> None:
        self.target = (host, target_port)
        self.delay = delay
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._connections = 0
        self._open: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self._acceptor = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> LatencyProxy:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close every open connection, and wait for the acceptor."""
        self._stopping.set()
        if self._acceptor.is_alive():
            self._acceptor.join(timeout=5)
        self._listener.close()
        with self._lock:
            still_open = list(self._open)
        for sock in still_open:
            _close(sock)

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- counters --------------------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    @property
    def connections(self) -> int:
        with self._lock:
            return self._connections

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._connections = 0

    def _count(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request)

    # --- forwarding ------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._connections += 1
                self._open.update((client, upstream))
            _Connection(self, client, upstream).start()

    def _closed(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.difference_update(socks)


class _Connection:
    """One proxied connection: a reader and a delayed writer for each direction."""

    def __init__(self, proxy: LatencyProxy, client: socket.socket, upstream: socket.socket):
        self._proxy = proxy
        self._client = client
        self._upstream = upstream
        self._finished = 0
        self._lock = threading.Lock()
        self._parser = _RequestParser(proxy._count)

    def start(self) -> None:
        for src, dst, parse in (
            (self._client, self._upstream, True),
            (self._upstream, self._client, False),
        ):
            pipe: _Pipe = queue.SimpleQueue()
            threading.Thread(
                target=self._read, args=(src, pipe, parse), name="proxy-read", daemon=True
            ).start()
            threading.Thread(
                target=self._write, args=(dst, pipe), name="proxy-write", daemon=True
            ).start()

    def _read(self, src: socket.socket, pipe: _Pipe, parse: bool) -> None:
        try:
            while True:
                data = src.recv(_CHUNK)
                now = time.monotonic()
                if not data:
                    break
                if parse:
                    self._parser.feed(data)
                pipe.put((now + self._proxy.delay, data))
        except OSError:
            pass
        pipe.put((time.monotonic() + self._proxy.delay, None))

    def _write(self, dst: socket.socket, pipe: _Pipe) -> None:
        try:
            while True:
                due, data = pipe.get()
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                if data is None:
                    dst.shutdown(socket.SHUT_WR)  # pass the half-close on
                    break
                dst.sendall(data)
        except OSError:
            # The other side is gone: close both, which also ends the opposite direction.
            for sock in (self._client, self._upstream):
                _close(sock)
        with self._lock:
            self._finished += 1
            done = self._finished == 2
        if done:
            for sock in (self._client, self._upstream):
                _close(sock)
            self._proxy._closed(self._client, self._upstream)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class ProxyProcess:
    """A :class:`LatencyProxy` in a child process, with the same attributes.

    The child exits when its stdin closes: on :meth:`stop`, or when this process dies.
    """

    def __init__(self, target_port: int, *, delay: float = 0.020) -> None:
        self.target = ("127.0.0.1", target_port)
        self._lock = threading.Lock()
        self._process = subprocess.Popen(
            [sys.executable, __file__, str(target_port), "--delay", repr(delay)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self._ask(None))
        self.url = f"http://127.0.0.1:{self.port}"
        self._delay = delay

    def _ask(self, command: str | None) -> str:
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        with self._lock:
            if command is not None:
                stdin.write(command + "\n")
                stdin.flush()
            line = stdout.readline()
        if not line:
            raise RuntimeError(f"the latency proxy exited ({self._process.poll()})")
        return line.strip()

    @property
    def delay(self) -> float:
        return self._delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self._ask(f"delay {seconds!r}")
        self._delay = seconds

    def reset(self) -> None:
        self._ask("reset")

    def _stats(self) -> dict[str, object]:
        stats: dict[str, object] = json.loads(self._ask("stats"))
        return stats

    @property
    def requests(self) -> list[Request]:
        return [Request(*r) for r in self._stats()["requests"]]  # type: ignore[attr-defined]

    @property
    def connections(self) -> int:
        return int(self._stats()["connections"])  # type: ignore[call-overload]

    def start(self) -> ProxyProcess:
        return self

    def stop(self) -> None:
        """Close the child's stdin so that it stops, and wait; kill it if it does not."""
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> ProxyProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _serve(target_port: int, delay: float) -> None:
    """The child's side of :class:`ProxyProcess`: one command per line, one answer each."""
    with LatencyProxy(target_port, delay=delay) as proxy:
        print(proxy.port, flush=True)
        for line in sys.stdin:
            command, _, argument = line.strip().partition(" ")
            if command == "delay":
                proxy.delay = float(argument)
                answer = "ok"
            elif command == "reset":
                proxy.reset()
                answer = "ok"
            elif command == "stats":
                answer = json.dumps({"requests": proxy.requests, "connections": proxy.connections})
            else:
                answer = json.dumps({"error": f"unknown command {command!r}"})
            print(answer, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A loopback proxy adding latency.")
    parser.add_argument("target_port", type=int)
    parser.add_argument("--delay", type=float, default=0.020, help="seconds each way")
    args = parser.parse_args()
    _serve(args.target_port, args.delay)

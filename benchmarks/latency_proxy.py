"""A loopback TCP proxy that adds network latency and counts HTTP requests (stdlib only).

Latency model: every byte is delayed by ``delay`` seconds in each direction, like a link
with a one-way propagation delay. Each chunk read from one side is stamped with the time it
arrived and written to the other side ``delay`` seconds later (an event-loop timer; the
order of chunks is kept), so the chunks of one message overlap in flight instead of adding
up: a request costs ``delay`` however many TCP segments carry it, and so does its response,
so an HTTP exchange costs one round trip of ``2 × delay``. Opening a connection costs
nothing extra (a real network would add a round trip for TCP's handshake, one or two more
for TLS), so the model favours clients that open many connections, never those that reuse
them. Bandwidth is unlimited and there is no back-pressure: fine for API calls of a few
kilobytes, not for bulk transfers.

Keep-alive connections work: the proxy forwards bytes, and half-closes, until both sides
have closed. Requests are counted by parsing the client→server stream (request line,
headers, and a body of ``Content-Length`` bytes, or chunked up to its last chunk), so a body
that arrives in its own chunk is never counted as a request. Each request keeps its method,
path (without the query) and ``X-Amz-Target`` header, never other headers (tokens,
signatures).

It runs on one asyncio event loop in a background thread. Use it in-process::

    with LatencyProxy(target_port, delay=0.02) as proxy:
        ...  # talk to proxy.url
        proxy.requests  # a list of Request records since the last reset()

or in a process of its own, so that it never competes for the measured process's GIL (the
benchmarks do this), with the same attributes, controlled over a pipe::

    with ProxyProcess(target_port, delay=0.02) as proxy:
        ...

Run alone: ``python benchmarks/latency_proxy.py TARGET_PORT [--delay 0.02]`` prints its
port, then reads commands on stdin (``delay S``, ``reset``, ``stats``) until end of file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["LatencyProxy", "ProxyProcess", "Request"]

_MAX_HEAD = 1 << 20
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
            length = headers.get(b"content-length", b"0").strip()
            self._body_left = int(length) if length.isdigit() else 0


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
        self._open: set[_Connection] = set()
        self._loop = asyncio.new_event_loop()
        self._server = self._loop.run_until_complete(
            self._loop.create_server(lambda: _Connection(self).client_end, host, 0)
        )
        self.port: int = self._server.sockets[0].getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="latency-proxy", daemon=True
        )

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> LatencyProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, abort every open connection, and stop the loop."""

        def shut() -> None:
            self._server.close()
            for conn in list(self._open):
                conn.abort()
            self._loop.stop()

        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(shut)
            self._thread.join(timeout=5)
        else:
            shut()
        if not self._loop.is_running():
            self._loop.close()

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

    def _opened(self, conn: _Connection) -> None:
        with self._lock:
            self._connections += 1
        self._open.add(conn)


class _Pipe:
    """One direction of a connection: chunks in flight, each written when it is due."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, proxy: LatencyProxy, on_eof: Callable[[], None]
    ):
        self._loop = loop
        self._proxy = proxy
        self._on_eof = on_eof  # called once the end of the stream has been passed on
        self._chunks: deque[tuple[float, bytes | None]] = deque()  # None: end of stream
        self._timer: asyncio.TimerHandle | None = None
        self._ended = False  # the end of the stream was read (or the socket closed)
        self.dst: asyncio.Transport | None = None

    def push(self, data: bytes | None) -> None:
        if self._ended:
            return
        self._ended = data is None
        self._chunks.append((self._loop.time() + self._proxy.delay, data))
        self.schedule()

    def schedule(self) -> None:
        if self._timer is None and self._chunks and self.dst is not None:
            self._timer = self._loop.call_at(self._chunks[0][0], self._flush)

    def _flush(self) -> None:
        self._timer = None
        dst = self.dst
        assert dst is not None
        now = self._loop.time()
        first = True
        while self._chunks and (first or self._chunks[0][0] <= now):
            first = False  # the timer fired for the first chunk: it is due
            _, data = self._chunks.popleft()
            if dst.is_closing():
                self._chunks.clear()
                return
            if data is not None:
                dst.write(data)
                continue
            if dst.can_write_eof():
                dst.write_eof()  # pass the half-close on
            self._on_eof()
            return
        self.schedule()


class _End(asyncio.Protocol):
    """One socket of a connection: what it reads goes into ``pipe`` for the other socket."""

    def __init__(self, conn: _Connection, pipe: _Pipe, parser: _RequestParser | None) -> None:
        self._conn = conn
        self._pipe = pipe
        self._parser = parser
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._conn.made(self)

    def data_received(self, data: bytes) -> None:
        if self._parser is not None:
            self._parser.feed(data)
        self._pipe.push(data)

    def eof_received(self) -> bool:
        self._pipe.push(None)
        return True  # keep the other direction open until it ends too

    def connection_lost(self, exc: Exception | None) -> None:
        self._conn.lost(self, exc)


class _Connection:
    """One proxied connection: the client's socket, the upstream socket, two pipes."""

    def __init__(self, proxy: LatencyProxy) -> None:
        loop = proxy._loop
        self._proxy = proxy
        self._ended = 0
        self._up = _Pipe(loop, proxy, self._eof_passed)  # client → server
        self._down = _Pipe(loop, proxy, self._eof_passed)  # server → client
        self.client_end = _End(self, self._up, _RequestParser(proxy._count))
        self.server_end = _End(self, self._down, None)
        self._connecting: asyncio.Task[None] | None = None

    def made(self, end: _End) -> None:
        if end is self.client_end:
            self._down.dst = end.transport
            self._proxy._opened(self)
            self._connecting = self._proxy._loop.create_task(self._connect())
        else:
            self._up.dst = end.transport
            self._up.schedule()  # what the client sent while the connection was being made

    async def _connect(self) -> None:
        loop = self._proxy._loop
        try:
            await loop.create_connection(lambda: self.server_end, *self._proxy.target)
        except OSError:
            self.abort()

    def _eof_passed(self) -> None:
        self._ended += 1
        if self._ended == 2:
            self.close()

    def lost(self, end: _End, exc: Exception | None) -> None:
        if exc is not None:
            self.abort()  # a reset on one side resets the other
            return
        # A closed side ends its direction (if it sent no EOF first, this sends it now).
        pipe = self._up if end is self.client_end else self._down
        pipe.push(None)

    def close(self) -> None:
        for end in (self.client_end, self.server_end):
            if end.transport is not None:
                end.transport.close()
        self._proxy._open.discard(self)

    def abort(self) -> None:
        for end in (self.client_end, self.server_end):
            if end.transport is not None:
                end.transport.abort()
        self._proxy._open.discard(self)


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
        assert stdin is not None
        assert stdout is not None
        with self._lock:
            if command is not None:
                stdin.write(command + "\n")
                stdin.flush()
            line = stdout.readline()
        if not line:
            raise RuntimeError(f"the latency proxy exited ({self._process.poll()})")
        return line.strip()

    @property
    def pid(self) -> int:
        return self._process.pid

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
    with contextlib.suppress(KeyboardInterrupt):
        _serve(args.target_port, args.delay)

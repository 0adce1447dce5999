"""A small web app that refuses to start with invalid configuration.

It loads its settings with ``envguard.load()`` before binding a port: an invalid
configuration prints envguard's report on stderr and exits non-zero, so a deployment fails
at once instead of serving errors. It serves ``/health`` (liveness: ``ok``) and
``/health/detailed`` (``envguard.health``'s JSON: statuses, latencies and problem codes,
never a value). Only the standard library is used, so the example runs anywhere.

    cp .env.example .env && python app.py
"""

from __future__ import annotations

import json
import signal
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType

from settings import Settings

import envguard
from envguard import health

#: The project file next to this module, whatever the working directory.
PROJECT = Path(__file__).resolve().parent / "envguard.toml"
#: A health probe must answer quickly even when a secret store does not.
HEALTH_TIMEOUT = 5.0


class Handler(BaseHTTPRequestHandler):
    """``/health`` and ``/health/detailed``; everything else is a 404."""

    server_version = "envguard-webapp"

    def do_GET(self) -> None:
        if self.path == "/health":
            self._send(HTTPStatus.OK, "text/plain; charset=utf-8", b"ok\n")
        elif self.path == "/health/detailed":
            report = health(Settings, project=PROJECT, timeout=HEALTH_TIMEOUT)
            status = HTTPStatus.OK if report["status"] == "ok" else HTTPStatus.SERVICE_UNAVAILABLE
            body = json.dumps(report, sort_keys=True).encode()
            self._send(status, "application/json", body)
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found\n")

    def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _stop(signum: int, frame: FrameType | None) -> None:
    # In a container the app is PID 1, which ignores SIGTERM unless it handles it.
    raise SystemExit(0)


def main() -> int:
    try:
        settings = envguard.load(Settings, project=PROJECT)
    except envguard.ConfigError as error:
        print(f"webapp: not starting: {error}", file=sys.stderr)
        return error.exit_code  # 1 invalid, 2 project file, 3 a source could not be read
    server = ThreadingHTTPServer((settings.host, settings.port), Handler)
    signal.signal(signal.SIGTERM, _stop)
    print(f"webapp: serving on http://{settings.host}:{settings.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

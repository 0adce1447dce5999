"""A small Starlette app that refuses to start with invalid configuration.

``main()`` loads the settings with ``envguard.load()`` once, before the server starts: an
invalid configuration prints envguard's report on stderr and exits with the error's status
(1 invalid, 2 project file, 3 a source could not be read), so a deployment fails at once
instead of serving errors. Otherwise uvicorn serves the app on the validated ``HOST`` and
``PORT`` at the validated ``LOG_LEVEL``: ``/health`` (liveness: ``ok``) and
``/health/detailed`` (``envguard.health``'s JSON: statuses, latencies and problem codes,
never a value).

    cp .env.example .env && python app.py
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

import uvicorn
from settings import Settings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

import envguard

#: The project file next to this module, whatever the working directory.
PROJECT = Path(__file__).resolve().parent / "envguard.toml"
#: A health probe must answer quickly even when a secret store does not.
HEALTH_TIMEOUT = 5.0


async def liveness(request: Request) -> Response:
    """``GET /health``: the process is up and serving (configuration is not checked)."""
    return PlainTextResponse("ok\n")


def detailed(request: Request) -> Response:
    """``GET /health/detailed``: the configuration resolved and validated again, now.

    A plain ``def``: Starlette runs it in a worker thread, so a slow secret store never
    blocks the event loop (and ``HEALTH_TIMEOUT`` bounds it).
    """
    report = envguard.health(Settings, project=PROJECT, timeout=HEALTH_TIMEOUT)
    return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)


def create_app(settings: Settings) -> Starlette:
    """The ASGI app for settings that were already validated."""
    app = Starlette(
        routes=[
            Route("/health", liveness, methods=["GET"]),
            Route("/health/detailed", detailed, methods=["GET"]),
        ]
    )
    app.state.settings = settings  # loaded once; handlers read request.app.state.settings
    return app


class Server(uvicorn.Server):
    """uvicorn's server, announcing on stdout once its port accepts connections."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)  # exits on a failed bind
        if not self.should_exit:  # not stopped while starting
            print(f"webapp: serving on http://{self.config.host}:{self.config.port}", flush=True)


def _stop(signum: int, frame: FrameType | None) -> None:
    # uvicorn handles SIGTERM while it serves (a graceful shutdown), then raises it again
    # with the handler it found: this one, so a stop exits 0 rather than by the signal.
    raise SystemExit(0)


def main() -> int:
    try:
        settings = envguard.load(Settings, project=PROJECT)
    except envguard.ConfigError as error:
        print(f"webapp: not starting: {error}", file=sys.stderr)
        return error.exit_code  # 1 invalid, 2 project file, 3 a source could not be read
    signal.signal(signal.SIGTERM, _stop)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        server_header=False,  # do not advertise the server and its version
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn has shut down already
        Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

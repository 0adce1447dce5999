"""The web app example (Starlette on uvicorn), booted for real with ``python app.py``.

Valid configuration: it serves its health endpoints on the validated port and stops cleanly
on SIGTERM. Invalid configuration: envguard's report on stderr, the error's exit status, and
no port is ever opened.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.examples.conftest import CANARY, VALID, Start, free_port, is_listening


def test_valid_configuration_serves_both_endpoints(
    start: Start, webapp: Path, clean_env: dict[str, str]
) -> None:
    port = free_port()
    env = clean_env | VALID | {"ENVGUARD_ENV": "production", "PORT": str(port)}
    app = start([sys.executable, "app.py"], webapp, env)
    # The line is printed once uvicorn has bound the port: it is the readiness signal.
    assert app.first_line == f"webapp: serving on http://127.0.0.1:{port}\n"
    assert is_listening(port)

    assert app.get(port, "/health") == (200, "ok\n")
    status, body = app.get(port, "/health/detailed")
    assert status == 200
    assert CANARY not in body
    _, detailed = app.get_json(port, "/health/detailed")
    sources = detailed.pop("sources")
    assert detailed == {
        "status": "ok",
        "env": "production",
        "schema": "Settings",
        "problems": 0,
        "warnings": 0,
        "codes": [],
    }
    assert isinstance(sources, list)
    assert [(s["source"], s["kind"], s["ok"], s["code"]) for s in sources] == [
        ("env", "env", True, None)
    ]
    assert app.get(port, "/nope")[0] == 404

    code, out, err = app.stop()
    assert code == 0  # SIGTERM is handled: a clean stop, also as a container's PID 1
    assert "Shutting down" in err  # uvicorn's graceful shutdown ran
    assert err.rstrip().endswith(f"Finished server process [{app.proc.pid}]")
    assert CANARY not in out + err
    assert not is_listening(port)


def test_development_reads_the_env_example(
    start: Start, webapp: Path, clean_env: dict[str, str]
) -> None:
    shutil.copy(webapp / ".env.example", webapp / ".env")
    port = free_port()
    app = start([sys.executable, "app.py"], webapp, clean_env | {"PORT": str(port)})
    assert app.first_line == f"webapp: serving on http://127.0.0.1:{port}\n"
    status, detailed = app.get_json(port, "/health/detailed")
    assert (status, detailed["status"], detailed["env"]) == (200, "ok", "development")
    sources = detailed["sources"]
    assert isinstance(sources, list)
    assert [s["source"] for s in sources] == ["dotenv .env", "env"]

    # The detailed check resolves again on every request: a broken .env shows at once.
    env_file = webapp / ".env"
    env_file.write_text(
        "\n".join(
            line if not line.startswith("SESSION_SECRET=") else f"SESSION_SECRET={CANARY}"
            for line in env_file.read_text().splitlines()
        )
    )
    status, body = app.get(port, "/health/detailed")
    assert status == 503
    assert CANARY not in body
    _, detailed = app.get_json(port, "/health/detailed")
    assert (detailed["status"], detailed["codes"]) == ("degraded", ["too_short"])
    assert app.get(port, "/health") == (200, "ok\n")  # liveness is not configuration


def test_invalid_configuration_exits_before_serving(
    start: Start, webapp: Path, clean_env: dict[str, str]
) -> None:
    port = free_port()
    env = clean_env | {
        "ENVGUARD_ENV": "production",
        "PORT": str(port),
        "DATABASE_URL": VALID["DATABASE_URL"],
        "SESSION_SECRET": CANARY,  # too short
    }
    app = start([sys.executable, "app.py"], webapp, env)
    code, out, err = app.stop()
    assert app.first_line is None
    assert code == 1
    assert out == ""
    assert err == (
        "webapp: not starting: invalid configuration for environment 'production': 2 problems\n"
        "  error: APP_ENV: required, but not set by any source\n"
        "  error: SESSION_SECRET: must have at least 32 characters (env)\n"
    )
    assert not is_listening(port)


def test_a_project_file_error_exits_2(
    start: Start, webapp: Path, clean_env: dict[str, str]
) -> None:
    port = free_port()
    env = clean_env | VALID | {"ENVGUARD_ENV": "staging", "PORT": str(port)}
    app = start([sys.executable, "app.py"], webapp, env)
    code, out, err = app.stop()
    assert (app.first_line, code, out) == (None, 2, "")
    head = "webapp: not starting: invalid project or schema for environment 'staging'"
    assert err.startswith(head)
    assert "unknown environment 'staging'" in err
    assert CANARY not in err
    assert not is_listening(port)

"""Nothing a source says can act on the terminal: every unprintable character is escaped, in
every output format, in a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FORGED = "x\x1b[2J\rerror: FORGED\u202e\x7f"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "schema.toml").write_text('[vars.NAME]\ntype = "str"\n[vars.PORT]\ntype = "int"\n')
    (tmp_path / "envguard.toml").write_text(
        'schema = "schema.toml"\n[env.dev]\nsources = [{ dotenv = ".env" }]\n'
    )
    (tmp_path / ".env").write_bytes(f'NAME="{FORGED}"\nPORT="{FORGED}"\n'.encode())
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [
        ["check", "dev"],
        ["check", "dev", "--format", "github"],
        ["check", "dev", "--format", "json"],
        ["show", "dev"],
        ["show", "dev", "--format", "json"],
        ["explain", "NAME", "dev"],
        ["explain", "NAME", "dev", "--format", "json"],
    ],
)
def test_unprintable_characters_are_escaped(project: Path, args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "envguard", *args],
        cwd=project,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(project)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    for char in "\x1b\r\u202e\x7f":
        assert char not in output, (args, char)
    assert not any(line.startswith("error: FORGED") for line in output.splitlines())
    if "json" in args:
        json.loads(result.stdout)  # still valid JSON
    if args[0] != "check":
        assert "FORGED" in output  # the value is shown, escaped: not dropped

"""The Docker example, checked without a Docker engine: its instructions agree with the project.

The Dockerfile is parsed by a small line parser; its ENTRYPOINT + CMD command line is then
run locally (``envguard`` → ``python -m envguard``, ``python`` → this interpreter) against
the web app example, as it would run in the image's WORKDIR.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.examples.conftest import CANARY, ROOT, VALID, Start, free_port, is_listening

DOCKERFILE = ROOT / "examples" / "docker" / "Dockerfile"
IGNORE_FILE = ROOT / "examples" / "docker" / "Dockerfile.dockerignore"


@dataclass(frozen=True)
class Instruction:
    name: str
    args: str
    stage: int  # -1 before the first FROM

    def exec_form(self) -> list[str]:
        value = json.loads(self.args)
        assert isinstance(value, list), f"{self.name} should use the exec (JSON) form"
        return [str(v) for v in value]


def parse(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped."""
    out: list[Instruction] = []
    stage, pending = -1, ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        name, _, args = (pending + line).partition(" ")
        pending = ""
        if name.upper() == "FROM":
            stage += 1
        out.append(Instruction(name.upper(), args.strip(), stage))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse(DOCKERFILE.read_text())


def _one(instructions: list[Instruction], name: str) -> Instruction:
    found = [i for i in instructions if i.name == name]
    assert len(found) == 1, f"expected one {name}, found {len(found)}"
    return found[0]


def _final(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


def _args(instructions: list[Instruction]) -> dict[str, str]:
    return dict(i.args.split("=", 1) for i in instructions if i.name == "ARG" and i.stage == -1)


def _image_env(instructions: list[Instruction]) -> dict[str, str]:
    """The final stage's ENV, but PATH (which points into the image)."""
    env: dict[str, str] = {}
    for instruction in _final(instructions):
        if instruction.name == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(instruction.args))
    env.pop("PATH", None)
    return env


def _local(argv: list[str]) -> list[str]:
    """The image's command line, runnable here."""
    out: list[str] = []
    for word in argv:
        if word == "envguard" and not out:
            out += [sys.executable, "-m", "envguard"]
        elif word == "python":
            out.append(sys.executable)
        else:
            out.append(word)
    return out


def test_multi_stage_from_one_pinned_python_image(instructions: list[Instruction]) -> None:
    args = _args(instructions)
    froms = [i.args.split() for i in instructions if i.name == "FROM"]
    assert len(froms) >= 2
    images = {re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], f[0]) for f in froms}
    assert len(images) == 1
    (image,) = images
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", image), image
    assert "latest" not in image
    assert [f[-1] for f in froms] == ["build", "runtime"]
    assert any(i.args.startswith("--from=build ") for i in _final(instructions))


def test_runs_as_a_non_root_user(instructions: list[Instruction]) -> None:
    users = [i for i in _final(instructions) if i.name == "USER"]
    assert users, "the final stage sets no USER"
    user = users[-1].args.split(":")[0]
    assert user not in {"root", "0"}
    assert not user.isdigit() or int(user) > 0
    names = [i.name for i in _final(instructions)]
    assert names.index("USER") < names.index("ENTRYPOINT")


def test_copied_files_exist_and_are_not_ignored(instructions: list[Instruction]) -> None:
    ignore = IGNORE_FILE.read_text()
    for copy in (i for i in instructions if i.name == "COPY"):
        words = [w for w in copy.args.split() if not w.startswith("--")]
        if copy.args.startswith("--from="):
            continue
        for source in words[:-1]:
            assert (ROOT / source).exists(), source
            top = source.split("/")[0]
            assert f"!{top}" in ignore, f"{source} is excluded from the build context"


def test_the_entrypoint_validates_before_the_command(instructions: list[Instruction]) -> None:
    entrypoint = _one(instructions, "ENTRYPOINT").exec_form()
    assert entrypoint == ["envguard", "run", "production", "--"]
    cmd = _one(instructions, "CMD").exec_form()
    assert cmd == ["python", "app.py"]
    workdir = [i.args for i in _final(instructions) if i.name == "WORKDIR"][-1]
    copied = " ".join(i.args for i in _final(instructions) if i.name == "COPY")
    for name in ("app.py", "envguard.toml", "settings.py"):
        assert f"examples/webapp/{name}" in copied, f"{name} is not copied to {workdir}"
    assert "[env.production]" in (ROOT / "examples" / "webapp" / "envguard.toml").read_text()


def test_the_entrypoint_runs_a_command_with_the_values(
    instructions: list[Instruction], webapp: Path, clean_env: dict[str, str]
) -> None:
    entrypoint = _one(instructions, "ENTRYPOINT").exec_form()
    probe = (
        "import os; e = os.environ; print(e['ENVGUARD_ENV'], e['HOST'], len(e['SESSION_SECRET']))"
    )
    env = clean_env | _image_env(instructions) | VALID
    result = subprocess.run(
        _local([*entrypoint, "python", "-c", probe]),
        cwd=webapp,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"production 0.0.0.0 {len(VALID['SESSION_SECRET'])}\n"


def test_the_container_command_line_serves_and_passes_its_healthcheck(
    instructions: list[Instruction], start: Start, webapp: Path, clean_env: dict[str, str]
) -> None:
    argv = _one(instructions, "ENTRYPOINT").exec_form() + _one(instructions, "CMD").exec_form()
    port = free_port()
    # HOST=0.0.0.0 from the image is kept: the app binds every interface, as in a container.
    env = clean_env | _image_env(instructions) | VALID | {"PORT": str(port)}
    healthcheck = _one(instructions, "HEALTHCHECK").args
    found = re.search(r"\bCMD\s+(\[.*\])$", healthcheck)
    assert found, "HEALTHCHECK should run a command in the exec (JSON) form"
    check_argv = json.loads(found.group(1))
    assert check_argv[0] == "python"
    assert (webapp / check_argv[1]).is_file()

    def check() -> int:
        done = subprocess.run(_local(check_argv), cwd=webapp, env=env, timeout=30, check=False)
        return done.returncode

    assert check() == 1  # nothing listens yet
    app = start(_local(argv), webapp, env)
    assert app.first_line == f"webapp: serving on http://0.0.0.0:{port}\n"
    assert app.get(port, "/health") == (200, "ok\n")
    assert check() == 0
    code, out, err = app.stop()
    assert code == 0
    assert CANARY not in out + err


def test_a_misconfigured_container_exits_before_the_app_starts(
    instructions: list[Instruction], start: Start, webapp: Path, clean_env: dict[str, str]
) -> None:
    argv = _one(instructions, "ENTRYPOINT").exec_form() + _one(instructions, "CMD").exec_form()
    port = free_port()
    env = clean_env | _image_env(instructions) | {"PORT": str(port), "SESSION_SECRET": CANARY}
    app = start(_local(argv), webapp, env)
    code, out, err = app.stop()
    assert (app.first_line, code, out) == (None, 1, "")
    # envguard's report, not the app's "webapp: not starting": the app never ran.
    assert err == (
        "invalid configuration for environment 'production': 3 problems\n"
        "  error: APP_ENV: required, but not set by any source\n"
        "  error: DATABASE_URL: required, but not set by any source\n"
        "  error: SESSION_SECRET: must have at least 32 characters (env)\n"
    )
    assert not is_listening(port)

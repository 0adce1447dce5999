"""``envguard docs --output FILE`` (and ``--check``) read and write regular files only.

Real subprocesses, each with a timeout: a FIFO that blocks, a device read until
MemoryError, a replaced device node or a created directory fails the test, never hangs it.
No test writes to a real device: a character device is a node made in the temporary
directory (``os.mknod``), and the real ``/dev/null`` and ``/dev/zero`` are only read.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from envguard.cli._atomic import MAX_READ_BYTES

pytestmark = pytest.mark.skipif(os.name != "posix", reason="FIFOs, device nodes, symlinks")

SCHEMA = '[vars.PORT]\ntype = "int"\ndefault = 3000\n'
PROJECT = 'schema = "app.toml"\n'
TIMEOUT = 20
MEMORY = 1 << 30  # a regression reading /dev/zero hits MemoryError at once, not the host's


def _cap_memory() -> None:
    import resource

    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    soft = MEMORY if hard == resource.RLIM_INFINITY else min(MEMORY, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.toml").write_text(SCHEMA)
    (tmp_path / "envguard.toml").write_text(PROJECT)
    return tmp_path


def _envguard(
    cwd: Path, *args: str, stdout: int | IO[Any] = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        [sys.executable, "-m", "envguard", "docs", *args],
        cwd=cwd,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=TIMEOUT,
        check=False,
        preexec_fn=_cap_memory,
    )


def _tree(root: Path) -> dict[str, tuple[int, int, int, int]]:
    """Every path under ``root`` (symlinks not followed) with its type, inode and device."""
    found = {}
    for path in [root, *root.rglob("*")]:
        info = path.lstat()
        key = (stat.S_IFMT(info.st_mode), info.st_ino, info.st_rdev, info.st_size)
        found[str(path.relative_to(root))] = key
    return found


def _expected(project: Path) -> bytes:
    """What ``docs`` writes for the project: what it prints without ``--output``."""
    result = _envguard(project)
    assert (result.returncode, result.stderr) == (0, "")
    return result.stdout.encode()


def _refused(project: Path, args: list[str], message: str, *, code: int = 2) -> None:
    before = _tree(project)
    result = _envguard(project, *args)
    assert (result.returncode, result.stdout) == (code, "")
    assert result.stderr == f"envguard: error: {message}\n"
    assert "Traceback" not in result.stderr
    assert _tree(project) == before  # nothing created, replaced or left behind


@contextlib.contextmanager
def _device(path: Path) -> Iterator[Path]:
    """A character device node with /dev/null's numbers, made in the temporary directory."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, AttributeError, OSError) as exc:
        pytest.skip(f"cannot make a device node here (needs root or CAP_MKNOD): {exc}")
    yield path
    info = path.lstat()
    assert stat.S_ISCHR(info.st_mode), "the device node was replaced"
    assert info.st_rdev == os.makedev(1, 3)


@pytest.mark.parametrize("check", [False, True], ids=["output", "check"])
def test_a_fifo_is_refused_without_blocking(project: Path, check: bool) -> None:
    os.mkfifo(project / "ENV.md")
    verb = "read" if check else "write"
    args = ["--check", "-o", "ENV.md"] if check else ["-o", "ENV.md"]
    _refused(project, args, f"cannot {verb} ENV.md: is a FIFO (named pipe), not a regular file")
    assert stat.S_ISFIFO((project / "ENV.md").lstat().st_mode)


def test_a_symlink_to_a_fifo_is_refused(project: Path) -> None:
    os.mkfifo(project / "pipe")
    (project / "ENV.md").symlink_to("pipe")
    _refused(
        project, ["-o", "ENV.md"], "cannot write ENV.md: is a FIFO (named pipe), not a regular file"
    )


@pytest.mark.parametrize("check", [False, True], ids=["output", "check"])
def test_a_device_node_is_never_replaced(project: Path, check: bool) -> None:
    with _device(project / "null"):
        verb = "read" if check else "write"
        args = ["--check", "-o", "null"] if check else ["-o", "null"]
        _refused(project, args, f"cannot {verb} null: is a character device, not a regular file")


@pytest.mark.skipif(not os.path.exists("/dev/stdout"), reason="no /dev/stdout")
def test_dev_stdout_redirected_to_a_device_is_not_replaced(project: Path) -> None:
    with _device(project / "null") as node, node.open("w") as sink:
        result = _envguard(project, "-o", "/dev/stdout", stdout=sink)
    assert result.returncode == 2
    assert result.stderr == (
        "envguard: error: cannot write /dev/stdout: is a character device, not a regular file\n"
    )


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero"])
def test_check_never_reads_a_real_device(project: Path, device: str) -> None:
    if not stat.S_ISCHR(os.stat(device).st_mode):
        pytest.skip(f"{device} is not a character device here")
    message = f"cannot read {device}: is a character device, not a regular file"
    _refused(project, ["--check", "-o", device], message)


def test_a_socket_is_refused(project: Path) -> None:
    path = project / "ENV.md"
    if len(os.fsencode(path)) >= 100:
        pytest.skip("the temporary path is too long for a Unix socket")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(os.fspath(path))
        _refused(project, ["-o", "ENV.md"], "cannot write ENV.md: is a socket, not a regular file")


@pytest.mark.parametrize("check", [False, True], ids=["output", "check"])
def test_a_directory_is_refused(project: Path, check: bool) -> None:
    (project / "docs").mkdir()
    verb = "read" if check else "write"
    args = ["--check", "-o", "docs"] if check else ["-o", "docs"]
    _refused(project, args, f"cannot {verb} docs: is a directory, not a regular file")


def test_a_missing_directory_is_not_created(project: Path) -> None:
    message = "cannot write docs/ENV.md: directory docs does not exist"
    _refused(project, ["-o", "docs/ENV.md"], message)
    _refused(project, ["-o", "a/b/ENV.md"], "cannot write a/b/ENV.md: directory a/b does not exist")


def test_a_file_as_the_directory_is_refused(project: Path) -> None:
    message = "cannot write app.toml/ENV.md: app.toml is not a directory"
    _refused(project, ["-o", "app.toml/ENV.md"], message)


def test_a_dangling_symlink_creates_no_directory(project: Path) -> None:
    (project / "ENV.md").symlink_to("nowhere/deeper/ENV.md")
    target = Path(os.path.realpath(project)) / "nowhere" / "deeper"
    message = f"cannot write ENV.md: it links to {target / 'ENV.md'}, and directory {target} "
    _refused(project, ["-o", "ENV.md"], message + "does not exist")
    assert not (project / "nowhere").exists()


def test_check_of_a_missing_file_or_directory_stays_out_of_date(project: Path) -> None:
    (project / "link.md").symlink_to("nowhere/ENV.md")
    for name in ["ENV.md", "docs/ENV.md", "link.md"]:
        before = _tree(project)
        result = _envguard(project, "--check", "-o", name)
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr.startswith(f"envguard: {name} does not exist; regenerate it with:\n")
        assert _tree(project) == before


def test_a_dangling_symlink_into_an_existing_directory_is_written(project: Path) -> None:
    (project / "docs").mkdir()
    (project / "ENV.md").symlink_to("docs/real.md")
    result = _envguard(project, "-o", "ENV.md")
    assert (result.returncode, result.stderr) == (0, "envguard: wrote ENV.md\n")
    assert (project / "ENV.md").is_symlink()
    assert (project / "docs" / "real.md").read_bytes() == _expected(project)


def test_a_regular_file_through_a_symlink_is_replaced_and_checked(project: Path) -> None:
    (project / "docs").mkdir()
    (project / "docs" / "real.md").write_text("old\n")
    (project / "ENV.md").symlink_to("docs/real.md")
    assert _envguard(project, "--check", "-o", "ENV.md").returncode == 1
    result = _envguard(project, "-o", "ENV.md")
    assert (result.returncode, result.stderr) == (0, "envguard: wrote ENV.md\n")
    assert (project / "ENV.md").is_symlink()
    assert (project / "docs" / "real.md").read_bytes() == _expected(project)
    result = _envguard(project, "--check", "-o", "ENV.md")
    assert (result.returncode, result.stderr) == (0, "envguard: ENV.md is up to date\n")


def test_check_of_a_file_over_the_limit_is_out_of_date(project: Path) -> None:
    expected = _expected(project)
    with (project / "ENV.md").open("wb") as fh:
        fh.write(expected)
        fh.truncate(MAX_READ_BYTES + 1 + len(expected))  # sparse: no real disk use
    result = _envguard(project, "--check", "-o", "ENV.md")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("envguard: ENV.md is out of date; regenerate it with:\n")
    result = _envguard(project, "-o", "ENV.md")
    assert result.returncode == 0
    assert (project / "ENV.md").read_bytes() == expected

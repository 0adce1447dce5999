"""The one TOML reader of project and schema files: each failure, as each kind of file says it."""

from __future__ import annotations

import os
import pathlib
import sys
from collections.abc import Callable

import pytest

from envguard._toml import FileKind, load_toml, read_toml
from envguard.errors import ProjectError

Make = Callable[[pathlib.Path], pathlib.Path]


def missing(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "f.toml"


def directory(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "f.toml").mkdir()
    return tmp_path / "f.toml"


def fifo(tmp_path: pathlib.Path) -> pathlib.Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    os.mkfifo(tmp_path / "f.toml")
    return tmp_path / "f.toml"


def unreadable(tmp_path: pathlib.Path) -> pathlib.Path:
    if sys.platform == "win32" or os.geteuid() == 0:
        pytest.skip("needs POSIX permissions, not root")
    (tmp_path / "f.toml").write_text("a = 1\n", encoding="utf-8")
    (tmp_path / "f.toml").chmod(0)
    return tmp_path / "f.toml"


def under_a_file(tmp_path: pathlib.Path) -> pathlib.Path:
    if sys.platform == "win32":
        pytest.skip("Windows says the file is not found")
    (tmp_path / "f").write_text("", encoding="utf-8")
    return tmp_path / "f" / "f.toml"


def content(data: bytes) -> Make:
    def make(tmp_path: pathlib.Path) -> pathlib.Path:
        (tmp_path / "f.toml").write_bytes(data)
        return tmp_path / "f.toml"

    return make


# (file, kind) -> (code, source, message, line, column); {f} is the file's path.
CASES = [
    (missing, "project", ("project_missing", "{f}", "{f}: file not found", None, None)),
    (missing, "schema", ("schema_not_found", "{f}", "schema file not found", None, None)),
    (
        directory,
        "project",
        ("project_unreadable", "{f}", "{f}: is a directory, not a file", None, None),
    ),
    (
        directory,
        "schema",
        ("schema_unreadable", "{f}", "schema path is a directory, not a file", None, None),
    ),
    (fifo, "project", ("project_unreadable", "{f}", "{f}: is not a regular file", None, None)),
    (
        fifo,
        "schema",
        ("schema_unreadable", "{f}", "schema path is not a regular file", None, None),
    ),
    (
        unreadable,
        "project",
        ("project_unreadable", "{f}", "{f}: cannot read: permission denied", None, None),
    ),
    (
        unreadable,
        "schema",
        ("schema_unreadable", "{f}", "cannot read schema file: permission denied", None, None),
    ),
    (
        under_a_file,
        "project",
        ("project_unreadable", "{f}", "{f}: cannot read: not a directory", None, None),
    ),
    (
        under_a_file,
        "schema",
        ("schema_unreadable", "{f}", "cannot read schema file: not a directory", None, None),
    ),
    (
        content(b'a = 1\nb = "caf\xe9"\n'),
        "project",
        ("project_encoding", "{f}:2", "{f}:2: is not valid UTF-8", 2, None),
    ),
    (
        content(b'a = 1\nb = "caf\xe9"\n'),
        "schema",
        (
            "schema_unreadable",
            "{f}",
            "schema file is not valid UTF-8 (byte 0xe9 at line 2, column 9)",
            2,
            9,
        ),
    ),
    (
        content(b"a = 1\nb = \n"),
        "project",
        ("project_syntax", "{f}:2:5", "{f}:2:5: invalid TOML: Invalid value", 2, 5),
    ),
    (
        content(b"a = 1\nb = \n"),
        "schema",
        ("schema_syntax", "{f}", "invalid TOML at line 2, column 5: Invalid value", 2, 5),
    ),
    (
        content(b"a = [\n  1\n"),
        "project",
        (
            "project_syntax",
            "{f}:2",
            "{f}:2: invalid TOML: Unclosed array (at end of file)",
            2,
            None,
        ),
    ),
    (
        content(b"a = [\n  1\n"),
        "schema",
        ("schema_syntax", "{f}", "invalid TOML at end of document: Unclosed array", 2, None),
    ),
]


@pytest.mark.parametrize(("make", "kind", "expected"), CASES)
def test_each_failure_is_one_problem(
    tmp_path: pathlib.Path,
    make: Make,
    kind: FileKind,
    expected: tuple[str, str, str, int | None, int | None],
) -> None:
    path = make(tmp_path)
    with pytest.raises(ProjectError) as info:
        read_toml(path, code_prefix=kind)
    # Neither the OSError nor the decode error (it holds the raw bytes) is chained.
    assert (info.value.__cause__, info.value.__context__) == (None, None)
    [problem] = info.value.problems
    code, source, message, line, column = expected
    f = str(path)
    assert (problem.code, problem.key, problem.category) == (code, None, "project")
    assert (problem.source, problem.message) == (source.format(f=f), message.format(f=f))
    assert (problem.file, problem.line, problem.column) == (f, line, column)


def test_a_file_is_named_as_given(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.toml").write_text("a = \n", encoding="utf-8")
    with pytest.raises(ProjectError) as info:
        read_toml("./f.toml", code_prefix="schema")
    assert info.value.problems[0].file == "./f.toml"


def test_the_text_and_status_come_with_the_data(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "f.toml"
    path.write_bytes(b'\xef\xbb\xbf[t]\nname = "caf\xc3\xa9"\n')
    loaded = load_toml(path)
    assert loaded.data == {"t": {"name": "café"}}
    assert loaded.text == '[t]\nname = "café"\n'  # the byte order mark is dropped
    assert (loaded.stat.st_size, loaded.stat.st_mtime_ns) == (
        path.stat().st_size,
        path.stat().st_mtime_ns,
    )

"""Caches of parsed project and schema files follow the content, not the timestamps."""

from __future__ import annotations

import gc
import os
import weakref
from pathlib import Path

import pytest

from envguard._toml import TomlCache
from envguard.project import load_project
from envguard.schema.toml import compile_schema


def _rewrite_keeping_stat(path: Path, text: str) -> None:
    """Replace the content with a same-size text and give it the old timestamps back, as an
    edit within the filesystem's timestamp granularity looks."""
    before = path.stat()
    assert len(text.encode()) == before.st_size
    path.write_text(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)


def test_a_same_size_edit_with_the_same_mtime_is_seen_in_a_project_file(tmp_path: Path) -> None:
    path = tmp_path / "envguard.toml"
    path.write_text('default_env = "aa"\n[env.aa]\nsources = []\n[env.bb]\nsources = []\n')
    assert load_project(path).default_env == "aa"

    _rewrite_keeping_stat(
        path, 'default_env = "bb"\n[env.aa]\nsources = []\n[env.bb]\nsources = []\n'
    )

    assert load_project(path).default_env == "bb"


def test_a_same_size_edit_with_the_same_mtime_is_seen_in_a_schema(tmp_path: Path) -> None:
    path = tmp_path / "schema.toml"
    path.write_text('[vars.PORT]\ntype = "int"\ndefault = 1000\n')
    assert compile_schema(path).model_fields["port"].default == 1000

    _rewrite_keeping_stat(path, '[vars.PORT]\ntype = "int"\ndefault = 2000\n')

    assert compile_schema(path).model_fields["port"].default == 2000


def test_an_unchanged_file_is_built_once(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text("x = 1\n")
    cache: TomlCache[dict[str, object]] = TomlCache()
    built: list[int] = []

    def make(file: object) -> dict[str, object]:
        built.append(1)
        return {"x": 1}

    first = cache.build(path, "k", make)
    assert cache.build(path, "k", make) is first
    assert len(built) == 1


def test_the_cache_is_bounded_and_keeps_nothing_alive_beyond_it(tmp_path: Path) -> None:
    class Built:
        pass

    cache: TomlCache[Built] = TomlCache(2)
    refs = []
    for n in range(4):
        path = tmp_path / f"{n}.toml"
        path.write_text(f"x = {n}\n")
        built = cache.build(path, n, lambda file: Built())
        refs.append(weakref.ref(built))
        del built
    gc.collect()
    assert [r() is None for r in refs] == [True, True, False, False]


def test_a_failure_is_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text("x = \n")
    cache: TomlCache[int] = TomlCache()
    with pytest.raises(Exception, match="invalid TOML"):
        cache.build(path, "k", lambda file: 1)
    path.write_text("x = 1\n")
    assert cache.build(path, "k", lambda file: 2) == 2

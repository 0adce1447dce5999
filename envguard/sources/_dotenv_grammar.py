"""python-dotenv's dotenv grammar, owned here so that parsing never depends on its version.

A port of ``dotenv.parser`` from python-dotenv 1.2.4 (BSD-3-Clause: Copyright (c) 2014,
Saurabh Kumar (python-dotenv), 2013, Ted Tieken (django-dotenv-rw), 2013, Jacob Kaplan-Moss
(django-dotenv); redistributed under its terms). python-dotenv's releases disagree on a few
inputs (``KEY= # comment``, escaped backslashes before a quote, a leading BOM), so envguard
keeps one grammar and tests it by table: the values are those of python-dotenv 1.2.4's
``dotenv_values`` for the same file. The differences from the original are in what is
reported, not in what is parsed:

- each binding says whether an unquoted value was cut at an inline comment (``cut``), which
  python-dotenv drops silently (a password holding `` #`` loses its tail);
- the position is an offset only (python-dotenv also counts lines with a regex on every
  read); the caller counts lines;
- an unquoted value's comment is found in linear time (python-dotenv's ``\\s+#.*`` is
  quadratic on long runs of spaces), with the same result.

Text must already have universal newlines (``\\n`` only), as python-dotenv sees a file it
opens in text mode.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import NamedTuple

__all__ = ["Binding", "parse_stream"]

_multiline_whitespace = re.compile(r"\s*", re.MULTILINE)
_whitespace = re.compile(r"[^\S\r\n]*")
_export = re.compile(r"(?:export[^\S\r\n]+)?")
_single_quoted_key = re.compile(r"'([^']+)'")
_unquoted_key = re.compile(r"([^=\#\s]+)")
_equal_sign = re.compile(r"(=[^\S\r\n]*)")
# A backslash always escapes the character after it, so that an escaped backslash (`\\`) is
# not mistaken for the start of an escaped quote.
_single_quoted_value = re.compile(r"'((?:\\.|[^'\\])*)'", re.DOTALL)
_double_quoted_value = re.compile(r'"((?:\\.|[^"\\])*)"', re.DOTALL)
_unquoted_value = re.compile(r"([^\r\n]*)")
_comment = re.compile(r"(?:[^\S\r\n]*#[^\r\n]*)?")
_end_of_line = re.compile(r"[^\S\r\n]*(?:\r\n|\n|\r|$)")
_rest_of_line = re.compile(r"[^\r\n]*(?:\r|\n|\r\n)?")
_double_quote_escapes = re.compile(r"\\[\\'\"abfnrtv]")
_single_quote_escapes = re.compile(r"\\[\\']")


class Binding(NamedTuple):
    """One binding: ``key`` None for a blank or comment-only stretch; ``value`` None for a
    bare ``KEY`` line; ``error`` for a line that cannot be parsed (its text is skipped)."""

    key: str | None
    value: str | None
    string: str
    error: bool
    cut: bool = False


class _Error(Exception):
    pass


class _Reader:
    __slots__ = ("mark", "pos", "string")

    def __init__(self, string: str) -> None:
        self.string = string.removeprefix("\ufeff")
        self.pos = 0
        self.mark = 0

    def read_regex(self, regex: re.Pattern[str]) -> tuple[str | None, ...]:
        match = regex.match(self.string, self.pos)
        if match is None:
            raise _Error
        self.pos = match.end()
        return match.groups()

    def peek(self) -> str:
        return self.string[self.pos : self.pos + 1]

    def marked(self) -> str:
        return self.string[self.mark : self.pos]


def _decode_escapes(regex: re.Pattern[str], string: str) -> str:
    return regex.sub(lambda m: codecs.decode(m.group(0), "unicode-escape"), string)


def _strip_comment(part: str) -> tuple[str, bool]:
    """``re.sub(r"\\s+#.*", "", part).rstrip()`` in linear time, and whether it cut text.

    The leftmost match of ``\\s+#`` starts at the whitespace run before the first ``#``
    that follows whitespace; everything from there is the comment.
    """
    hash_at = part.find("#", 1)
    while hash_at != -1 and not part[hash_at - 1].isspace():
        hash_at = part.find("#", hash_at + 1)
    if hash_at == -1:
        return part.rstrip(), False
    return part[:hash_at].rstrip(), True


def _parse_value(reader: _Reader) -> tuple[str, bool]:
    char = reader.peek()
    if char == "'":
        (value,) = reader.read_regex(_single_quoted_value)
        return _decode_escapes(_single_quote_escapes, value or ""), False
    if char == '"':
        (value,) = reader.read_regex(_double_quoted_value)
        return _decode_escapes(_double_quote_escapes, value or ""), False
    if char in ("", "\n", "\r"):
        return "", False
    (part,) = reader.read_regex(_unquoted_value)
    return _strip_comment(part or "")


def _parse_binding(reader: _Reader) -> Binding:
    reader.mark = reader.pos
    try:
        reader.read_regex(_multiline_whitespace)
        if reader.pos >= len(reader.string):
            return Binding(None, None, reader.marked(), False)
        reader.read_regex(_export)
        key: str | None
        if reader.peek() == "#":
            key = None
        elif reader.peek() == "'":
            (key,) = reader.read_regex(_single_quoted_key)
        else:
            (key,) = reader.read_regex(_unquoted_key)
        reader.read_regex(_whitespace)
        value: str | None = None
        cut = False
        if reader.peek() == "=":
            (equal_sign,) = reader.read_regex(_equal_sign)
            # `KEY= # comment` (whitespace after "=", then "#"): an empty value and an inline
            # comment. Without the whitespace (`KEY=#x`) the "#" is part of the value.
            if len(equal_sign or "") > 1 and reader.peek() == "#":
                value = ""
            else:
                value, cut = _parse_value(reader)
        reader.read_regex(_comment)
        reader.read_regex(_end_of_line)
        return Binding(key, value, reader.marked(), False, cut)
    except _Error:
        reader.read_regex(_rest_of_line)
        return Binding(None, None, reader.marked(), True)


def parse_stream(text: str) -> Iterator[Binding]:
    """The bindings of ``text`` in order; their ``string``s add up to ``text`` (one leading
    BOM aside)."""
    reader = _Reader(text)
    while reader.pos < len(reader.string):
        yield _parse_binding(reader)

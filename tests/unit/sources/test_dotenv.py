"""The dotenv source: parsing, problems, interpolation, file reading, and python-dotenv parity."""

from __future__ import annotations

import importlib.metadata
import io
import os
import sys
from pathlib import Path
from unittest import mock

import dotenv
import pytest
from dotenv.variables import _posix_variable, parse_variables
from hypothesis import given, settings
from hypothesis import strategies as st

from envguard.errors import ConfigError, SourceDenied, SourceError, SourceNotFound
from envguard.report import Problem
from envguard.sources import BuildContext, _dotenv_expand, source_class
from envguard.sources import dotenv as dotenv_module
from envguard.sources._dotenv_expand import MAX_EXPANDED_BYTES, Expander, split_references
from envguard.sources._dotenv_parse import parse_dotenv
from envguard.sources._retry import Deadline
from envguard.sources.base import Fetched
from envguard.sources.dotenv import MAX_DOTENV_BYTES, DotenvSource

DEADLINE = Deadline(10)
CANARY = "s3cr3t-CANARY-value"


def parse(text: str, *, environ: dict[str, str] | None = None, interpolate: bool = True) -> Fetched:
    return parse_dotenv(
        text, file=".env", source="dotenv .env", interpolate=interpolate, environ=environ or {}
    )


def values(fetched: Fetched) -> dict[str, str]:
    return {key: value.text for key, value in fetched.values.items()}


def shapes(fetched: Fetched) -> list[tuple[str, int | None, str, str | None, str]]:
    """Each problem as (E or W, line, code, key, message without its ``.env:LINE: `` head)."""
    out = []
    for p in fetched.problems:
        head = f".env:{p.line}: "
        assert p.message.startswith(head)
        # A file's content is wrong: fix a value (exit 1), not the source's access.
        assert (p.source, p.file, p.category) == (f"dotenv .env:{p.line}", ".env", "validation")
        out.append((p.severity[0].upper(), p.line, p.code, p.key, p.message[len(head) :]))
    return out


SYNTAX = "cannot parse this line (expected KEY=value)"
AFTER_QUOTE = "cannot parse this line (unexpected text after the closing quote)"
NO_VALUE = 'a name without "=" is not set; write NAME= for an empty value'
INLINE_COMMENT = (
    'the unquoted value of {} ends at " #": the rest of the line is a comment; quote the value'
    ' if it holds " #"'
)
NEVER_CLOSED = "the {} quote opened on this line is never closed"
CLOSED_LATE = (
    "the {} quote opened on this line is not closed until line {}, where the text after it"
    " cannot be parsed (is a closing quote missing?)"
)
SWALLOWS = (
    "the {} quote opened on this line runs on to line {} and takes in line {}, which looks"
    " like KEY=value (is a closing quote missing?)"
)
DUPLICATE = "{} is defined again (first on line {}); the last definition wins"
HINT = "; to keep ${ literally, single-quote the value"


def undefined(key: str, name: str) -> str:
    return (
        f"{key} uses ${{{name}}}, which is not defined above this line or in the environment{HINT}"
    )


def hidden(key: str) -> str:
    return f"{key} uses an undefined ${{…}} reference{HINT}"


LATER = (
    "{} uses ${{{}}}, which is defined only later, on line {}; a value can use only keys"
    " defined above it or in the environment"
)


# --- values python-dotenv's grammar gives, with no problem ---------------------------------

VALID = [
    ("", {}),
    ("A=1", {"A": "1"}),
    ("A=1\nB=2\n", {"A": "1", "B": "2"}),
    ("export A=1", {"A": "1"}),
    ("export   A=1", {"A": "1"}),
    ("exportA=1", {"exportA": "1"}),
    ("  A = 1  ", {"A": "1"}),
    ("A=", {"A": ""}),
    ("A= # comment", {"A": ""}),
    ("A=#not-a-comment", {"A": "#not-a-comment"}),
    ("A=b#c", {"A": "b#c"}),
    ("# comment\n\n   \nA=1", {"A": "1"}),
    ("A='single'", {"A": "single"}),
    ('A="double"', {"A": "double"}),
    ('A="a\\nb"', {"A": "a\nb"}),
    ("A='a\\nb'", {"A": "a\\nb"}),
    ('A="say \\"hi\\""', {"A": 'say "hi"'}),
    ("A='it\\'s'", {"A": "it's"}),
    ('A="a # not a comment" # comment', {"A": "a # not a comment"}),
    ('A="line 1\nline 2"\nB=2', {"A": "line 1\nline 2", "B": "2"}),
    # python-dotenv reads a file with universal newlines: a CRLF file's value has "\n".
    ("A='x\r\ny'\r\nB=2", {"A": "x\ny", "B": "2"}),
    ('A="x\r\ny"\rB=2', {"A": "x\ny", "B": "2"}),
    ("'A'=1", {"A": "1"}),
    ("A=1\r\nB=2\r\n", {"A": "1", "B": "2"}),
    ("A=1\rB=2\r", {"A": "1", "B": "2"}),
    ("\ufeffA=1", {"A": "1"}),
    ("A=héllo wörld ✓", {"A": "héllo wörld ✓"}),
    ("A=a b  c", {"A": "a b  c"}),
    ("A=$NOT_EXPANDED", {"A": "$NOT_EXPANDED"}),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_valid_values(text: str, expected: dict[str, str]) -> None:
    fetched = parse(text)
    assert values(fetched) == expected
    assert fetched.problems == []


#: The python-dotenv release envguard's grammar is ported from (sources/_dotenv_grammar.py).
GRAMMAR_FROM = "1.2.4"
same_python_dotenv = pytest.mark.skipif(
    importlib.metadata.version("python-dotenv") != GRAMMAR_FROM,
    reason=f"envguard's grammar follows python-dotenv {GRAMMAR_FROM}, which is not installed",
)


@same_python_dotenv
@pytest.mark.parametrize(("text", "expected"), VALID)
def test_valid_values_match_python_dotenv(
    text: str, expected: dict[str, str], tmp_path: Path
) -> None:
    # Read from a file, as load_dotenv and pydantic-settings read one (text mode).
    path = tmp_path / ".env"
    path.write_bytes(text.encode())
    assert dict(dotenv.dotenv_values(path, interpolate=False)) == expected


INLINE_COMMENTS = [
    ("A=b # comment", {"A": "b"}, [1]),
    ("A=b\tc  #x\nB=1", {"A": "b\tc", "B": "1"}, [1]),
    ("PASSWORD=abc #def\n", {"PASSWORD": "abc"}, [1]),
    ("A=b#c\nB=x #\n", {"A": "b#c", "B": "x"}, [2]),
    ("A= # only a comment\nB='x #y'\nC=\"x #y\"", {"A": "", "B": "x #y", "C": "x #y"}, []),
]


@pytest.mark.parametrize(("text", "expected", "lines"), INLINE_COMMENTS)
def test_an_unquoted_value_cut_at_an_inline_comment_is_a_warning(
    text: str, expected: dict[str, str], lines: list[int]
) -> None:
    fetched = parse(text)
    assert values(fetched) == expected
    assert [(p.line, p.code, p.severity) for p in fetched.problems] == [
        (line, "dotenv_inline_comment", "warning") for line in lines
    ]
    for problem in fetched.problems:
        # The key is named; nothing of the value (before or after the "#") is quoted.
        assert problem.key in expected
        assert "def" not in problem.message
        assert "abc" not in problem.message


@same_python_dotenv
@pytest.mark.parametrize(("text", "expected", "lines"), INLINE_COMMENTS)
def test_inline_comment_values_match_python_dotenv(
    text: str, expected: dict[str, str], lines: list[int], tmp_path: Path
) -> None:
    path = tmp_path / ".env"
    path.write_bytes(text.encode())
    assert dict(dotenv.dotenv_values(path, interpolate=False)) == expected


# --- the line of each key ------------------------------------------------------------------

LINES = [
    ("A=1\nB=2\nC=3", {"A": 1, "B": 2, "C": 3}),
    ("\n\n# c\n\n  A=1\n", {"A": 5}),
    ("A=1\r\nB=2\r\n\r\nC=3", {"A": 1, "B": 2, "C": 4}),
    ("A=1\rB=2\r\rC=3", {"A": 1, "B": 2, "C": 4}),
    ("A=1\r\nB=2\nC=3\rD=4", {"A": 1, "B": 2, "C": 3, "D": 4}),
    ('A="1\n2\n3"\nB=2', {"A": 1, "B": 4}),
    ('A="1\r\n2"\r\nB=2', {"A": 1, "B": 3}),
    # python-dotenv's error recovery stops between "\r" and "\n"; the lines must not drift.
    ("A=1\r\nbad line\r\nB=2\r\nC=3\r\n", {"A": 1, "B": 3, "C": 4}),
    ("bad 1\r\nbad 2\r\nbad 3\r\nB=2", {"B": 4}),
    ("\ufeff\nA=1", {"A": 2}),
]


@pytest.mark.parametrize(("text", "expected"), LINES)
def test_key_lines(text: str, expected: dict[str, int]) -> None:
    fetched = parse(text)
    assert {key: value.origin.line for key, value in fetched.values.items()} == expected


def test_origin_names_source_file_and_line() -> None:
    fetched = parse_dotenv("\nPORT=8080\n", file="deploy/.env", source="dotenv .env.staging")
    origin = fetched.values["PORT"].origin
    assert (origin.source, origin.file, origin.line) == ("dotenv .env.staging", "deploy/.env", 2)
    assert str(origin) == "dotenv .env.staging:2"


# --- problems: codes, severities, lines, keys and exact messages ----------------------------

PROBLEMS = [
    ("A=1\nnot a binding\nB=2", {"A": "1", "B": "2"}, [("E", 2, "dotenv_syntax", None, SYNTAX)]),
    (
        "bad one\nA=1\n=value\nB=2\nC 3",
        {"A": "1", "B": "2"},
        [("E", line, "dotenv_syntax", None, SYNTAX) for line in (1, 3, 5)],
    ),
    ('A="quoted"junk\nB=2', {"B": "2"}, [("E", 1, "dotenv_syntax", "A", AFTER_QUOTE)]),
    (
        'A=1\nB="never closed\nC=3\n',
        {"A": "1", "C": "3"},
        [("E", 2, "dotenv_unterminated_quote", "B", NEVER_CLOSED.format('"'))],
    ),
    (
        "A='never closed\nC=3",
        {"C": "3"},
        [("E", 1, "dotenv_unterminated_quote", "A", NEVER_CLOSED.format("'"))],
    ),
    # Closed by the next value's opening quote: python-dotenv silently drops B and C.
    (
        'A="open\nB=1\nC="x"\nD=4',
        {"B": "1", "C": "x", "D": "4"},
        [("E", 1, "dotenv_unterminated_quote", "A", CLOSED_LATE.format('"', 3))],
    ),
    # Closed by a stray quote at the end of a later line: valid, but it swallows KEY=value.
    (
        'A="open\nB=1\nC=2"\nD=4',
        {"A": "open\nB=1\nC=2", "D": "4"},
        [("W", 1, "dotenv_unterminated_quote", "A", SWALLOWS.format('"', 3, 2))],
    ),
    (
        "A=1\nB=2\nA=3\nA=4",
        {"A": "4", "B": "2"},
        [
            ("W", 3, "dotenv_duplicate_key", "A", DUPLICATE.format("A", 1)),
            ("W", 4, "dotenv_duplicate_key", "A", DUPLICATE.format("A", 3)),
        ],
    ),
    (
        "A=1\nDEBUG\nB=2 # ok\nexport FLAG # comment",
        {"A": "1", "B": "2"},
        [
            ("W", 2, "dotenv_no_value", None, NO_VALUE),
            ("W", 3, "dotenv_inline_comment", "B", INLINE_COMMENT.format("B")),
            ("W", 4, "dotenv_no_value", None, NO_VALUE),
        ],
    ),
    (
        'A=1\r\nbad line\r\nB="x\r\nC=3',
        {"A": "1", "C": "3"},
        [
            ("E", 2, "dotenv_syntax", None, SYNTAX),
            ("E", 3, "dotenv_unterminated_quote", "B", NEVER_CLOSED.format('"')),
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected_values", "expected_problems"), PROBLEMS)
def test_problems(
    text: str,
    expected_values: dict[str, str],
    expected_problems: list[tuple[str, int, str, str | None, str]],
) -> None:
    fetched = parse(text)
    assert values(fetched) == expected_values
    assert shapes(fetched) == expected_problems


def test_problem_fields_point_github_annotations_at_the_line() -> None:
    (problem,) = parse_dotenv(
        "A=1\n\nnot a binding", file="config/.env", source="dotenv config/.env"
    ).problems
    assert problem == Problem(
        key=None,
        source="dotenv config/.env:3",
        code="dotenv_syntax",
        message="config/.env:3: cannot parse this line (expected KEY=value)",
        severity="error",
        category="validation",
        file="config/.env",
        line=3,
    )


def test_legit_multiline_values_raise_no_problem() -> None:
    text = (
        'CERT="-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\ndGVzdA==\n'
        '-----END CERTIFICATE-----"\n'
        'JSON=\'{\n  "a": 1,\n  "b": "x=y"\n}\'\nNEXT=1\n'
    )
    fetched = parse(text)
    assert fetched.problems == []
    assert list(values(fetched)) == ["CERT", "JSON", "NEXT"]
    assert fetched.values["NEXT"].origin.line == 9


def test_every_malformed_line_is_reported_and_parsing_continues() -> None:
    text = "\n".join(f"K{i}=ok\nbroken line {i}" for i in range(50))
    fetched = parse(text)
    assert len(values(fetched)) == 50
    assert [p.line for p in fetched.problems] == list(range(2, 101, 2))


@pytest.mark.parametrize("space", [" ", "\t", "\u3000", " \t"])
def test_long_runs_of_whitespace_parse_as_python_dotenv_parses_them(space: str) -> None:
    # python-dotenv strips comments with a regex that is quadratic on whitespace runs (this
    # file takes it minutes); envguard's grammar finds the same comment in linear time.
    run = (space * 200_000)[:200_000]
    fetched = parse(f"A=1\nB=x{run}y\nC=x{run}y#c\nD=x{run}")
    assert values(fetched) == {"A": "1", "B": f"x{run}y", "C": f"x{run}y#c", "D": "x"}
    assert [(p.code, p.line) for p in fetched.problems] == []
    fetched = parse(f"E=x{run}# comment\n")
    assert values(fetched) == {"E": "x"}
    assert [(p.code, p.line) for p in fetched.problems] == [("dotenv_inline_comment", 1)]


# --- no value ever leaks into a problem ----------------------------------------------------

LEAKY = [
    f"{CANARY}",
    f"A {CANARY}",
    f"A='{CANARY}'junk",
    f'A="{CANARY}"junk',
    f'A="{CANARY}\nB=1\nC="x"',
    f'A="{CANARY}\nB=1\nC=2"',
    f"A='{CANARY}",
    f"PASSWORD=pre${{{CANARY}}}post",
    f"A=pre${{{CANARY}}}",
    f"URL=postgres://u:${{{CANARY}}}@h/db",
]


@pytest.mark.parametrize("text", LEAKY)
def test_problems_never_echo_values(text: str) -> None:
    fetched = parse(text)
    assert fetched.problems
    for problem in fetched.problems:
        assert CANARY not in repr(problem)
        assert CANARY.lower() not in str(problem).lower()


# --- interpolation -------------------------------------------------------------------------

INTERPOLATION = [
    ("A=1\nB=${A}", {}, {"A": "1", "B": "1"}),
    ("A=1\nB=x${A}y${A}z", {}, {"A": "1", "B": "x1y1z"}),
    ('A=1\nB="${A}"', {}, {"A": "1", "B": "1"}),
    ("A=1\nB='${A}'", {}, {"A": "1", "B": "${A}"}),
    ("B=${HOME}", {"HOME": "/root"}, {"B": "/root"}),
    ("HOME=/file\nB=${HOME}", {"HOME": "/env"}, {"HOME": "/file", "B": "/file"}),
    ("PATH=${PATH}:/opt/bin", {"PATH": "/bin"}, {"PATH": "/bin:/opt/bin"}),
    ("A=${MISSING:-fallback}", {}, {"A": "fallback"}),
    ("A=${MISSING:-}", {}, {"A": ""}),
    ("E=\nA=${E:-fallback}", {}, {"E": "", "A": ""}),
    ("A=${SET:-fallback}", {"SET": ""}, {"A": ""}),
    ("A=1\nB=${A:-${C}}", {}, {"A": "1", "B": "1}"}),
    ("A=${X:-a:b-c}", {}, {"A": "a:b-c"}),
    ("A=${A:x}", {}, {"A": "${A:x}"}),
    ("A=${unclosed", {}, {"A": "${unclosed"}),
    ("A=$${X}", {"X": "1"}, {"A": "$1"}),
    ('A="\\${X}"', {"X": "1"}, {"A": "\\1"}),
    ("A=${X}", {"X": "${Y}"}, {"A": "${Y}"}),
    ("A='${Y}'\nB=${A}", {"Y": "no"}, {"A": "${Y}", "B": "${Y}"}),
    ("A=1\nA=${A}2\nA=${A}3", {}, {"A": "123"}),
]


@pytest.mark.parametrize(("text", "environ", "expected"), INTERPOLATION)
def test_interpolation(text: str, environ: dict[str, str], expected: dict[str, str]) -> None:
    fetched = parse(text, environ=environ)
    assert values(fetched) == expected
    assert [p for p in fetched.problems if p.code != "dotenv_duplicate_key"] == []


def test_interpolation_off_keeps_references() -> None:
    fetched = parse("A=1\nB=${A}\nC=${NOPE}", interpolate=False)
    assert values(fetched) == {"A": "1", "B": "${A}", "C": "${NOPE}"}
    assert fetched.problems == []


V_UNDEFINED = "dotenv_undefined_variable"
INTERPOLATION_PROBLEMS = [
    ("A=${NOPE}\nB=2", {"B": "2"}, [("E", 1, V_UNDEFINED, "A", undefined("A", "NOPE"))]),
    (
        "A=${X}${Y}${X}",
        {},
        [("E", 1, V_UNDEFINED, "A", undefined("A", name)) for name in ("X", "Y")],
    ),
    ("A=${A}", {}, [("E", 1, V_UNDEFINED, "A", undefined("A", "A"))]),
    (
        "URL=http://${HOST}/\nHOST=example.org",
        {"HOST": "example.org"},
        [("E", 1, V_UNDEFINED, "URL", LATER.format("URL", "HOST", 2))],
    ),
    # The name sits inside a secret-looking value, or is no name at all: it is not echoed.
    (
        "DB_PASSWORD=ab${cd}ef",
        {},
        [("E", 1, V_UNDEFINED, "DB_PASSWORD", hidden("DB_PASSWORD"))],
    ),
    ("A=${not a name}", {}, [("E", 1, V_UNDEFINED, "A", hidden("A"))]),
    # A key that failed leaves the keys using it unset, without a second problem.
    (
        "A=${NOPE}\nB=${A}\nC=${A:-default}\nD=ok",
        {"D": "ok"},
        [("E", 1, V_UNDEFINED, "A", undefined("A", "NOPE"))],
    ),
    ("FLAG\nB=${FLAG}", {}, [("W", 1, "dotenv_no_value", None, NO_VALUE)]),
]


@pytest.mark.parametrize(("text", "expected_values", "expected_problems"), INTERPOLATION_PROBLEMS)
def test_interpolation_problems(
    text: str,
    expected_values: dict[str, str],
    expected_problems: list[tuple[str, int, str, str | None, str]],
) -> None:
    fetched = parse(text)
    assert values(fetched) == expected_values
    assert shapes(fetched) == expected_problems


def test_billion_laughs_stops_at_the_cap() -> None:
    lines = ["L0=" + "x" * 1000]
    lines += [f"L{i}=${{L{i - 1}}}${{L{i - 1}}}" for i in range(1, 40)]
    lines.append("AFTER=${L39}")
    lines.append("FINE=ok")
    fetched = parse("\n".join(lines))
    # 1000 * 2**10 = 1,024,000 chars fits; L11 would be twice that.
    assert set(values(fetched)) == {f"L{i}" for i in range(11)} | {"FINE"}
    message = f"L11 expands to more than {MAX_EXPANDED_BYTES} bytes"
    assert shapes(fetched) == [("E", 12, "dotenv_expansion_too_large", "L11", message)]


def test_expansion_cap_counts_utf8_bytes() -> None:
    wide = "é" * (MAX_EXPANDED_BYTES // 4)  # 2 bytes each: half the cap
    fetched = parse(f"A={wide}\nB=${{A}}${{A}}\nC=${{A}}${{A}}${{A}}")
    assert "B" in fetched.values
    assert [(p.code, p.key) for p in fetched.problems] == [("dotenv_expansion_too_large", "C")]


def test_total_expansion_across_the_file_is_capped() -> None:
    big = "x" * (MAX_EXPANDED_BYTES - 10)
    lines = [f"BIG={big}"] + [f"K{i}=-${{BIG}}" for i in range(40)] + ["LAST=ok"]
    fetched = parse("\n".join(lines))
    assert [(p.code, p.key) for p in fetched.problems] == [("dotenv_expansion_too_large", "K16")]
    assert fetched.problems[0].message.endswith(
        f"expansions in this file add up to more than {16 * 1024 * 1024} bytes"
    )
    assert "K15" in fetched.values
    assert "K17" not in fetched.values
    assert fetched.values["LAST"].text == "ok"


def test_pathological_references_scan_in_linear_time() -> None:
    # python-dotenv's regex backtracks quadratically on this (minutes at this size).
    value = "${" * 200_000
    assert split_references(value) == [value]
    assert values(parse("A=" + value)) == {"A": value}


def linear_split(value: str) -> list[str | None]:
    with mock.patch.object(_dotenv_expand, "_REGEX_BUDGET", -1):
        return split_references(value)


REFERENCE_CASES = [
    "",
    "plain",
    "${A}",
    "${A:-x}",
    "${A:x}",
    "${A:-}",
    "${}",
    "${:-d}",
    "${A:-${B}}",
    "${${A}}",
    "$${A}}",
    "a${b}c${d:-e}f",
    "${a:b}${c}",
    "${a:-b:-c}",
    "${a-b}",
    "${a:-b",
    "${a",
    "${a:}${b}",
]


@pytest.mark.parametrize("value", REFERENCE_CASES)
def test_reference_split_matches_python_dotenv(value: str) -> None:
    expected = _posix_variable.split(value)
    assert split_references(value) == expected
    assert linear_split(value) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="${}:-ab", max_size=40))
def test_linear_split_matches_python_dotenv_on_random_text(value: str) -> None:
    assert linear_split(value) == _posix_variable.split(value)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="${}:-ab", max_size=40), st.booleans())
def test_expansion_matches_python_dotenv_on_random_text(value: str, linear: bool) -> None:
    environ = {"a": "A", "b": "", "": "E", "a-b": "AB"}
    expander = Expander(environ)
    undefined = [
        match["name"]
        for match in _posix_variable.finditer(value)
        if match["name"] not in environ and match["default"] is None
    ]
    with mock.patch.object(_dotenv_expand, "_REGEX_BUDGET", -1 if linear else 1 << 16):
        if undefined:
            with pytest.raises(_dotenv_expand.ExpandFailed) as info:
                expander.expand(value)
            assert info.value.names == tuple(dict.fromkeys(undefined))
            return
        result, _, _ = expander.expand(value)
    assert result == "".join(atom.resolve(environ) for atom in parse_variables(value))


# --- sensitivity ---------------------------------------------------------------------------

SENSITIVE = [
    ("PORT=8080", {"PORT": False}),
    ("API_TOKEN=abc", {"API_TOKEN": True}),
    ("DB_PASSWORD=abc", {"DB_PASSWORD": True}),
    ("DATABASE_URL=postgres://user:pw@db/app", {"DATABASE_URL": True}),
    ("DATABASE_URL=postgres://db/app", {"DATABASE_URL": False}),
    ("SECRET_KEY=abc\nCOPY=${SECRET_KEY}", {"SECRET_KEY": True, "COPY": True}),
    ("PW=${DB_PASSWORD}", {"PW": True}),  # from the environment, by name
    ("USER_=u\nDSN=pg://${USER_}:${PW}@h", {"USER_": False, "DSN": True}),
]


@pytest.mark.parametrize(("text", "expected"), SENSITIVE)
def test_secret_looking_values_are_sensitive(text: str, expected: dict[str, bool]) -> None:
    fetched = parse(text, environ={"DB_PASSWORD": "pw", "PW": "pw"})
    assert {key: value.sensitive for key, value in fetched.values.items()} == expected
    for value in fetched.values.values():
        if value.sensitive:
            assert value.text not in repr(value)


# --- parity with python-dotenv on valid files ----------------------------------------------

NAMES = ["EGT_A", "EGT_B", "EGT_C", "EGT_D", "EGT_E"]
PLAIN = st.text(alphabet="abcXYZ019_-./:@,+", min_size=1, max_size=8)
QUOTED = st.text(alphabet="abc XYZ09#:'=,\\\n", max_size=8).map(
    lambda s: s.replace("\\", "\\\\").replace("\n", "\\n")
)


@st.composite
def dotenv_files(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    environ = draw(st.dictionaries(st.sampled_from(NAMES), PLAIN | st.just("${EGT_A}")))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    defined = set(environ)
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.booleans()) and draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "# comment", "   "])))
            continue
        key = draw(st.sampled_from(NAMES))
        style = draw(st.sampled_from(["plain", "double", "single"]))
        parts = []
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["text", "ref", "default"]))
            if kind == "ref" and defined and style != "single":
                parts.append("${%s}" % draw(st.sampled_from(sorted(defined))))  # noqa: UP031
            elif kind == "default" and style != "single":
                name = draw(st.sampled_from(NAMES))
                parts.append("${%s:-%s}" % (name, draw(PLAIN)))  # noqa: UP031
            else:
                parts.append(draw(PLAIN if style == "plain" else QUOTED))
        body = "".join(parts)
        if style == "double":
            body = '"' + body.replace('"', "") + '"'
        elif style == "single":
            body = "'" + body.replace("'", "") + "'"
        elif draw(st.booleans()):
            body += " # trailing comment"
        prefix = draw(st.sampled_from(["", "export ", "  "]))
        equals = draw(st.sampled_from(["=", " = ", "= "]))
        lines.append(f"{prefix}{key}{equals}{body}")
        defined.add(key)
    return newline.join(lines), environ


@same_python_dotenv
@settings(max_examples=300, deadline=None)
@given(dotenv_files())
def test_resolved_values_match_python_dotenv(case: tuple[str, dict[str, str]]) -> None:
    text, environ = case
    assert not any(name in os.environ for name in NAMES)
    with mock.patch.dict(os.environ, environ):
        for interpolate in (True, False):
            expected = dotenv.dotenv_values(stream=io.StringIO(text), interpolate=interpolate)
            fetched = parse(text, environ=environ, interpolate=interpolate)
            assert [p for p in fetched.problems if p.severity == "error"] == []
            assert values(fetched) == dict(expected)


# --- the source: reading files ---------------------------------------------------------------


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def fetch_error(source: DotenvSource) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        source.fetch(DEADLINE)
    error = info.value
    assert error.__cause__ is None
    assert error.__context__ is None
    return error


def only_problem(error: ConfigError) -> tuple[str, str | None, str, int | None, str | None]:
    (problem,) = error.problems
    # The error's class and its problem's category name the same remedy (one exit code).
    assert problem.category == type(error).category
    assert problem.severity == "error"
    return (problem.code, problem.source, problem.message, problem.line, problem.file)


def test_fetch_reads_a_file(in_tmp: Path) -> None:
    (in_tmp / ".env.staging").write_bytes(b"\xef\xbb\xbfPORT=8080\r\nexport HOST=${H}\r\n")
    source = DotenvSource(".env.staging", environ={"H": "example.org"})
    fetched = source.fetch(DEADLINE)
    assert values(fetched) == {"PORT": "8080", "HOST": "example.org"}
    assert str(fetched.values["HOST"].origin) == "dotenv .env.staging:2"
    assert fetched.values["HOST"].origin.file == ".env.staging"
    assert source.describe() == "dotenv .env.staging"
    assert repr(source) == "<DotenvSource dotenv .env.staging>"


def test_fetch_reads_the_process_environment_by_default(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EGT_FROM_ENV", "yes")
    (in_tmp / ".env").write_text("A=${EGT_FROM_ENV}\n")
    assert values(DotenvSource(".env").fetch(DEADLINE)) == {"A": "yes"}
    assert values(DotenvSource(".env", interpolate=False).fetch(DEADLINE)) == {
        "A": "${EGT_FROM_ENV}"
    }


def test_absolute_path_below_cwd_is_shown_relative(in_tmp: Path) -> None:
    (in_tmp / "conf").mkdir()
    (in_tmp / "conf" / ".env").write_text("A=1\n")
    source = DotenvSource(in_tmp / "conf" / ".env")
    assert source.describe() == "dotenv conf/.env"
    assert source.fetch(DEADLINE).values["A"].origin.file == "conf/.env"


def test_missing_file(in_tmp: Path) -> None:
    error = fetch_error(DotenvSource(".env.staging"))
    assert isinstance(error, SourceNotFound)
    assert only_problem(error) == (
        "dotenv_missing",
        "dotenv .env.staging",
        ".env.staging: file not found",
        None,
        ".env.staging",
    )
    assert error.exit_code == 3


def test_missing_optional_file_gives_nothing(in_tmp: Path) -> None:
    assert DotenvSource(".env", optional=True).fetch(DEADLINE) == Fetched()
    assert DotenvSource("no/such/dir/.env", optional=True).fetch(DEADLINE) == Fetched()


def test_path_through_a_file_is_missing(in_tmp: Path) -> None:
    (in_tmp / "file").write_text("")
    error = fetch_error(DotenvSource("file/.env"))
    assert isinstance(error, SourceNotFound)


def test_directory(in_tmp: Path) -> None:
    (in_tmp / ".env").mkdir()
    error = fetch_error(DotenvSource(".env", optional=True))
    assert type(error) is SourceError
    assert only_problem(error)[:3] == ("dotenv_not_a_file", "dotenv .env", ".env: is a directory")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_is_never_opened(in_tmp: Path) -> None:
    os.mkfifo(in_tmp / ".env")  # opening it for reading would block without a writer
    error = fetch_error(DotenvSource(".env"))
    assert only_problem(error)[:3] == (
        "dotenv_not_a_file",
        "dotenv .env",
        ".env: is not a regular file",
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_swapped_for_a_fifo_after_stat_is_caught_without_blocking(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    os.mkfifo(in_tmp / "fifo")
    (in_tmp / ".env").write_text("A=1\n")
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, flags: real_open(in_tmp / "fifo", flags))
    error = fetch_error(DotenvSource(".env"))
    assert only_problem(error)[2] == ".env: is not a regular file"


def test_permission_denied(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (in_tmp / ".env").write_text("A=1\n")

    def deny(path: object, flags: int) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "open", deny)
    error = fetch_error(DotenvSource(".env"))
    assert isinstance(error, SourceDenied)
    assert only_problem(error)[:3] == (
        "dotenv_permission_denied",
        "dotenv .env",
        ".env: permission denied",
    )


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="needs POSIX permissions, not root"
)
def test_permission_denied_for_real(in_tmp: Path) -> None:
    path = in_tmp / ".env"
    path.write_text("A=1\n")
    path.chmod(0)
    error = fetch_error(DotenvSource(".env"))
    assert isinstance(error, SourceDenied)


def test_other_os_errors(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (in_tmp / ".env").write_text("A=1\n")

    def fail(path: object, flags: int) -> int:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "open", fail)
    error = fetch_error(DotenvSource(".env"))
    assert only_problem(error)[:3] == (
        "dotenv_unreadable",
        "dotenv .env",
        ".env: cannot read the file (Input/output error)",
    )


def test_too_large_by_stat_is_not_read(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with (in_tmp / ".env").open("wb") as handle:
        handle.truncate(MAX_DOTENV_BYTES + 1)  # sparse: no 4 MiB written
    monkeypatch.setattr(os, "open", mock.Mock(side_effect=AssertionError("opened")))
    error = fetch_error(DotenvSource(".env"))
    assert only_problem(error)[:3] == (
        "dotenv_too_large",
        "dotenv .env",
        f".env: file is too large ({MAX_DOTENV_BYTES + 1} bytes; the limit is"
        f" {MAX_DOTENV_BYTES} bytes)",
    )


def test_too_large_when_it_grew_after_stat(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (in_tmp / ".env").write_text("A=1\n" * 10)
    monkeypatch.setattr(dotenv_module, "MAX_DOTENV_BYTES", 39)
    error = fetch_error(DotenvSource(".env"))
    assert only_problem(error)[2] == ".env: file is too large (40 bytes; the limit is 39 bytes)"
    (in_tmp / "small").write_text("")
    monkeypatch.setattr(os, "stat", lambda path: os.lstat(in_tmp / "small"))
    error = fetch_error(DotenvSource(".env"))
    assert only_problem(error)[2] == (
        ".env: file is too large (over 39 bytes; the limit is 39 bytes)"
    )


ENCODING = [
    (b"A=1\nB=\xff\n", 2),
    (b"A=1\r\nB=2\r\nC=caf\xe9", 3),
    (b"A=1\rB=2\rC=\xc3", 3),
    (b"\xef\xbb\xbf\n\nA=\x80", 3),
]


@pytest.mark.parametrize(("data", "line"), ENCODING)
def test_not_utf8(in_tmp: Path, data: bytes, line: int) -> None:
    (in_tmp / ".env").write_bytes(data)
    error = fetch_error(DotenvSource(".env"))
    assert only_problem(error) == (
        "dotenv_encoding",
        f"dotenv .env:{line}",
        f".env:{line}: not valid UTF-8 (the first invalid byte is on this line)",
        line,
        ".env",
    )
    assert "Traceback" not in str(error)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        pytest.param("A=1\nB=2\n".encode("utf-16"), "UTF-16", id="utf-16-bom"),
        pytest.param("A=1\nB=2\n".encode("utf-16-le"), "UTF-16", id="utf-16-le"),
        pytest.param("A=1\nB=2\n".encode("utf-16-be"), "UTF-16", id="utf-16-be"),
        pytest.param("A=1\n".encode("utf-32"), "UTF-32", id="utf-32-bom"),
    ],
)
def test_a_utf16_file_is_named_as_such(in_tmp: Path, data: bytes, named: str) -> None:
    (in_tmp / ".env").write_bytes(data)
    error = fetch_error(DotenvSource(".env"))
    assert type(error) is ConfigError  # the file's content: fix it (exit 1)
    assert only_problem(error) == (
        "dotenv_encoding",
        "dotenv .env",
        f".env: is {named}, not UTF-8 (save it as UTF-8)",
        None,
        ".env",
    )


def test_a_declared_utf16_encoding_reads_a_utf16_file(in_tmp: Path) -> None:
    (in_tmp / ".env").write_bytes("A=1\nB=2\n".encode("utf-16"))
    fetched = DotenvSource(".env", encoding="utf-16").fetch(DEADLINE)
    assert {k: v.text for k, v in fetched.values.items()} == {"A": "1", "B": "2"}


def test_nul_byte(in_tmp: Path) -> None:
    (in_tmp / ".env").write_bytes(b"A=1\nB=x\x00y\n")
    error = fetch_error(DotenvSource(".env"))
    assert only_problem(error)[2:4] == (
        ".env:2: contains a NUL byte, which no environment variable can hold",
        2,
    )


def test_secret_in_undecodable_file_does_not_leak(in_tmp: Path) -> None:
    (in_tmp / ".env").write_bytes(f"PASSWORD={CANARY}\xff".encode("latin-1"))
    error = fetch_error(DotenvSource(".env"))
    assert CANARY not in str(error) + repr(error) + repr(error.problems)


# --- the source: project-file entries ------------------------------------------------------


def context(tmp_path: Path) -> BuildContext:
    return BuildContext(
        env_name="staging",
        base_dir=tmp_path / "proj",
        project_file=tmp_path / "proj" / "envguard.toml",
        environ={"FROM_CTX": "ctx"},
    )


def test_registry_builds_a_dotenv_source() -> None:
    assert source_class("dotenv") is DotenvSource


def test_from_entry_resolves_against_the_project_dir(in_tmp: Path) -> None:
    (in_tmp / "proj").mkdir()
    (in_tmp / "proj" / ".env.staging").write_text("A=${FROM_CTX}\n")
    entry = {"dotenv": ".env.staging", "optional": True}
    source = DotenvSource.from_entry(entry, context(in_tmp))
    assert source.describe() == "dotenv .env.staging"
    assert source.path == in_tmp / "proj" / ".env.staging"
    assert source.optional is True
    assert source.interpolate is True
    fetched = source.fetch(DEADLINE)
    assert values(fetched) == {"A": "ctx"}
    assert fetched.values["A"].origin.file == "proj/.env.staging"
    assert str(fetched.values["A"].origin) == "dotenv .env.staging:1"


def test_from_entry_keeps_absolute_paths(tmp_path: Path) -> None:
    path = tmp_path / "abs.env"
    source = DotenvSource.from_entry({"dotenv": str(path), "interpolate": False}, context(tmp_path))
    assert source.path == path
    assert source.interpolate is False


BAD_ENTRIES = [
    ({"dotenv": 1}, 'a dotenv source is written { dotenv = "path/to/.env" }'),
    ({"dotenv": " "}, 'a dotenv source is written { dotenv = "path/to/.env" }'),
    ({"dotenv": ".env", "optional": "yes"}, "'optional' of dotenv .env must be true or false"),
    ({"dotenv": ".env", "interpolate": 1}, "'interpolate' of dotenv .env must be true or false"),
    (
        {"dotenv": ".env", "charset": "latin-1"},
        "unknown key 'charset' in dotenv source (accepted: dotenv, encoding, interpolate, "
        "optional)",
    ),
    (
        {"dotenv": ".env", "encoding": "klingon-8"},
        "'encoding' of dotenv .env is not a known encoding",
    ),
]


@pytest.mark.parametrize(("entry", "message"), BAD_ENTRIES)
def test_bad_entries(tmp_path: Path, entry: dict[str, object], message: str) -> None:
    from envguard.errors import ProjectError

    with pytest.raises(ProjectError) as info:
        DotenvSource.from_entry(entry, context(tmp_path))
    (problem,) = info.value.problems
    assert problem.message == message
    assert problem.category == "project"


def test_construction_does_no_io(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("stat", "open", "lstat"):
        monkeypatch.setattr(os, name, mock.Mock(side_effect=AssertionError(name)))
    source = DotenvSource.from_entry({"dotenv": ".env"}, context(tmp_path))
    assert source.describe() == "dotenv .env"


# --- guesses python-dotenv makes silently, reported ----------------------------------------


def test_interpolating_a_secret_looking_process_variable_warns_and_makes_the_value_secret() -> None:
    environ = {"AWS_SECRET_ACCESS_KEY": CANARY, "HOME": "/home/me"}
    fetched = parse(
        "APP_NAME=${AWS_SECRET_ACCESS_KEY}\nCOPY=${APP_NAME}\nDIR=${HOME}/x\n", environ=environ
    )

    assert [(p.line, p.code, p.key, p.severity) for p in fetched.problems] == [
        (1, "dotenv_secret_interpolated", "APP_NAME", "warning")
    ]
    assert fetched.problems[0].message == (
        ".env:1: APP_NAME takes in ${AWS_SECRET_ACCESS_KEY} from the process environment,"
        " whose name looks secret; APP_NAME is treated as secret from here on"
    )
    assert {k: v.sensitive for k, v in fetched.values.items()} == {
        "APP_NAME": True,
        "COPY": True,  # it took in a secret value too
        "DIR": False,
    }
    assert CANARY not in repr(fetched.problems)


def test_problems_per_file_are_capped_and_the_rest_counted() -> None:
    from envguard.sources._dotenv_parse import MAX_PROBLEMS

    text = "A=1\n" + "not a line\n" * 5000 + "B=2\n"
    fetched = parse(text)

    assert values(fetched) == {"A": "1", "B": "2"}
    assert len(fetched.problems) == MAX_PROBLEMS + 1
    last = fetched.problems[-1]
    assert (last.code, last.severity, last.line) == ("dotenv_more_problems", "error", None)
    assert last.message == (
        f".env: {5000 - MAX_PROBLEMS} more problems in this file are not shown"
        f" (the first {MAX_PROBLEMS} are)"
    )


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(
                ['A="', "A='", "export ", "${", "${A:-", "#", " #", "\\", "=", "\r", "\ufeff"]
            ),
            st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
        ),
        max_size=30,
    ).map("\n".join)
)
def test_fuzzed_files_never_crash_and_never_echo_an_unquoted_secret(text: str) -> None:
    environ = {"AWS_SECRET_ACCESS_KEY": CANARY}
    fetched = parse_dotenv(
        text + f"\nPASSWORD={CANARY}\n", file=".env", source="dotenv .env", environ=environ
    )
    assert len(fetched.problems) <= 101
    for problem in fetched.problems:
        assert CANARY not in problem.message
        assert problem.line is None or problem.line >= 1

"""A pure dotenv parser: python-dotenv's grammar, envguard's line numbers and problems.

:func:`parse_dotenv` runs the dotenv grammar (:mod:`envguard.sources._dotenv_grammar`,
python-dotenv's, owned here) once over the text and turns each
binding into a :class:`~envguard.sources.base.Value` whose origin names the file and the
1-based line of its key. What python-dotenv logs or accepts silently becomes a
:class:`~envguard.report.Problem` (category ``validation``: the file's content is wrong)
naming the file and line and never the value, and parsing always continues:

* ``dotenv_syntax`` (error): a line python-dotenv cannot parse.
* ``dotenv_unterminated_quote``: a quote never closed (error); or, as a warning, a
  multi-line quoted value that swallows lines looking like ``KEY=value``.
* ``dotenv_no_value`` (warning): a bare ``NAME`` line without ``=``. python-dotenv yields
  ``None``, which ``load_dotenv`` skips; envguard does not set the key either, and says so.
* ``dotenv_duplicate_key`` (warning): a key defined again; the last definition wins.
* ``dotenv_undefined_variable``, ``dotenv_expansion_too_large`` (errors): see
  :mod:`envguard.sources._dotenv_expand` for the ``${VAR}`` semantics. A key that fails is
  left unset, and keys that use it are left unset without a further problem.
* ``dotenv_inline_comment`` (warning): an unquoted value cut at `` #`` (the rest of the
  line is a comment; a password holding `` #`` would lose its tail).
* ``dotenv_secret_interpolated`` (warning): a value takes in a process-environment
  variable whose name looks secret; the value is secret from then on.

Values are python-dotenv's (``dotenv_values``) for every file without errors, except that
single-quoted values are not interpolated (as in POSIX shells, docker compose and dotenvx;
python-dotenv issue #422). Where a file has errors: an undefined ``${VAR}`` is an error, not
``""``; after a quote that runs on into later lines and then fails to parse, parsing resumes
on the line after the quote (python-dotenv drops those lines; at most :data:`MAX_RESYNCS`
times per file); and line numbers stay right in CRLF files after a malformed line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import replace

from envguard._secrecy import looks_secret, portable_name, url_has_credentials
from envguard.report import Problem, Severity
from envguard.sources._dotenv_expand import (
    MAX_EXPANDED_BYTES,
    MAX_EXPANDED_TOTAL_BYTES,
    Expander,
    ExpandFailed,
)
from envguard.sources._dotenv_grammar import Binding, parse_stream
from envguard.sources.base import Fetched, Origin, Value

__all__ = ["MAX_PROBLEMS", "parse_dotenv", "undefined_hidden"]

#: The most problems reported for one file; the rest are counted in one more problem.
MAX_PROBLEMS = 100
#: How many times parsing restarts after a runaway quote (each restart copies the rest).
MAX_RESYNCS = 100

_EMPTY: Mapping[str, str] = {}
_LEADING_WS = re.compile(r"\s*")
_NEWLINE = re.compile(r"\r\n|\n|\r")
# python-dotenv's grammar up to the first character of the value.
_HEAD = re.compile(
    r"(?:export[^\S\r\n]+)?(?P<key>'[^']+'|[^'=#\s][^=#\s]*)[^\S\r\n]*=[^\S\r\n]*(?P<quote>['\"])?"
)
_CLOSED_ON_LINE = {
    '"': re.compile(r'(?:\\[^\r\n]|[^"\\\r\n])*"'),
    "'": re.compile(r"(?:\\[^\r\n]|[^'\\\r\n])*'"),
}
# A line that looks like KEY=value, but not like the tail of base64 (``dGVzdA==``).
_KEY_LIKE = re.compile(r"[^\S\r\n]*(?:export[^\S\r\n]+)?[A-Za-z_][A-Za-z0-9_]*[^\S\r\n]*=")
_BASE64_TAIL = re.compile(r"[A-Za-z0-9+/]+={1,2}\s*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A line of a pasted base64 key or token, which the grammar reads as ``KEY=`` or ``KEY==``:
# long, no "_", and either "+"/"/" or both letter cases with a digit (variable names are
# not written so).
_BASE64_KEY = re.compile(r"[A-Za-z0-9+/]{16,}")
_MIXED = re.compile(r"(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])")


def _pasted_line(key: str, value: str | None) -> bool:
    if value not in ("", "=") or not _BASE64_KEY.fullmatch(key):
        return False
    return "+" in key or "/" in key or _MIXED.match(key) is not None


_UNDEFINED_HINT = "; to keep ${ literally, single-quote the value"


def undefined_hidden(key: str) -> str:
    """The undefined-reference message that quotes nothing of the value: for a secret (the
    reference's name sits inside the value, which may be a secret holding ``${``)."""
    return f"{_named(key)} uses an undefined ${{…}} reference{_UNDEFINED_HINT}"


def _named(key: str) -> str:
    """How a message names ``key``: itself when it is a portable name, else by its line."""
    return key if portable_name(key) else "the key on this line"


def parse_dotenv(
    text: str,
    *,
    file: str,
    source: str,
    interpolate: bool = True,
    environ: Mapping[str, str] | None = None,
) -> Fetched:
    """Parse dotenv ``text`` into values with origins, and the problems found on the way.

    Args:
        text: the file's content (one leading BOM is ignored).
        file: the file as shown in messages and annotations (``.env.staging``).
        source: the source's description, used in origins (``dotenv .env.staging``).
        interpolate: expand ``${VAR}`` and ``${VAR:-default}`` outside single quotes.
        environ: the process environment that references may read; None means none.

    Returns:
        The values in file order (a redefined key keeps its first position, with its last
        value), and the problems, in line order.
    """
    # Universal newlines, as python-dotenv reads a file it opens in text mode: a CRLF
    # file's multi-line values get "\n" line breaks, and every break counts one line.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _Parser(text, file, source, interpolate, environ).run()


class _Parser:
    def __init__(
        self,
        text: str,
        file: str,
        source: str,
        interpolate: bool,
        environ: Mapping[str, str] | None,
    ) -> None:
        self.text = text
        self.file = file
        self.source = source
        self.interpolate = interpolate
        self.out = Fetched()
        self.expander = Expander(_EMPTY if environ is None else environ, self.out.values)
        self.lines: dict[str, int] = {}  # key -> line of its latest definition
        self.undefined: list[tuple[int, str, str, int]] = []  # problem index, key, name, line
        self.suppressed = 0

    def problem(
        self,
        code: str,
        line: int,
        message: str,
        *,
        key: str | None = None,
        severity: Severity = "error",
    ) -> None:
        if len(self.out.problems) >= MAX_PROBLEMS:
            self.suppressed += 1
            return
        if key is not None and not portable_name(key):
            key = None  # a fragment of a pasted secret, for all envguard knows: never shown
        self.out.problems.append(
            Problem(
                key=key,
                source=f"{self.source}:{line}",
                code=code,
                message=f"{self.file}:{line}: {message}",
                severity=severity,
                category="validation",
                file=self.file,
                line=line,
            )
        )

    def breaks(self, start: int, end: int) -> int:
        """Line breaks in ``text[start:end]`` (the text has ``\\n`` breaks only)."""
        return self.text.count("\n", start, end)

    def run(self) -> Fetched:
        text = self.text
        line, resyncs = 1, 0
        pos, bindings = self.bindings_from(0)
        restarted = True
        while restarted:
            restarted = False
            for key, value, string, error, cut in bindings:
                end = pos + len(string)
                breaks = text.count("\n", pos, end)
                if string[:1].isspace():  # blank lines before the key
                    lead = _LEADING_WS.match(string).end()  # type: ignore[union-attr]
                    line_here = line + self.breaks(pos, pos + lead)
                else:
                    lead, line_here = 0, line
                if error:
                    resume = self.bad_line(pos + lead, line_here, end)
                    if resume is not None and resyncs < MAX_RESYNCS:
                        # The quote ran on into later lines: parse them again, as
                        # python-dotenv would have had the quote been closed.
                        resyncs += 1
                        line = line_here + 1
                        pos, bindings = self.bindings_from(resume)
                        restarted = True
                        break
                elif key is not None:
                    # Breaks after the key's line, but for the one ending the binding.
                    inner = breaks - (line_here - line) - (string[-1] == "\n")
                    self.bind(key, value, pos + lead, line_here, end, inner > 0)
                    if cut:
                        self.problem(
                            "dotenv_inline_comment",
                            line_here,
                            f'the unquoted value of {_named(key)} ends at " #": the rest of the'
                            ' line is a comment; quote the value if it holds " #"',
                            key=key,
                            severity="warning",
                        )
                line += breaks
                pos = end
        self.hint_forward_references()
        if self.suppressed:
            errors = any(p.severity == "error" for p in self.out.problems)
            self.out.problems.append(
                Problem(
                    key=None,
                    source=self.source,
                    code="dotenv_more_problems",
                    message=f"{self.file}: {self.suppressed} more problems in this file"
                    f" are not shown (the first {MAX_PROBLEMS} are)",
                    severity="error" if errors else "warning",
                    category="validation",
                    file=self.file,
                )
            )
        return self.out

    def bindings_from(self, pos: int) -> tuple[int, Iterator[Binding]]:
        """The bindings of ``text[pos:]``, and the offset they really start at (past one
        BOM there, which the grammar drops)."""
        text = self.text
        rest = text[pos:] if pos else text
        if rest.startswith("\ufeff"):
            pos += 1
        return pos, parse_stream(rest)

    def line_end(self, start: int) -> int:
        """The offset just past the line break ending the line at ``start`` (or the end)."""
        lf = self.text.find("\n", start)
        return len(self.text) if lf == -1 else lf + 1

    def bad_line(self, start: int, line: int, end: int) -> int | None:
        """Report a binding python-dotenv could not parse; the offset to resume at, if any."""
        head = _HEAD.match(self.text, start, end)
        quote = head["quote"] if head else None
        if head is None or quote is None:
            self.problem("dotenv_syntax", line, "cannot parse this line (expected KEY=value)")
            return None
        key = head["key"].strip("'")
        if _CLOSED_ON_LINE[quote].match(self.text, head.end()):
            self.problem(
                "dotenv_syntax",
                line,
                "cannot parse this line (unexpected text after the closing quote)",
                key=key,
            )
            return None
        next_line = self.line_end(start)
        if next_line >= end:
            self.problem(
                "dotenv_unterminated_quote",
                line,
                f"the {quote} quote opened on this line is never closed",
                key=key,
            )
            return None
        closed_on = line + self.breaks(start, self.content_end(start, end))
        self.problem(
            "dotenv_unterminated_quote",
            line,
            f"the {quote} quote opened on this line is not closed until line {closed_on},"
            " where the text after it cannot be parsed (is a closing quote missing?)",
            key=key,
        )
        return next_line

    def bind(
        self, key: str, value: str | None, start: int, line: int, end: int, multiline: bool
    ) -> None:
        out = self.out.values
        if _pasted_line(key, value):
            self.problem(
                "dotenv_syntax",
                line,
                "this line looks like part of a pasted key or token (base64), not KEY=value;"
                " it was skipped (quote a multi-line value)",
            )
            return
        lines = self.lines
        previous = lines.get(key)
        lines[key] = line
        if previous is not None and value is not None:
            self.problem(
                "dotenv_duplicate_key",
                line,
                f"{_named(key)} is defined again (first on line {previous}); the last"
                " definition wins",
                key=key,
                severity="warning",
            )
        if value is None:
            # The name is not echoed: a bare word may be a line of a pasted secret.
            # python-dotenv, docker's env-file format and dotenv-linter all read it as
            # declared without a value: a warning, and the key stays unset.
            self.problem(
                "dotenv_no_value",
                line,
                'a name without "=" is not set; write NAME= for an empty value',
                severity="warning",
            )
            out.pop(key, None)
            self.expander.failed.add(key)
            return
        quote = ""
        expand = self.interpolate and "${" in value
        if multiline or expand:
            quote = self.quote_of(start, end)
            if multiline and quote:
                self.check_swallowed(key, quote, start, line, self.content_end(start, end))
        sensitive = looks_secret(key)
        if expand and quote != "'":
            try:
                value, used_secret, secret_env = self.expander.expand(value)
            except ExpandFailed as exc:
                failure: ExpandFailed | None = exc
            else:
                failure = None
                sensitive = sensitive or used_secret
                for name in secret_env:
                    self.problem(
                        "dotenv_secret_interpolated",
                        line,
                        f"{_named(key)} takes in ${{{name}}} from the process environment, whose"
                        f" name looks secret; {_named(key)} is treated as secret from here on",
                        key=key,
                        severity="warning",
                    )
            if failure is not None:
                sensitive = sensitive or url_has_credentials(value)
                self.expansion_failed(key, line, failure, sensitive=sensitive)
                out.pop(key, None)
                self.expander.failed.add(key)
                return
        if not sensitive and "://" in value:
            sensitive = url_has_credentials(value)
        failed = self.expander.failed
        if failed:
            failed.discard(key)
        out[key] = Value(value, Origin(self.source, self.file, line), sensitive)

    def quote_of(self, start: int, end: int) -> str:
        """The quote (``'``, ``"``) that opens the value of the binding at ``start``, or ``""``."""
        text = self.text
        if text[start] != "'":  # an unquoted key cannot hold "=": the first "=" ends it
            equals = text.find("=", start, end)
            after = text[equals + 1 : equals + 2]
            if equals != -1 and not after.isspace():
                return after if after in ("'", '"') else ""
        head = _HEAD.match(text, start, end)
        return (head["quote"] or "") if head else ""

    def content_end(self, start: int, end: int) -> int:
        """``end`` without the one line break that ends a binding."""
        return end - 1 if end > start and self.text[end - 1] == "\n" else end

    def check_swallowed(self, key: str, quote: str, start: int, line: int, end: int) -> None:
        """Warn when a multi-line quoted value holds lines that look like ``KEY=value``."""
        body = _NEWLINE.split(self.text[start:end])
        for offset, text in enumerate(body[1:], start=1):
            if _KEY_LIKE.match(text) and not _BASE64_TAIL.fullmatch(text):
                self.problem(
                    "dotenv_unterminated_quote",
                    line,
                    f"the {quote} quote opened on this line runs on to line"
                    f" {line + len(body) - 1} and takes in line {line + offset}, which looks"
                    " like KEY=value (is a closing quote missing?)",
                    key=key,
                    severity="warning",
                )
                return

    def expansion_failed(self, key: str, line: int, exc: ExpandFailed, *, sensitive: bool) -> None:
        if exc.code == "poisoned":
            return  # it uses a key that failed, which is reported already
        if exc.code == "too_large":
            message = f"{_named(key)} expands to more than {MAX_EXPANDED_BYTES} bytes"
            self.problem("dotenv_expansion_too_large", line, message, key=key)
            return
        if exc.code == "total_too_large":
            message = (
                f"expansions in this file add up to more than {MAX_EXPANDED_TOTAL_BYTES} bytes"
            )
            self.problem("dotenv_expansion_too_large", line, message, key=key)
            return
        hint = _UNDEFINED_HINT
        for name in exc.names:
            if sensitive or not _IDENT.fullmatch(name):
                # The name sits inside the value, which may be a secret holding "${".
                self.problem("dotenv_undefined_variable", line, undefined_hidden(key), key=key)
                return
            self.undefined.append((len(self.out.problems), key, name, line))
            message = (
                f"{_named(key)} uses ${{{name}}}, which is not defined above this line or in the"
            )
            self.problem("dotenv_undefined_variable", line, f"{message} environment{hint}", key=key)

    def hint_forward_references(self) -> None:
        """Say so when an undefined name is defined further down the file."""
        problems = self.out.problems
        for index, key, name, line in self.undefined:
            later = self.lines.get(name)
            if later is not None and later > line:
                message = (
                    f"{self.file}:{line}: {_named(key)} uses ${{{name}}}, which is defined only"
                    f" later, on line {later}; a value can use only keys defined above it"
                    " or in the environment"
                )
                problems[index] = replace(problems[index], message=message)

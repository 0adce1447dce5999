"""Whether a value is secret: the one decision every reader of a value asks.

A low module (no pydantic, no sources, no schema) so that sources, the schema reader,
validation and rendering all share it. The schema's declaration wins (``secret = true``,
``SecretStr``; ``secret = false`` declares a value public); without one a value is secret
when its source holds secrets, its name looks secret, or it is a URL with a password.
"""

from __future__ import annotations

import functools
import re

__all__ = ["is_secret", "looks_secret", "portable_name", "url_has_credentials"]

_SECRET_NAME = re.compile(
    r"(^|_)(SECRET|TOKEN|PASSWORD|PASSWD|PASS|KEY|PRIVATE_KEY|API_KEY|CREDENTIALS?)$",
    re.IGNORECASE,
)
_URL_CREDENTIALS = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@\s]*:[^/@\s]*@")


_PORTABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def portable_name(name: str) -> bool:
    """Whether ``name`` is a portable variable name (POSIX: letters, digits, ``_``). A key
    that is not may be a fragment of a pasted secret (``k+Zm9v/YmFy``): messages name its
    line, never its text."""
    return _PORTABLE.fullmatch(name) is not None


@functools.lru_cache(maxsize=8192)
def looks_secret(name: str) -> bool:
    """Whether a variable name looks like it holds a secret (``*_TOKEN``, ``DB_PASSWORD``)."""
    return bool(_SECRET_NAME.search(name))


def url_has_credentials(value: str) -> bool:
    """Whether ``value`` is a URL with a password in it (``postgres://u:p@host/db``)."""
    return "@" in value and "://" in value and bool(_URL_CREDENTIALS.match(value))


def is_secret(declared: bool | None, name: str, text: str | None, sensitive: bool) -> bool:
    """The secrecy of one value.

    Args:
        declared: the schema's declaration (True: secret, False: declared public), or None.
        name: the variable's name, for the name heuristic.
        text: the value, for the URL-credentials check (None when there is no value).
        sensitive: the source marked the value secret (Vault, AWS, a secret-looking
            dotenv key or interpolation).
    """
    if declared is not None:
        return declared
    return sensitive or looks_secret(name) or (text is not None and url_has_credentials(text))

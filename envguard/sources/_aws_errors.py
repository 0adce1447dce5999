"""The one table that turns botocore failures into envguard errors, for the AWS sources.

A failure is classified by its botocore error code first, then by its HTTP status (some
servers and proxies answer without an AWS code), then by the botocore exception class for
failures that never reached a server (connection errors, missing credentials or region).
Each rule says whether :func:`~envguard.sources._retry.call_with_retry` may retry it, which
:class:`~envguard.errors.SourceError` subclass reports it, and the plain words to use.
Messages never quote the service's own message or body: only the error code name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from envguard.errors import SourceDenied, SourceError, SourceNotFound, SourceUnavailable
from envguard.report import Problem
from envguard.sources._retry import DeadlineExceeded

__all__ = [
    "ERROR_CODES",
    "EXCEPTION_NAMES",
    "Failure",
    "Rule",
    "classify",
    "classify_code",
    "is_transient",
]


@dataclass(frozen=True, slots=True)
class Rule:
    """How one kind of failure is reported.

    Attributes:
        error: the ``SourceError`` subclass raised for it.
        code: the problem code (``aws_access_denied``).
        transient: whether it is retried inside the deadline.
        text: the message, formatted with ``what`` (``secret 'myapp/staging'``) and
            ``action`` (the IAM permission the read needs).
    """

    error: type[SourceError]
    code: str
    transient: bool
    text: str


THROTTLED: Final = Rule(
    SourceUnavailable,
    "aws_throttled",
    True,
    "AWS kept throttling the requests for {what} until the retries ran out",
)
SERVER_ERROR: Final = Rule(
    SourceUnavailable,
    "aws_unavailable",
    True,
    "AWS kept answering with a server error for {what} until the retries ran out",
)
UNREACHABLE: Final = Rule(
    SourceUnavailable,
    "aws_unreachable",
    True,
    "could not connect to the AWS endpoint to read {what}",
)
TLS_FAILED: Final = Rule(
    SourceUnavailable,
    "aws_unreachable",
    False,
    "the TLS handshake with the AWS endpoint failed while reading {what} "
    "(check AWS_CA_BUNDLE and any proxy)",
)
TIMEOUT: Final = Rule(
    SourceUnavailable,
    "aws_timeout",
    True,
    "AWS did not answer in time while reading {what}",
)
DENIED: Final = Rule(
    SourceDenied,
    "aws_access_denied",
    False,
    "access denied to {what}: the credentials need {action}",
)
BAD_CREDENTIALS: Final = Rule(
    SourceDenied,
    "aws_invalid_credentials",
    False,
    "AWS rejected the credentials used to read {what} "
    "(check the access key, its secret key, and the system clock)",
)
EXPIRED: Final = Rule(
    SourceDenied,
    "aws_expired_token",
    False,
    "the AWS credentials used to read {what} have expired "
    "(refresh them, for example with aws sso login)",
)
NOT_FOUND: Final = Rule(SourceNotFound, "aws_not_found", False, "{what} does not exist")
SCHEDULED_FOR_DELETION: Final = Rule(
    SourceNotFound,
    "aws_scheduled_for_deletion",
    False,
    "{what} is scheduled for deletion, so it cannot be read: restore it "
    "(aws secretsmanager restore-secret) or remove it from this environment",
)
DECRYPTION_FAILURE: Final = Rule(
    SourceDenied,
    "aws_decryption_failure",
    False,
    "{what} could not be decrypted with its KMS key: the credentials need kms:Decrypt on it",
)
BAD_REQUEST: Final = Rule(
    SourceError, "aws_bad_request", False, "AWS rejected the request for {what} as invalid"
)
NO_CREDENTIALS: Final = Rule(
    SourceDenied,
    "aws_no_credentials",
    False,
    "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
    "or profile in [aws])",
)
PARTIAL_CREDENTIALS: Final = Rule(
    SourceDenied,
    "aws_no_credentials",
    False,
    "incomplete AWS credentials: an access key without its secret key, or the reverse",
)
CREDENTIALS_FAILED: Final = Rule(
    SourceDenied,
    "aws_credentials_error",
    False,
    "the AWS credentials could not be loaded (an SSO login, role or credential process failed)",
)
NO_REGION: Final = Rule(
    SourceError, "aws_no_region", False, "no AWS region (set AWS_REGION or region in [aws])"
)
NO_PROFILE: Final = Rule(
    SourceDenied,
    "aws_profile_not_found",
    False,
    "the AWS profile is not in the AWS config files (check AWS_PROFILE or profile in [aws])",
)
BAD_CONFIG: Final = Rule(
    SourceError,
    "aws_config_error",
    False,
    "the AWS configuration is invalid (check the AWS config files, the region and [aws])",
)
UNKNOWN: Final = Rule(SourceError, "aws_error", False, "reading {what} failed")

#: botocore ``ClientError`` codes, as found in ``response["Error"]["Code"]``.
ERROR_CODES: Final[Mapping[str, Rule]] = {
    # transient: retried inside the deadline
    "ThrottlingException": THROTTLED,
    "Throttling": THROTTLED,
    "ThrottledException": THROTTLED,
    "TooManyRequestsException": THROTTLED,
    "RequestLimitExceeded": THROTTLED,
    "RequestThrottled": THROTTLED,
    "RequestThrottledException": THROTTLED,
    "SlowDown": THROTTLED,
    "InternalServiceError": SERVER_ERROR,
    "InternalServerError": SERVER_ERROR,
    "InternalFailure": SERVER_ERROR,
    "InternalError": SERVER_ERROR,
    "ServiceUnavailable": SERVER_ERROR,
    "ServiceUnavailableException": SERVER_ERROR,
    "RequestTimeout": SERVER_ERROR,
    "RequestTimeoutException": SERVER_ERROR,
    # permanent: fail at once
    "AccessDeniedException": DENIED,
    "AccessDenied": DENIED,
    "UnrecognizedClientException": BAD_CREDENTIALS,
    "InvalidSignatureException": BAD_CREDENTIALS,
    "SignatureDoesNotMatch": BAD_CREDENTIALS,
    "InvalidClientTokenId": BAD_CREDENTIALS,
    "IncompleteSignature": BAD_CREDENTIALS,
    "MissingAuthenticationToken": BAD_CREDENTIALS,
    "AuthFailure": BAD_CREDENTIALS,
    "RequestExpired": BAD_CREDENTIALS,
    "ExpiredTokenException": EXPIRED,
    "ExpiredToken": EXPIRED,
    "ResourceNotFoundException": NOT_FOUND,
    "ParameterNotFound": NOT_FOUND,
    "ParameterVersionNotFound": NOT_FOUND,
    # On a read, Secrets Manager answers InvalidRequestException for a secret scheduled
    # for deletion (the documented other causes concern writes and rotation).
    "InvalidRequestException": SCHEDULED_FOR_DELETION,
    "DecryptionFailure": DECRYPTION_FAILURE,
    "InvalidKeyId": DECRYPTION_FAILURE,
    "InvalidParameterException": BAD_REQUEST,
    "ValidationException": BAD_REQUEST,
    "ValidationError": BAD_REQUEST,
    "SerializationException": BAD_REQUEST,
    "InvalidNextTokenException": BAD_REQUEST,
    "InvalidNextToken": BAD_REQUEST,
    "InvalidFilterKey": BAD_REQUEST,
    "InvalidFilterOption": BAD_REQUEST,
    "InvalidFilterValue": BAD_REQUEST,
    "UnknownOperationException": BAD_REQUEST,
    "InvalidAction": BAD_REQUEST,
}

#: botocore exception class names (failures with no HTTP response), most specific first
#: along each class's MRO. Only classes defined in ``botocore.exceptions`` match.
EXCEPTION_NAMES: Final[Mapping[str, Rule]] = {
    "EndpointConnectionError": UNREACHABLE,
    "ConnectTimeoutError": UNREACHABLE,
    "ReadTimeoutError": TIMEOUT,
    "ConnectionClosedError": UNREACHABLE,
    "ProxyConnectionError": UNREACHABLE,
    "ResponseStreamingError": UNREACHABLE,
    "HTTPClientError": UNREACHABLE,
    "ConnectionError": UNREACHABLE,
    "SSLError": TLS_FAILED,
    "NoCredentialsError": NO_CREDENTIALS,
    "PartialCredentialsError": PARTIAL_CREDENTIALS,
    "UnauthorizedSSOTokenError": EXPIRED,
    "CredentialRetrievalError": CREDENTIALS_FAILED,
    "TokenRetrievalError": CREDENTIALS_FAILED,
    "NoAuthTokenError": CREDENTIALS_FAILED,
    "SSOError": CREDENTIALS_FAILED,
    "LoginError": CREDENTIALS_FAILED,
    "MetadataRetrievalError": CREDENTIALS_FAILED,
    "ProfileNotFound": NO_PROFILE,
    "NoRegionError": NO_REGION,
    "InvalidRegionError": BAD_CONFIG,
    "ConfigParseError": BAD_CONFIG,
    "InvalidConfigError": BAD_CONFIG,
    "UnknownEndpointError": BAD_CONFIG,
    "EndpointResolutionError": BAD_CONFIG,
    "InvalidEndpointConfigurationError": BAD_CONFIG,
    "InvalidRetryConfigurationError": BAD_CONFIG,
    "ParamValidationError": BAD_REQUEST,
}

_SAFE_DETAIL = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,79}")


@dataclass(frozen=True, slots=True)
class Failure:
    """A classified failure, plain data: safe to pass between threads and to keep.

    Attributes:
        rule: how it is reported.
        detail: the AWS error code, ``HTTP 403``, or the botocore exception name; shown
            in parentheses after the message. Never the service's message.
    """

    rule: Rule
    detail: str = ""

    @property
    def transient(self) -> bool:
        return self.rule.transient

    def problem(self, *, source: str, what: str, action: str) -> Problem:
        message = self.rule.text.format(what=what, action=action)
        if self.detail:
            message += f" ({self.detail})"
        return Problem(
            key=None,
            source=source,
            code=self.rule.code,
            message=message,
            category=self.rule.error.category,
        )

    def error(self, *, source: str, what: str, action: str) -> SourceError:
        """The exception to raise (or return from ``fetch_group``); it chains nothing."""
        return self.rule.error([self.problem(source=source, what=what, action=action)])


class ClassifiedError(Exception):
    """An already classified failure raised inside a worker (a cached client-build failure)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.rule.code)
        self.failure = failure


def _safe(detail: object) -> str:
    text = str(detail) if detail is not None else ""
    return text if _SAFE_DETAIL.fullmatch(text) else ""


def classify_code(code: str | None, status: int | None = None) -> Failure:
    """Classify an AWS error code, falling back to the HTTP status when the code is unknown."""
    if code and code in ERROR_CODES:
        return Failure(ERROR_CODES[code], code)
    detail = _safe(code) or (f"HTTP {status}" if status else "")
    if status is None:
        return Failure(UNKNOWN, detail)
    if status == 429:
        rule = THROTTLED
    elif status >= 500:
        rule = SERVER_ERROR
    elif status == 401:
        rule = BAD_CREDENTIALS
    elif status == 403:
        rule = DENIED
    elif status == 404:
        rule = NOT_FOUND
    elif status >= 400:
        rule = BAD_REQUEST
    else:
        rule = UNKNOWN
    return Failure(rule, detail)


def _client_error(exc: BaseException) -> tuple[str | None, int | None] | None:
    response: Any = getattr(exc, "response", None)
    if not isinstance(response, Mapping) or not any(
        cls.__name__ == "ClientError" and cls.__module__ == "botocore.exceptions"
        for cls in type(exc).__mro__
    ):
        return None
    error = response.get("Error") or {}
    meta = response.get("ResponseMetadata") or {}
    code = error.get("Code") if isinstance(error, Mapping) else None
    status = meta.get("HTTPStatusCode") if isinstance(meta, Mapping) else None
    return (
        code if isinstance(code, str) else None,
        status if isinstance(status, int) else None,
    )


def classify(exc: BaseException) -> Failure:
    """Classify any exception raised while talking to AWS (never reads its message)."""
    if isinstance(exc, ClassifiedError):
        return exc.failure
    if isinstance(exc, DeadlineExceeded):
        return Failure(TIMEOUT, "deadline passed")
    client_error = _client_error(exc)
    if client_error is not None:
        return classify_code(*client_error)
    for cls in type(exc).__mro__:
        if cls.__module__ == "botocore.exceptions" and cls.__name__ in EXCEPTION_NAMES:
            return Failure(EXCEPTION_NAMES[cls.__name__], cls.__name__)
    return Failure(UNKNOWN, _safe(type(exc).__name__))


def is_transient(exc: BaseException) -> bool:
    """Whether ``call_with_retry`` may retry ``exc``."""
    return classify(exc).transient

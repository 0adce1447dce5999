"""The AWS failure table, checked against the botocore codes and exceptions envguard handles.

Also the ``[aws]`` table and entry checks, settings precedence, and the SDK log filter: the
pure parts of the AWS sources. Real-server behaviour is in tests/integration/test_aws.py.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from string import Formatter
from typing import Any

import pytest

from envguard.errors import (
    ProjectError,
    SourceDenied,
    SourceError,
    SourceNotFound,
    SourceUnavailable,
)
from envguard.sources import BuildContext
from envguard.sources._aws_client import THREAD_PREFIX, AwsOptions, SdkLogFilter
from envguard.sources._aws_errors import (
    ERROR_CODES,
    EXCEPTION_NAMES,
    classify,
    classify_code,
    is_transient,
)
from envguard.sources._retry import Deadline, DeadlineExceeded, RetryPolicy, call_with_retry

CANARY = "CANARY-s3cr3t-value-0001"

#: Every botocore error code envguard promises to handle: (error class, problem code, retried).
HANDLED_CODES: dict[str, tuple[type[SourceError], str, bool]] = {
    "ThrottlingException": (SourceUnavailable, "aws_throttled", True),
    "Throttling": (SourceUnavailable, "aws_throttled", True),
    "TooManyRequestsException": (SourceUnavailable, "aws_throttled", True),
    "RequestLimitExceeded": (SourceUnavailable, "aws_throttled", True),
    "InternalServiceError": (SourceUnavailable, "aws_unavailable", True),
    "InternalServerError": (SourceUnavailable, "aws_unavailable", True),
    "ServiceUnavailable": (SourceUnavailable, "aws_unavailable", True),
    "AccessDeniedException": (SourceDenied, "aws_access_denied", False),
    "AccessDenied": (SourceDenied, "aws_access_denied", False),
    "UnrecognizedClientException": (SourceDenied, "aws_invalid_credentials", False),
    "InvalidSignatureException": (SourceDenied, "aws_invalid_credentials", False),
    "ExpiredTokenException": (SourceDenied, "aws_expired_token", False),
    "ResourceNotFoundException": (SourceNotFound, "aws_not_found", False),
    "ParameterNotFound": (SourceNotFound, "aws_not_found", False),
    "InvalidRequestException": (SourceNotFound, "aws_scheduled_for_deletion", False),
    "DecryptionFailure": (SourceDenied, "aws_decryption_failure", False),
    "InvalidKeyId": (SourceDenied, "aws_decryption_failure", False),
    "InvalidParameterException": (SourceError, "aws_bad_request", False),
    "ValidationException": (SourceError, "aws_bad_request", False),
}

#: Every botocore exception (no HTTP response) envguard promises to handle.
HANDLED_EXCEPTIONS: dict[str, tuple[type[SourceError], str, bool]] = {
    "EndpointConnectionError": (SourceUnavailable, "aws_unreachable", True),
    "ConnectTimeoutError": (SourceUnavailable, "aws_unreachable", True),
    "ReadTimeoutError": (SourceUnavailable, "aws_timeout", True),
    "ConnectionClosedError": (SourceUnavailable, "aws_unreachable", True),
    "ProxyConnectionError": (SourceUnavailable, "aws_unreachable", True),
    "SSLError": (SourceUnavailable, "aws_unreachable", False),
    "NoCredentialsError": (SourceDenied, "aws_no_credentials", False),
    "PartialCredentialsError": (SourceDenied, "aws_no_credentials", False),
    "ProfileNotFound": (SourceDenied, "aws_profile_not_found", False),
    "UnauthorizedSSOTokenError": (SourceDenied, "aws_expired_token", False),
    "SSOTokenLoadError": (SourceDenied, "aws_credentials_error", False),
    "CredentialRetrievalError": (SourceDenied, "aws_credentials_error", False),
    "NoRegionError": (SourceError, "aws_no_region", False),
    "InvalidRegionError": (SourceError, "aws_config_error", False),
    "ParamValidationError": (SourceError, "aws_bad_request", False),
}


def botocore_exceptions() -> Any:
    return pytest.importorskip("botocore.exceptions")


def client_error(code: str | None, status: int = 400, message: str = CANARY) -> Exception:
    exceptions = botocore_exceptions()
    error: dict[str, Any] = {"Message": message}
    if code is not None:
        error["Code"] = code
    response = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}
    exc: Exception = exceptions.ClientError(response, "GetSecretValue")
    return exc


def botocore_instance(name: str) -> BaseException:
    """An instance of ``botocore.exceptions.<name>``, its message fields filled with a canary."""
    cls = getattr(botocore_exceptions(), name)
    fields = {field for _, field, _, _ in Formatter().parse(getattr(cls, "fmt", "")) if field}
    exc: BaseException = cls(**dict.fromkeys(fields, CANARY))
    return exc


def ctx(**tables: Any) -> BuildContext:
    return BuildContext(
        env_name="staging",
        base_dir=Path("/project"),
        project_file=Path("/project/envguard.toml"),
        environ={},
        tables=tables,
    )


# --- the table ---------------------------------------------------------------------------


def test_every_handled_code_is_in_the_table() -> None:
    assert set(HANDLED_CODES) <= set(ERROR_CODES)


def test_every_handled_exception_is_in_the_table() -> None:
    handled = {n for n in HANDLED_EXCEPTIONS if n not in {"SSOTokenLoadError"}}  # via SSOError
    assert handled <= set(EXCEPTION_NAMES)


def test_transient_rules_raise_source_unavailable() -> None:
    for rule in [*ERROR_CODES.values(), *EXCEPTION_NAMES.values()]:
        if rule.transient:
            assert rule.error is SourceUnavailable, rule


@pytest.mark.parametrize(("code", "expected"), sorted(HANDLED_CODES.items()))
def test_codes(code: str, expected: tuple[type[SourceError], str, bool]) -> None:
    error, problem_code, transient = expected
    for failure in (classify_code(code), classify(client_error(code))):
        assert (failure.rule.error, failure.rule.code, failure.transient) == expected
        assert failure.detail == code
    assert is_transient(client_error(code)) is transient
    made = classify_code(code).error(source="src", what="secret 'x'", action="act")
    assert type(made) is error
    assert made.problems[0].code == problem_code


def test_the_operations_modeled_errors_are_all_classified() -> None:
    session = pytest.importorskip("botocore.session").get_session()
    used = {
        "secretsmanager": ["GetSecretValue", "BatchGetSecretValue"],
        "ssm": ["GetParametersByPath"],
    }
    for service, operations in used.items():
        model = session.get_service_model(service)
        for operation in operations:
            for shape in model.operation_model(operation).error_shapes:
                assert shape.name in ERROR_CODES, f"{service}.{operation}: {shape.name}"


@pytest.mark.parametrize(
    ("status", "error", "code", "transient"),
    [
        (429, SourceUnavailable, "aws_throttled", True),
        (500, SourceUnavailable, "aws_unavailable", True),
        (502, SourceUnavailable, "aws_unavailable", True),
        (503, SourceUnavailable, "aws_unavailable", True),
        (504, SourceUnavailable, "aws_unavailable", True),
        (400, SourceError, "aws_bad_request", False),
        (401, SourceDenied, "aws_invalid_credentials", False),
        (403, SourceDenied, "aws_access_denied", False),
        (404, SourceNotFound, "aws_not_found", False),
        (409, SourceError, "aws_bad_request", False),
    ],
)
def test_http_status_when_the_code_is_missing_or_unknown(
    status: int, error: type[SourceError], code: str, transient: bool
) -> None:
    for failure in (classify_code(None, status), classify(client_error(None, status))):
        assert (failure.rule.error, failure.rule.code) == (error, code)
        assert failure.transient is transient
        assert failure.detail == f"HTTP {status}"
    unknown = classify(client_error("BrandNewException", status))
    assert (unknown.rule.code, unknown.detail) == (code, "BrandNewException")


def test_a_known_code_wins_over_the_status() -> None:
    assert classify(client_error("ThrottlingException", 400)).transient
    assert not classify(client_error("AccessDeniedException", 500)).transient


def test_unknown_code_without_status_is_a_plain_source_error() -> None:
    failure = classify_code("SomethingElse")
    assert (failure.rule.error, failure.rule.code, failure.transient) == (
        SourceError,
        "aws_error",
        False,
    )


@pytest.mark.parametrize(("name", "expected"), sorted(HANDLED_EXCEPTIONS.items()))
def test_exceptions(name: str, expected: tuple[type[SourceError], str, bool]) -> None:
    failure = classify(botocore_instance(name))
    assert (failure.rule.error, failure.rule.code, failure.transient) == expected
    problem = failure.problem(source="src", what="secret 'x'", action="act")
    assert CANARY not in problem.message


def test_table_names_are_botocore_exceptions() -> None:
    exceptions = botocore_exceptions()
    for name in EXCEPTION_NAMES:
        assert issubclass(getattr(exceptions, name), exceptions.BotoCoreError), name


def _botocore_subclasses(*bases: str) -> list[type[BaseException]]:
    exceptions = botocore_exceptions()
    roots = tuple(getattr(exceptions, b) for b in bases)
    module = exceptions.__name__
    return [
        cls
        for cls in vars(exceptions).values()
        if isinstance(cls, type) and issubclass(cls, roots) and cls.__module__ == module
    ]


def test_every_botocore_connection_error_is_unavailable() -> None:
    classes = _botocore_subclasses("HTTPClientError", "ConnectionError")
    assert len(classes) >= 8
    for cls in classes:
        failure = classify(botocore_instance(cls.__name__))
        assert failure.rule.error is SourceUnavailable, cls
        assert failure.transient is (cls.__name__ != "SSLError"), cls


def test_every_botocore_credential_error_is_denied() -> None:
    classes = _botocore_subclasses(
        "NoCredentialsError",
        "PartialCredentialsError",
        "CredentialRetrievalError",
        "TokenRetrievalError",
        "NoAuthTokenError",
        "SSOError",
        "LoginError",
        "ProfileNotFound",
    )
    for cls in classes:
        failure = classify(botocore_instance(cls.__name__))
        assert failure.rule.error is SourceDenied, cls
        assert not failure.transient


def test_deadline_and_unknown_exceptions() -> None:
    timeout = classify(DeadlineExceeded("deadline of 1s passed"))
    assert (timeout.rule.code, timeout.rule.error, timeout.transient) == (
        "aws_timeout",
        SourceUnavailable,
        True,
    )
    other = classify(ValueError(CANARY))
    assert (other.rule.code, other.detail, other.transient) == ("aws_error", "ValueError", False)
    assert CANARY not in other.problem(source="s", what="w", action="a").message


# --- messages ----------------------------------------------------------------------------


def test_messages_name_the_code_never_the_service_message() -> None:
    failure = classify(client_error("AccessDeniedException", 400, message=CANARY))
    problem = failure.problem(
        source="aws-secrets-manager myapp/staging (us-east-1)",
        what="secret 'myapp/staging'",
        action="secretsmanager:GetSecretValue on this secret",
    )
    assert problem.message == (
        "access denied to secret 'myapp/staging': the credentials need "
        "secretsmanager:GetSecretValue on this secret (AccessDeniedException)"
    )
    assert (problem.key, problem.category, problem.severity) == (None, "source", "error")
    assert problem.source == "aws-secrets-manager myapp/staging (us-east-1)"


@pytest.mark.parametrize("code", [f"Bad code {CANARY}", "x" * 200, "<html>", ""])
def test_odd_codes_are_not_shown(code: str) -> None:
    failure = classify(client_error(code, 403))
    assert failure.rule.code == "aws_access_denied"
    assert failure.detail == "HTTP 403"


def test_plain_words_for_missing_credentials_and_region() -> None:
    creds = classify(botocore_instance("NoCredentialsError")).problem(
        source="s", what="w", action="a"
    )
    assert creds.message.startswith("no AWS credentials found (set AWS_PROFILE or ")
    region = classify(botocore_instance("NoRegionError")).problem(source="s", what="w", action="a")
    assert region.message.startswith("no AWS region (set AWS_REGION or region in [aws])")


def test_errors_raised_after_the_except_block_chain_nothing() -> None:
    try:
        raise client_error("AccessDeniedException")
    except Exception as exc:
        failure = classify(exc)
    with pytest.raises(SourceDenied) as info:
        raise failure.error(source="s", what="secret 'x'", action="a")
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    assert CANARY not in f"{info.value!s}{info.value!r}"


# --- the one retry layer -----------------------------------------------------------------


def test_transient_failures_are_retried_permanent_ones_are_not() -> None:
    calls: list[str] = []

    def flaky() -> str:
        calls.append("x")
        if len(calls) < 3:
            raise client_error("ThrottlingException")
        return "ok"

    policy = RetryPolicy(attempts=4, base=0.0)
    result = call_with_retry(
        flaky, is_transient=is_transient, deadline=Deadline(5), policy=policy, sleep=lambda _: None
    )
    assert (result, len(calls)) == ("ok", 3)

    denied: list[str] = []

    def forbidden() -> str:
        denied.append("x")
        raise client_error("AccessDeniedException")

    with pytest.raises(Exception, match="AccessDenied"):
        call_with_retry(forbidden, is_transient=is_transient, deadline=Deadline(5), policy=policy)
    assert len(denied) == 1


# --- [aws], entries, settings ------------------------------------------------------------


def test_unknown_aws_table_key_names_the_table() -> None:
    with pytest.raises(ProjectError) as info:
        AwsOptions.from_context(ctx(aws={"regoin": "us-east-1"}))
    (problem,) = info.value.problems
    assert problem.code == "project_unknown_key"
    assert problem.message == (
        "unknown key 'regoin' in [aws] (accepted: endpoint_url, profile, region)"
    )
    assert problem.source == "/project/envguard.toml [aws]"
    assert problem.category == "project"


@pytest.mark.parametrize("value", [3, "", ["us-east-1"], None])
def test_aws_table_values_must_be_strings(value: object) -> None:
    with pytest.raises(ProjectError, match=r"\[aws\] region must be a non-empty string"):
        AwsOptions.from_context(ctx(aws={"region": value}))


def test_aws_table_is_read() -> None:
    table = {"region": "eu-west-1", "profile": "ops", "endpoint_url": "http://127.0.0.1:1"}
    assert AwsOptions.from_context(ctx(aws=table)) == AwsOptions(
        "eu-west-1", "ops", "http://127.0.0.1:1"
    )
    assert AwsOptions.from_context(ctx()) == AwsOptions()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"aws_secret": "a", "stage": "x"}, "unknown key 'stage' in aws_secret source"),
        ({"aws_secret": ""}, "aws_secret takes the secret's name or ARN"),
        ({"aws_secret": 3}, "aws_secret takes the secret's name or ARN"),
        ({"aws_secret": "a", "key": "A=B"}, "key 'A=B' is not a valid variable name"),
        ({"aws_secret": "a", "version_stage": ""}, "version_stage must be a non-empty string"),
        ({"aws_ssm": "myapp/staging"}, "aws_ssm takes a parameter path starting with '/'"),
        ({"aws_ssm": "/a", "recursive": False}, "unknown key 'recursive' in aws_ssm source"),
    ],
)
def test_bad_entries(entry: dict[str, Any], message: str) -> None:
    pytest.importorskip("boto3")
    from envguard.sources import source_class

    kind = "aws_secret" if "aws_secret" in entry else "aws_ssm"
    with pytest.raises(ProjectError) as info:
        source_class(kind).from_entry(entry, ctx())
    assert message in info.value.problems[0].message


def test_missing_boto3_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    from envguard.sources.aws import AwsSecretSource

    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ProjectError) as info:
        AwsSecretSource.from_entry({"aws_secret": "a"}, ctx())
    assert info.value.problems[0].code == "missing_extra"
    assert "pip install 'envguard[aws]'" in info.value.problems[0].message
    assert info.value.__context__ is None
    (result,) = AwsSecretSource.fetch_group([AwsSecretSource("a")], Deadline(1))
    assert isinstance(result, ProjectError)


def test_descriptions() -> None:
    from envguard.sources.aws import AwsParameterSource, AwsSecretSource

    env = {"AWS_REGION": "us-east-1"}
    assert (
        AwsSecretSource("myapp/staging", environ=env).describe()
        == "aws-secrets-manager myapp/staging (us-east-1)"
    )
    assert (
        AwsParameterSource("/myapp/staging/", environ=env).describe()
        == "aws-ssm /myapp/staging/ (us-east-1)"
    )
    assert AwsSecretSource("a", environ={}).describe() == "aws-secrets-manager a"
    assert AwsSecretSource("a", region="eu-west-1", environ=env).describe().endswith("(eu-west-1)")


def test_region_precedence() -> None:
    both = {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-west-2"}
    assert AwsOptions(region="eu-west-1").spec("ssm", both).region == "eu-west-1"
    assert AwsOptions().spec("ssm", both).region == "us-east-1"
    assert AwsOptions().spec("ssm", {"AWS_DEFAULT_REGION": "us-west-2"}).region == "us-west-2"
    assert AwsOptions().spec("ssm", {}).region is None


def test_credential_precedence() -> None:
    keys = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": CANARY}
    env_profile = {**keys, "AWS_PROFILE": "dev"}
    table = AwsOptions(profile="ops").spec("secretsmanager", env_profile)
    assert (table.profile, table.env_keys) == ("ops", False)  # like Session(profile_name=)
    env = AwsOptions().spec("secretsmanager", env_profile)
    assert (env.profile, env.env_keys) == (None, True)  # like boto3: env keys beat AWS_PROFILE
    profile = AwsOptions().spec("secretsmanager", {"AWS_PROFILE": "dev"})
    assert (profile.profile, profile.env_keys) == ("dev", False)
    assert CANARY not in repr(env)


def test_endpoint_precedence() -> None:
    env = {
        "AWS_ENDPOINT_URL": "http://generic",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://sm",
        "AWS_ENDPOINT_URL_SSM": "http://ssm",
    }
    assert AwsOptions().spec("secretsmanager", env).endpoint_url == "http://sm"
    assert AwsOptions().spec("ssm", env).endpoint_url == "http://ssm"
    assert AwsOptions().spec("ssm", {"AWS_ENDPOINT_URL": "http://g"}).endpoint_url == "http://g"
    assert AwsOptions(endpoint_url="http://t").spec("ssm", env).endpoint_url == "http://t"


# --- log hygiene -------------------------------------------------------------------------


def test_sdk_log_filter_drops_debug_records_on_envguard_threads_only() -> None:
    log_filter = SdkLogFilter()

    def record(level: int) -> logging.LogRecord:
        return logging.LogRecord("botocore.parsers", level, __file__, 1, CANARY, None, None)

    seen: dict[str, bool] = {}

    def worker() -> None:
        seen["debug"] = log_filter.filter(record(logging.DEBUG))
        seen["warning"] = log_filter.filter(record(logging.WARNING))

    thread = threading.Thread(target=worker, name=f"{THREAD_PREFIX}_0")
    thread.start()
    thread.join()
    assert seen == {"debug": False, "warning": True}
    assert log_filter.filter(record(logging.DEBUG))  # the user's own threads keep their logs

"""The AWS sources against a real moto server: values, batching, and every failure class."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from envguard.errors import (
    ConfigError,
    SourceDenied,
    SourceError,
    SourceNotFound,
    SourceUnavailable,
)
from envguard.sources import BuildContext, Fetched, source_class
from envguard.sources._aws_client import SHARED_KEY, ClientCache
from envguard.sources._retry import Deadline
from envguard.sources.aws import AwsParameterSource, AwsSecretSource
from tests.integration._moto import MotoServer, start_moto

pytestmark = pytest.mark.integration


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class RequestCounter:
    """Counts the HTTP requests the clients of one resolution really send, by operation."""

    def __init__(self) -> None:
        self.ops: Counter[str] = Counter()
        self.clients = 0
        self._lock = threading.Lock()

    def attach(self, client: Any) -> None:
        self.clients += 1
        # before-send fires once per HTTP attempt, right before the request goes out.
        client.meta.events.register("before-send", self._count)

    def _count(self, event_name: str, **kwargs: Any) -> None:
        with self._lock:
            self.ops[event_name.rsplit(".", 1)[-1]] += 1

    @property
    def total(self) -> int:
        return sum(self.ops.values())


def context(
    environ: Mapping[str, str],
    *,
    tables: Mapping[str, Mapping[str, Any]] | None = None,
    counter: RequestCounter | None = None,
) -> BuildContext:
    shared: dict[str, Any] = {}
    if counter is not None:
        shared[SHARED_KEY] = ClientCache(on_client=counter.attach)
    return BuildContext(
        env_name="staging",
        base_dir=Path.cwd(),
        environ=environ,
        tables=tables or {},
        shared=shared,
    )


def secrets_from(entries: Sequence[Mapping[str, Any]], ctx: BuildContext) -> list[AwsSecretSource]:
    cls = source_class("aws_secret")
    built = [cls.from_entry(entry, ctx) for entry in entries]
    assert all(isinstance(s, AwsSecretSource) for s in built)
    return built  # type: ignore[return-value]


def fetch_all(
    sources: Sequence[AwsSecretSource], seconds: float = 10.0
) -> list[Fetched | BaseException]:
    return AwsSecretSource.fetch_group(sources, Deadline(seconds))


def texts(result: Fetched | BaseException) -> dict[str, str]:
    assert isinstance(result, Fetched), repr(result)
    return {key: value.text for key, value in result.values.items()}


def only_problem(result: Fetched | BaseException, error: type[ConfigError]) -> Any:
    assert isinstance(result, error), repr(result)
    assert result.__cause__ is None
    assert result.__context__ is None
    (problem,) = result.problems
    # One remedy: the exception's class and its problem's category give the same exit code.
    assert problem.category == type(result).category
    assert problem.key is None
    return problem


# --- values -------------------------------------------------------------------------------


def test_json_object_and_plain_secrets(moto: MotoServer, aws_env: dict[str, str]) -> None:
    sm = moto.client("secretsmanager")
    obj, plain = unique("app/staging"), unique("app/staging/db-password")
    document = {
        "DB_HOST": "db.internal",
        "PORT": 5432,
        "RATIO": 0.5,
        "DEBUG": False,
        "FEATURES": {"beta": True, "list": [1, "two"]},
        "UNSET": None,
    }
    sm.create_secret(Name=obj, SecretString=json.dumps(document))
    sm.create_secret(Name=plain, SecretString="pa ss=word\n")
    ctx = context(aws_env)
    sources = secrets_from([{"aws_secret": obj}, {"aws_secret": plain, "key": "DB_PASSWORD"}], ctx)

    first, second = fetch_all(sources)

    assert texts(first) == {
        "DB_HOST": "db.internal",
        "PORT": "5432",
        "RATIO": "0.5",
        "DEBUG": "false",
        "FEATURES": '{"beta":true,"list":[1,"two"]}',
    }
    assert texts(second) == {"DB_PASSWORD": "pa ss=word\n"}
    assert isinstance(first, Fetched)
    value = first.values["DB_HOST"]
    assert value.sensitive
    assert str(value.origin) == f"aws-secrets-manager {obj}"
    assert sources[0].describe() == f"aws-secrets-manager {obj} (us-east-1)"
    assert "db.internal" not in repr(first)


def test_version_stage_and_version_id(moto: MotoServer, aws_env: dict[str, str]) -> None:
    sm = moto.client("secretsmanager")
    name = unique("app/versioned")
    first = sm.create_secret(Name=name, SecretString='{"TOKEN": "v1"}')["VersionId"]
    second = sm.put_secret_value(SecretId=name, SecretString='{"TOKEN": "v2"}')["VersionId"]
    counter = RequestCounter()
    ctx = context(aws_env, counter=counter)
    sources = secrets_from(
        [
            {"aws_secret": name},
            {"aws_secret": name, "version_stage": "AWSPREVIOUS"},
            {"aws_secret": name, "version_id": first},
            {"aws_secret": name, "version_id": second, "version_stage": "AWSCURRENT"},
        ],
        ctx,
    )

    results = fetch_all(sources)

    assert [texts(r)["TOKEN"] for r in results] == ["v2", "v1", "v1", "v2"]
    # The batch call takes no versions: one batch for the plain secret, one get per version.
    assert counter.ops == {"BatchGetSecretValue": 1, "GetSecretValue": 3}
    assert counter.clients == 1


def test_fifty_secrets_cost_three_batch_requests(moto: MotoServer, aws_env: dict[str, str]) -> None:
    sm = moto.client("secretsmanager")
    prefix = unique("bulk")
    names = [f"{prefix}/s{i:02d}" for i in range(50)]
    for i, name in enumerate(names):
        sm.create_secret(Name=name, SecretString=json.dumps({f"VAR_{i:02d}": f"value-{i}"}))
    counter = RequestCounter()
    ctx = context(aws_env, counter=counter)
    sources = secrets_from([{"aws_secret": name} for name in names], ctx)

    start = time.perf_counter()
    results = fetch_all(sources)
    elapsed = time.perf_counter() - start

    assert [texts(r) for r in results] == [{f"VAR_{i:02d}": f"value-{i}"} for i in range(50)]
    assert counter.ops == {"BatchGetSecretValue": 3}  # ceil(50 / 20)
    assert counter.clients == 1  # one client shared by all fifty sources
    assert elapsed < 5


def test_aws_table_endpoint_and_profile_from_config_files(
    moto: MotoServer, aws_env: dict[str, str], tmp_path: Path
) -> None:
    name = unique("app/profiled")
    moto.client("secretsmanager").create_secret(Name=name, SecretString='{"A": "1"}')
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text("[profile envguard-demo]\nregion = us-east-1\n")
    credentials.write_text(
        "[envguard-demo]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    environ = {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}
    tables = {"aws": {"profile": "envguard-demo", "endpoint_url": moto.endpoint}}
    (source,) = secrets_from([{"aws_secret": name}], context(environ, tables=tables))

    assert texts(source.fetch(Deadline(10))) == {"A": "1"}
    assert source.describe() == f"aws-secrets-manager {name}"  # region only in the profile
    regional = secrets_from([{"aws_secret": name}], context({}, tables={"aws": {"region": "x-1"}}))
    assert regional[0].describe() == f"aws-secrets-manager {name} (x-1)"


# --- failures ----------------------------------------------------------------------------


def test_missing_secret(aws_env: dict[str, str]) -> None:
    name = unique("app/missing")
    ctx = context(aws_env)
    batched, versioned = fetch_all(
        secrets_from([{"aws_secret": name}, {"aws_secret": name, "version_stage": "X"}], ctx)
    )
    # A pinned version names the version too: either it or the secret may be missing.
    pinned = {"": "", "X": " at version stage 'X'"}
    for result, stage in ((batched, ""), (versioned, "X")):
        problem = only_problem(result, SourceNotFound)
        assert problem.code == "aws_not_found"
        assert problem.message == (
            f"secret {name!r}{pinned[stage]} does not exist (ResourceNotFoundException)"
        )
        assert problem.source == f"aws-secrets-manager {name} (us-east-1)"


def test_a_missing_version_stage_of_an_existing_secret_names_the_stage(
    moto: MotoServer, aws_env: dict[str, str]
) -> None:
    name = unique("app/staged")
    moto.client("secretsmanager").create_secret(Name=name, SecretString='{"A": "1"}')
    (result,) = fetch_all(
        secrets_from([{"aws_secret": name, "version_stage": "AWSPREVIOUS"}], context(aws_env))
    )
    problem = only_problem(result, SourceNotFound)
    assert problem.message.startswith(f"secret {name!r} at version stage 'AWSPREVIOUS' ")


def test_secret_scheduled_for_deletion(moto: MotoServer, aws_env: dict[str, str]) -> None:
    sm = moto.client("secretsmanager")
    name = unique("app/deleted")
    sm.create_secret(Name=name, SecretString="{}")
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)

    (result,) = fetch_all(secrets_from([{"aws_secret": name}], context(aws_env)))

    problem = only_problem(result, SourceNotFound)
    assert problem.code == "aws_scheduled_for_deletion"
    assert f"secret {name!r} is scheduled for deletion" in problem.message


@pytest.mark.parametrize(
    ("stored", "key", "why"),
    [
        (b"\x00\x01binary", None, "is binary"),
        (b"\x00\x01binary", "VAR", "is binary"),
        ('["a", "b"]', None, "holds a JSON array, not an object"),
        ('"just text"', None, "holds a JSON string, not an object"),
        ("42", None, "holds a JSON number, not an object"),
        ("not json at all", None, "is not valid JSON"),
    ],
)
def test_bad_secret_shapes(
    moto: MotoServer, aws_env: dict[str, str], stored: str | bytes, key: str | None, why: str
) -> None:
    name = unique("app/shape")
    value = {"SecretBinary": stored} if isinstance(stored, bytes) else {"SecretString": stored}
    moto.client("secretsmanager").create_secret(Name=name, **value)
    entry = {"aws_secret": name} | ({"key": key} if key else {})

    (result,) = fetch_all(secrets_from([entry], context(aws_env)))

    # Malformed JSON is the value's fault (fix it: exit 1); any other shape is the
    # reference's (add key = "VAR", or point at another secret: exit 3).
    expected = ConfigError if why == "is not valid JSON" else SourceError
    problem = only_problem(result, expected)
    assert (type(result), problem.code) == (expected, "aws_bad_secret_shape")
    assert problem.message.startswith(f"secret {name!r} {why}")


@pytest.fixture(scope="module")
def iam_keys(moto: MotoServer) -> dict[str, dict[str, str]]:
    """Access keys of IAM users: one allowed GetSecretValue only, one allowed nothing."""
    iam = moto.client("iam")

    def user(policy: dict[str, Any] | None) -> dict[str, str]:
        name = unique("envguard-user")
        iam.create_user(UserName=name)
        if policy is not None:
            document = json.dumps({"Version": "2012-10-17", "Statement": policy["Statement"]})
            iam.put_user_policy(UserName=name, PolicyName="envguard", PolicyDocument=document)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        }

    get_only = {
        "Statement": [
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"},
            {"Effect": "Deny", "Action": "secretsmanager:BatchGetSecretValue", "Resource": "*"},
        ]
    }
    return {"get_only": user(get_only), "nobody": user(None)}


def test_denied_batch_falls_back_to_get_secret_value(
    moto: MotoServer, aws_env: dict[str, str], iam_keys: dict[str, dict[str, str]]
) -> None:
    sm = moto.client("secretsmanager")
    names = [unique("app/fallback") for _ in range(3)]
    for i, name in enumerate(names):
        sm.create_secret(Name=name, SecretString=json.dumps({f"K{i}": str(i)}))
    counter = RequestCounter()
    ctx = context({**aws_env, **iam_keys["get_only"]}, counter=counter)
    sources = secrets_from([{"aws_secret": name} for name in names], ctx)

    with moto.iam_enforced():
        results = fetch_all(sources)

    assert [texts(r) for r in results] == [{"K0": "0"}, {"K1": "1"}, {"K2": "2"}]
    assert counter.ops == {"BatchGetSecretValue": 1, "GetSecretValue": 3}


def test_access_denied(
    moto: MotoServer, aws_env: dict[str, str], iam_keys: dict[str, dict[str, str]]
) -> None:
    names = [unique("app/denied") for _ in range(2)]
    for name in names:
        moto.client("secretsmanager").create_secret(Name=name, SecretString='{"A": "1"}')
    counter = RequestCounter()
    ctx = context({**aws_env, **iam_keys["nobody"]}, counter=counter)
    sources = secrets_from([{"aws_secret": name} for name in names], ctx)

    with moto.iam_enforced():
        results = fetch_all(sources)

    for name, result in zip(names, results, strict=True):
        problem = only_problem(result, SourceDenied)
        assert problem.code == "aws_access_denied"
        assert problem.message.startswith(f"access denied to secret {name!r}: the credentials")
    # The denied batch is retried one secret at a time, in case only the batch is denied.
    assert counter.ops == {"BatchGetSecretValue": 1, "GetSecretValue": 2}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_refused_port_is_unreachable(aws_env: dict[str, str]) -> None:
    environ = {**aws_env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{_free_port()}"}
    start = time.monotonic()
    (result,) = fetch_all([AwsSecretSource("app/x", environ=environ)], seconds=5)
    assert time.monotonic() - start < 3  # retried with backoff, well inside the deadline
    problem = only_problem(result, SourceUnavailable)
    assert problem.code == "aws_unreachable"
    assert problem.message == (
        "could not connect to the AWS endpoint to read secret 'app/x' (EndpointConnectionError)"
    )


def test_stopped_server_is_unreachable(tmp_path: Path, aws_env: dict[str, str]) -> None:
    spare = start_moto(tmp_path / "spare")  # returns once the server answers
    environ = spare.environ()
    spare.stop(force=True)  # as if it crashed
    assert spare.process.returncode is not None

    with pytest.raises(SourceUnavailable) as info:
        AwsSecretSource("app/x", environ=environ).fetch(Deadline(5))
    assert only_problem(info.value, SourceUnavailable).code == "aws_unreachable"


def test_silent_port_ends_within_the_deadline(aws_env: dict[str, str]) -> None:
    deadline = 0.75
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # accepts connections (backlog) and never answers
        environ = {**aws_env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{listener.getsockname()[1]}"}
        start = time.monotonic()
        (result,) = fetch_all([AwsSecretSource("app/x", environ=environ)], seconds=deadline)
        secret_seconds = time.monotonic() - start
        start = time.monotonic()
        with pytest.raises(SourceUnavailable) as info:
            AwsParameterSource("/app/", environ=environ).fetch(Deadline(deadline))
        parameter_seconds = time.monotonic() - start
    # The deadline, plus the 0.25 s a caller waits for a worker to report its own timeout.
    assert secret_seconds < deadline + 0.25 + 0.3
    assert parameter_seconds < deadline + 0.25 + 0.3
    assert only_problem(result, SourceUnavailable).code == "aws_timeout"
    assert only_problem(info.value, SourceUnavailable).code == "aws_timeout"


def test_no_credentials(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    environ = {k: v for k, v in aws_env.items() if not k.endswith(("_KEY_ID", "_ACCESS_KEY"))}
    (result,) = fetch_all([AwsSecretSource("app/x", environ=environ)])
    problem = only_problem(result, SourceDenied)
    assert problem.code == "aws_no_credentials"
    assert problem.message.startswith("no AWS credentials found (set AWS_PROFILE")


def test_no_region(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name)
    environ = {k: v for k, v in aws_env.items() if k not in {"AWS_REGION", "AWS_ENDPOINT_URL"}}
    source = AwsSecretSource("app/x", environ=environ)
    assert source.describe() == "aws-secrets-manager app/x"
    with pytest.raises(SourceError) as info:
        source.fetch(Deadline(5))
    problem = only_problem(info.value, SourceError)
    assert problem.code == "aws_no_region"
    assert problem.message.startswith("no AWS region (set AWS_REGION or region in [aws])")


def test_unknown_profile(aws_env: dict[str, str]) -> None:
    ctx = context(aws_env, tables={"aws": {"profile": "envguard-no-such-profile"}})
    sources = secrets_from([{"aws_secret": "a"}, {"aws_secret": "b"}], ctx)
    for result in fetch_all(sources):
        assert only_problem(result, SourceDenied).code == "aws_profile_not_found"


# --- secret safety -----------------------------------------------------------------------


def test_canary_never_leaks(
    moto: MotoServer, aws_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    canary = f"CANARY-{uuid.uuid4().hex}"
    token = f"TOKEN-{uuid.uuid4().hex}"
    sm = moto.client("secretsmanager")
    names = {kind: unique(f"app/canary-{kind}") for kind in ("obj", "plain", "array", "broken")}
    sm.create_secret(Name=names["obj"], SecretString=json.dumps({"DB_PASSWORD": canary}))
    sm.create_secret(Name=names["plain"], SecretString=canary)
    sm.create_secret(Name=names["array"], SecretString=json.dumps([canary]))
    sm.create_secret(Name=names["broken"], SecretString='{"A": "' + canary)
    caplog.set_level(logging.DEBUG)

    # Control: botocore itself logs secret values and session tokens at DEBUG.
    import boto3

    direct = boto3.client(
        "secretsmanager",
        endpoint_url=moto.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token=token,
    )
    direct.get_secret_value(SecretId=names["plain"])
    direct.close()
    control = "\n".join(record.getMessage() for record in caplog.records)
    assert canary in control
    assert token in control
    caplog.clear()

    environ = {**aws_env, "AWS_SESSION_TOKEN": token}
    ctx = context(environ)
    sources = secrets_from(
        [
            {"aws_secret": names["obj"]},
            {"aws_secret": names["plain"], "key": "PLAIN"},
            {"aws_secret": names["array"]},
            {"aws_secret": names["broken"]},
        ],
        ctx,
    )
    results = fetch_all(sources)
    with pytest.raises(ConfigError) as raised:
        sources[3].fetch(Deadline(10))

    assert texts(results[0]) == {"DB_PASSWORD": canary}
    assert texts(results[1]) == {"PLAIN": canary}
    errors = [results[2], results[3], raised.value]
    for error in errors:
        assert only_problem(error, ConfigError).code == "aws_bad_secret_shape"
    seen = [repr(results), *(f"{e!s}{e!r}{e.problems!r}" for e in errors)]  # type: ignore[union-attr]
    for record in caplog.records:
        seen.append(f"{record.getMessage()} {record.exc_text or ''}")
    assert all(canary not in text and token not in text for text in seen)
    assert any(record.name == "envguard.sources.aws" for record in caplog.records)


# --- SSM (last: moto imports its SSM backend, seconds of work, in the background) ---


def test_ssm_path_recursive_paginated_and_decrypted(
    moto: MotoServer, aws_env: dict[str, str]
) -> None:
    ssm = moto.client("ssm")
    base = f"/{unique('myapp')}/staging"
    for i in range(12):
        ssm.put_parameter(Name=f"{base}/KEY_{i:02d}", Value=f"value-{i}", Type="String")
    ssm.put_parameter(Name=f"{base}/DB_PASSWORD", Value="s3cret-pass", Type="SecureString")
    ssm.put_parameter(Name=f"{base}/HOSTS", Value="a,b", Type="StringList")
    ssm.put_parameter(Name=f"{base}/db/HOST", Value="db.internal", Type="String")
    ssm.put_parameter(Name=f"{base}-other/NOT_MINE", Value="x", Type="String")
    counter = RequestCounter()
    ctx = context(aws_env, counter=counter)
    source = source_class("aws_ssm").from_entry({"aws_ssm": f"{base}/"}, ctx)

    fetched = source.fetch(Deadline(10))

    expected = {f"KEY_{i:02d}": f"value-{i}" for i in range(12)}
    expected |= {"DB_PASSWORD": "s3cret-pass", "HOSTS": "a,b", "db_HOST": "db.internal"}
    assert texts(fetched) == expected
    assert fetched.values["DB_PASSWORD"].sensitive
    assert not fetched.values["KEY_00"].sensitive
    assert not fetched.values["HOSTS"].sensitive
    assert str(fetched.values["db_HOST"].origin) == f"aws-ssm {base}/db/HOST"
    assert source.describe() == f"aws-ssm {base}/ (us-east-1)"
    assert counter.ops == {"GetParametersByPath": 2}  # 15 parameters, 10 per page


def test_ssm_path_without_parameters(aws_env: dict[str, str]) -> None:
    source = AwsParameterSource(f"/{unique('empty')}/", environ=aws_env)
    with pytest.raises(SourceNotFound) as info:
        source.fetch(Deadline(10))
    assert only_problem(info.value, SourceNotFound).code == "aws_not_found"


def test_ssm_access_denied(
    moto: MotoServer, aws_env: dict[str, str], iam_keys: dict[str, dict[str, str]]
) -> None:
    path = f"/{unique('denied')}"
    moto.client("ssm").put_parameter(Name=f"{path}/A", Value="1", Type="String")
    source = AwsParameterSource(path, environ={**aws_env, **iam_keys["nobody"]})

    with moto.iam_enforced(), pytest.raises(SourceDenied) as info:
        source.fetch(Deadline(10))

    problem = only_problem(info.value, SourceDenied)
    assert problem.code == "aws_access_denied"
    assert problem.message.startswith(f"access denied to the parameters under {path!r}")
    assert "ssm:GetParametersByPath" in problem.message

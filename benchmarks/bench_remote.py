"""Remote sources through a slow network: envguard vs a naive sequential fetch vs pydantic-settings.

Starts a real OpenBao dev server and a real moto server on free loopback ports, each behind
its own latency proxy (``latency_proxy.ProxyProcess``: ``--delay`` ms each way, default 20,
so one HTTP exchange costs a 40 ms round trip), seeds 10 Vault KV v2 paths and 50 Secrets
Manager JSON secrets, then measures, interleaved, medians over ``--repeat`` rounds:

1. envguard: ``envguard.engine.evaluate()`` (what ``envguard.load()`` runs) of an environment
   of 10 ``{ vault = … }`` and 50 ``{ aws_secret = … }`` sources, validated strictly against
   a schema of all 130 keys; also each half alone, the whole with ``kv_version = 2`` pinned
   on the Vault sources, and the whole through 0 ms proxies (set-up, server and CPU time:
   what no network change removes);
2. a naive sequential fetch: one hvac client reading the paths one after another, one
   boto3 client calling ``get_secret_value`` for each secret one after another;
3. pydantic-settings' own ``AWSSecretsManagerSettingsSource``, one per secret, built in
   ``settings_customise_sources`` as its documentation shows (it has no Vault source).

The proxies count requests and connections; CPU time is read for this process (where the
clients run), the two servers and the two proxies, all sharing the machine's cores. Both
servers and both proxies are stopped on the way out, also after an error. Run:

    .venv/bin/python benchmarks/bench_remote.py [--repeat 5] [--delay 20]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import fmt, median_seconds
from latency_proxy import ProxyProcess, Request
from pydantic import create_model
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

import envguard
from envguard.engine import evaluate

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
VAULT_PATHS = 10
VAULT_KEYS = 3
AWS_SECRETS = 50
MOUNT = "secret"

# The targets.
MAX_SM_REQUESTS = 3
MAX_ROUND_TRIPS = 5
MIN_SPEED_UP = 15.0


# --- data ----------------------------------------------------------------------------------


def vault_path(i: int) -> str:
    return f"bench/app-{i:02d}"


def vault_secret(i: int) -> dict[str, str]:
    return {f"V{i:02d}_KEY_{k}": f"vault-value-{i}-{k}" for k in range(VAULT_KEYS)}


def aws_name(i: int) -> str:
    return f"bench/secret-{i:02d}"


def aws_secret(i: int) -> dict[str, str]:
    return {f"S{i:02d}_USER": f"user-{i}", f"S{i:02d}_PASSWORD": f"password-{i}"}


VAULT_KEYS_ALL = [k for i in range(VAULT_PATHS) for k in vault_secret(i)]
AWS_KEYS_ALL = [k for i in range(AWS_SECRETS) for k in aws_secret(i)]


def model(name: str, keys: list[str], base: type[BaseSettings]) -> type[BaseSettings]:
    fields: dict[str, Any] = dict.fromkeys(keys, (str, ...))
    return create_model(name, __base__=base, **fields)  # type: ignore[no-any-return]


# --- servers -------------------------------------------------------------------------------


@dataclass
class Rig:
    """The running servers, their proxies, and the settings pointing at the proxies."""

    work: Path
    vault_token: str
    vault: ProxyProcess
    aws: ProxyProcess
    aws_env: dict[str, str]
    server_pids: tuple[int, ...]
    project: Path = field(init=False)

    @property
    def environ(self) -> dict[str, str]:
        """What envguard reads: Vault through its proxy, fake AWS keys, no real ~/.aws."""
        return {
            "VAULT_ADDR": self.vault.url,
            "VAULT_TOKEN": self.vault_token,
            "HOME": str(self.work),
            **self.aws_env,
        }

    def set_delay(self, seconds: float) -> None:
        self.vault.delay = self.aws.delay = seconds

    def reset(self) -> None:
        self.vault.reset()
        self.aws.reset()

    def cpu(self) -> tuple[float, float, float]:
        """CPU seconds so far: this process, the two servers, the two proxies."""
        proxies = (self.vault.pid, self.aws.pid)
        return time.process_time(), cpu_of(self.server_pids), cpu_of(proxies)


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pids: tuple[int, ...]) -> float:
    """User + system CPU seconds of processes (all their threads, dead ones included)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / _TICK


@contextlib.contextmanager
def servers(work: Path, delay: float) -> Iterator[Rig]:
    """Start OpenBao and moto, seed them, put a proxy before each; stop exactly those."""
    sys.path.insert(0, str(ROOT))
    from tests.integration._moto import ACCESS_KEY, SECRET_KEY, start_moto
    from tests.integration._openbao import start_openbao

    with contextlib.ExitStack() as stack:
        (work / "bao").mkdir()
        started = time.perf_counter()
        moto = start_moto(work / "moto")
        stack.callback(moto.stop)
        bao = start_openbao(work / "bao")
        stack.callback(bao.stop)
        print(f"servers up in {time.perf_counter() - started:.1f} s", file=sys.stderr)

        kv = bao.client().secrets.kv.v2
        for i in range(VAULT_PATHS):
            kv.create_or_update_secret(
                path=vault_path(i), secret=vault_secret(i), mount_point=MOUNT
            )
        sm = moto.client("secretsmanager")
        for i in range(AWS_SECRETS):
            sm.create_secret(Name=aws_name(i), SecretString=json.dumps(aws_secret(i)))

        vault_proxy = stack.enter_context(ProxyProcess(bao.port, delay=delay))
        aws_proxy = stack.enter_context(
            ProxyProcess(int(moto.endpoint.rsplit(":", 1)[1]), delay=delay)
        )
        config, credentials = moto.config_files()
        aws_env = {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        pids = (moto.process.pid, bao.process.pid)
        yield Rig(work, bao.root_token, vault_proxy, aws_proxy, aws_env, pids)


def write_project(rig: Rig) -> Path:
    """An envguard.toml: the whole environment, each half alone, and KV v2 pinned."""
    vault = [f'  {{ vault = "{vault_path(i)}" }},' for i in range(VAULT_PATHS)]
    pinned = [f'  {{ vault = "{vault_path(i)}", kv_version = 2 }},' for i in range(VAULT_PATHS)]
    aws = [f'  {{ aws_secret = "{aws_name(i)}" }},' for i in range(AWS_SECRETS)]
    text = "\n".join(
        [
            'default_env = "all"',
            "deadline = 30",
            "[aws]",
            f'region = "{REGION}"',
            f'endpoint_url = "{rig.aws.url}"',
            "[env.all]",
            "sources = [",
            *vault,
            *aws,
            "]",
            "[env.all_kv2]",
            "sources = [",
            *pinned,
            *aws,
            "]",
            "[env.vault]",
            "sources = [",
            *vault,
            "]",
            "[env.aws]",
            "sources = [",
            *aws,
            "]",
            "",
        ]
    )
    folder = rig.work / "project"
    folder.mkdir()
    (folder / "envguard.toml").write_text(text)
    return folder / "envguard.toml"


@contextlib.contextmanager
def process_aws_env(aws_env: dict[str, str]) -> Iterator[None]:
    """Point boto3's default session (the sequential fetch, pydantic-settings) at moto."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_") or "proxy" in k.lower()}
    for name in saved:
        del os.environ[name]
    os.environ.update(aws_env)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    try:
        yield
    finally:
        for name in [*aws_env, "NO_PROXY", "no_proxy"]:
            os.environ.pop(name, None)
        os.environ.update(saved)


# --- the approaches ------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    parts: dict[str, float] = field(default_factory=dict)


def envguard_case(rig: Rig, env: str, schema: type[BaseSettings]) -> Callable[[], Run]:
    environ = rig.environ

    def run() -> Run:
        start = time.perf_counter()
        outcome = evaluate(schema, env=env, project=rig.project, strict=True, environ=environ)
        seconds = time.perf_counter() - start
        if outcome.settings is None or outcome.problems:
            codes = sorted({p.code for p in outcome.problems})
            raise RuntimeError(f"envguard could not load {env!r}: {codes}")
        check(outcome.settings)
        return Run(seconds)

    return run


def sequential_case(rig: Rig) -> Callable[[], Run]:
    import boto3
    import hvac

    def run() -> Run:
        start = time.perf_counter()
        vault = hvac.Client(url=rig.vault.url, token=rig.vault_token, timeout=30)
        sm = boto3.client("secretsmanager", region_name=REGION, endpoint_url=rig.aws.url)
        built = time.perf_counter()
        values: dict[str, str] = {}
        for i in range(VAULT_PATHS):
            answer = vault.secrets.kv.v2.read_secret_version(
                path=vault_path(i), mount_point=MOUNT, raise_on_deleted_version=True
            )
            values.update(answer["data"]["data"])
        vault_done = time.perf_counter()
        for i in range(AWS_SECRETS):
            values.update(json.loads(sm.get_secret_value(SecretId=aws_name(i))["SecretString"]))
        end = time.perf_counter()
        vault.adapter.close()
        sm.close()
        check(values)
        return Run(
            end - start,
            {
                "client set-up": built - start,
                "10 Vault reads": vault_done - built,
                "50 GetSecretValue": end - vault_done,
            },
        )

    return run


def pydantic_settings_case(rig: Rig) -> Callable[[], Run]:
    from pydantic_settings import AWSSecretsManagerSettingsSource

    endpoint = rig.aws.url

    class Base(BaseSettings):
        model_config = SettingsConfigDict(extra="ignore")

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (
                init_settings,
                *(
                    AWSSecretsManagerSettingsSource(
                        settings_cls, aws_name(i), region_name=REGION, endpoint_url=endpoint
                    )
                    for i in range(AWS_SECRETS)
                ),
            )

    cls = model("PsAws", AWS_KEYS_ALL, Base)

    def run() -> Run:
        start = time.perf_counter()
        settings = cls()
        seconds = time.perf_counter() - start
        check(settings)
        return Run(seconds)

    return run


def check(found: object) -> None:
    """A wrong or missing value means the measurement is not of a real load."""
    expected = {**vault_secret(VAULT_PATHS - 1), **aws_secret(AWS_SECRETS - 1)}
    for key, value in expected.items():
        got = found.get(key) if isinstance(found, dict) else getattr(found, key, value)
        if got != value:
            raise RuntimeError(f"{key} was not loaded correctly")


# --- measuring -----------------------------------------------------------------------------


def label(request: Request) -> str:
    """``BatchGetSecretValue`` or ``GET secret/data/*``: the operation, not the secret."""
    if request.target:
        return request.target.rpartition(".")[2]
    path = request.path.removeprefix("/v1/")
    if path.startswith(f"{MOUNT}/data/"):
        path = f"{MOUNT}/data/*"
    return f"{request.method} {path}"


@dataclass
class Case:
    name: str
    run: Callable[[], Run]
    delay: float | None = None  # None: the run's --delay
    runs: list[Run] = field(default_factory=list)
    vault_requests: Counter[str] = field(default_factory=Counter)
    aws_requests: Counter[str] = field(default_factory=Counter)
    totals: set[tuple[int, int]] = field(default_factory=set)
    connections: tuple[int, int] = (0, 0)
    cpu_spent: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])

    def measure(self, rig: Rig, delay: float, *, keep: bool = True) -> None:
        rig.set_delay(delay if self.delay is None else self.delay)
        rig.reset()
        before = rig.cpu()
        result = self.run()
        after = rig.cpu()
        vault, aws = rig.vault.requests, rig.aws.requests
        if keep:
            self.runs.append(result)
            for i, (b, a) in enumerate(zip(before, after, strict=True)):
                self.cpu_spent[i] += a - b
            self.vault_requests = Counter(map(label, vault))
            self.aws_requests = Counter(map(label, aws))
            self.totals.add((len(vault), len(aws)))
            self.connections = (rig.vault.connections, rig.aws.connections)

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def best(self) -> float:
        return min(r.seconds for r in self.runs)

    def cpu(self, which: int) -> float:
        """Mean CPU seconds per run: 0 this process, 1 the servers, 2 the proxies.

        A mean, not a median: the servers' CPU is counted in clock ticks (10 ms), and the
        sum over all runs divided by their number loses less to that rounding.
        """
        return self.cpu_spent[which] / len(self.runs)

    def part(self, name: str) -> float:
        return statistics.median(r.parts[name] for r in self.runs)

    def counts(self) -> str:
        """Requests to Vault and to Secrets Manager, as ranges if they varied between runs."""
        vault = sorted({v for v, _ in self.totals})
        aws = sorted({a for _, a in self.totals})

        def shown(values: list[int]) -> str:
            return str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"

        return f"{shown(vault)} | {shown(aws)}"

    def operations(self) -> str:
        both = {**self.vault_requests, **self.aws_requests}
        return ", ".join(f"{op} ×{n}" for op, n in sorted(both.items())) or "–"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--delay", type=float, default=20.0, help="ms each way (default 20)")
    args = parser.parse_args()
    delay = args.delay / 1000
    # Stopped with SIGTERM, still stop the servers (they run in sessions of their own).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp, servers(Path(tmp), delay) as rig:
        rig.project = write_project(rig)
        eg_all = model("EgAll", VAULT_KEYS_ALL + AWS_KEYS_ALL, envguard.Settings)
        eg_vault = model("EgVault", VAULT_KEYS_ALL, envguard.Settings)
        eg_aws = model("EgAws", AWS_KEYS_ALL, envguard.Settings)
        with process_aws_env(rig.aws_env):
            cases = {
                "eg": Case("envguard: 10 Vault + 50 AWS", envguard_case(rig, "all", eg_all)),
                "seq": Case("sequential: hvac + boto3, one by one", sequential_case(rig)),
                "eg_vault": Case("envguard: 10 Vault only", envguard_case(rig, "vault", eg_vault)),
                "ps": Case("pydantic-settings: 50 AWS sources", pydantic_settings_case(rig)),
                "eg_aws": Case("envguard: 50 AWS only", envguard_case(rig, "aws", eg_aws)),
                "eg_kv2": Case(
                    "envguard: 10 Vault (kv_version = 2) + 50 AWS",
                    envguard_case(rig, "all_kv2", eg_all),
                ),
                "floor": Case(
                    "envguard: 10 Vault + 50 AWS, 0 ms proxies",
                    envguard_case(rig, "all", eg_all),
                    delay=0.0,
                ),
            }
            order = list(cases.values())
            for case in order:  # warm-up: imports, botocore models, moto's first requests
                case.measure(rig, delay, keep=False)
            for r in range(args.repeat):
                shift = r % len(order)
                for case in order[shift:] + order[:shift]:
                    case.measure(rig, delay)
                print(f"round {r + 1}/{args.repeat} done", file=sys.stderr)
            set_up = client_set_up(rig)
        args.load = (load_before, os.getloadavg()[0])
        report(cases, set_up, args)


def client_set_up(rig: Rig) -> dict[str, float]:
    """Building the clients alone, no request: boto3 as users do, and as envguard does."""
    import boto3
    import hvac

    # envguard's own client factory (a private function, timed here on purpose): one fresh
    # botocore session per resolution, sharing only the process-wide model loader.
    from envguard.sources._aws_client import AwsOptions, _build_client
    from envguard.sources._retry import Deadline

    spec = AwsOptions(REGION, None, rig.aws.url).spec("secretsmanager", rig.environ)

    def hvac_client() -> None:
        hvac.Client(url=rig.vault.url, token=rig.vault_token).adapter.close()

    return {
        "boto3.client() (default session)": median_seconds(
            lambda: boto3.client("secretsmanager", region_name=REGION, endpoint_url=rig.aws.url)
        ),
        "envguard's AWS client (new botocore session)": median_seconds(
            lambda: _build_client(spec, rig.environ, Deadline(30))
        ),
        "hvac.Client()": median_seconds(hvac_client),
    }


def report(cases: dict[str, Case], set_up: dict[str, float], args: argparse.Namespace) -> None:
    eg, seq, floor = cases["eg"], cases["seq"], cases["floor"]
    round_trip = 2 * args.delay / 1000
    print(
        f"\n{machine()}; load average {args.load[0]:.2f} before, {args.load[1]:.2f} after; "
        f"{args.delay:g} ms each way; median of {args.repeat} interleaved runs\n"
    )
    print(
        "| approach | median | min | Vault req | SM req | vs envguard "
        "| CPU: client | servers | proxies |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for case in cases.values():
        print(
            f"| {case.name} | {fmt(case.median)} | {fmt(case.best)} | {case.counts()} "
            f"| {case.median / eg.median:.1f}× "
            f"| {fmt(case.cpu(0))} | {fmt(case.cpu(1))} | {fmt(case.cpu(2))} |"
        )
    for part in seq.runs[0].parts:
        print(f"| ↳ sequential: {part} | {fmt(seq.part(part))} | | | | | | | |")
    for name, seconds in set_up.items():
        print(f"| set-up only: {name} | {fmt(seconds)} | | | | | | | |")

    print("\nRequests by operation (last run; connections opened to Vault | AWS):\n")
    for case in cases.values():
        vault, aws = case.connections
        print(f"- {case.name}: {case.operations()} ({vault} | {aws} connections)")

    sm_requests = max(a for _, a in eg.totals)
    clients = set_up["envguard's AWS client (new botocore session)"] + set_up["hvac.Client()"]
    latency_budget = MAX_ROUND_TRIPS * round_trip
    speed_up = seq.median / eg.median
    print("\nTargets:\n")
    print("| target | measured | met |")
    print("|---|---|:-:|")
    rows = [
        (
            f"≤ {MAX_SM_REQUESTS} Secrets Manager requests for {AWS_SECRETS} secrets",
            f"{sm_requests}",
            sm_requests <= MAX_SM_REQUESTS,
        ),
        (
            f"≤ {MAX_ROUND_TRIPS} round trips ({fmt(latency_budget)}) + set-up, set-up being "
            f"the same load with 0 ms proxies ({fmt(floor.median)})",
            f"{fmt(eg.median)}: {(eg.median - floor.median) / round_trip:.1f} round trips "
            "more than at 0 ms",
            eg.median <= latency_budget + floor.median,
        ),
        (
            f"≤ {MAX_ROUND_TRIPS} round trips + set-up, set-up being client construction "
            f"only ({fmt(clients)})",
            f"{fmt(eg.median)}",
            eg.median <= latency_budget + clients,
        ),
        (
            f"≥ {MIN_SPEED_UP:g}× faster than the sequential fetch",
            f"{speed_up:.1f}×",
            speed_up >= MIN_SPEED_UP,
        ),
    ]
    for name, measured, met in rows:
        print(f"| {name} | {measured} | {'yes' if met else '**no**'} |")


def machine() -> str:
    model_name = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model_name = line.partition(":")[2].strip()
                break
    cleaned = re.sub(r"\s+", " ", model_name)
    cores = len(os.sched_getaffinity(0))
    return f"{cores} cores (nproc), {cleaned}, Python {platform.python_version()}"


if __name__ == "__main__":
    main()

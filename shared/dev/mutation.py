"""A small mutation check: do the layer and guardrail tests notice when the code they guard changes?

Each mutation replaces one exact piece of source (it must occur exactly once, so a stale entry is an error, not a
silent pass) with a plausible mistake: a flipped constant, a dropped dict key, a reversed comparison, a changed
default. The mutations are applied one at a time to a throw-away copy of the working tree (the checkout is never
touched, an interrupted run leaves nothing behind) and the owning folder's tests run against it (`pytest -x -q`).
A failing run kills the mutation; a green run means it survived: the tests would not have caught that mistake.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from shared.runtime.layers import REPO_ROOT

# Node packages whose installed dependencies the tests use (the edge zips carry jose): linked, not copied.
NODE_PACKAGES = ("containers/catalog-api", "projects/edge/functions")
DEFAULT_TIMEOUT_S = 300


@dataclass(frozen=True)
class Mutation:
    path: str  # repository-relative file
    old: str  # exact source, present exactly once
    new: str
    tests: tuple[str, ...]  # test folders or files, relative to the repository
    what: str  # the mistake, in words

    @property
    def label(self) -> str:
        return f"{self.path}: {self.what}"


@dataclass(frozen=True)
class Outcome:
    mutation: Mutation
    status: str  # killed | survived | timeout | error
    seconds: float
    detail: str = ""


def _m(path: str, old: str, new: str, tests: str, what: str) -> Mutation:
    return Mutation(path, old, new, tuple(tests.split()), what)


NET, DATA, APP, EDGE, OBS, BOOT, POL = (f"tests/{name}/" for name in
                                        ("network", "data", "app", "edge", "observability", "bootstrap", "policy"))

# The list: layer programs, their settings, and the guardrail rules, each with the tests that should notice.
MUTATIONS: tuple[Mutation, ...] = (
    # network
    _m("projects/network/vpc.py", "map_public_ip_on_launch=False,", "map_public_ip_on_launch=True,", NET,
       "private subnets hand out public IPs"),
    _m("projects/network/flow_logs.py", 'traffic_type="ALL",', 'traffic_type="REJECT",', NET,
       "flow logs record only rejected traffic"),
    _m("projects/network/settings.py", '"flowLogRetentionDays", mission.RETENTION_DAYS,', '"flowLogRetentionDays", 14,',
       NET, "default flow-log retention 30 -> 14 days"),
    # data
    _m("projects/data/aurora.py", "storage_encrypted=True,", "storage_encrypted=False,", DATA,
       "Aurora storage unencrypted"),
    _m("projects/data/proxy.py", "require_tls=True,", "require_tls=False,", DATA, "RDS Proxy accepts plain TCP"),
    _m("projects/data/tables.py", "TablePointInTimeRecoveryArgs(enabled=True)",
       "TablePointInTimeRecoveryArgs(enabled=False)", DATA, "DynamoDB point-in-time recovery off"),
    _m("projects/data/settings.py", 'setting("minAcu", 0.5,', 'setting("minAcu", 1.0,', DATA,
       "default minimum ACU 0.5 -> 1"),
    _m("projects/data/settings.py", 'setting("backupRetentionDays", 7,', 'setting("backupRetentionDays", 1,', DATA,
       "default backup retention 7 -> 1 day"),
    # app
    _m("projects/app/alb.py", "HEALTH_INTERVAL_S = mission.HEALTH_CHECK_INTERVAL_S", "HEALTH_INTERVAL_S = 10", APP,
       "health check every 10 s instead of 5"),
    _m("projects/app/alb.py", "drop_invalid_header_fields=True,", "drop_invalid_header_fields=False,", APP,
       "ALB forwards invalid header fields"),
    _m("projects/app/function.py", "metric=PC_METRIC, target_value=args.pc_target, scale_out_cooldown=30,",
       "metric=PC_METRIC, target_value=args.pc_target, scale_out_cooldown=300,", APP,
       "provisioned concurrency scales out after 300 s instead of 30"),
    _m("projects/app/__main__.py", '    "CACHE_TTL_SECONDS": str(settings.cache_ttl_seconds),\n', "", APP,
       "the API loses CACHE_TTL_SECONDS (dict key dropped)"),
    _m("projects/app/settings.py", '"provisionedConcurrencyTarget", mission.SCALE_OUT_UTILIZATION,',
       '"provisionedConcurrencyTarget", 0.75,', APP,
       "default provisioned-concurrency target 70 % -> 75 %"),
    _m("projects/app/settings.py", "require(lo <= hi,", "require(lo < hi,", APP,
       "provisioned concurrency min == max refused (comparison reversed at the boundary)"),
    # edge
    _m("projects/edge/distribution.py", "is_ipv6_enabled=True,", "is_ipv6_enabled=False,", EDGE,
       "CloudFront without IPv6"),
    _m("projects/edge/distribution.py", 'origin_protocol_policy="https-only"', 'origin_protocol_policy="match-viewer"',
       EDGE, "CloudFront may reach the origin over HTTP"),
    # observability
    _m("projects/observability/sale_window.py", "evaluation_periods=3, datapoints_to_alarm=2,",
       "evaluation_periods=3, datapoints_to_alarm=3,", f"{OBS} tests/ops/test_sale_schedules.py",
       "sale-window alarm needs 3 of 3 datapoints, not 2 of 3"),
    _m("projects/observability/settings.py", 'setting("alarmEvaluationPeriods", 5,',
       'setting("alarmEvaluationPeriods", 3,', OBS, "default alarm evaluation periods 5 -> 3"),
    # bootstrap
    _m("projects/bootstrap/permissions.py", 'return [f"repo:{facts.github_repo}:environment:{layer}-{facts.suffix}"]',
       'return [f"repo:{facts.github_repo}:*"]', BOOT, "any workflow of the repository may assume a deploy role"),
    _m("projects/bootstrap/permissions.py", '"Condition": {"StringEquals": {f"{OIDC_HOST}:aud": OIDC_AUDIENCE, ',
       '"Condition": {"StringLike": {f"{OIDC_HOST}:aud": OIDC_AUDIENCE, ', BOOT,
       "the OIDC trust matches subjects as patterns"),
    # guardrails
    _m("shared/policy/iam_rules.py", 'if "NotAction" in st:', 'if "NotAction" in st and False:', POL,
       "Allow with NotAction passes"),
    _m("shared/policy/identity_rules.py", 'if known(policy) and policy != "https-only":',
       'if known(policy) and policy == "http-only":', POL, "an origin reached with match-viewer passes"),
    _m("shared/policy/naming_rules.py", "    if limit and len(name) > limit:",
       "    if limit and len(name) > limit + 1:", POL, "a name one character over AWS's limit passes"),
    _m("shared/policy/compute_rules.py", "API_MEMORY_MB = mission.API_MEMORY_MB", "API_MEMORY_MB = 2048", POL,
       "the memory rule asks for 2048 MB"),
    _m("shared/policy/compute_rules.py", 'if res.inputs.get("publish") is not True:',
       'if res.inputs.get("publish") is False:', POL, "an edge function with publish unset passes"),
    _m("shared/policy/database_rules.py", "if is_num(low) and low < 0.5:", "if is_num(low) and low <= 0.5:", POL,
       "min ACU 0.5 refused (comparison boundary moved)"),
    _m("shared/policy/database_rules.py", 'if cluster.inputs.get("storageEncrypted") is not True:',
       'if cluster.inputs.get("storageEncrypted") is False:', POL, "a cluster with encryption unset passes"),
    _m("shared/policy/network_rules.py", 'OPEN = ("0.0.0.0/0", "::/0")', 'OPEN = ("0.0.0.0/0",)', POL,
       "ingress open to the whole IPv6 internet passes"),
    _m("shared/policy/storage_rules.py", "if ndays is not None and ndays > RETENTION_DAYS:",
       "if ndays is not None and ndays >= RETENTION_DAYS:", POL,
       "noncurrent expiry equal to the retention is refused (comparison boundary moved)"),
    _m("shared/policy/edge_rules.py", "if is_num(window) and window > 7:", "if is_num(window) and window > 8:", POL,
       "an 8-day window passes"),
)


def select(mutations: Sequence[Mutation], only: str = "", limit: int | None = None) -> list[Mutation]:
    """Mutations whose label contains `only` (case-insensitive), at most `limit` of them, in list order."""
    chosen = [m for m in mutations if only.lower() in m.label.lower()]
    return chosen[:limit] if limit is not None else chosen


def _tracked_files(root: Path) -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                            capture_output=True, check=False)
    if listed.returncode != 0:
        raise RuntimeError(f"git ls-files failed in {root}: {listed.stderr.decode(errors='replace').strip()}")
    return [name for name in listed.stdout.decode().split("\0") if name]


@contextmanager
def working_copy(root: Path = REPO_ROOT) -> Iterator[Path]:
    """The checkout's files (committed and new, not ignored) in a temporary folder, Node dependencies linked."""
    with tempfile.TemporaryDirectory(prefix="catalog-mutate-") as tmp:
        copy = Path(tmp)
        for name in _tracked_files(root):
            source, target = root / name, copy / name
            if not source.exists() and not source.is_symlink():
                continue  # deleted in the working tree
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
        for package in NODE_PACKAGES:
            modules = root / package / "node_modules"
            if modules.is_dir() and (copy / package).is_dir():
                (copy / package / "node_modules").symlink_to(modules)
        yield copy


def _test_env(copy: Path) -> dict[str, str]:
    # Outer pytest/xdist variables would leak into the inner run: drop them.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    return {**env, "PYTHONPATH": str(copy), "PULUMI_SKIP_UPDATE_CHECK": "true", "PYTHONDONTWRITEBYTECODE": "1"}


def _last_failure(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return lines[0][:200] if lines else ""


def run_one(copy: Path, mutation: Mutation, timeout_s: float = DEFAULT_TIMEOUT_S) -> Outcome:
    """Apply one mutation in the copy, run its tests, restore the file."""
    path = copy / mutation.path
    started = time.perf_counter()
    if not path.is_file():
        return Outcome(mutation, "error", 0.0, f"{mutation.path} does not exist")
    original = path.read_text()
    if original.count(mutation.old) != 1:
        found = original.count(mutation.old)
        return Outcome(mutation, "error", 0.0, f"{found} matches of the text to mutate (1 expected): update the list")
    path.write_text(original.replace(mutation.old, mutation.new))
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                               *mutation.tests], cwd=copy, env=_test_env(copy), capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return Outcome(mutation, "timeout", time.perf_counter() - started, f"tests ran over {timeout_s:.0f} s")
    finally:
        path.write_text(original)
    seconds = time.perf_counter() - started
    # pytest: 0 all passed, 1 tests failed, 2 interrupted (e.g. an import error in collection), 3-5 no verdict.
    if done.returncode == 0:
        return Outcome(mutation, "survived", seconds)
    if done.returncode in (1, 2):
        return Outcome(mutation, "killed", seconds, _last_failure(done.stdout))
    tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or [""]
    return Outcome(mutation, "error", seconds, f"pytest exit {done.returncode}: {tail[0][:200]}")


def run(mutations: Sequence[Mutation], timeout_s: float = DEFAULT_TIMEOUT_S, root: Path = REPO_ROOT,
        say: Callable[[str], None] = print) -> list[Outcome]:
    outcomes = []
    with working_copy(root) as copy:
        for index, mutation in enumerate(mutations, 1):
            outcome = run_one(copy, mutation, timeout_s)
            outcomes.append(outcome)
            say(f"[{index}/{len(mutations)}] {outcome.status:8} {outcome.seconds:5.1f} s  {mutation.label}"
                + (f"\n    {outcome.detail}" if outcome.detail and outcome.status != "killed" else ""))
    return outcomes


def verdict(outcomes: Sequence[Outcome]) -> tuple[bool, str]:
    """Met when every mutation was killed (a timeout counts as killed: the tests did not pass)."""
    count = {status: sum(o.status == status for o in outcomes) for status in ("killed", "timeout", "survived", "error")}
    met = bool(outcomes) and count["survived"] == 0 and count["error"] == 0
    text = (f"{count['killed'] + count['timeout']}/{len(outcomes)} killed ({count['timeout']} by timeout), "
            f"{count['survived']} survived, {count['error']} errors: {'met' if met else 'missed'}")
    return met, text

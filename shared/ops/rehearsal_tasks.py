"""`invoke rehearse`: arguments and printing only (logic in rehearsal.py, rehearsal_local.py)."""

from __future__ import annotations

import importlib.util
import time

from invoke import Context

from shared.console import documented_task, refuse_clearly
from shared.ops.capacity import Workload
from shared.ops.rehearsal import Rehearsal, parse_duration, parse_faults, validate
from shared.ops.rehearsal_faults import LOCAL_FAULTS
from shared.runtime.errors import CatalogError
from shared.runtime.faults import FAULTS as AWS_FAULTS
from shared.runtime.layers import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "results"


@documented_task(
    help={
        "suffix": "environment to rehearse against (with --local: names the local database and tables)",
        "users": "concurrent shoppers (default 2000)",
        "duration": "how long, e.g. 60s, 10m (default 60s)",
        "spawn_rate": "shoppers started per second (default: users / 10)",
        "workers": "Locust worker processes (default: sized from the users)",
        "stock": "units of the sale SKU, restocked before the run (default 500)",
        "think_time": "mean seconds between a shopper's actions (default: the capacity model's 5)",
        "faults": f"comma-separated name[@when][+hold]; on AWS (FIS): {', '.join(AWS_FAULTS)}; with --local: "
                  f"{', '.join(LOCAL_FAULTS)}, e.g. writer-crash@20s",
        "local": "run against the local API on this machine (master and workers as processes on loopback)",
        "backend": "AWS: state backend of the target's stacks (file://<dir> or s3://<bucket>[/prefix])",
        "secrets_provider": "AWS: passphrase or awskms://alias/<key> of the target's stacks",
    }
)
@refuse_clearly
def rehearse(c: Context, suffix: str, users: int = 2000, duration: str = "60s", spawn_rate: float = 0.0,
             workers: int = 0, stock: int = 500, think_time: float = 0.0, faults: str = "", local: bool = False,
             backend: str = "", secrets_provider: str = "") -> None:
    """Rehearse the sale: the capacity model's shoppers through distributed Locust, judged against 200 ms."""
    model = Workload(users=users, think_time_s=think_time or Workload().think_time_s, stock=stock)
    r = Rehearsal(suffix=suffix, users=users, duration_s=parse_duration(duration),
                  spawn_rate=spawn_rate or max(1.0, users / 10), local=local, faults=parse_faults(faults, local),
                  workers=workers, stock=stock, workload=model)
    validate(r)
    if not local:
        _aws_preflight(r, backend, secrets_provider)
        raise CatalogError("the target and the account can take this rehearsal; starting the Fargate stack from "
                           "this task is not built yet", "plan it offline (shared/ops/rehearsal_stack.py) or run "
                           "--local")
    for module in ("locust", "matplotlib"):
        if importlib.util.find_spec(module) is None:
            raise CatalogError(f"{module} is not installed", "pip install -e '.[bench]'")
    if not (REPO_ROOT / "containers" / "catalog-api" / "node_modules").exists():
        raise CatalogError("the API's dependencies are not installed", "cd containers/catalog-api && npm ci")
    from shared.ops.rehearsal import report
    from shared.ops.rehearsal_faults import fault_table
    from shared.ops.rehearsal_local import run_local

    run = run_local(r, RESULTS / f"rehearsal-{suffix}-{time.strftime('%Y%m%dT%H%M%S')}")
    print()
    print(report(run.outcome))
    if r.faults:
        print()
        print(fault_table(run.faults))
    print(f"\nLocust CSV: {run.out_dir.relative_to(REPO_ROOT)}")
    if run.chart:
        print(f"chart: {run.chart.relative_to(REPO_ROOT)}")


def _lambda_need(r: Rehearsal) -> int:
    """Concurrent executions the capacity model gives these shoppers (reference service times, default stacks)."""
    from shared.ops.capacity import DEFAULT_SERVICE_TIMES, StackConfig, model

    return model(r.workload, StackConfig(), DEFAULT_SERVICE_TIMES).lambda_concurrency_with_headroom


def _aws_preflight(r: Rehearsal, backend: str, secrets_provider: str) -> None:
    import boto3

    from shared.deploy import open_session
    from shared.ops.rehearsal_preflight import Boto3Account, preflight

    stacks = open_session(backend or None, secrets_provider or None, needs_aws=True,
                          say=lambda line: print(line, flush=True)).backend
    preflight(r, stacks, Boto3Account(boto3.session.Session(region_name="us-east-1")), _lambda_need(r))

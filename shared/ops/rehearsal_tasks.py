"""`invoke rehearse`: arguments and printing only (logic in rehearsal.py, rehearsal_local.py, rehearsal_aws.py)."""

from __future__ import annotations

import importlib.util
import sys
import time
from typing import Any

from invoke import Context, Exit

from shared.console import documented_task, refuse_clearly
from shared.ops.capacity import Workload
from shared.ops.rehearsal import MAX_LOCAL_USERS, Rehearsal, parse_duration, parse_faults, validate
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
        "workers": "--local: Locust worker processes (default: sized from the users; on AWS the stack sizes them, "
                   "2,000 shoppers a worker)",
        "stock": "units of the sale SKU (default 500): --local restocks it before the run; on AWS stock it first "
                 "(runbook step 5) and pass the same number",
        "think_time": "mean seconds between a shopper's actions (default: the capacity model's 5)",
        "faults": f"comma-separated name[@when][+hold]; on AWS (FIS): {', '.join(AWS_FAULTS)} (no @when: half-way); "
                  f"with --local: {', '.join(LOCAL_FAULTS)}, e.g. writer-crash@20s",
        "local": "run against the local API on this machine (master and workers as processes on loopback; at most "
                 f"{MAX_LOCAL_USERS:,} users)",
        "waiting_room": "--local: put the sale SKU behind the API's waiting room (its table in the run's moto "
                        "server, a fresh HMAC key, the controller in the API's process); the shoppers join, poll and "
                        "reserve with their admission pass",
        "image": "AWS: the Locust image in this account's ECR (bench/rehearsal.Dockerfile); default: the "
                 "rehearsal stack's saved catalog-rehearsal:image",
        "signing_key_secret_arn": "AWS: Secrets Manager secret holding the rehearsal's test signing key (PEM); "
                                  "default: the stack's saved catalog-rehearsal:signingKeySecretArn",
        "sale_sku": "AWS: the SKU the shoppers reserve (default SKU-000001)",
        "yes": "AWS: deploy after the preview without asking",
        "keep": "AWS: keep the rehearsal stack after the run (destroy it later with --teardown)",
        "teardown": "AWS: stop what a run left and destroy the rehearsal stack, then stop",
        "backend": "AWS: state backend of the target's stacks (file://<dir> or s3://<bucket>[/prefix])",
        "secrets_provider": "AWS: passphrase or awskms://alias/<key> of the target's stacks",
    }
)
@refuse_clearly
def rehearse(c: Context, suffix: str, users: int = 2000, duration: str = "60s", spawn_rate: float = 0.0,
             workers: int = 0, stock: int = 500, think_time: float = 0.0, faults: str = "", local: bool = False,
             waiting_room: bool = False, image: str = "", signing_key_secret_arn: str = "", sale_sku: str = "",
             yes: bool = False, keep: bool = False, teardown: bool = False, backend: str = "",
             secrets_provider: str = "") -> None:
    """Rehearse the sale: the capacity model's shoppers through distributed Locust, judged against 200 ms."""
    model = Workload(users=users, think_time_s=think_time or Workload().think_time_s, stock=stock)
    seconds = parse_duration(duration)
    r = Rehearsal(suffix=suffix, users=users, duration_s=seconds, spawn_rate=spawn_rate or max(1.0, users / 10),
                  local=local, faults=parse_faults(faults, local, seconds), workers=workers, stock=stock,
                  workload=model, waiting_room=waiting_room)
    validate(r)
    if teardown:
        _aws_teardown(suffix, backend, secrets_provider)
        return
    if not local:
        _aws(r, image, signing_key_secret_arn, sale_sku, yes, keep, backend, secrets_provider)
        return
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


def _aws_session(backend: str, secrets_provider: str) -> Any:
    from shared.deploy import open_session

    return open_session(backend or None, secrets_provider or None, needs_aws=True,
                        say=lambda line: print(line, flush=True))


def _aws_preflight(r: Rehearsal, stacks: Any, session: Any) -> int:
    """The target and the account can take the run (one refusal otherwise); the account's Lambda quota."""
    from shared.ops.rehearsal_preflight import Boto3Account, preflight

    account = Boto3Account(session)
    preflight(r, stacks, account, _lambda_need(r))
    return account.lambda_concurrency_quota()


def _aws(r: Rehearsal, image: str, secret_arn: str, sale_sku: str, yes: bool, keep: bool, backend: str,
         secrets_provider: str) -> None:
    import boto3

    from shared.deploy import Confirmation, OperationFailed
    from shared.ops import rehearsal_stack
    from shared.ops.rehearsal_aws import AwsDeps, aws_report, run_aws

    # The deploy tasks' question (and refusal without a terminal), asked after the preview; refused here first.
    confirm = Confirmation(yes)
    confirm.require_terminal()
    orchestrator = _aws_session(backend, secrets_provider)
    stacks = orchestrator.backend
    session = boto3.session.Session(region_name="us-east-1")
    quota = _aws_preflight(r, stacks, session)
    saved: dict[str, Any] = {}
    if stacks.resource_count(rehearsal_stack.TARGET, r.suffix) is not None:
        saved = {k.split(":", 1)[1]: v.value for k, v in stacks.get_config(rehearsal_stack.TARGET, r.suffix).items()
                 if k.startswith(f"{rehearsal_stack.PROJECT}:")}
    config = rehearsal_stack.config_for(
        r.users, image or saved.get("image", ""), secret_arn or saved.get("signingKeySecretArn", ""),
        duration_seconds=r.duration_s, spawn_rate=r.spawn_rate, think_time_seconds=r.workload.think_time_s,
        sale_sku=sale_sku or saved.get("saleSku", ""))
    deps = AwsDeps(stacks=stacks, policy_packs=orchestrator.guardrails, client=session.client, lambda_quota=quota,
                   confirm=confirm, say=lambda line: print(line, flush=True), sleep=time.sleep)
    out_dir = RESULTS / f"rehearsal-{r.suffix}-aws-{time.strftime('%Y%m%dT%H%M%S')}"
    try:
        run = run_aws(r, config, deps, out_dir, keep=keep)
    except OperationFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise Exit(code=1) from None
    if run is None:
        return
    print()
    print(aws_report(run))
    print(f"\nLocust CSV, master log, CloudWatch figures: {run.out_dir.relative_to(REPO_ROOT)}")
    if run.chart:
        print(f"chart: {run.chart.relative_to(REPO_ROOT)}")


def _aws_teardown(suffix: str, backend: str, secrets_provider: str) -> None:
    import boto3

    from shared.ops.rehearsal_aws import teardown

    stacks = _aws_session(backend, secrets_provider).backend
    teardown(stacks, boto3.session.Session(region_name="us-east-1").client, suffix, lambda line: print(line))

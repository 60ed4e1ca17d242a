"""Invoke entry point: the explicit collection of the platform's tasks (`invoke --list`; `invoke --help <task>`).

Each product keeps its tasks beside its logic (`shared/<product>/*tasks.py`: arguments and printing only):
deploy, plan, policy, ops and dev; `shared/console.py` is how every task speaks.
"""

from invoke import Collection

from shared.deploy import bootstrap_tasks
from shared.deploy import tasks as deploy
from shared.dev import tasks as dev
from shared.ops import cost_tasks, rehearsal_tasks
from shared.ops import perf_tasks as perf
from shared.ops import sale_tasks as sale
from shared.plan import docs_tasks as docs
from shared.plan import tasks as plan
from shared.policy import tasks as policy

ns = Collection(
    # deploy (Pulumi Automation API)
    deploy.up, deploy.preview, deploy.down, deploy.outputs, deploy.refresh, deploy.drift,
    deploy.up_all, deploy.down_all, deploy.secrets, deploy.cleanup_edge, deploy.doctor,
    # once per account: state bucket, secrets key, GitHub OIDC, per-team roles (not a layer)
    bootstrap_tasks.bootstrap,
    # offline: plan, guardrails, docs
    plan.synth, plan.layers, policy.check, docs.docs,
    # local development and tests
    dev.install, dev.test, dev.dev, dev.mutate,
    # performance
    perf.bench, perf.capacity, perf.loadtest, perf.bench_synth,
    # the sale rehearsal: distributed Locust (locally, or on Fargate) judged against 200 ms
    rehearsal_tasks.rehearse,
    # what an environment costs (offline plan, dated price table)
    cost_tasks.cost,
    # sale windows
    sale.sale,
)

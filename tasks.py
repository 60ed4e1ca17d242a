"""Invoke entry point: the explicit collection of the platform's tasks (`invoke --list`; `invoke --help <task>`).

Each area's tasks live in `shared/tooling/cli/<area>.py` (arguments and printing); their logic lives in the rest
of `shared/tooling`.
"""

from invoke import Collection

from shared.tooling.cli import bootstrap, deploy, dev, docs, perf, plan, policy, sale

ns = Collection(
    # deploy (Pulumi Automation API)
    deploy.up, deploy.preview, deploy.down, deploy.outputs, deploy.refresh, deploy.drift,
    deploy.up_all, deploy.down_all, deploy.secrets, deploy.cleanup_edge, deploy.doctor,
    # once per account: state bucket, secrets key, GitHub OIDC, per-team roles (not a layer)
    bootstrap.bootstrap,
    # offline: plan, guardrails, docs
    plan.synth, plan.layers, policy.check, docs.docs,
    # local development and tests
    dev.install, dev.test, dev.dev,
    # performance
    perf.bench, perf.capacity, perf.loadtest, perf.bench_synth,
    # sale windows
    sale.sale,
)

"""Deploy tasks over the Pulumi Automation API: up, preview, down, outputs, refresh, drift, up-all, down-all,
secrets, doctor, cleanup-edge. Arguments and printing only; the logic is in the rest of `shared/deploy/`.

`up`, `up-all`, `down`, `down-all` show what would change and ask (`--yes`: no question; no terminal and no
`--yes`: refused before anything is touched; see confirm.py).

Exit codes: 0 done (or nothing to change); 1 an operation failed (the summary says what is left; re-run to
resume), or the question was answered no (nothing changed by that step); 2 bad input or a refused guard (nothing
changed), and for `drift`, the cloud differs from the state.
"""

from __future__ import annotations

import json as _json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from invoke import Context, Exit

from shared.console import documented_task, refuse_clearly
from shared.deploy.confirm import Confirmation
from shared.deploy.guards import validate_request
from shared.deploy.interface import OperationFailed, StackOutput
from shared.deploy.report import DECLINED, StepResult, render_summary
from shared.runtime.errors import CatalogError

F = TypeVar("F", bound=Callable[..., Any])

COMMON_HELP = {
    "suffix": "environment suffix = stack name, e.g. qa (2-16 lowercase letters, digits, single hyphens)",
    "backend": "state backend: file://<dir> (default: .pulumi-state/ in the repo) or s3://<bucket>[/prefix]; "
               "also PULUMI_BACKEND_URL",
    "secrets_provider": "passphrase (default: PULUMI_CONFIG_PASSPHRASE[_FILE]) or awskms://alias/<key>",
}
LAYER_HELP = {"layer": "network, data, app, edge or observability", **COMMON_HELP}
CONFIG_HELP = {"config": "override a setting, repeatable: --config data:minAcu=1 (saved in the stack config)"}
YES_HELP = {"yes": "deploy after the preview without asking (automation; the pipelines pass it). Without it, "
                   "the changes are listed and the deploy waits for y at a terminal"}
REFRESH_YES_HELP = {"yes": "write the cloud's values into the state without asking (automation). Without it, the "
                           "differences are listed and the refresh waits for y at a terminal"}
DESTROY_YES_HELP = {"yes": "destroy without asking (automation). Without it, what goes is listed and the destroy "
                           "waits for y at a terminal"}


def _say(line: str) -> None:
    print(line, flush=True)


def reports_failures(func: F) -> F:
    """An engine failure is not bad input: one line on stderr, exit code 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except OperationFailed as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise Exit(code=1) from None

    return wrapper  # type: ignore[return-value]


def _session(backend: str, secrets_provider: str, *, needs_aws: bool = True,
             confirm: Confirmation | None = None) -> Any:
    from shared.deploy.session import open_session

    return open_session(backend or None, secrets_provider or None, needs_aws=needs_aws, say=_say, confirm=confirm)


def _confirmation(yes: bool, verb: str = "deploy") -> Confirmation:
    """Refused here, before the session opens anything, when the question could not be asked."""
    confirm = Confirmation(yes, verb)
    confirm.require_terminal()
    return confirm


def _not_negative(flag: str, minutes: float) -> None:
    if minutes < 0:
        raise CatalogError(f"{flag} {minutes:g} is negative", "pass 0 (one try) or more minutes")


def _finish(results: list[StepResult], failure_hint: str = "") -> None:
    if len(results) == 1 and results[0].result == DECLINED:
        raise Exit(code=1)  # the one line is said: nothing changed, no table to add
    _say("")
    _say(render_summary(results))
    if not all(r.ok for r in results):
        if failure_hint:
            print(failure_hint, file=sys.stderr)
        raise Exit(code=1)


@documented_task(help={**LAYER_HELP, **CONFIG_HELP, **YES_HELP}, iterable=["config"])
@refuse_clearly
@reports_failures
def up(c: Context, layer: str = "", suffix: str = "", config: list[str] | None = None, yes: bool = False,
       backend: str = "", secrets_provider: str = "") -> None:
    """Deploy one layer: preview, list the changes, ask, update within the preview's plan (upstream stacks must
    exist and export what it reads)."""
    req = validate_request(suffix, layer, config, layer_required=True)
    orchestrator = _session(backend, secrets_provider, confirm=_confirmation(yes))
    _finish([orchestrator.up(req.layer, req.suffix, req.overrides)])


@documented_task(help={**LAYER_HELP, **CONFIG_HELP}, iterable=["config"])
@refuse_clearly
@reports_failures
def preview(c: Context, layer: str = "", suffix: str = "", config: list[str] | None = None, backend: str = "",
            secrets_provider: str = "") -> None:
    """Show what `up` would change in one layer, without changing it."""
    req = validate_request(suffix, layer, config, layer_required=True)
    orchestrator = _session(backend, secrets_provider)
    _finish([orchestrator.preview(req.layer, req.suffix, req.overrides)])


@documented_task(help={**LAYER_HELP, "force": "destroy even while a downstream stack still holds resources",
            "keep_stack": "keep the empty stack (and its config) after the destroy",
            "dry_run": "print the actions without doing them", **DESTROY_YES_HELP})
@refuse_clearly
@reports_failures
def down(c: Context, layer: str = "", suffix: str = "", force: bool = False, keep_stack: bool = False,
         dry_run: bool = False, yes: bool = False, backend: str = "", secrets_provider: str = "") -> None:
    """Destroy one layer after listing what goes and asking (refused while a layer that reads it is deployed,
    unless --force)."""
    req = validate_request(suffix, layer, layer_required=True)
    confirm = None if dry_run else _confirmation(yes, "destroy")
    orchestrator = _session(backend, secrets_provider, needs_aws=not dry_run, confirm=confirm)
    _finish([orchestrator.down(req.layer, req.suffix, force=force, keep_stack=keep_stack, dry_run=dry_run)])


@documented_task(help={**LAYER_HELP, "show_secrets": "print secret outputs in clear", "json": "print JSON"})
@refuse_clearly
@reports_failures
def outputs(c: Context, layer: str = "", suffix: str = "", show_secrets: bool = False, json: bool = False,
            backend: str = "", secrets_provider: str = "") -> None:
    """Print a layer's stack outputs (secrets masked unless --show-secrets)."""
    req = validate_request(suffix, layer, layer_required=True)
    values = _session(backend, secrets_provider, needs_aws=False).outputs(req.layer, req.suffix)

    def shown(out: StackOutput) -> Any:
        return "[secret]" if out.secret and not show_secrets else out.value

    if json:
        print(_json.dumps({k: shown(v) for k, v in sorted(values.items())}, indent=2, default=str))
        return
    for name, out in sorted(values.items()):
        value = shown(out)
        print(f"{name} = {value if isinstance(value, str) else _json.dumps(value, default=str)}")


@documented_task(help={**LAYER_HELP, **REFRESH_YES_HELP})
@refuse_clearly
@reports_failures
def refresh(c: Context, layer: str = "", suffix: str = "", yes: bool = False, backend: str = "",
            secrets_provider: str = "") -> None:
    """Read the real state of a layer's resources from AWS into its stack, after listing the differences and
    asking."""
    req = validate_request(suffix, layer, layer_required=True)
    _finish([_session(backend, secrets_provider, confirm=_confirmation(yes, "refresh")).refresh(req.layer,
                                                                                               req.suffix)])


@documented_task(help={**COMMON_HELP, "layer": "one layer; default: every stack of the suffix that holds resources"})
@refuse_clearly
@reports_failures
def drift(c: Context, layer: str = "", suffix: str = "", backend: str = "", secrets_provider: str = "") -> None:
    """Compare the state with the cloud (refresh preview, nothing written); exit code 2 when they differ."""
    req = validate_request(suffix, layer)
    orchestrator = _session(backend, secrets_provider)
    results = [orchestrator.drift(req.layer, req.suffix)] if req.layer else orchestrator.drift_all(req.suffix)
    _say("")
    _say(render_summary(results))
    drifted = [r.layer for r in results if r.result == "drifted"]
    if drifted:
        print(f"drift in {', '.join(drifted)}: `invoke refresh` to accept the cloud's values, or `invoke up` "
              "to restore the code's", file=sys.stderr)
        raise Exit(code=2)


@documented_task(help={**COMMON_HELP, **CONFIG_HELP, **YES_HELP}, iterable=["config"])
@refuse_clearly
@reports_failures
def up_all(c: Context, suffix: str = "", config: list[str] | None = None, yes: bool = False, backend: str = "",
           secrets_provider: str = "") -> None:
    """Deploy every layer in order: network, data, app, edge, observability; each previewed and asked for just
    before its update."""
    req = validate_request(suffix, None, config)
    results = _session(backend, secrets_provider, confirm=_confirmation(yes)).up_all(req.suffix, req.overrides)
    _finish(results, f"fix the cause and run `invoke up-all --suffix {req.suffix}` again: deployed layers "
                     "are updated in place")


@documented_task(help={**COMMON_HELP, "keep_stacks": "keep the empty stacks (and their config)",
            "dry_run": "print the plan of actions without doing them",
            "edge_wait_minutes": "retry deleting the Lambda@Edge functions this long while AWS still has their "
                                 "replicas (default: one try; pending ones are reported)", **DESTROY_YES_HELP})
@refuse_clearly
@reports_failures
def down_all(c: Context, suffix: str = "", keep_stacks: bool = False, dry_run: bool = False,
             edge_wait_minutes: float = 0.0, yes: bool = False, backend: str = "", secrets_provider: str = "") -> None:
    """Destroy every layer in reverse order, with the Aurora readers and Lambda@Edge clean-ups, after listing what
    goes and asking once; resumable."""
    req = validate_request(suffix)
    _not_negative("--edge-wait-minutes", edge_wait_minutes)
    confirm = None if dry_run else _confirmation(yes, "destroy")
    results = _session(backend, secrets_provider, needs_aws=not dry_run, confirm=confirm).down_all(
        req.suffix, keep_stacks=keep_stacks, dry_run=dry_run, edge_wait_minutes=edge_wait_minutes)
    _finish(results, f"fix the cause and run `invoke down-all --suffix {req.suffix}` again: it resumes")


@documented_task(help=COMMON_HELP)
@refuse_clearly
@reports_failures
def secrets(c: Context, suffix: str = "", backend: str = "", secrets_provider: str = "") -> None:
    """Generate the stack secrets that are absent (app originVerifySecret; data dbPassword only with
    manageMasterPassword=false); never printed."""
    req = validate_request(suffix)
    for line in _session(backend, secrets_provider, needs_aws=False).ensure_secrets(req.suffix):
        _say(line)


@documented_task(help={**COMMON_HELP,
                       "wait_minutes": "keep retrying this long while replicas remain (default: one try)"})
@refuse_clearly
@reports_failures
def cleanup_edge(c: Context, suffix: str = "", wait_minutes: float = 0.0, backend: str = "",
                 secrets_provider: str = "") -> None:
    """Delete the Lambda@Edge functions an edge teardown left behind, once CloudFront dropped their replicas."""
    req = validate_request(suffix)
    _not_negative("--wait-minutes", wait_minutes)
    result = _session(backend, secrets_provider).clean_edge(req.suffix, wait_minutes)
    if result.pending:
        _say(f"pending: {', '.join(result.pending)} (not an error; retry later)")


@documented_task(help={"backend": COMMON_HELP["backend"], "secrets_provider": COMMON_HELP["secrets_provider"]})
def doctor(c: Context, backend: str = "", secrets_provider: str = "") -> None:
    """Check the prerequisites: Python packages, Pulumi CLI, AWS credentials, docker buildx, backend, passphrase."""
    from shared.deploy.doctor import run_doctor

    checks = run_doctor(backend or None, secrets_provider or None)
    for check in checks:
        _say(check.line)
    failed = [check.name for check in checks if check.status == "FAIL"]
    if failed:
        raise Exit(f"doctor: {len(failed)} required check(s) failed: {', '.join(failed)}", code=1)

"""Teardown of Lambda@Edge functions: what `pulumi destroy` cannot finish by itself.

When the distribution is deleted, AWS removes the functions' replicas asynchronously, within hours; until then
`DeleteFunction` fails with `InvalidParameterValueException ... because it is a replicated function`
(docs/aws-rules.md). So the edge layer declares its two functions with `retain_on_delete=True`:
`invoke down --layer edge` completes at once, leaving the functions in AWS and out of the stack. This module
then deletes them (every version: `DeleteFunction` without a qualifier) once AWS allows it:

- names come from the suffix alone (`edge_function_names`, the same function the program names them with),
  so no state file is needed: the retained functions themselves are the to-do list;
- each attempt is idempotent: a function already gone is `absent`, a still-replicated one is `replicated`
  (reported, never an error); anything else AWS says is raised;
- the functions' own log groups (`/aws/lambda/us-east-1.<name>`, created by Lambda@Edge in every region
  where the function ran, outside the stack) are deleted once the functions are gone.

AWS refuses to delete a function a distribution still uses (its replicas exist), so a cleanup run against a
deployed stack deletes nothing. `before_up` runs the cleanup before the edge layer is deployed again: a
retained function with the same name would make the create fail.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.runtime import REGION
from shared.runtime.edge_names import FUNCTION_KINDS, edge_function_names
from shared.runtime.errors import CatalogError

DELETED, ABSENT, REPLICATED, IN_USE = "deleted", "absent", "replicated", "in_use"
REPLICATED_MARKER = "replicated function"
# A region where the logs API is closed to us (SCP, region not usable) is skipped, not fatal: the functions are
# what blocks a redeploy; their log groups are housekeeping.
LOGS_UNREACHABLE = {"AccessDeniedException", "UnrecognizedClientException", "InvalidClientTokenId",
                    "AuthFailure", "OptInRequired"}


def edge_log_group_names(function_name: str) -> tuple[str, ...]:
    """Log groups a Lambda@Edge function writes to: replicas use the `us-east-1.` prefix in each region."""
    return (f"/aws/lambda/{REGION}.{function_name}", f"/aws/lambda/{function_name}")


def _error_code(exc: BaseException) -> str:
    response: Any = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _error_message(exc: BaseException) -> str:
    response: Any = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Message", "")) or str(exc)


def is_replicated_error(exc: BaseException) -> bool:
    """True for AWS's refusal to delete a function whose Lambda@Edge replicas still exist."""
    return _error_code(exc) == "InvalidParameterValueException" and REPLICATED_MARKER in _error_message(exc)


@dataclass(frozen=True)
class FunctionOutcome:
    name: str
    outcome: str  # DELETED, ABSENT, REPLICATED or IN_USE
    versions: tuple[str, ...] = ()
    detail: str = ""

    def line(self) -> str:
        if self.outcome == DELETED:
            return f"deleted {self.name} (versions {', '.join(self.versions) or 'none'})"
        if self.outcome == ABSENT:
            return f"{self.name}: already gone"
        if self.outcome == IN_USE:
            return f"{self.name}: kept, the deployed edge stack uses it"
        return f"{self.name}: still replicated at the edge; AWS removes replicas within hours, retry later"


@dataclass(frozen=True)
class CleanupReport:
    suffix: str
    functions: tuple[FunctionOutcome, ...]
    log_groups_deleted: tuple[str, ...] = ()
    log_regions_skipped: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return all(f.outcome != REPLICATED for f in self.functions)

    @property
    def pending(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.functions if f.outcome == REPLICATED)

    def lines(self) -> list[str]:
        out = [f.line() for f in self.functions]
        out += [f"deleted log group {name}" for name in self.log_groups_deleted]
        if self.log_regions_skipped:
            out.append(f"log groups not checked in {', '.join(self.log_regions_skipped)} (logs API refused)")
        if not self.done:
            out.append(f"pending: run `invoke cleanup-edge --suffix {self.suffix}` later "
                       "(`invoke down-all` and `invoke up --layer edge` also retry it)")
        return out


def _numbered_versions(client: Any, name: str) -> tuple[str, ...] | None:
    """Published versions of `name`, or None when the function does not exist."""
    versions: list[str] = []
    try:
        for page in client.get_paginator("list_versions_by_function").paginate(FunctionName=name):
            versions += [v["Version"] for v in page.get("Versions", []) if v.get("Version") != "$LATEST"]
    except Exception as exc:
        if _error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    return tuple(sorted(versions, key=int))


def delete_edge_function(client: Any, name: str) -> FunctionOutcome:
    """Delete function `name` with all its versions if AWS allows it; never raises for replicas."""
    versions = _numbered_versions(client, name)
    if versions is None:
        return FunctionOutcome(name, ABSENT)
    try:
        client.delete_function(FunctionName=name)
    except Exception as exc:
        if is_replicated_error(exc):
            return FunctionOutcome(name, REPLICATED, versions, _error_message(exc))
        if _error_code(exc) == "ResourceNotFoundException":  # deleted by someone else meanwhile
            return FunctionOutcome(name, ABSENT, versions)
        raise
    return FunctionOutcome(name, DELETED, versions)


def delete_log_groups(logs_client: Any, names: Iterable[str]) -> tuple[str, ...]:
    """Delete the named log groups that exist in the client's region; returns those deleted."""
    deleted = []
    for name in names:
        try:
            logs_client.delete_log_group(logGroupName=name)
        except Exception as exc:
            if _error_code(exc) == "ResourceNotFoundException":
                continue
            raise
        deleted.append(name)
    return tuple(deleted)


def managed_function_names(outputs: Mapping[str, Any]) -> tuple[str, ...]:
    """Function names the edge stack exports (its outputs, plain or `StackOutput`-like): those are in use."""
    names = []
    for role in FUNCTION_KINDS:
        value = outputs.get(f"{role}FunctionName")
        value = getattr(value, "value", value)
        if isinstance(value, str) and value:
            names.append(value)
    return tuple(names)


def cleanup_edge_functions(
    lambda_client: Any, suffix: str, logs_clients: Iterable[Any] = (), in_use: Iterable[str] = (),
) -> CleanupReport:
    """One idempotent attempt: delete the retained edge functions of `suffix` (us-east-1 client) except those
    `in_use` (exported by a deployed edge stack), then, when none is left, their log groups through
    `logs_clients` (one per region to sweep)."""
    keep = set(in_use)
    outcomes = tuple(
        FunctionOutcome(name, IN_USE) if name in keep else delete_edge_function(lambda_client, name)
        for name in edge_function_names(suffix).values()
    )
    report = CleanupReport(suffix, outcomes)
    if not report.done:
        return report
    groups = [g for fn in outcomes if fn.outcome != IN_USE for g in edge_log_group_names(fn.name)]
    deleted: list[str] = []
    skipped: list[str] = []
    for client in logs_clients:
        try:
            deleted += delete_log_groups(client, groups)
        except Exception as exc:
            if _error_code(exc) not in LOGS_UNREACHABLE:
                raise
            skipped.append(str(getattr(getattr(client, "meta", None), "region_name", "?")))
    return CleanupReport(suffix, outcomes, tuple(deleted), tuple(skipped))


def cleanup_until_done(
    lambda_client: Any,
    suffix: str,
    *,
    timeout_seconds: float,
    interval_seconds: float = 60.0,
    logs_clients: Iterable[Any] = (),
    in_use: Iterable[str] = (),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_attempt: Callable[[CleanupReport], None] | None = None,
) -> CleanupReport:
    """Retry `cleanup_edge_functions` every `interval_seconds` until done or `timeout_seconds` passed
    (0: one attempt). Returns the last report; a pending one is not an error."""
    logs, keep = tuple(logs_clients), tuple(in_use)
    deadline = clock() + max(0.0, timeout_seconds)
    while True:
        report = cleanup_edge_functions(lambda_client, suffix, logs, keep)
        if on_attempt is not None:
            on_attempt(report)
        if report.done or clock() + interval_seconds > deadline:
            return report
        sleep(interval_seconds)


def after_destroy(lambda_client: Any, suffix: str, logs_clients: Iterable[Any] = ()) -> CleanupReport:
    """Run by `invoke down --layer edge` right after a successful destroy: one attempt, pending is normal."""
    return cleanup_edge_functions(lambda_client, suffix, logs_clients)


def before_up(lambda_client: Any, suffix: str, in_use: Iterable[str] = ()) -> CleanupReport:
    """Run before `invoke up --layer edge`: clear functions retained by an earlier destroy (`in_use`: the names
    the current edge stack exports, left alone), or refuse clearly while AWS still has their replicas
    (creating a function with the same name would fail half-way through the deployment)."""
    report = cleanup_edge_functions(lambda_client, suffix, in_use=in_use)
    if not report.done:
        raise CatalogError(
            f"Lambda@Edge function(s) {', '.join(report.pending)} from an earlier `invoke down --layer edge "
            f"--suffix {suffix}` are still replicated, so they cannot be replaced yet",
            f"wait (AWS removes replicas within hours), e.g. `invoke cleanup-edge --suffix {suffix} "
            "--wait-minutes 120`, then deploy again",
        )
    return report

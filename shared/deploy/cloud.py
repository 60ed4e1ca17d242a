"""The two AWS clean-ups around `pulumi destroy`, behind small interfaces the orchestration calls.

- `ReaderRemover(cluster_id, managed_ids) -> removed ids`: before the data stack is destroyed
  (`rds_readers.remove_autoscaled_readers`).
- `AccountChecks`: account-level settings a layer needs but does not own (API Gateway's CloudWatch role).
- `EdgeCleaner`: the retained Lambda@Edge functions (`shared.deploy.edge_teardown`): `before_up` clears leftovers
  before the edge layer is deployed again, `after_destroy` deletes them once their replicas are gone.

The real implementations build boto3 clients lazily, so tasks that never reach them need no AWS credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from shared.runtime import REGION

ReaderRemover = Callable[[str, Sequence[str]], list[str]]


@dataclass(frozen=True)
class EdgeCleanupResult:
    lines: tuple[str, ...]
    pending: tuple[str, ...]  # functions AWS still refuses to delete (replicas at the edge)


class EdgeCleaner(Protocol):
    def before_up(self, suffix: str) -> None:
        """Delete functions retained by an earlier destroy; raise CatalogError while they are replicated."""

    def after_destroy(self, suffix: str, wait_minutes: float = 0.0) -> EdgeCleanupResult:
        """One attempt (or retries for `wait_minutes`); pending replicas are reported, not raised."""


class AccountChecks(Protocol):
    def api_gateway_logging_role(self) -> str | None:
        """The CloudWatch Logs role API Gateway uses in this account and region, or None when none is set."""


class AwsAccountChecks:
    def api_gateway_logging_role(self) -> str | None:
        return _client("apigateway").get_account().get("cloudwatchRoleArn") or None


def _client(service: str, region: str = REGION) -> Any:
    import boto3
    from botocore.config import Config

    # Teardown calls are few and idempotent: fail in seconds rather than hang on a dead network.
    return boto3.client(service, region_name=region,
                        config=Config(connect_timeout=10, read_timeout=60, retries={"max_attempts": 5}))


def aws_reader_remover(say: Callable[[str], None] = print) -> ReaderRemover:
    def remove(cluster_id: str, managed_ids: Sequence[str]) -> list[str]:
        from shared.deploy.rds_readers import remove_autoscaled_readers

        return remove_autoscaled_readers(_client("rds"), cluster_id, managed_ids,
                                         autoscaling=_client("application-autoscaling"), say=say)

    return remove


class AwsEdgeCleaner:
    """`EdgeCleaner` over `shared.deploy.edge_teardown` with boto3: Lambda in us-east-1, log groups in every enabled
    region (Lambda@Edge writes `/aws/lambda/us-east-1.<name>` wherever the function ran)."""

    def __init__(self, say: Callable[[str], None] = print,
                 regions: Callable[[], Sequence[str]] | None = None) -> None:
        self.say = say
        self.regions = regions or self._enabled_regions

    def _enabled_regions(self) -> Sequence[str]:
        try:
            return [r["RegionName"] for r in _client("ec2").describe_regions()["Regions"]]
        except Exception as exc:  # no ec2:DescribeRegions: sweep us-east-1 only, say so
            self.say(f"  cannot list regions ({type(exc).__name__}): sweeping edge log groups in {REGION} only")
            return [REGION]

    def _logs_clients(self) -> Iterator[Any]:
        for region in self.regions():
            yield _client("logs", region)

    def before_up(self, suffix: str) -> None:
        from shared.deploy import edge_teardown

        for line in edge_teardown.before_up(_client("lambda"), suffix).lines():
            if "already gone" not in line:
                self.say(f"  {line}")

    def after_destroy(self, suffix: str, wait_minutes: float = 0.0) -> EdgeCleanupResult:
        from shared.deploy import edge_teardown

        def progress(report: Any) -> None:
            if not report.done:
                self.say(f"  still replicated: {', '.join(report.pending)}; retrying for up to {wait_minutes:g} min")

        report = edge_teardown.cleanup_until_done(
            _client("lambda"), suffix, timeout_seconds=wait_minutes * 60, logs_clients=self._logs_clients(),
            on_attempt=progress if wait_minutes > 0 else None,
        )
        return EdgeCleanupResult(tuple(report.lines()), tuple(report.pending))

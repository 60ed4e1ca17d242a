"""The faults a sale rehearsal may inject with AWS Fault Injection Service: one catalogue for the observability
layer's experiment templates and `invoke rehearse --faults`.

FIS action ids, target types and parameters are AWS's (the FIS actions reference; botocore's fis model has the API,
not the action catalogue). The Lambda actions work through AWS's FIS Lambda extension: the function must carry the
extension layer and read its configuration from an S3 location FIS writes to (`faultConfigLocation`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    action_id: str
    target_type: str
    target_key: str  # the action's target name in FIS
    what: str
    lambda_extension: bool = False


FAULTS: dict[str, Fault] = {f.name: f for f in (
    Fault("aurora-failover", "aws:rds:failover-db-cluster", "aws:rds:cluster", "Clusters",
          "fail the Aurora writer over to a reader (the proxy follows the new writer)"),
    Fault("lambda-errors", "aws:lambda:invocation-error", "aws:lambda:function", "Functions",
          "a share of the API function's invocations fail", lambda_extension=True),
    Fault("lambda-latency", "aws:lambda:invocation-add-delay", "aws:lambda:function", "Functions",
          "a share of the API function's invocations start late", lambda_extension=True),
)}

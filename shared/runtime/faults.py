"""The faults a sale rehearsal may inject with AWS Fault Injection Service: one catalogue for the observability
layer's experiment templates and `invoke rehearse --faults` (without --local; the local faults are another list,
shared/ops/rehearsal_faults.py).

FIS action ids, target types and parameters are AWS's (the FIS actions reference; botocore's fis model has the API,
not the action catalogue). The Lambda actions work through AWS's FIS Lambda extension: the function must carry the
extension and read its configuration from an S3 location FIS writes to (the app layer's `faultConfigLocation`).
The network actions (`aws:network:disrupt-connectivity`) swap the target subnets' network ACL for one FIS creates
(tagged `managedByFIS=true`) that denies the traffic of the action's `scope`, and put the original back at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.runtime.naming import Service, physical_name

SUBNET = "aws:ec2:subnet"
FIS_TAG = "managedByFIS"  # the tag FIS puts on the network ACL it creates (and looks for when it deletes it)
# Where FIS writes the Lambda faults' configuration: one bucket (kind `fis-config`, brought by the operator) under
# one fixed prefix, so the API's role reads and the experiments' role writes only there, never the environment's
# other buckets (static site, logs, artifacts). The app layer accepts only this location; the app's and the
# observability layer's permissions boundaries name exactly it.
FIS_CONFIG_KIND = "fis-config"
FIS_CONFIG_PREFIX = "FisConfigs"


def fis_config_bucket(suffix: str, account_id: str) -> str:
    return physical_name(FIS_CONFIG_KIND, suffix, Service.S3_BUCKET, account_id=account_id)


def fis_config_location(suffix: str, account_id: str) -> str:
    """arn:aws:s3:::catalog-fis-config-<suffix>-<account>/FisConfigs (no trailing slash)."""
    return f"arn:aws:s3:::{fis_config_bucket(suffix, account_id)}/{FIS_CONFIG_PREFIX}"


@dataclass(frozen=True)
class Fault:
    name: str
    action_id: str
    target_type: str
    target_key: str  # the action's target name in FIS
    what: str
    lambda_extension: bool = False
    scope: str = ""  # aws:network:disrupt-connectivity: which traffic the subnets lose

    @property
    def network(self) -> bool:
        return self.target_type == SUBNET


FAULTS: dict[str, Fault] = {f.name: f for f in (
    Fault("aurora-failover", "aws:rds:failover-db-cluster", "aws:rds:cluster", "Clusters",
          "fail the Aurora writer over to a reader (the proxy follows the new writer)"),
    Fault("lambda-errors", "aws:lambda:invocation-error", "aws:lambda:function", "Functions",
          "a share of the API function's invocations fail", lambda_extension=True),
    Fault("lambda-latency", "aws:lambda:invocation-add-delay", "aws:lambda:function", "Functions",
          "a share of the API function's invocations start late", lambda_extension=True),
    # The API function runs in the private subnets: denying DynamoDB's prefix list there cuts the cache tier (and
    # the sessions table) off from it, as an outage of DynamoDB's regional endpoint would.
    Fault("dynamodb-disrupt", "aws:network:disrupt-connectivity", SUBNET, "Subnets",
          "the private subnets lose DynamoDB (the cache tier and sessions)", scope="dynamodb"),
    # One AZ's private subnet loses all traffic, in and out: its Lambda ENIs, its proxy endpoint, its Aurora
    # instance. RDS does not fail over for a network ACL (pair with aurora-failover to move a writer there).
    Fault("az-disrupt", "aws:network:disrupt-connectivity", SUBNET, "Subnets",
          "one availability zone's private subnet loses all traffic", scope="all"),
)}

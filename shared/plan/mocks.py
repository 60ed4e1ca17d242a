"""Pulumi mocks for the offline plan: resources get realistic computed values, data sources real-shaped answers,
stack references the upstream layers' planned exports."""

from __future__ import annotations

import json
from typing import Any

import pulumi

from shared.plan.computed import (
    ACCOUNT_ID,
    AZ_IDS,
    AZS,
    CLOUDFRONT_PREFIX_LIST,
    ELB_ACCOUNT_US_EAST_1,
    REGION,
    computed_state,
    hexid,
)

SECRET_SIG = "4dabf18193072939515e22adb298388d"

# AWS-managed CloudFront policies (documented, stable ids).
MANAGED_CACHE_POLICIES = {
    "Managed-CachingOptimized": "658327ea-f89d-4fab-a63d-7e88639e58f6",
    "Managed-CachingDisabled": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
    "Managed-CachingOptimizedForUncompressedObjects": "b2884449-e4de-46a7-ac36-70bc7f1ddd6d",
}
MANAGED_ORIGIN_REQUEST_POLICIES = {
    "Managed-AllViewer": "216adef6-5c7f-47e4-b989-5492eafa07d3",
    "Managed-AllViewerExceptHostHeader": "b689b0a8-53d0-40ab-baf2-68738e2966ac",
    "Managed-CORS-S3Origin": "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf",
}
MANAGED_RESPONSE_HEADERS_POLICIES = {
    "Managed-SecurityHeadersPolicy": "67f7725c-6f97-4210-82d7-5512b31e9d03",
    "Managed-SimpleCORS": "60669652-455b-4ae9-85a4-c4c02393f86c",
}


class PlannerError(Exception):
    """The planner has no answer for something the program asked."""


def _policy_document(args: dict[str, Any]) -> dict[str, Any]:
    """Render `aws.iam.get_policy_document` the way the provider does, for the statement shapes we use."""
    statements = []
    for st in args.get("statements") or []:
        out: dict[str, Any] = {"Effect": st.get("effect", "Allow")}
        if st.get("sid"):
            out["Sid"] = st["sid"]
        for key, field in (("actions", "Action"), ("notActions", "NotAction"), ("resources", "Resource"),
                           ("notResources", "NotResource")):
            if st.get(key):
                values = st[key]
                out[field] = values[0] if len(values) == 1 else values
        for key, field in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            if st.get(key):
                principal: dict[str, Any] = {}
                for p in st[key]:
                    ids = p["identifiers"]
                    principal[p["type"]] = ids[0] if len(ids) == 1 else ids
                out[field] = principal
        if st.get("conditions"):
            cond: dict[str, Any] = {}
            for c in st["conditions"]:
                values = c["values"]
                cond.setdefault(c["test"], {})[c["variable"]] = values[0] if len(values) == 1 else values
            out["Condition"] = cond
        statements.append(out)
    doc = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return {"json": doc, "minifiedJson": doc, "id": hexid("policydoc", doc, length=10)}


def answer_invoke(token: str, args: dict[str, Any]) -> dict[str, Any]:
    """Answer a data source the way AWS would in us-east-1 for account 123456789012."""
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        return {"id": REGION, "names": list(AZS), "zoneIds": list(AZ_IDS), "groupNames": [REGION]}
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {"id": ACCOUNT_ID, "accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/deployer",
                "userId": "AIDAEXAMPLEDEPLOYER"}
    if token == "aws:index/getRegion:getRegion":
        return {"id": REGION, "name": REGION, "region": REGION, "endpoint": f"ec2.{REGION}.amazonaws.com",
                "description": "US East (N. Virginia)"}
    if token == "aws:index/getPartition:getPartition":
        return {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"}
    if token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
        return {"id": CLOUDFRONT_PREFIX_LIST,
                "name": args.get("name", "com.amazonaws.global.cloudfront.origin-facing"),
                "arn": f"arn:aws:ec2:{REGION}:aws:prefix-list/{CLOUDFRONT_PREFIX_LIST}", "addressFamily": "IPv4",
                "maxEntries": 55, "ownerId": "AWS", "entries": [{"cidr": "120.52.22.96/27", "description": ""}]}
    if token == "aws:elb/getServiceAccount:getServiceAccount":
        return {"id": ELB_ACCOUNT_US_EAST_1, "arn": f"arn:aws:iam::{ELB_ACCOUNT_US_EAST_1}:root"}
    if token == "aws:iam/getPolicyDocument:getPolicyDocument":
        return _policy_document(args)
    if token == "aws:iam/getPolicy:getPolicy":
        name = args.get("name") or str(args.get("arn", "")).rsplit("/", 1)[-1]
        return {"id": f"arn:aws:iam::aws:policy/{name}", "arn": args.get("arn") or f"arn:aws:iam::aws:policy/{name}",
                "name": name}
    for table, tok in ((MANAGED_CACHE_POLICIES, "aws:cloudfront/getCachePolicy:getCachePolicy"),
                       (MANAGED_ORIGIN_REQUEST_POLICIES,
                        "aws:cloudfront/getOriginRequestPolicy:getOriginRequestPolicy"),
                       (MANAGED_RESPONSE_HEADERS_POLICIES,
                        "aws:cloudfront/getResponseHeadersPolicy:getResponseHeadersPolicy")):
        if token == tok:
            name = args.get("name")
            if name not in table:
                raise PlannerError(f"{token}: no AWS-managed policy named {name!r}; known: {', '.join(table)}")
            return {"id": table[name], "name": name}
    if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
        return {"id": REGION, "userName": "AWS", "password": "offline-plan-token",
                "authorizationToken": "QVdTOm9mZmxpbmU=", "expiresAt": "2099-01-01T00:00:00Z",
                "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com"}
    if token == "aws:cloudfront/getLogDeliveryCanonicalUserId:getLogDeliveryCanonicalUserId":
        return {"id": "c4c1ede66af53448b93c283ce9448c4ba468c9432aa01d700d3878632f77d2d0"}
    if token == "aws:secretsmanager/getRandomPassword:getRandomPassword":
        # Deterministic, plan-only: a real plan gets a fresh value from Secrets Manager each time.
        length = int(args.get("passwordLength") or 32)
        return {"id": REGION, "randomPassword": ("PlanOnly" + hexid("pw", str(sorted(args.items())), length=64))
                [:length]}
    if token == "aws:s3/getCanonicalUserId:getCanonicalUserId":
        return {"id": hexid("canonical", ACCOUNT_ID, length=64), "displayName": "deployer"}
    raise PlannerError(
        f"the offline planner has no answer for data source {token}: add one to shared/plan/mocks.py"
    )


class PlanMocks(pulumi.runtime.Mocks):
    """Records every resource and invoke; answers stack references from `upstream`."""

    def __init__(self, upstream: dict[str, dict[str, Any]]) -> None:
        # upstream: stack reference name -> {"outputs": {...}, "secrets": [...]}
        self.upstream = upstream
        self.resources: list[dict[str, Any]] = []
        self.invokes: list[dict[str, Any]] = []
        self.transforms: list[Any] = []

    def register_transform(self, transform: Any) -> None:
        # The mock monitor runs no stack transforms (the engine does, on a real `up`): keep them and apply them
        # to each resource's inputs below, as the engine would before registering it.
        self.transforms.append(transform)

    def _transformed(self, args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        props = dict(args.inputs)
        for transform in self.transforms:
            result = transform(pulumi.ResourceTransformArgs(bool(args.custom), args.typ, args.name, props,
                                                            pulumi.ResourceOptions()))
            if result is not None:
                props = dict(result.props)
        return props

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = self._transformed(args)
        record = {"type": args.typ, "name": args.name, "inputs": inputs, "provider": args.provider or "",
                  "custom": bool(args.custom)}
        self.resources.append(record)
        if args.typ == "pulumi:pulumi:StackReference":
            ref = args.inputs.get("name") or args.name
            if ref not in self.upstream:
                raise PlannerError(
                    f"stack reference {ref!r} has no planned upstream: plan that layer first "
                    f"(known: {', '.join(sorted(self.upstream)) or 'none'})"
                )
            up = self.upstream[ref]
            return ref, {"name": ref, "outputs": up["outputs"], "secretOutputNames": list(up.get("secrets", []))}
        if args.typ.startswith("pulumi:providers:"):
            return f"{args.name}-provider-id", inputs
        return computed_state(args.typ, args.name, inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        if args.token == "pulumi:pulumi:readStackOutputs":
            # The engine's own synchronous stack-reference read (contracts.Upstream.check_shapes), answered like
            # the StackReference above; not a provider call, so not recorded with the data sources.
            ref = str(dict(args.args).get("name", ""))
            if ref not in self.upstream:
                raise PlannerError(f"stack {ref!r} has no planned upstream: plan that layer first")
            up = self.upstream[ref]
            return {"name": ref, "outputs": up["outputs"], "secretOutputNames": list(up.get("secrets", []))}
        self.invokes.append({"token": args.token, "args": args.args, "provider": args.provider or ""})
        return answer_invoke(args.token, dict(args.args))

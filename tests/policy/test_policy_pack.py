"""The CrossGuard adapter: what a real `pulumi preview --policy-pack shared/policy/crossguard` hands the rules,
end to end through pulumi_policy's own argument classes (props proxies with unknowns and secrets, provider,
options, dependencies)."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from shared.policy import POLICIES
from shared.policy.pack import PACK_NAME, build_policies, plain, stack_and_layer
from shared.policy.source_scan import scan_source
from shared.runtime.layers import REPO_ROOT
from shared.runtime.naming import LONGEST_SUFFIX_EXAMPLE

S = LONGEST_SUFFIX_EXAMPLE
PACK = {p.name: p for p in build_policies()}
PACK_DIR = REPO_ROOT / "shared" / "policy" / "crossguard"


def urn(layer: str, type_: str, name: str) -> str:
    return f"urn:pulumi:{S}::catalog-{layer}::{type_}::{name}"


def opts(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def provider(region: str) -> PolicyProviderResource:
    return PolicyProviderResource("pulumi:providers:aws", unknown_checking_proxy({"region": region}),
                                  urn("edge", "pulumi:providers:aws", "us-east-1"), "us-east-1")


def resource_args(layer: str, type_: str, name: str, props: dict[str, Any], protect: bool = False,
                  region: str = "us-east-1") -> ResourceValidationArgs:
    return ResourceValidationArgs(type_, unknown_checking_proxy(deserialize_properties(props)), urn(layer, type_, name),
                                  name, opts(protect), provider(region))


def run_resource(policy: str, args: ResourceValidationArgs) -> list[str]:
    found: list[str] = []
    PACK[policy].validate(args, lambda message, urn=None: found.append(message))
    return found


def stack_res(layer: str, type_: str, name: str, props: dict[str, Any],
              deps: dict[str, list[PolicyResource]] | None = None) -> PolicyResource:
    return PolicyResource(type_, unknown_checking_proxy(deserialize_properties(props)), urn(layer, type_, name),
                          name, opts(), provider("us-east-1"), None, [], deps or {})


def run_stack(policy: str, resources: list[PolicyResource], config: dict | None = None) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    PACK[policy].validate(StackValidationArgs(resources, config),
                          lambda message, urn=None: found.append((message, urn)))
    return found


EDGE_FN = {"name": f"catalog-edge-auth-{S}", "runtime": "nodejs20.x", "handler": "index.handler", "publish": True,
           "memorySize": 128, "timeout": 5, "role": UNKNOWN_STRING_VALUE}


def test_every_guardrail_is_in_the_pack_with_its_level() -> None:
    assert len(PACK) == len(build_policies())  # names are unique
    for policy in POLICIES:
        pack_policy = PACK[policy.name]
        kind = ResourceValidationPolicy if policy.resource_check else StackValidationPolicy
        assert isinstance(pack_policy, kind)
        assert pack_policy.enforcement_level == (EnforcementLevel.MANDATORY if policy.level.value == "mandatory"
                                                 else EnforcementLevel.ADVISORY)
    assert PACK["no-retain-on-delete-source"].enforcement_level == EnforcementLevel.MANDATORY


def test_suffix_and_layer_come_from_the_urn() -> None:
    assert stack_and_layer(urn("data", "aws:rds/cluster:Cluster", "c")) == (S, "data")
    good = resource_args("app", "aws:dynamodb/table:Table", "t", {"name": f"catalog-sessions-{S}"})
    bad = resource_args("app", "aws:dynamodb/table:Table", "t", {"name": "catalog-sessions-qa"})
    assert run_resource("named-resources-suffix", good) == []
    assert any("does not contain the suffix" in m for m in run_resource("named-resources-suffix", bad))


def test_edge_region_comes_from_the_provider() -> None:
    assert run_resource("lambda-edge-shape", resource_args("edge", "aws:lambda/function:Function", "fn", EDGE_FN)) == []
    moved = resource_args("edge", "aws:lambda/function:Function", "fn", EDGE_FN, region="eu-west-1")
    assert any("us-east-1" in m for m in run_resource("lambda-edge-shape", moved))
    # the same function in the app layer is held to the API function's shape instead
    in_app = resource_args("app", "aws:lambda/function:Function", "fn", EDGE_FN)
    assert run_resource("lambda-edge-shape", in_app) == []
    assert any("Graviton2" in m for m in run_resource("lambda-api-shape", in_app))


def test_the_data_layers_rotation_zip_passes_in_a_real_deploy_and_only_there() -> None:
    """CrossGuard knows the layer from the URN: the rotation function's zip shape is the data layer's alone."""
    rotation = {"name": f"catalog-db-rotation-{S}", "packageType": "Zip", "runtime": "nodejs24.x",
                "handler": "index.handler", "architectures": ["arm64"], "memorySize": 3072,
                "role": UNKNOWN_STRING_VALUE, "tracingConfig": {"mode": "Active"},
                "vpcConfig": {"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"]}}
    assert run_resource("lambda-api-shape", resource_args("data", "aws:lambda/function:Function", "r", rotation)) == []
    in_app = run_resource("lambda-api-shape", resource_args("app", "aws:lambda/function:Function", "r", rotation))
    assert any("container image" in m for m in in_app)


def test_unknowns_and_secrets_reach_the_rules_as_values() -> None:
    props = {"name": f"catalog-proxy-{S}", "engineFamily": "POSTGRESQL", "requireTls": True,
             "roleArn": UNKNOWN_STRING_VALUE, "vpcSubnetIds": UNKNOWN_STRING_VALUE, "vpcSecurityGroupIds": ["sg-1"],
             "auths": [{"iamAuth": {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": "REQUIRED"},
                        "secretArn": UNKNOWN_STRING_VALUE, "authScheme": "SECRETS"}]}
    args = resource_args("data", "aws:rds/proxy:Proxy", "proxy", props)
    with pytest.raises(UnknownValueError):
        args.props["roleArn"]  # what a naive rule would hit during preview
    assert plain(args.props)["auths"][0]["iamAuth"] == "REQUIRED"
    assert run_resource("rds-proxy-auth", args) == []
    props["requireTls"] = False
    assert any("requireTls" in m for m in run_resource("rds-proxy-auth", resource_args(
        "data", "aws:rds/proxy:Proxy", "proxy", props)))


def test_protect_option_is_a_violation() -> None:
    args = resource_args("app", "aws:sns/topic:Topic", "t", {"name": f"catalog-t-{S}"}, protect=True)
    assert any("protect=True" in m for m in run_resource("no-deletion-protection", args))


def test_stack_rules_follow_property_dependencies_when_names_are_unknown() -> None:
    name = f"catalog-logs-{S}-123456789012"
    bucket = stack_res("data", "aws:s3/bucket:Bucket", "logs", {"bucket": name, "forceDestroy": True})
    unknown = {"bucket": UNKNOWN_STRING_VALUE}
    configs = [
        ("aws:s3/bucketVersioning:BucketVersioning", {"versioningConfiguration": {"status": "Enabled"}}),
        ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
         {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}),
        ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
         {"rules": [{"id": "r", "status": "Enabled", "filter": {}, "expiration": {"days": 30},
                     "noncurrentVersionExpiration": {"noncurrentDays": 1}}]}),
        ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
         {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}),
    ]
    linked = [stack_res("data", t, f"c{i}", {**unknown, **p}, {"bucket": [bucket]}) for i, (t, p) in enumerate(configs)]
    assert run_stack("s3-bucket-baseline", [bucket, *linked]) == []
    unlinked = [stack_res("data", t, f"c{i}", {**unknown, **p}) for i, (t, p) in enumerate(configs)]
    found = run_stack("s3-bucket-baseline", [bucket, *unlinked])
    assert found and all(u == bucket.urn for _, u in found)


def test_private_subnets_need_policy_config_in_a_real_preview() -> None:
    group = stack_res("data", "aws:rds/subnetGroup:SubnetGroup", "g",
                      {"name": f"catalog-db-{S}", "subnetIds": ["subnet-a", "subnet-b"]})
    with pytest.raises(Exception) as raised:
        run_stack("private-subnets-only", [group])
    assert type(raised.value).__name__ == "_NotApplicableError"
    assert run_stack("private-subnets-only", [group], {"privateSubnetIds": ["subnet-a", "subnet-b"]}) == []
    found = run_stack("private-subnets-only", [group], {"privateSubnetIds": ["subnet-a"]})
    assert any("subnet-b" in m for m, _ in found)


def test_source_scan_finds_retain_on_delete(tmp_path: Path) -> None:
    source = tmp_path / "stuff.py"
    source.write_text(
        "import pulumi, pulumi_aws as aws\n"
        "aws.sns.Topic('t', opts=pulumi.ResourceOptions(retain_on_delete=True))\n"
        "aws.sns.Topic('u', opts=pulumi.ResourceOptions(protect=False, retain_on_delete=False))\n"
        "aws.lambda_.Function('edge', opts=pulumi.ResourceOptions(retain_on_delete=True))\n"
        "keep = pulumi.ResourceOptions(retain_on_delete=True)\n")
    app = scan_source(source, "app")
    assert [name for name, _ in app] == ["no-retain-on-delete"] * 3
    edge = scan_source(source, "edge")  # the inline Function option is the documented exception
    assert len(edge) == 2 and all("stuff.py:" in m for _, m in edge)


def test_pack_project_file_and_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert (PACK_DIR / project["runtime"]["options"]["virtualenv"]).resolve() == REPO_ROOT / ".venv"
    started: dict[str, Any] = {}
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kw: started.update(kw))
    runpy.run_path(str(PACK_DIR / "__main__.py"), run_name="__main__")
    assert started["name"] == PACK_NAME
    assert {p.name for p in started["policies"]} == set(PACK)


def _servicer() -> Any:
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    return _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", build_policies(), EnforcementLevel.ADVISORY)


def _struct(values: dict[str, Any]) -> Any:
    from google.protobuf import struct_pb2

    out = struct_pb2.Struct()
    out.update(values)
    return out


def test_the_analyzer_protocol_end_to_end() -> None:
    """Requests shaped like the engine's (protobuf numbers are doubles, unknowns are sentinels) through the pack's
    own gRPC servicer: diagnostics carry policy name, level and message."""
    from pulumi.runtime.proto import analyzer_pb2 as proto

    fn_type = "aws:lambda/function:Function"
    props = {"name": f"catalog-api-{S}", "architectures": ["x86_64"], "memorySize": 3072, "packageType": "Image",
             "imageUri": UNKNOWN_STRING_VALUE, "vpcConfig": {"subnetIds": ["subnet-a"], "securityGroupIds": ["sg"]},
             "role": UNKNOWN_STRING_VALUE}
    request = proto.AnalyzeRequest(
        type=fn_type, properties=_struct(props), urn=urn("app", fn_type, "api"), name="api",
        options=proto.AnalyzerResourceOptions(protect=True),
        provider=proto.AnalyzerProviderResource(type="pulumi:providers:aws", properties=_struct(
            {"region": "us-east-1"}), urn=urn("app", "pulumi:providers:aws", "default"), name="default"))
    response = _servicer().Analyze(request, None)
    found = {(d.policyName, d.enforcementLevel, d.message) for d in response.diagnostics}
    names = {name for name, _, _ in found}
    assert names == {"lambda-api-shape", "no-deletion-protection", "xray-tracing", "tags-baseline"}, found
    assert any(level == proto.MANDATORY and "Graviton2" in message for _, level, message in found)
    assert any(name == "xray-tracing" and level == proto.ADVISORY for name, level, _ in found)


def test_the_stack_protocol_end_to_end() -> None:
    from pulumi.runtime.proto import analyzer_pb2 as proto

    topic_type = "aws:sns/topic:Topic"
    resources = [proto.AnalyzerResource(
        type=topic_type, properties=_struct({"name": f"catalog-alarms-{S}", "kmsMasterKeyId": "alias/aws/sns"}),
        urn=urn("observability", topic_type, "alarms"), name="alarms")]
    response = _servicer().AnalyzeStack(proto.AnalyzeStackRequest(resources=resources), None)
    found = [(d.policyName, d.urn) for d in response.diagnostics]
    assert ("alarm-topic-key", urn("observability", topic_type, "alarms")) in found
    assert {n.policy_name for n in response.not_applicable} >= {"private-subnets-only"}


def test_docs_list_every_policy() -> None:
    text = (REPO_ROOT / "docs" / "policy.md").read_text()
    missing = [name for name in PACK if f"`{name}`" not in text]
    assert missing == []

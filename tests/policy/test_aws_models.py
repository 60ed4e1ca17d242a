"""The `aws-api-models` guardrail: the real plan against botocore's API models, and wrong values it must catch.

Every failing case starts from a resource of the real plan (the session `chain`), checks that it passes as planned,
changes one input and expects a finding that names the input path and the AWS parameter. The cases call the
guardrail through the policy catalog, so removing the policy (or its mapping) fails them.
"""

from __future__ import annotations

import copy
import inspect
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.plan.planner import Plan
from shared.policy import BY_NAME, POLICIES, UNKNOWN, Context, Res, evaluate, plan_resources, run_rules
from shared.policy.aws_models import (
    _SURROGATE_RANGE,
    _translate,
    compiled,
    coverage,
    resolve,
    service_model,
)
from shared.policy.engine import write_coverage
from shared.policy.model_map import MODEL_MAP
from shared.runtime.layers import LAYERS
from shared.runtime.tags import resource_class
from tests.conftest import SUFFIX

POLICY = "aws-api-models"
# Planned types with no input that reaches a constrained API parameter: ids/ARNs of other resources, JSON
# documents other guardrails parse, provider-only inputs (triggers), and patch-operation APIs (method settings).
NOT_MAPPED = {
    "aws:apigateway/deployment:Deployment", "aws:apigateway/methodSettings:MethodSettings",
    "aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:sns/topicPolicy:TopicPolicy",
    # Only ARNs other resources compute (the ACL's, the stage's, the log group's): the mocks' inventions offline.
    "aws:wafv2/webAclAssociation:WebAclAssociation",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
}


@pytest.fixture(scope="module")
def resources(chain: dict[str, Plan]) -> dict[str, list[Res]]:
    return {layer: plan_resources(plan) for layer, plan in chain.items()}


def planned(resources: dict[str, list[Res]], type_token: str, name: str | None = None) -> Res:
    found = [r for rs in resources.values() for r in rs if r.type == type_token and (name is None or r.name == name)]
    assert found, f"the plan has no {type_token} {name or ''}"
    return copy.deepcopy(found[0])


def findings(res: Res) -> list[str]:
    return [m for _, _, m in evaluate([res], Context(suffix=SUFFIX, layer=res.layer), [BY_NAME[POLICY]])]


def set_path(res: Res, path: str, value: Any) -> Res:
    """`healthCheck.interval` -> res.inputs["healthCheck"]["interval"] = value (lists: first item)."""
    target: Any = res.inputs
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[part]
        if isinstance(target, list):
            target = target[0]
    target[parts[-1]] = value
    return res


def test_the_guardrail_is_mandatory_and_in_the_default_catalog() -> None:
    policy = BY_NAME[POLICY]
    assert policy.level.value == "mandatory" and policy in POLICIES
    assert policy.types == frozenset(MODEL_MAP)


def test_the_real_plan_holds_to_the_aws_models(chain: dict[str, Plan]) -> None:
    """Longest legal suffix, default settings: no planned value breaks an API model (the deploy gate)."""
    assert [v.line() for v in run_rules(chain, [BY_NAME[POLICY]], scan_sources=False)] == []


def test_every_mapped_member_exists_in_the_model() -> None:
    """A typo in the table, or an API model change, must fail here, not skip a check silently."""
    for type_token, fields in MODEL_MAP.items():
        for field in fields:
            target = resolve(field.service, field.operation, field.member)
            assert target.shape.get("type") != "structure", f"{type_token} {field.input}: maps to a structure"
            if field.kind == "tags":
                assert target.shape["type"] in ("list", "map"), f"{type_token}: tags map to {target.shape_name}"


def test_every_planned_type_is_mapped_and_every_tagged_resource_has_its_tags_checked(
        resources: dict[str, list[Res]]) -> None:
    types = {r.type for rs in resources.values() for r in rs if r.type.startswith("aws:")}
    assert types - set(MODEL_MAP) == NOT_MAPPED, "map the new type in shared/policy/model_map.py"
    tagged = {r.type for rs in resources.values() for r in rs if "tags" in r.inputs}
    without = {t for t in tagged if not any(f.kind == "tags" for f in MODEL_MAP.get(t, ()))}
    assert without == set()


def test_tag_value_with_parentheses_is_refused_by_iam_elbv2_and_logs(resources: dict[str, list[Res]]) -> None:
    """A deploy blocker found before: the app layer's Owner tag was `product (API) team`."""
    cases = [("aws:iam/role:Role", "iam.CreateRole.Tags[].Value"),
             ("aws:lb/loadBalancer:LoadBalancer", "elbv2.CreateLoadBalancer.Tags[].Value"),
             ("aws:lb/targetGroup:TargetGroup", "elbv2.CreateTargetGroup.Tags[].Value"),
             ("aws:cloudwatch/logGroup:LogGroup", "logs.CreateLogGroup.tags (value)"),
             ("aws:cloudfront/distribution:Distribution",
              "cloudfront.CreateDistributionWithTags.DistributionConfigWithTags.Tags.Items[].Value")]
    for type_token, parameter in cases:
        res = planned(resources, type_token)
        assert findings(res) == [], res.label()
        res.inputs["tags"]["Owner"] = "product (API) team"
        found = findings(res)
        assert any(m.startswith("tags.Owner = 'product (API) team'") and parameter in m and "pattern" in m
                   for m in found), (type_token, found)


def test_owner_tags_are_tag_safe() -> None:
    pattern = service_model("iam")["shapes"]["tagValueType"]["pattern"]
    assert all(compiled(pattern).fullmatch(layer.owner) for layer in LAYERS)


def test_reserved_aws_tag_prefix_and_key_length(resources: dict[str, list[Res]]) -> None:
    res = planned(resources, "aws:iam/role:Role")
    res.inputs["tags"]["aws:owner"] = "x"
    res.inputs["tags"]["K" * 129] = "x"
    found = findings(res)
    assert any("key 'aws:owner'" in m and "reserved" in m for m in found), found
    assert any("iam.CreateRole.Tags[].Key" in m and "above the maximum 128" in m for m in found), found


@pytest.mark.parametrize(("type_token", "name", "path", "value", "parameter", "rule"), [
    ("aws:lambda/function:Function", "viewerRequest", "runtime", "nodejs9.x", "lambda.CreateFunction.Runtime",
     "is not one of"),
    ("aws:lambda/function:Function", "api", "architectures", ["arm"], "lambda.CreateFunction.Architectures[]",
     "is not one of"),
    ("aws:lambda/function:Function", "api", "packageType", "Container", "lambda.CreateFunction.PackageType",
     "is not one of"),
    ("aws:lambda/function:Function", "api", "memorySize", 64.0, "lambda.CreateFunction.MemorySize",
     "below the minimum 128"),
    ("aws:lambda/function:Function", "api", "memorySize", 3072.5, "lambda.CreateFunction.MemorySize",
     "not an integer"),
    ("aws:lb/targetGroup:TargetGroup", "tg-live", "healthCheck.interval", 400.0,
     "elbv2.CreateTargetGroup.HealthCheckIntervalSeconds", "above the maximum 300"),
    ("aws:lb/targetGroup:TargetGroup", "tg-live", "healthCheck.interval", 2.0,
     "elbv2.CreateTargetGroup.HealthCheckIntervalSeconds", "below the minimum 5"),
    ("aws:lb/targetGroup:TargetGroup", "tg-live", "healthCheck.healthyThreshold", 11.0,
     "elbv2.CreateTargetGroup.HealthyThresholdCount", "above the maximum 10"),
    ("aws:lb/targetGroup:TargetGroup", "tg-live", "targetType", "function", "elbv2.CreateTargetGroup.TargetType",
     "is not one of"),
    # ELBv2 names carry no constraint in the model: the hand-written `named-resources-suffix` rule keeps them.
    ("aws:lambda/function:Function", "api", "name", "catalog-api-" + "x" * 130, "lambda.CreateFunction.FunctionName",
     "above the maximum 140"),
    ("aws:ecr/repository:Repository", None, "name", "Catalog-API", "ecr.CreateRepository.repositoryName", "pattern"),
    ("aws:lb/listener:Listener", "http", "protocol", "HTTP2", "elbv2.CreateListener.Protocol", "is not one of"),
    ("aws:lb/listener:Listener", "http", "port", 70000.0, "elbv2.CreateListener.Port", "above the maximum 65535"),
    ("aws:iam/role:Role", None, "name", "catalog-" + "r" * 60, "iam.CreateRole.RoleName", "above the maximum 64"),
    ("aws:iam/role:Role", None, "name", "catalog role", "iam.CreateRole.RoleName", "pattern"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", None, "comparisonOperator", "GreaterThan",
     "cloudwatch.PutMetricAlarm.ComparisonOperator", "is not one of"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", None, "evaluationPeriods", 0.0,
     "cloudwatch.PutMetricAlarm.EvaluationPeriods", "below the minimum 1"),
    ("aws:cloudwatch/logMetricFilter:LogMetricFilter", None, "metricTransformation.unit", "Requests",
     "logs.PutMetricFilter.metricTransformations[].unit", "is not one of"),
    ("aws:rds/proxy:Proxy", None, "engineFamily", "AURORA", "rds.CreateDBProxy.EngineFamily", "is not one of"),
    ("aws:dynamodb/table:Table", None, "billingMode", "ON_DEMAND", "dynamodb.CreateTable.BillingMode",
     "is not one of"),
    ("aws:cloudfront/distribution:Distribution", None, "defaultCacheBehavior.viewerProtocolPolicy", "https",
     "ViewerProtocolPolicy", "is not one of"),
    ("aws:appautoscaling/target:Target", None, "scalableDimension", "lambda:function:Concurrency",
     "application-autoscaling.RegisterScalableTarget.ScalableDimension", "is not one of"),
    # The model allows 1-365 days; the service's documented 7-30 stays with `kms-key-hygiene`.
    ("aws:kms/key:Key", None, "deletionWindowInDays", 400.0, "kms.ScheduleKeyDeletion.PendingWindowInDays",
     "above the maximum 365"),
])
def test_wrong_value_is_caught_with_field_and_parameter(resources: dict[str, list[Res]], type_token: str,
                                                         name: str | None, path: str, value: Any, parameter: str,
                                                         rule: str) -> None:
    res = planned(resources, type_token, name)
    assert findings(res) == [], f"{res.label()} must pass as planned"
    found = findings(set_path(res, path, value))
    assert any(m.startswith(path) and parameter in m and rule in m for m in found), found


def test_the_default_engine_reports_it_with_the_resource(resources: dict[str, list[Res]]) -> None:
    """Through `evaluate` with every policy (what `invoke check` and `invoke synth` run)."""
    res = set_path(planned(resources, "aws:lb/targetGroup:TargetGroup", "tg-live"), "healthCheck.timeout", 500.0)
    hits = [(p.name, r.name if r else "", m) for p, r, m in evaluate([res], Context(suffix=SUFFIX, layer="app"))
            if p.name == POLICY]
    assert hits and hits[0][1] == "tg-live" and "HealthCheckTimeoutSeconds" in hits[0][2]


def test_unknown_values_are_skipped(resources: dict[str, list[Res]]) -> None:
    res = planned(resources, "aws:lambda/function:Function", "api")
    res.inputs.update(memorySize=UNKNOWN, runtime=UNKNOWN, tags={**res.inputs["tags"], "Owner": UNKNOWN})
    assert findings(res) == []


def test_re_fallback_translates_the_unicode_classes() -> None:
    """Without the `regex` module the Java classes are translated for `re`: same verdicts on tag values."""
    pattern = service_model("iam")["shapes"]["tagValueType"]["pattern"]
    translated = re.compile(_translate(pattern))
    for text, ok in (("product API team", True), ("marketing/CDN team", True), ("équipe données", True),
                     ("product (API) team", False), ("a;b", False)):
        assert (translated.fullmatch(text) is not None) is ok, text
        assert (compiled(pattern).fullmatch(text) is not None) is ok, text


def reachable(shapes: dict[str, Any], name: str, seen: set[str]) -> set[str]:
    """Shape names reachable from `name` (list items, map keys/values, structure members)."""
    if name in seen:
        return seen
    seen.add(name)
    shape = shapes[name]
    refs = [shape.get("member"), shape.get("key"), shape.get("value"), *shape.get("members", {}).values()]
    for ref in refs:
        if ref:
            reachable(shapes, ref["shape"], seen)
    return seen


def test_every_mapped_pattern_compiles_with_both_engines() -> None:
    """No pattern the guardrail can meet crashes either engine (the rule would report a crash, not a verdict)."""
    count = 0
    for fields in MODEL_MAP.values():
        for field in fields:
            shapes = service_model(field.service)["shapes"]
            target = resolve(field.service, field.operation, field.member)
            for name in reachable(shapes, target.shape_name, set()):
                pattern = shapes[name].get("pattern")
                if pattern:
                    compiled(pattern)
                    re.compile(_translate(pattern.replace(_SURROGATE_RANGE, "\\U00010000-\\U0010FFFF")))
                    count += 1
    assert count > 20


def test_coverage_names_inputs_and_parameters(chain: dict[str, Plan], resources: dict[str, list[Res]],
                                              tmp_path: Path) -> None:
    rows = {t: (fields, unmapped) for t, _, fields, unmapped in coverage([r for rs in resources.values()
                                                                         for r in rs])}
    fields, _ = rows["aws:lb/targetGroup:TargetGroup"]
    assert ("healthCheck.interval", "elbv2.CreateTargetGroup.HealthCheckIntervalSeconds", "integer 5..300") in {
        (f.input, f.parameter, rule) for f, rule, used in fields if used}
    text = write_coverage(chain, tmp_path).read_text()
    assert "`lambda.CreateFunction.MemorySize` | integer 128..32768" in text
    roles = sum(1 for rs in resources.values() for r in rs if r.type == "aws:iam/role:Role")
    assert f"| `aws:iam/role:Role` | {roles} | `tags` | `iam.CreateRole.Tags` |" in text


def nested_args(module: Any, annotation: Any) -> type | None:
    """The `...Args` input class a type hint names (`Optional[Input[TargetGroupHealthCheckArgs]]`), if any."""
    names = [n for n in re.findall(r"(\w+Args)\b", repr(annotation)) if not n.endswith("InitArgs")]
    return getattr(module, names[0], None) if names else None


def test_every_mapped_input_is_a_pulumi_aws_input() -> None:
    """Inputs the plan does not set are still checked once set: their names must be the provider's, to the leaf
    (camelCase engine name -> snake_case Python parameter of the resource, then the nested `...Args` classes)."""
    wrong = []
    for type_token, fields in MODEL_MAP.items():
        cls = resource_class(type_token)
        assert cls is not None, type_token
        package = sys.modules[cls.__module__.rsplit(".", 1)[0]]
        top = inspect.signature(cls._internal_init).parameters
        for field in fields:
            parts = [re.sub(r"([A-Z])", r"_\1", p).lower() for p in field.input.replace("[]", "").split(".")]
            if parts[0] not in top:
                wrong.append(f"{type_token} {field.input}: {cls.__name__} has no input {parts[0]!r}")
                continue
            current = nested_args(package, top[parts[0]].annotation)
            for part in parts[1:]:
                prop = vars(current).get(part) if current is not None else None
                if not isinstance(prop, property):
                    wrong.append(f"{type_token} {field.input}: no input {part!r} on {current}")
                    break
                current = nested_args(package, prop.fget.__annotations__.get("return"))
    assert wrong == []

"""Outputs that flow into IAM are checked by the consumer: an upstream ARN of the wrong service, Region, account or
environment, or with a wildcard, stops the consumer's program with one line before it declares a single resource."""

from __future__ import annotations

import dataclasses

import pytest

from shared.declarations import outputs_of
from shared.plan.computed import ACCOUNT_ID
from shared.plan.planner import Plan, PlanError, plan_layer
from shared.runtime import shapes
from shared.runtime.shapes import SECRET, value_problem
from tests.conftest import BASE_CONFIG, SECRET_KEYS, SUFFIX

GOOD_SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:catalog-db-app-{SUFFIX}-AbCdEf"


def plan_app_with(chain: dict[str, Plan], **data_exports: object) -> Plan:
    data = dataclasses.replace(chain["data"], exports={**chain["data"].exports, **data_exports})
    return plan_layer("app", SUFFIX, BASE_CONFIG, {"network": chain["network"], "data": data},
                      secret_keys=SECRET_KEYS, env={"CATALOG_DB_PASSWORD": ""})


@pytest.mark.parametrize(("output", "value", "why"), [
    ("appSecretArn", "*", "which has a wildcard"),
    ("ownerSecretArn", GOOD_SECRET.replace(ACCOUNT_ID, "999999999999"), "is in account 999999999999"),
    ("masterSecretArn", GOOD_SECRET.replace("us-east-1", "eu-west-1"), "is in Region eu-west-1"),
    ("sessionsTableArn", f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/*", "which has a wildcard"),
    ("cacheTableArn", GOOD_SECRET, "is an ARN of service secretsmanager, not dynamodb"),
    # Another environment's resources, of the right kind, in the right account: the qa data stack may not hand
    # the qa API prod's table or secret.
    ("cacheTableArn", f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/catalog-cache-prod",
     f"does not name catalog-cache-{SUFFIX}, the cache of environment {SUFFIX}"),
    ("appSecretArn", GOOD_SECRET.replace(f"-{SUFFIX}-", "-prod-"), f"the db-app of environment {SUFFIX}"),
    # Of this environment's naming but another resource: the producer's contract pins the exact one.
    ("cacheTableArn", f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/catalog-sessions-{SUFFIX}",
     f"does not name catalog-cache-{SUFFIX}"),
    ("proxyResourceId", "*", "does not match"),
    ("databaseUser", "catalog_app/*", "does not match"),
])
def test_app_refuses_a_data_output_that_would_widen_its_policies(
        chain: dict[str, Plan], output: str, value: str, why: str) -> None:
    with pytest.raises(PlanError) as refused:
        plan_app_with(chain, **{output: value})
    message = str(refused.value)
    assert "\n" not in message and "Traceback" not in message
    assert f"output {output} of layer data" in message and why in message, message
    assert "invoke up --layer data --suffix" in message, message
    # Nothing half-created: the program stopped before its first AWS resource (only the stack and its references).
    declared = [r.type for r in refused.value.resources if not r.type.startswith("pulumi:")]
    assert declared == [], declared


def test_the_unchanged_chain_passes_and_every_shaped_output_it_exports_has_its_shape(
        chain: dict[str, Plan]) -> None:
    checked = 0
    for layer, plan in chain.items():
        for spec in outputs_of(layer).values():
            if spec.shape is not None:
                assert value_problem(spec.shape, plan.export_value(spec.name), ACCOUNT_ID, SUFFIX) is None, spec.name
                checked += 1
    assert checked >= 20
    # The app layer was planned from those values: the check lets real ARNs through.
    assert chain["app"].custom_resources()


def test_an_optional_arn_may_be_empty_and_a_required_one_may_not() -> None:
    assert value_problem(SECRET, "", ACCOUNT_ID, SUFFIX) is not None
    assert value_problem(dataclasses.replace(SECRET, optional=True), "", ACCOUNT_ID, SUFFIX) is None
    assert value_problem(SECRET, GOOD_SECRET, ACCOUNT_ID, SUFFIX) is None
    assert value_problem(SECRET, GOOD_SECRET + "${aws:username}", ACCOUNT_ID, SUFFIX) is not None
    assert value_problem(SECRET, "arn:aws:secretsmanager:us-east-1:" + ACCOUNT_ID + ":parameter:x", ACCOUNT_ID, SUFFIX)


def test_a_secret_output_is_not_repeated_in_the_refusal() -> None:
    other = "arn:aws:secretsmanager:us-east-1:999999999999:secret:x"
    why = value_problem(SECRET, other, ACCOUNT_ID, SUFFIX, show=False)
    assert why is not None and "[secret]" in why and "secret:x" not in why


# Every named shape, with a name of this environment and the same name in other environments ("prod", and suffixes
# that start like "qa": "qa-2", "qa2").
NAMED_CASES = [
    (shapes.SECRET, "arn:aws:secretsmanager:us-east-1:{a}:secret:catalog-db-app-{s}-AbCdEf"),
    (shapes.DYNAMODB_TABLE, "arn:aws:dynamodb:us-east-1:{a}:table/catalog-cache-{s}"),
    (shapes.RDS_CLUSTER, "arn:aws:rds:us-east-1:{a}:cluster:catalog-db-{s}"),
    (shapes.S3_BUCKET, "arn:aws:s3:::catalog-logs-{s}-{a}"),
    (shapes.LAMBDA_FUNCTION, "arn:aws:lambda:us-east-1:{a}:function:catalog-api-{s}"),
    (shapes.LAMBDA_FUNCTION, "arn:aws:lambda:us-east-1:{a}:function:catalog-edge-auth-{s}:7"),
    (shapes.LOAD_BALANCER, "arn:aws:elasticloadbalancing:us-east-1:{a}:loadbalancer/app/catalog-api-{s}/e8e4ebcd"),
    (shapes.REGIONAL_WEB_ACL, "arn:aws:wafv2:us-east-1:{a}:regional/webacl/catalog-api-{s}/58670023-7037-fe52-4242"),
    (shapes.CLOUDFRONT_WEB_ACL, "arn:aws:wafv2:us-east-1:{a}:global/webacl/catalog-edge-{s}/01ab3eab-eada-f5e8"),
    (shapes.SNS_TOPIC, "arn:aws:sns:us-east-1:{a}:catalog-alarms-{s}"),
]


@pytest.mark.parametrize(("shape", "template"), NAMED_CASES)
def test_a_named_arn_must_name_this_environments_resource(shape: shapes.ArnShape, template: str) -> None:
    assert value_problem(shape, template.format(a=ACCOUNT_ID, s="qa"), ACCOUNT_ID, "qa") is None
    for other in ("prod", "qa-2", "qa2"):
        why = value_problem(shape, template.format(a=ACCOUNT_ID, s=other), ACCOUNT_ID, "qa")
        assert why is not None and "names no resource of environment qa" in why, (other, why)
    # Not our naming at all (a resource made outside the platform).
    foreign = template.format(a=ACCOUNT_ID, s="qa").replace("catalog-", "billing-")
    assert value_problem(shape, foreign, ACCOUNT_ID, "qa") is not None


def test_arns_that_carry_an_id_aws_chose_are_not_pinned_to_a_name() -> None:
    for shape, value in ((shapes.RDS_PROXY, "arn:aws:rds:us-east-1:{a}:db-proxy:prx-0123456789abcdef0"),
                         (shapes.CLOUDFRONT_DISTRIBUTION, "arn:aws:cloudfront::{a}:distribution/E65FAB90A98287"),
                         (shapes.OPTIONAL_SECRET, "arn:aws:secretsmanager:us-east-1:{a}:secret:rds!cluster-e9-ec5170")):
        assert shape.named is None
        assert value_problem(shape, value.format(a=ACCOUNT_ID), ACCOUNT_ID, "qa") is None


def test_a_kinded_shape_pins_the_exact_name_where_the_pattern_would_overlap() -> None:
    # Suffixes may hold hyphens: catalog-<kind>-eu also matches prod-eu's names, unless the kind is pinned.
    prod_eu = f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/catalog-cache-prod-eu"
    assert value_problem(shapes.DYNAMODB_TABLE, prod_eu, ACCOUNT_ID, "eu") is None  # the pattern alone: accepted
    why = value_problem(shapes.DYNAMODB_TABLE.of("cache"), prod_eu, ACCOUNT_ID, "eu")
    assert why is not None and "does not name catalog-cache-eu" in why
    own = f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/catalog-cache-eu"
    assert value_problem(shapes.DYNAMODB_TABLE.of("cache"), own, ACCOUNT_ID, "eu") is None
    bucket = shapes.S3_BUCKET.of("logs")
    assert value_problem(bucket, f"arn:aws:s3:::catalog-logs-eu-{ACCOUNT_ID}", ACCOUNT_ID, "eu") is None
    assert value_problem(bucket, f"arn:aws:s3:::catalog-logs-prod-eu-{ACCOUNT_ID}", ACCOUNT_ID, "eu") is not None
    alias = shapes.LAMBDA_FUNCTION.of("api")
    assert value_problem(alias, f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:catalog-api-eu:live",
                         ACCOUNT_ID, "eu") is None


# Named outputs whose name the producer does not choose: a web ACL the edge layer is given (webAclArn setting).
BROUGHT = {("edge", "webAclArn")}


def test_every_named_output_is_pinned_to_its_producers_kind() -> None:
    from shared.runtime.layers import LAYER_NAMES

    unpinned = [(layer, spec.name) for layer in LAYER_NAMES for spec in outputs_of(layer).values()
                if isinstance(spec.shape, shapes.ArnShape) and spec.shape.named and spec.shape.kind is None]
    assert sorted(unpinned) == sorted(BROUGHT)

"""Every guardrail on hand-made resource inputs: a passing case and at least one failing case each."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from shared.policy import BY_NAME, POLICIES, UNKNOWN, Context, Res, evaluate
from shared.policy.engine import identities, private_subnets
from shared.policy.naming_rules import carries_suffix
from shared.runtime.naming import LONGEST_SUFFIX_EXAMPLE

S = LONGEST_SUFFIX_EXAMPLE
ACCOUNT = "123456789012"
PRIVATE = ("subnet-priv-a", "subnet-priv-b", "subnet-priv-c")
TAGS = {"Project": "catalog", "Layer": "app", "Environment": S, "ManagedBy": "pulumi", "Owner": "product API team"}


def engine(value: Any) -> Any:
    """Numbers as the engine and the offline plan carry them: floats (protobuf), so `3072` arrives as 3072.0."""
    if isinstance(value, dict):
        return {k: engine(v) for k, v in value.items()}
    if isinstance(value, list):
        return [engine(v) for v in value]
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def R(type_: str, logical: str, /, layer: str = "app", region: str | None = "us-east-1", protect: bool | None = None,
      retain: bool | None = None, **inputs: Any) -> Res:
    """A resource as the offline plan shows it (identities computed the same way)."""
    inputs = engine(inputs)
    return Res(type=type_, name=logical, inputs=inputs, region=region, protect=protect, retain_on_delete=retain,
               idents=identities(type_, logical, inputs), layer=layer)


def ctx(layer: str = "app", **kw: Any) -> Context:
    return Context(suffix=S, layer=layer, **kw)


def n(kind: str) -> str:
    return f"catalog-{kind}-{S}"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def messages(policy: str, resources: list[Res], context: Context) -> list[str]:
    return [m for _, _, m in evaluate(resources, context, [BY_NAME[policy]])]


def changed(res: Res, **inputs: Any) -> Res:
    out = copy.deepcopy(res)
    for key, value in inputs.items():
        if value is None:
            out.inputs.pop(key, None)
        else:
            out.inputs[key] = value
    return out


# ---------------------------------------------------------------- baselines (all pass every mandatory rule)
def api_role() -> Res:
    trust = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
    return R("aws:iam/role:Role", "api-role", name=n("api-role"), assumeRolePolicy=trust, tags=TAGS)


def api_function(**over: Any) -> Res:
    fn = R("aws:lambda/function:Function", "api", name=n("api"), architectures=["arm64"], memorySize=3072,
           packageType="Image", imageUri=f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/catalog-api@sha256:ab",
           role=f"arn:aws:iam::{ACCOUNT}:role/{n('api-role')}", publish=True,
           vpcConfig={"subnetIds": list(PRIVATE), "securityGroupIds": ["sg-lambda"]},
           tracingConfig={"mode": "Active"}, tags=TAGS)
    return changed(fn, **over)


def rotation_function(in_layer: str = "data", **over: Any) -> Res:
    fn = R("aws:lambda/function:Function", "db-rotation", name=n("db-rotation"), architectures=["arm64"],
           memorySize=3072, packageType="Zip", runtime="nodejs24.x", handler="index.handler",
           role=f"arn:aws:iam::{ACCOUNT}:role/{n('db-rotation')}",
           vpcConfig={"subnetIds": list(PRIVATE), "securityGroupIds": ["sg-db-admin"]},
           tracingConfig={"mode": "Active"}, tags=TAGS, layer=in_layer)
    return changed(fn, **over)


def vpc_attachment() -> Res:
    return R("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "api-vpc", role=n("api-role"),
             policyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole")


def edge_function(**over: Any) -> Res:
    fn = R("aws:lambda/function:Function", "viewer-request", layer="edge", name=n("edge-auth"),
           runtime="nodejs20.x", handler="index.handler", publish=True, memorySize=128, timeout=5,
           role=f"arn:aws:iam::{ACCOUNT}:role/{n('edge-role')}", code="archive", tags=TAGS)
    return changed(fn, **over)


def edge_role(services: tuple[str, ...] = ("lambda.amazonaws.com", "edgelambda.amazonaws.com")) -> Res:
    trust = doc({"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"})
    return R("aws:iam/role:Role", "edge-role", layer="edge", name=n("edge-role"), assumeRolePolicy=trust)


def distribution(lambda_arn: str | None = None, **over: Any) -> Res:
    arn = lambda_arn or f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{n('edge-auth')}:1"
    dist = R("aws:cloudfront/distribution:Distribution", "cdn", layer="edge",
             origins=[{"originId": "static", "domainName": f"{n('static')}.s3.us-east-1.amazonaws.com",
                       "s3OriginConfig": {"originAccessIdentity": "origin-access-identity/cloudfront/E1"}},
                      {"originId": "api", "domainName": "internal-alb.us-east-1.elb.amazonaws.com",
                       "vpcOriginConfig": {"vpcOriginId": "vo_1"}}],
             defaultCacheBehavior={"viewerProtocolPolicy": "redirect-to-https", "lambdaFunctionAssociations": [
                 {"eventType": "viewer-request", "lambdaArn": arn}]},
             customErrorResponses=[{"errorCode": 404, "responseCode": 404, "responsePagePath": "/errors/404.html"},
                                   {"errorCode": 503, "responseCode": 503, "responsePagePath": "/errors/5xx.html"}],
             webAclId=WEB_ACL)
    return changed(dist, **over)


WEB_ACL = f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/{n('edge')}/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"


def waf_logging(group: str) -> Res:
    return R("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "edge-waf-logging", layer="edge",
             resourceArn=WEB_ACL, logDestinationConfigs=[f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}"])


def web_acl(limit: int, window: int) -> Res:
    return R("aws:wafv2/webAcl:WebAcl", "edge-waf", layer="edge", name=n("edge"), scope="CLOUDFRONT", rules=[
        {"name": "rate-ip", "priority": 0, "action": {"count": {}}, "statement": {"rateBasedStatement": {
            "aggregateKeyType": "IP", "limit": limit, "evaluationWindowSec": window}}}])


def bucket_set(kind: str = "logs", layer: str = "data", sse: str = "AES256", days: int = 30,
               pab: bool = True, versioning: str = "Enabled") -> list[Res]:
    name = f"catalog-{kind}-{S}-{ACCOUNT}"
    rules = [{"id": "retention", "status": "Enabled", "filter": {},
              "expiration": {"days": days}, "noncurrentVersionExpiration": {"noncurrentDays": 1}}]
    return [
        R("aws:s3/bucket:Bucket", kind, layer=layer, bucket=name, forceDestroy=True, tags=TAGS),
        R("aws:s3/bucketVersioning:BucketVersioning", f"{kind}-v", layer=layer, bucket=name,
          versioningConfiguration={"status": versioning}),
        R("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", f"{kind}-sse",
          layer=layer, bucket=name, rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": sse}}]),
        R("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", f"{kind}-lc", layer=layer,
          bucket=name, rules=rules),
        R("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{kind}-pab", layer=layer, bucket=name,
          blockPublicAcls=True, blockPublicPolicy=True, ignorePublicAcls=True, restrictPublicBuckets=pab),
        R("aws:s3/bucketPolicy:BucketPolicy", f"{kind}-policy", layer=layer, bucket=name, policy=doc(
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::127311923021:root"}, "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{name}/alb/*"})),
    ]


def aurora_set(instances: int = 3, instance_class: str = "db.serverless", pct: int = 10,
               max_connections: str | None = "1000", apply_method: str = "pending-reboot",
               scaling: dict | None = None) -> list[Res]:
    params = [{"name": "max_connections", "value": max_connections, "applyMethod": apply_method}] \
        if max_connections else [{"name": "log_min_duration_statement", "value": "500"}]
    out = [
        R("aws:rds/clusterParameterGroup:ClusterParameterGroup", "params", layer="data", name=n("cluster-params"),
          family="aurora-postgresql16", parameters=params),
        R("aws:rds/subnetGroup:SubnetGroup", "subnets", layer="data", name=n("db-subnets"), subnetIds=list(PRIVATE)),
        R("aws:rds/cluster:Cluster", "cluster", layer="data", clusterIdentifier=n("aurora"),
          engine="aurora-postgresql", engineMode="provisioned", engineVersion="16.6", storageEncrypted=True,
          serverlessv2ScalingConfiguration=scaling or {"minCapacity": 0.5, "maxCapacity": 16},
          dbSubnetGroupName=n("db-subnets"), dbClusterParameterGroupName=n("cluster-params"),
          vpcSecurityGroupIds=["sg-db"], skipFinalSnapshot=True, deletionProtection=False),
        R("aws:rds/proxy:Proxy", "proxy", layer="data", name=n("proxy"), engineFamily="POSTGRESQL", requireTls=True,
          roleArn=f"arn:aws:iam::{ACCOUNT}:role/{n('proxy-role')}", vpcSubnetIds=list(PRIVATE),
          vpcSecurityGroupIds=["sg-proxy"],
          auths=[{"authScheme": "SECRETS", "iamAuth": "REQUIRED", "secretArn": "arn:aws:secretsmanager:x"}]),
        R("aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup", "proxy-tg", layer="data", dbProxyName=n("proxy"),
          connectionPoolConfig={"maxConnectionsPercent": pct, "maxIdleConnectionsPercent": min(pct, 5)}),
        R("aws:rds/proxyTarget:ProxyTarget", "proxy-target", layer="data", dbProxyName=n("proxy"),
          targetGroupName="default", dbClusterIdentifier=n("aurora")),
    ]
    for i in range(instances):
        out.append(R("aws:rds/clusterInstance:ClusterInstance", f"instance-{i}", layer="data",
                     identifier=n(f"aurora-{i}"), clusterIdentifier=n("aurora"), instanceClass=instance_class,
                     engine="aurora-postgresql", promotionTier=i, performanceInsightsEnabled=True))
    return out


def target_group(**over: Any) -> Res:
    tg = R("aws:lb/targetGroup:TargetGroup", "tg-live", name=n("tg-live"), targetType="lambda",
           healthCheck={"enabled": True, "interval": 5, "timeout": 2, "path": "/health"})
    return changed(tg, **over)


def tg_permission(tg: Res) -> Res:
    arn = next(i for i in tg.idents if i.startswith("arn:aws:elasticloadbalancing"))
    return R("aws:lambda/permission:Permission", "alb-invoke", action="lambda:InvokeFunction",
             principal="elasticloadbalancing.amazonaws.com", function=n("api"), qualifier="live", sourceArn=arn)


def topic_set(key_grants: tuple[str, ...] = ("kms:Decrypt", "kms:GenerateDataKey*"),
              key_id: str | None = None) -> list[Res]:
    key = R("aws:kms/key:Key", "alarm-key", layer="observability", enableKeyRotation=True, deletionWindowInDays=7,
            policy=doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
                        "Resource": "*"},
                       {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": list(key_grants), "Resource": "*"}))
    arn = next(i for i in key.idents if i.startswith("arn:aws:kms"))
    topic = R("aws:sns/topic:Topic", "alarms", layer="observability", name=n("alarms"), kmsMasterKeyId=key_id or arn)
    return [key, topic]


def network_set(private_route_to_igw: bool = False) -> list[Res]:
    vpc = R("aws:ec2/vpc:Vpc", "vpc", layer="network", cidrBlock="10.0.0.0/16")
    igw = R("aws:ec2/internetGateway:InternetGateway", "igw", layer="network", vpcId="vpc-1")
    igw_id = next(i for i in igw.idents if i.startswith("igw-"))
    out = [vpc, igw]
    pub_rt = R("aws:ec2/routeTable:RouteTable", "public-rt", layer="network", vpcId="vpc-1",
               routes=[{"cidrBlock": "0.0.0.0/0", "gatewayId": igw_id}])
    out.append(pub_rt)
    for i, az in enumerate("abc"):
        pub = R("aws:ec2/subnet:Subnet", f"public-{az}", layer="network", cidrBlock=f"10.0.{i}.0/24",
                mapPublicIpOnLaunch=True)
        priv = R("aws:ec2/subnet:Subnet", f"private-{az}", layer="network", cidrBlock=f"10.0.{10 + i}.0/24")
        rt = R("aws:ec2/routeTable:RouteTable", f"private-rt-{az}", layer="network", vpcId="vpc-1")
        route_target = {"gatewayId": igw_id} if private_route_to_igw else {"natGatewayId": f"nat-{az}"}
        rt_id = next(x for x in rt.idents if x.startswith("rtb-"))
        route = R("aws:ec2/route:Route", f"private-default-{az}", layer="network", routeTableId=rt_id,
                  destinationCidrBlock="0.0.0.0/0", **route_target)
        out += [pub, priv, rt, route]
        for subnet, table in ((pub, pub_rt), (priv, rt)):
            out.append(R("aws:ec2/routeTableAssociation:RouteTableAssociation", f"assoc-{subnet.name}",
                         layer="network", subnetId=next(x for x in subnet.idents if x.startswith("subnet-")),
                         routeTableId=next(x for x in table.idents if x.startswith("rtb-"))))
    return out


Case = tuple[Callable[[], tuple[list[Res], Context]], str | None]


def app(*resources: Res, **kw: Any) -> Callable[[], tuple[list[Res], Context]]:
    return lambda: (list(resources), ctx("app", **kw))


def layer(name: str, resources: Callable[[], list[Res]], **kw: Any) -> Callable[[], tuple[list[Res], Context]]:
    return lambda: (resources(), ctx(name, **kw))


def alb_with_listener(internal: bool, protocol: str) -> list[Res]:
    lb = R("aws:lb/loadBalancer:LoadBalancer", "alb", name=n("api"), internal=internal)
    arn = next(i for i in lb.idents if i.startswith("arn:"))
    return [lb, R("aws:lb/listener:Listener", "l", protocol=protocol, port=80 if protocol == "HTTP" else 443,
                  loadBalancerArn=arn)]


def vpc_with_default_sg(held: bool) -> list[Res]:
    vpc = R("aws:ec2/vpc:Vpc", "vpc", cidrBlock="10.0.0.0/16", layer="network")
    vpc_id = next(i for i in vpc.idents if i.startswith("vpc-"))
    sg = R("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "d", vpcId=vpc_id, ingress=[], egress=[],
           layer="network")
    return [vpc, sg] if held else [vpc]


def schedule_set(action: str) -> list[Res]:
    """A schedule invoking a function through a role whose inline policy allows `action` on that function."""
    fn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{n('waiting-room')}"
    role = R("aws:iam/role:Role", "sched", name=n("sched"), assumeRolePolicy=doc(
        {"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}))
    policy = R("aws:iam/rolePolicy:RolePolicy", "sched-invoke", role=n("sched"),
               policy=doc({"Effect": "Allow", "Action": action, "Resource": [fn]}))
    schedule = R("aws:scheduler/schedule:Schedule", "s", name=n("waiting-room"), scheduleExpression="rate(1 minute)",
                 flexibleTimeWindow={"mode": "OFF"},
                 target={"arn": fn, "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{n('sched')}"})
    return [role, policy, schedule]


LAMBDA = "aws:lambda/function:Function"
CASES: dict[str, list[Case]] = {
    "named-resources-suffix": [
        (app(api_function(), R("aws:lb/loadBalancer:LoadBalancer", "alb", name=f"catalog-alb-{S}"),
             R("aws:apigateway/stage:Stage", "stage", stageName="v1"),
             R("aws:kms/alias:Alias", "alias", name=f"alias/catalog-alarms-{S}"),
             R("aws:iam/role:Role", "prefixed", namePrefix=f"ca-{S}-")), None),
        (app(api_function(name="catalog-api-qa")), "does not contain the suffix"),
        (app(api_function(name=f"catalog-api-{S}0")), "does not contain the suffix"),
        (app(R("aws:lb/loadBalancer:LoadBalancer", "alb", name=f"catalog-public-alb-{S}")), "characters"),
        (app(R("aws:s3/bucket:Bucket", "b", bucket=f"Catalog-Logs-{S}")), "not allowed"),
        (app(R("aws:dynamodb/table:Table", "t")), "no `name`"),
        (app(R("aws:apigateway/stage:Stage", "stage", stageName="v1-live")), "stage name"),
        (app(R("aws:iam/role:Role", "prefixed", namePrefix=f"catalog-role-prefix-{S}-abcdefghijkl")), "38"),
    ],
    "lambda-api-shape": [
        (app(api_function(), edge_function()), None),
        (app(api_function(architectures=["x86_64"])), "Graviton2"),
        (app(api_function(architectures=None)), "unset (x86_64)"),
        (app(api_function(memorySize=1024)), "3072"),
        (app(api_function(packageType=None, runtime="nodejs20.x", handler="index.handler")), "container image"),
        (app(api_function(runtime="nodejs20.x")), "must not set runtime"),
        (app(api_function(vpcConfig=None)), "not in a VPC"),
        (app(api_function(vpcConfig={"subnetIds": list(PRIVATE), "securityGroupIds": []})), "security group"),
        # the data layer's rotation function: a Node.js 24 zip, still arm64, 3 GB, in the VPC
        (layer("data", lambda: [rotation_function()]), None),
        (layer("data", lambda: [rotation_function(runtime="nodejs20.x")]), "Node.js 24"),
        (layer("data", lambda: [rotation_function(handler=None)]), "handler is unset"),
        (layer("data", lambda: [rotation_function(packageType="Image")]), "Node.js zip"),
        (layer("data", lambda: [rotation_function(architectures=["x86_64"])]), "Graviton2"),
        (layer("data", lambda: [rotation_function(memorySize=128)]), "3072"),
        (layer("data", lambda: [rotation_function(vpcConfig=None)]), "not in a VPC"),
        # a zip anywhere else is still refused
        (app(rotation_function("app")), "container image"),
    ],
    "lambda-edge-shape": [
        (layer("edge", lambda: [edge_function()]), None),
        (layer("edge", lambda: [edge_function(architectures=["arm64"])]), "x86_64"),
        (layer("edge", lambda: [edge_function(publish=None)]), "publish"),
        (layer("edge", lambda: [Res(LAMBDA, "fn", edge_function().inputs, region="eu-west-1", layer="edge")]),
         "us-east-1"),
        (layer("edge", lambda: [edge_function(environment={"variables": {"A": "1"}})]), "environment"),
        (layer("edge", lambda: [edge_function(vpcConfig={"subnetIds": ["subnet-1"]})]), "VPC"),
        (layer("edge", lambda: [edge_function(runtime="nodejs16.x")]), "Node.js 18"),
        (layer("edge", lambda: [edge_function(reservedConcurrentExecutions=5)]), "reserved"),
    ],
    "lambda-edge-association": [
        (layer("edge", lambda: [edge_function(), distribution()]), None),
        (layer("edge", lambda: [edge_function(), distribution(
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{n('edge-auth')}:$LATEST")]), "numbered version"),
        (layer("edge", lambda: [edge_function(), distribution(
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{n('edge-auth')}:live")]), "numbered version"),
        (layer("edge", lambda: [edge_function(memorySize=256), distribution()]), "128 MB"),
        (layer("edge", lambda: [edge_function(timeout=10), distribution()]), "5 s"),
    ],
    "lambda-edge-role-trust": [
        (layer("edge", lambda: [edge_function(), edge_role()]), None),
        (layer("edge", lambda: [edge_function(), edge_role(("lambda.amazonaws.com",))]), "edgelambda"),
    ],
    "lambda-vpc-role": [
        (app(api_function(), api_role(), vpc_attachment()), None),
        (app(api_function(), changed(api_role(), inlinePolicies=[{"name": "eni", "policy": doc(
            {"Effect": "Allow", "Action": ["ec2:CreateNetworkInterface", "ec2:Describe*",
                                           "ec2:DeleteNetworkInterface"], "Resource": "*"})}])), None),
        (app(api_function(), api_role(), R("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "basic",
                                           role=n("api-role"), policyArn="arn:aws:iam::aws:policy/service-role/"
                                                                         "AWSLambdaBasicExecutionRole")),
         "ec2:CreateNetworkInterface"),
    ],
    "lambda-provisioned-concurrency-qualifier": [
        (app(R("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig", "pc", functionName=n("api"),
               qualifier="live", provisionedConcurrentExecutions=2)), None),
        (app(R("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig", "pc", functionName=n("api"),
               qualifier="$LATEST", provisionedConcurrentExecutions=2)), "$LATEST"),
    ],
    "autoscaling-shape": [
        (app(R("aws:appautoscaling/target:Target", "pc", serviceNamespace="lambda", minCapacity=2, maxCapacity=10,
               scalableDimension="lambda:function:ProvisionedConcurrency", resourceId=f"function:{n('api')}:live"),
             R("aws:appautoscaling/policy:Policy", "pc-policy", serviceNamespace="lambda",
               scalableDimension="lambda:function:ProvisionedConcurrency", resourceId=f"function:{n('api')}:live",
               policyType="TargetTrackingScaling", targetTrackingScalingPolicyConfiguration={
                   "targetValue": 0.7, "predefinedMetricSpecification": {
                       "predefinedMetricType": "LambdaProvisionedConcurrencyUtilization"}}),
             R("aws:appautoscaling/target:Target", "readers", serviceNamespace="rds", minCapacity=2, maxCapacity=5,
               scalableDimension="rds:cluster:ReadReplicaCount", resourceId=f"cluster:{n('aurora')}")), None),
        (app(R("aws:appautoscaling/target:Target", "pc", serviceNamespace="lambda", minCapacity=2, maxCapacity=10,
               scalableDimension="lambda:function:ProvisionedConcurrency", resourceId=f"function:{n('api')}")),
         "function:<name>:<alias>"),
        (app(R("aws:appautoscaling/target:Target", "readers", serviceNamespace="rds", minCapacity=2, maxCapacity=5,
               scalableDimension="rds:cluster:ReaderCount", resourceId=f"cluster:{n('aurora')}")), "ReadReplicaCount"),
        (app(R("aws:appautoscaling/policy:Policy", "p", serviceNamespace="rds",
               scalableDimension="rds:cluster:ReadReplicaCount", resourceId=f"cluster:{n('aurora')}",
               targetTrackingScalingPolicyConfiguration={"targetValue": 70, "predefinedMetricSpecification": {
                   "predefinedMetricType": "LambdaProvisionedConcurrencyUtilization"}})), "does not belong"),
    ],
    "dynamodb-on-demand": [
        (app(R("aws:dynamodb/table:Table", "t", name=n("sessions"), billingMode="PAY_PER_REQUEST",
               globalSecondaryIndexes=[{"name": "by-user", "hashKey": "userId", "projectionType": "ALL"}])), None),
        (app(R("aws:dynamodb/table:Table", "t", name=n("sessions"), billingMode="PROVISIONED", readCapacity=5,
               writeCapacity=5)), "PAY_PER_REQUEST"),
        (app(R("aws:dynamodb/table:Table", "t", name=n("sessions"), billingMode="PAY_PER_REQUEST",
               globalSecondaryIndexes=[{"name": "by-user", "readCapacity": 5}])), "index by-user"),
    ],
    "s3-bucket-baseline": [
        (layer("data", lambda: bucket_set()), None),
        (layer("data", lambda: bucket_set()[:1] + bucket_set()[2:]), "BucketVersioning"),
        (layer("data", lambda: bucket_set(versioning="Suspended")), "BucketVersioning"),
        (layer("data", lambda: bucket_set(days=90)), "retention is 30 days"),
        (layer("data", lambda: [*bucket_set()[:3], changed(bucket_set()[3], rules=[  # 30 + 30 days
            {"id": "r", "status": "Enabled", "filter": {}, "expiration": {"days": 30},
             "noncurrentVersionExpiration": {"noncurrentDays": 30}}]), *bucket_set()[4:]]), "keeps data 60 days"),
        (layer("data", lambda: bucket_set(pab=False)), "restrictPublicBuckets"),
        (layer("data", lambda: bucket_set(sse="none")), "AES256"),
        (layer("data", lambda: [bucket_set()[0]]), "no BucketLifecycleConfiguration"),
    ],
    "no-deletion-protection": [
        (layer("data", lambda: aurora_set()), None),
        (layer("data", lambda: [changed(aurora_set()[2], deletionProtection=True)]), "deletionProtection"),
        (app(R("aws:lb/loadBalancer:LoadBalancer", "alb", name=n("alb"), enableDeletionProtection=True)),
         "enableDeletionProtection"),
        (app(R("aws:dynamodb/table:Table", "t", name=n("t"), deletionProtectionEnabled=True)), "deletionProtection"),
        (app(R("aws:sns/topic:Topic", "t", name=n("t"), protect=True)), "protect=True"),
    ],
    "no-retain-on-delete": [
        (app(R("aws:cloudwatch/logGroup:LogGroup", "lg", name=f"/aws/lambda/{n('api')}", retentionInDays=30)),
         None),
        (layer("edge", lambda: [edge_function(skipDestroy=True)]), None),  # the documented exception
        (app(R("aws:cloudwatch/logGroup:LogGroup", "lg", name=n("x"), retentionInDays=30, skipDestroy=True)),
         "skipDestroy"),
        (app(R("aws:sns/topic:Topic", "t", name=n("t"), retain=True)), "retain_on_delete"),
    ],
    "destroyable": [
        (layer("data", lambda: bucket_set() + aurora_set() + [
            R("aws:ecr/repository:Repository", "repo", name=n("api"), forceDelete=True),
            R("aws:secretsmanager/secret:Secret", "s", name=n("db"), recoveryWindowInDays=0)]), None),
        (layer("data", lambda: [changed(bucket_set()[0], forceDestroy=None)]), "forceDestroy"),
        (layer("data", lambda: [changed(aurora_set()[2], skipFinalSnapshot=False)]), "skipFinalSnapshot"),
        (app(R("aws:ecr/repository:Repository", "repo", name=n("api"))), "forceDelete"),
        (app(R("aws:secretsmanager/secret:Secret", "s", name=n("db"))), "recoveryWindowInDays"),
    ],
    "alb-health-check": [
        (app(target_group()), None),
        (app(target_group(healthCheck=None)), "health check is off"),
        (app(target_group(healthCheck={"enabled": True, "interval": 30, "timeout": 5})), "interval is 30"),
        (app(target_group(healthCheck={"enabled": True, "interval": 5, "timeout": 4})), "timeout is 4"),
    ],
    "alb-lambda-no-stickiness": [
        (app(target_group()), None),
        (app(target_group(stickiness={"enabled": True, "type": "lb_cookie", "cookieDuration": 3600})),
         "stickiness"),
    ],
    "alb-lambda-permission": [
        (app(target_group(), tg_permission(target_group())), None),
        (app(target_group()), "elasticloadbalancing.amazonaws.com"),
        (app(target_group(), changed(tg_permission(target_group()), sourceArn="arn:aws:elasticloadbalancing:x")),
         "sourceArn"),
    ],
    "alb-access-log-bucket": [
        (app(R("aws:lb/loadBalancer:LoadBalancer", "alb", name=n("alb"),
               accessLogs={"bucket": f"catalog-logs-{S}-{ACCOUNT}", "prefix": "alb", "enabled": True}),
             upstream={"data": bucket_set()}), None),
        (app(R("aws:lb/loadBalancer:LoadBalancer", "alb", name=n("alb"),
               accessLogs={"bucket": f"catalog-logs-{S}-{ACCOUNT}", "enabled": True}),
             upstream={"data": bucket_set(sse="aws:kms")}), "SSE-S3"),
        (app(R("aws:lb/loadBalancer:LoadBalancer", "alb", name=n("alb"),
               accessLogs={"bucket": f"catalog-logs-{S}-{ACCOUNT}", "enabled": True}),
             upstream={"data": bucket_set()[:5]}), "ELB account"),
    ],
    "rds-proxy-pool": [
        (layer("data", lambda: aurora_set()), None),
        (layer("data", lambda: aurora_set(pct=100)), "1000 connections"),
        (layer("data", lambda: aurora_set(max_connections=None)), "not pinned"),
        (layer("data", lambda: aurora_set(apply_method="immediate")), "pending-reboot"),
        (layer("data", lambda: [r for r in aurora_set() if r.type != "aws:rds/proxyTarget:ProxyTarget"]),
         "ProxyTarget"),
    ],
    "rds-proxy-auth": [
        (layer("data", lambda: aurora_set()), None),
        (layer("data", lambda: [changed(aurora_set()[3], auths=[{"iamAuth": "DISABLED", "secretArn": "arn"}])]),
         "iamAuth is DISABLED"),
        (layer("data", lambda: [changed(aurora_set()[3], requireTls=False)]), "requireTls"),
        (layer("data", lambda: [changed(aurora_set()[3], auths=None)]), "no auths"),
    ],
    "aurora-serverless-v2": [
        (layer("data", lambda: aurora_set()), None),
        (layer("data", lambda: aurora_set(instances=2)), "one writer and two readers"),
        (layer("data", lambda: aurora_set(instance_class="db.r6g.large")), "db.serverless"),
        (layer("data", lambda: aurora_set(scaling={"minCapacity": 0, "maxCapacity": 16})), "min ACU >= 0.5"),
        (layer("data", lambda: [changed(aurora_set()[2], serverlessv2ScalingConfiguration=None)]),
         "not Aurora Serverless v2"),
        (layer("data", lambda: [changed(aurora_set()[2], storageEncrypted=None)]), "storageEncrypted"),
    ],
    "private-subnets-only": [
        (layer("data", lambda: aurora_set(), private_subnet_ids=frozenset(PRIVATE)), None),
        (app(api_function(), private_subnet_ids=frozenset(PRIVATE)), None),
        (layer("data", lambda: [changed(aurora_set()[1], subnetIds=["subnet-pub-a", *PRIVATE[1:]])],
               private_subnet_ids=frozenset(PRIVATE)), "subnet-pub-a"),
        (app(api_function(vpcConfig={"subnetIds": ["subnet-pub-a"], "securityGroupIds": ["sg"]}),
             private_subnet_ids=frozenset(PRIVATE)), "not private"),
    ],
    "api-throttle-10k": [
        (app(R("aws:apigateway/usagePlan:UsagePlan", "plan", name=n("plan"),
               throttleSettings={"rateLimit": 10000, "burstLimit": 5000}),
             R("aws:apigateway/methodSettings:MethodSettings", "ms", restApi="api", stageName="v1", methodPath="*/*",
               settings={"throttlingRateLimit": 10000, "throttlingBurstLimit": 5000})), None),
        (app(R("aws:apigateway/usagePlan:UsagePlan", "plan", name=n("plan"),
               throttleSettings={"rateLimit": 1000, "burstLimit": 500})), "10,000"),
        (app(R("aws:apigateway/methodSettings:MethodSettings", "ms", restApi="api", stageName="v1",
               methodPath="*/*", settings={"throttlingRateLimit": 10000, "throttlingBurstLimit": 10000})),
         "burst limit"),
    ],
    "api-throttle-present": [
        (app(R("aws:apigateway/restApi:RestApi", "api", name=n("api")),
             R("aws:apigateway/usagePlan:UsagePlan", "plan", name=n("plan")),
             R("aws:apigateway/methodSettings:MethodSettings", "ms",
               restApi=next(i for i in identities("aws:apigateway/restApi:RestApi", "api", {}) if len(i) == 10),
               stageName="v1", methodPath="*/*")), None),
        (app(R("aws:apigateway/restApi:RestApi", "api", name=n("api"))), "no usage plan"),
    ],
    "iam-least-privilege": [
        (app(R("aws:iam/policy:Policy", "p", name=n("api-access"), policy=doc(
            {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
             "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{n('sessions')}"},
            {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"})),
             *topic_set(), R("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", role=n("r"),
                             policyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")), None),
        (app(R("aws:iam/rolePolicy:RolePolicy", "p", role=n("r"), policy=doc(
            {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}))), "wildcard action"),
        (app(R("aws:iam/rolePolicy:RolePolicy", "p", role=n("r"), policy=doc(
            {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}))), "resource-level"),
        (app(R("aws:iam/policy:Policy", "p", name=n("p"), policy=doc(
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))), "NotAction"),
        (app(R("aws:s3/bucketPolicy:BucketPolicy", "bp", bucket="b", policy=doc(
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}))),
         "public"),
        (app(R("aws:iam/role:Role", "r", name=n("r"), managedPolicyArns=[
            "arn:aws:iam::aws:policy/AdministratorAccess"])), "AdministratorAccess"),
        (app(R("aws:lambda/permission:Permission", "p", principal="*", action="lambda:InvokeFunction")),
         "publicly invocable"),
    ],
    "no-public-ingress": [
        (app(R("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "in", securityGroupId="sg-1",
               prefixListId="pl-3b927c52", ipProtocol="tcp", fromPort=80, toPort=80)), None),
        (app(R("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "in", securityGroupId="sg-1",
               cidrIpv4="0.0.0.0/0", ipProtocol="tcp", fromPort=443, toPort=443)), "0.0.0.0/0"),
        (app(R("aws:ec2/securityGroup:SecurityGroup", "sg", name=n("sg"), ingress=[
            {"protocol": "tcp", "fromPort": 22, "toPort": 22, "ipv6CidrBlocks": ["::/0"]}])), "::/0"),
    ],
    "log-retention": [
        (app(R("aws:cloudwatch/logGroup:LogGroup", "lg", name=n("x"), retentionInDays=30)), None),
        (app(R("aws:cloudwatch/logGroup:LogGroup", "lg", name=n("x"))), "kept forever"),
        (app(R("aws:cloudwatch/logGroup:LogGroup", "lg", name=n("x"), retentionInDays=45)), "not one"),
    ],
    "cloudfront-custom-errors": [
        (layer("edge", lambda: [distribution()]), None),
        # The edge layer's design: caching-only error responses, origin-response on every behavior renders pages.
        (layer("edge", lambda: [distribution(
            defaultCacheBehavior={"viewerProtocolPolicy": "redirect-to-https", "lambdaFunctionAssociations": [
                {"eventType": "origin-response", "lambdaArn": "arn:aws:lambda:us-east-1:1:function:f:1"}]},
            customErrorResponses=[{"errorCode": 404, "errorCachingMinTtl": 10}])]), None),
        (layer("edge", lambda: [distribution(customErrorResponses=[{"errorCode": 404, "errorCachingMinTtl": 10},
                                                                   {"errorCode": 503, "errorCachingMinTtl": 5}])]),
         "4xx"),
        (layer("edge", lambda: [distribution(customErrorResponses=[{"errorCode": 404, "responseCode": 404,
                                                                     "responsePagePath": "/404.html"}])]), "5xx"),
    ],
    "cloudfront-web-acl": [
        (layer("edge", lambda: [distribution()]), None),
        (layer("edge", lambda: [distribution(webAclId="")]), "without a web ACL"),
        (layer("edge", lambda: [distribution(webAclId=WEB_ACL.replace(":global/", ":regional/"))]), "CLOUDFRONT"),
        (layer("edge", lambda: [distribution(enabled=False)]), None),
    ],
    "waf-log-destination": [
        (layer("edge", lambda: [waf_logging(f"aws-waf-logs-{n('edge')}")]), None),
        (layer("edge", lambda: [waf_logging(n("waf-logs"))]), "aws-waf-logs-"),
    ],
    "waf-rate-limits": [
        (layer("edge", lambda: [web_acl(600, 60)]), None),
        (layer("edge", lambda: [web_acl(9, 60)]), "limit 9"),
        (layer("edge", lambda: [web_acl(600, 90)]), "window 90"),
    ],
    "cloudfront-s3-origin-access": [
        (layer("edge", lambda: [distribution()]), None),
        (layer("edge", lambda: [distribution(origins=[{"originId": "static", "domainName":
                                                       f"{n('static')}.s3.us-east-1.amazonaws.com"}])]),
         "origin access"),
    ],
    "alarm-topic-key": [
        (layer("observability", lambda: topic_set()), None),
        (layer("observability", lambda: topic_set(key_id="alias/aws/sns")), "alias/aws/sns"),
        (layer("observability", lambda: topic_set(key_grants=("kms:Decrypt",))), "kms:GenerateDataKey"),
    ],
    "xray-tracing": [
        (app(api_function(), R("aws:apigateway/stage:Stage", "s", stageName="v1", xrayTracingEnabled=True)), None),
        (app(api_function(tracingConfig=None)), "Active"),
        (app(R("aws:apigateway/stage:Stage", "s", stageName="v1")), "xrayTracingEnabled"),
    ],
    "dynamodb-recovery-ttl": [
        (app(R("aws:dynamodb/table:Table", "t", name=n("t"), pointInTimeRecovery={"enabled": True},
               serverSideEncryption={"enabled": True}, ttl={"enabled": True, "attributeName": "expiresAt"})), None),
        (app(R("aws:dynamodb/table:Table", "t", name=n("t"), serverSideEncryption={"enabled": True},
               ttl={"enabled": True, "attributeName": "x"})), "pointInTimeRecovery"),
        (app(R("aws:dynamodb/table:Table", "t", name=n("t"), pointInTimeRecovery={"enabled": True},
               ttl={"enabled": True, "attributeName": "x"})), "serverSideEncryption"),
    ],
    "kms-key-hygiene": [
        (layer("observability", lambda: topic_set()[:1]), None),
        (app(R("aws:kms/key:Key", "k", deletionWindowInDays=30)), "enableKeyRotation"),
        # The boundary: 7 days passes (the baseline above), one day more does not.
        (app(R("aws:kms/key:Key", "k", enableKeyRotation=True, deletionWindowInDays=8)), "deletionWindowInDays 8"),
    ],
    "rds-performance-insights": [
        (layer("data", lambda: aurora_set()), None),
        (layer("data", lambda: [changed(aurora_set()[-1], performanceInsightsEnabled=None)]), "performanceInsights"),
    ],
    "s3-expire-current-versions": [
        (layer("data", lambda: bucket_set()), None),
        (layer("data", lambda: [bucket_set()[0], changed(bucket_set()[3], rules=[
            {"id": "nc", "status": "Enabled", "noncurrentVersionExpiration": {"noncurrentDays": 30},
             "expiration": {"expiredObjectDeleteMarker": True}}])]), "expiration.days"),
    ],
    "s3-tls-only": [
        (layer("data", lambda: bucket_set()), None),
        (layer("data", lambda: bucket_set()[:5]), "SecureTransport"),
    ],
    "autoscaling-mission-values": [
        (app(R("aws:appautoscaling/target:Target", "pc", serviceNamespace="lambda", minCapacity=2, maxCapacity=10)),
         None),
        (app(R("aws:appautoscaling/target:Target", "pc", serviceNamespace="lambda", minCapacity=1, maxCapacity=4)),
         "2-10"),
        (app(R("aws:appautoscaling/policy:Policy", "p", serviceNamespace="rds",
               targetTrackingScalingPolicyConfiguration={"targetValue": 50})), "70 %"),
    ],
    "cloudfront-https-viewers": [
        (layer("edge", lambda: [distribution()]), None),
        (layer("edge", lambda: [distribution(defaultCacheBehavior={"viewerProtocolPolicy": "allow-all"})]),
         "plain HTTP"),
    ],
    "alarm-actions": [
        (app(R("aws:cloudwatch/metricAlarm:MetricAlarm", "a", name=n("a"), alarmActions=["arn:aws:sns:x"])), None),
        (app(R("aws:cloudwatch/metricAlarm:MetricAlarm", "a", name=n("a"))), "notifies nobody"),
    ],
    "ecr-scan-on-push": [
        (app(R("aws:ecr/repository:Repository", "r", name=n("api"), imageScanningConfiguration={"scanOnPush": True})),
         None),
        (app(R("aws:ecr/repository:Repository", "r", name=n("api"))), "scanOnPush"),
    ],
    "aws-api-models": [  # more cases, on the real plan: tests/policy/test_aws_models.py
        (app(api_function(), api_role(), target_group()), None),
        (app(api_function(tags={**TAGS, "Owner": "product (API) team"})), "lambda.CreateFunction.Tags (value)"),
        (app(target_group(healthCheck={"interval": 400})), "elbv2.CreateTargetGroup.HealthCheckIntervalSeconds"),
    ],
    "cloudfront-origin-https": [
        (layer("edge", lambda: [distribution(origins=[
            {"originId": "api", "domainName": "internal-alb.us-east-1.elb.amazonaws.com",
             "vpcOriginConfig": {"vpcOriginId": "vo_1"}},
            {"originId": "public", "domainName": "api-origin.example.com",
             "customOriginConfig": {"originProtocolPolicy": "https-only"}}])]), None),
        (layer("edge", lambda: [distribution(origins=[
            {"originId": "api", "domainName": "alb.us-east-1.elb.amazonaws.com",
             "customOriginConfig": {"originProtocolPolicy": "http-only"}}])]), "http-only across the internet"),
        (layer("edge", lambda: [distribution(origins=[
            {"originId": "api", "domainName": "alb.example.com",
             "customOriginConfig": {"originProtocolPolicy": "match-viewer"}}])]), "match-viewer"),
    ],
    "alb-no-public-http": [
        (app(*alb_with_listener(internal=True, protocol="HTTP")), None),
        (app(*alb_with_listener(internal=False, protocol="HTTPS")), None),
        (app(*alb_with_listener(internal=False, protocol="HTTP")), "internet-facing"),
    ],
    "rds-connect-not-master": [
        (app(R("aws:rds/cluster:Cluster", "db", masterUsername="catalogadmin"),
             R("aws:iam/rolePolicy:RolePolicy", "p", policy=doc(
                 {"Effect": "Allow", "Action": ["rds-db:connect"],
                  "Resource": [f"arn:aws:rds-db:us-east-1:{ACCOUNT}:dbuser:prx-abc/catalog_app"]}))), None),
        (app(R("aws:rds/cluster:Cluster", "db", masterUsername="catalogadmin"),
             R("aws:iam/rolePolicy:RolePolicy", "p", policy=doc(
                 {"Effect": "Allow", "Action": ["rds-db:connect"],
                  "Resource": [f"arn:aws:rds-db:us-east-1:{ACCOUNT}:dbuser:prx-abc/catalogadmin"]}))),
         "master user"),
        (app(R("aws:rds/cluster:Cluster", "db", masterUsername="catalogadmin"),
             R("aws:iam/rolePolicy:RolePolicy", "p", policy=doc(
                 {"Effect": "Allow", "Action": "rds-db:connect",
                  "Resource": f"arn:aws:rds-db:us-east-1:{ACCOUNT}:dbuser:prx-abc/*"}))), "master user"),
    ],
    "default-sg-no-rules": [
        (layer("network", lambda: [R("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "d", vpcId="vpc-1",
                                     ingress=[], egress=[])]), None),
        (layer("network", lambda: [R("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "d", vpcId="vpc-1",
                                     ingress=[{"protocol": "-1", "self": True}], egress=[])]), "must allow nothing"),
        (layer("network", lambda: [R("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "d", vpcId="vpc-1")]),
         "not declared"),
    ],
    "default-sg-taken-over": [
        (layer("network", lambda: vpc_with_default_sg(held=True)), None),
        (layer("network", lambda: vpc_with_default_sg(held=False)), "not taken over"),
    ],
    "trust-source-account": [
        (layer("data", lambda: [R("aws:iam/role:Role", "proxy", name=n("db-proxy"), assumeRolePolicy=doc(
            {"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}))]), None),
        # Lambda execution roles are not in the supported list: no condition needed.
        (app(R("aws:iam/role:Role", "fn", name=n("api"), assumeRolePolicy=doc(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}))),
         None),
        (layer("network", lambda: [R("aws:iam/role:Role", "fl", name=n("fl"), assumeRolePolicy=doc(
            {"Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
             "Action": "sts:AssumeRole"}))]), "confused deputy"),
    ],
    "schedule-role-scope": [
        (app(*schedule_set("lambda:InvokeFunction")), None),
        (app(*schedule_set("lambda:*")), "allows lambda:*"),
    ],
    "tags-baseline": [
        (app(api_function()), None),
        (app(api_function(tags={"Project": "catalog"})), "missing tags"),
        (app(api_function(tags={**TAGS, "Environment": "qa"})), "not the suffix"),
    ],
}

PARAMS = [pytest.param(policy, build, fragment, id=f"{policy}-{i}-{'pass' if fragment is None else 'fail'}")
          for policy, cases in CASES.items() for i, (build, fragment) in enumerate(cases)]


@pytest.mark.parametrize(("policy", "build", "fragment"), PARAMS)
def test_policy_case(policy: str, build: Callable[[], tuple[list[Res], Context]], fragment: str | None) -> None:
    resources, context = build()
    found = messages(policy, resources, context)
    if fragment is None:
        assert found == [], found
    else:
        assert any(fragment in m for m in found), f"expected {fragment!r} in {found}"


def test_every_policy_has_a_passing_and_a_failing_case() -> None:
    for policy in POLICIES:
        cases = CASES.get(policy.name, [])
        assert any(f is None for _, f in cases), f"{policy.name}: no passing case"
        assert any(f is not None for _, f in cases), f"{policy.name}: no failing case"
    assert set(CASES) == {p.name for p in POLICIES}


def test_baselines_pass_every_mandatory_policy() -> None:
    """The hand-made baselines together are a compliant platform: a rule that fires on them is too strict."""
    stacks = {
        "data": bucket_set() + aurora_set(),
        "app": [api_function(), api_role(), vpc_attachment(), target_group(), tg_permission(target_group())],
        "edge": [edge_function(), edge_role(), distribution()],
        "observability": topic_set(),
    }
    mandatory = [p for p in POLICIES if p.level.value == "mandatory"]
    for name, resources in stacks.items():
        found = evaluate(resources, ctx(name, private_subnet_ids=frozenset(PRIVATE)), mandatory)
        assert [(p.name, r.name if r else "", m) for p, r, m in found] == [], name


def test_unknown_values_are_skipped_not_failed() -> None:
    """In a preview, values computed by AWS are unknown: rules skip them instead of reporting violations."""
    fn = api_function(vpcConfig={"subnetIds": UNKNOWN, "securityGroupIds": UNKNOWN}, memorySize=UNKNOWN)
    assert messages("lambda-api-shape", [fn], ctx()) == []
    policy = R("aws:iam/rolePolicy:RolePolicy", "p", role="r", policy=UNKNOWN)
    assert messages("iam-least-privilege", [policy], ctx()) == []
    ingress = R("aws:lb/loadBalancer:LoadBalancer", "alb", name=UNKNOWN)
    assert messages("named-resources-suffix", [ingress], ctx()) == []


@pytest.mark.parametrize("type_, limit", [("aws:sqs/queue:Queue", 80), ("aws:cloudfront/function:Function", 64)])
def test_name_length_limits_hold_at_the_boundary(type_: str, limit: int) -> None:
    head = f"catalog-{S}-"
    at, over = head + "q" * (limit - len(head)), head + "q" * (limit + 1 - len(head))
    assert messages("named-resources-suffix", [R(type_, "x", name=at)], ctx()) == []
    assert messages("named-resources-suffix", [R(type_, "x", name=over)], ctx()) == [
        f"name {over!r} has {limit + 1} characters; AWS allows {limit}"]


def test_suffix_must_be_a_whole_token() -> None:
    assert carries_suffix(f"catalog-api-{S}", S)
    assert carries_suffix(f"/aws/lambda/us-east-1.catalog-edge-{S}", S)
    assert carries_suffix(f"catalog-logs-{S}-{ACCOUNT}", S)
    assert not carries_suffix(f"catalog-api-x{S}", S)
    assert not carries_suffix("catalog-quality-api", "qa")


def test_private_subnets_follow_the_route_tables() -> None:
    net = network_set()
    private = private_subnets(net)
    priv_ids = {i for r in net if r.name.startswith("private-") and r.type.endswith("Subnet")
                for i in r.idents if i.startswith("subnet-")}
    assert private == priv_ids and len(private) == 3
    assert private_subnets(network_set(private_route_to_igw=True)) == frozenset()


def test_a_crashing_rule_is_reported_not_hidden() -> None:
    from shared.policy import Level, Policy

    def broken(res: Res, context: Context) -> list[str]:
        raise KeyError("boom")

    policy = Policy("broken", Level.MANDATORY, "d", "w", resource_check=broken)
    found = evaluate([api_function()], ctx(), [policy])
    assert [m for _, _, m in found] == ["rule could not evaluate this resource (KeyError: 'boom')"]

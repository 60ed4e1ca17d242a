"""Realistic values for what AWS computes (ids, ARNs, endpoints), so downstream code sees real shapes.

Values are deterministic (hashes of type and name), so plans are stable from run to run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
AZS = ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f")
AZ_IDS = ("use1-az1", "use1-az2", "use1-az4", "use1-az6", "use1-az5")
ELB_ACCOUNT_US_EAST_1 = "127311923021"
CLOUDFRONT_PREFIX_LIST = "pl-3b927c52"


def hexid(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _physical(name: str, inputs: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = inputs.get(key)
        if isinstance(value, str) and value:
            return value
    return name


Computer = Callable[[str, dict[str, Any]], dict[str, Any]]


def _arn(service: str, resource: str, region: str = REGION, account: str = ACCOUNT_ID) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def _ec2(prefix: str, kind: str) -> Computer:
    def compute(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        rid = f"{prefix}-{hexid(kind, name)}"
        return {"id": rid, "arn": _arn("ec2", f"{kind}/{rid}")}

    return compute


def _eip(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    h = int(hexid("eip", name, length=4), 16)
    return {"id": f"eipalloc-{hexid('eip', name)}", "allocationId": f"eipalloc-{hexid('eip', name)}",
            "publicIp": f"198.51.100.{h % 250 + 1}"}


def _nat(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    h = int(hexid("nat", name, length=4), 16)
    return {"id": f"nat-{hexid('nat', name)}", "publicIp": f"203.0.113.{h % 250 + 1}"}


def _vpc(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    rid = f"vpc-{hexid('vpc', name)}"
    return {"id": rid, "arn": _arn("ec2", f"vpc/{rid}"), "defaultSecurityGroupId": f"sg-{hexid('dsg', name)}",
            "defaultNetworkAclId": f"acl-{hexid('dacl', name)}", "mainRouteTableId": f"rtb-{hexid('mrt', name)}",
            "ipv6CidrBlock": "2600:1f18:1234:5600::/56"}


def _vpc_endpoint(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    rid = f"vpce-{hexid('vpce', name)}"
    return {"id": rid, "arn": _arn("ec2", f"vpc-endpoint/{rid}"), "prefixListId": f"pl-{hexid('pl', name, length=8)}"}


def _log_group(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    physical = _physical(name, inputs, "name")
    return {"id": physical, "name": physical, "arn": _arn("logs", f"log-group:{physical}")}


def _iam(kind: str) -> Computer:
    def compute(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        physical = _physical(name, inputs, "name")
        if not inputs.get("name") and inputs.get("namePrefix"):
            physical = f"{inputs['namePrefix']}{hexid(kind, name, length=10)}"
        path = inputs.get("path") or "/"
        return {"id": physical, "name": physical, "arn": f"arn:aws:iam::{ACCOUNT_ID}:{kind}{path}{physical}",
                "uniqueId": f"ARO{hexid(kind, name, length=17).upper()}"}

    return compute


def _rds_cluster(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    cid = _physical(name, inputs, "clusterIdentifier")
    host = f"{cid}.cluster-c{hexid('rds', length=11)}.{REGION}.rds.amazonaws.com"
    return {"id": cid, "clusterIdentifier": cid, "arn": _arn("rds", f"cluster:{cid}"), "endpoint": host,
            "readerEndpoint": host.replace(".cluster-", ".cluster-ro-"), "port": inputs.get("port") or 5432,
            "clusterResourceId": f"cluster-{hexid('crid', cid, length=26).upper()}",
            "masterUsername": inputs.get("masterUsername"), "engineVersionActual": inputs.get("engineVersion"),
            "hostedZoneId": "Z2R2ITUGPM61AM",
            # With manageMasterUserPassword RDS creates the secret `rds!cluster-<uuid>` (a 6-character suffix).
            "masterUserSecrets": [{
                "secretArn": _arn("secretsmanager", f"secret:rds!cluster-{hexid('mus', cid, length=8)}-"
                                  f"{hexid('mus6', cid, length=6)}"),
                "secretStatus": "active", "kmsKeyId": _arn("kms", "alias/aws/secretsmanager")}]
            if inputs.get("manageMasterUserPassword") else []}


def _sar_stack(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """A Serverless Application Repository stack: the rotation application's output is its function ARN."""
    stack = _physical(name, inputs, "name")
    function = (inputs.get("parameters") or {}).get("functionName", stack)
    return {"id": _arn("cloudformation", f"stack/serverlessrepo-{stack}/{hexid('cfn', stack, length=8)}"),
            "outputs": {"RotationLambdaARN": _arn("lambda", f"function:{function}")}}


def _rds_instance(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    iid = _physical(name, inputs, "identifier")
    return {"id": iid, "identifier": iid, "arn": _arn("rds", f"db:{iid}"),
            "endpoint": f"{iid}.c{hexid('rds', length=11)}.{REGION}.rds.amazonaws.com", "port": 5432,
            "dbiResourceId": f"db-{hexid('dbi', iid, length=26).upper()}", "writer": inputs.get("promotionTier") == 0}


def _rds_proxy(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    pname = _physical(name, inputs, "name")
    prx = f"prx-{hexid('prx', pname)}"
    return {"id": pname, "arn": _arn("rds", f"db-proxy:{prx}"),
            "endpoint": f"{pname}.proxy-c{hexid('rds', length=11)}.{REGION}.rds.amazonaws.com"}


def _rds_proxy_endpoint(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    ename = _physical(name, inputs, "dbProxyEndpointName")
    return {"id": f"{inputs.get('dbProxyName')}/{ename}",
            "arn": _arn("rds", f"db-proxy-endpoint:prx-endpoint-{hexid('pe', ename)}"),
            "endpoint": f"{ename}.endpoint.proxy-c{hexid('rds', length=11)}.{REGION}.rds.amazonaws.com"}


def _named_arn(service: str, template: str, *keys: str) -> Computer:
    def compute(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        physical = _physical(name, inputs, *keys) if keys else name
        return {"id": physical, "name": physical, "arn": _arn(service, template.format(physical))}

    return compute


def _secret(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    physical = _physical(name, inputs, "name")
    arn = _arn("secretsmanager", f"secret:{physical}-{hexid('sm', physical, length=6)}")
    return {"id": arn, "arn": arn, "name": physical}


def _table(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    physical = _physical(name, inputs, "name")
    arn = _arn("dynamodb", f"table/{physical}")
    return {"id": physical, "name": physical, "arn": arn, "streamArn": f"{arn}/stream/2026-01-01T00:00:00.000"}


def _bucket(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    physical = _physical(name, inputs, "bucket")
    if not inputs.get("bucket") and inputs.get("bucketPrefix"):
        physical = f"{inputs['bucketPrefix']}{hexid('b', name, length=12)}"
    return {"id": physical, "bucket": physical, "arn": f"arn:aws:s3:::{physical}",
            "bucketDomainName": f"{physical}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{physical}.s3.{REGION}.amazonaws.com", "region": REGION,
            "hostedZoneId": "Z3AQBSTGFYJSTF"}


def _bucket_child(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"id": inputs.get("bucket") or name}


def _kms_key(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    key_id = "-".join(hexid("kms", name, length=32)[i:j] for i, j in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)))
    return {"id": key_id, "keyId": key_id, "arn": _arn("kms", f"key/{key_id}")}


def _lambda_function(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    fname = _physical(name, inputs, "name")
    arn = _arn("lambda", f"function:{fname}")
    version = "1" if inputs.get("publish") else "$LATEST"
    return {"id": fname, "name": fname, "arn": arn, "qualifiedArn": f"{arn}:{version}", "version": version,
            "invokeArn": f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations",
            "qualifiedInvokeArn":
                f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}:{version}/invocations",
            "sourceCodeHash": hexid("code", name, length=44)}


def _lambda_alias(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    fn = str(inputs.get("functionName", "fn"))
    fname = fn.split(":function:")[-1]
    arn = _arn("lambda", f"function:{fname}:{inputs.get('name')}")
    return {"id": arn, "arn": arn,
            "invokeArn": f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"}


def _ecr(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    physical = _physical(name, inputs, "name")
    return {"id": physical, "name": physical, "arn": _arn("ecr", f"repository/{physical}"),
            "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/{physical}", "registryId": ACCOUNT_ID}


def _lb(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    physical = _physical(name, inputs, "name")
    suffix = f"app/{physical}/{hexid('alb', physical, length=16)}"
    return {"id": _arn("elasticloadbalancing", f"loadbalancer/{suffix}"),
            "arn": _arn("elasticloadbalancing", f"loadbalancer/{suffix}"), "arnSuffix": suffix, "name": physical,
            "dnsName": f"{physical}-{int(hexid('dns', physical, length=8), 16) % 10**10}.{REGION}.elb.amazonaws.com",
            "zoneId": "Z35SXDOTRQ7X7K"}


def _target_group(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    physical = _physical(name, inputs, "name")
    suffix = f"targetgroup/{physical}/{hexid('tg', physical, length=16)}"
    arn = _arn("elasticloadbalancing", suffix)
    return {"id": arn, "arn": arn, "arnSuffix": suffix, "name": physical}


def _listener(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    arn = _arn("elasticloadbalancing", f"listener/app/{hexid('l', name, length=8)}/{hexid('ls', name, length=16)}")
    return {"id": arn, "arn": arn}


def _rest_api(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    api_id = hexid("api", name, length=10)
    return {"id": api_id, "rootResourceId": hexid("root", name, length=10),
            "executionArn": _arn("execute-api", api_id), "arn": f"arn:aws:apigateway:{REGION}::/restapis/{api_id}"}


def _api_resource(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"id": hexid("res", name, length=6), "path": f"/{inputs.get('pathPart', '')}"}


def _stage(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    api_id, stage = inputs.get("restApi", "api"), inputs.get("stageName", "v1")
    return {"id": f"ags-{api_id}-{stage}", "invokeUrl": f"https://{api_id}.execute-api.{REGION}.amazonaws.com/{stage}",
            "executionArn": _arn("execute-api", f"{api_id}/{stage}"),
            "arn": f"arn:aws:apigateway:{REGION}::/restapis/{api_id}/stages/{stage}"}


def _api_key(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"id": hexid("key", name, length=10), "value": inputs.get("value") or hexid("keyval", name, length=40)}


def _distribution(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    did = "E" + hexid("cf", name, length=13).upper()
    return {"id": did, "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{did}",
            "domainName": f"d{hexid('cfd', name, length=13)}.cloudfront.net", "hostedZoneId": "Z2FDTNDATAQYW2",
            "status": "Deployed", "etag": hexid("etag", name, length=14).upper()}


def _oai(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    oid = "E" + hexid("oai", name, length=13).upper()
    return {"id": oid, "iamArn": f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {oid}",
            "cloudfrontAccessIdentityPath": f"origin-access-identity/cloudfront/{oid}",
            "s3CanonicalUserId": hexid("canon", name, length=64)}


def _uuid(kind: str) -> Computer:
    def compute(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        h = hexid(kind, name, length=32)
        return {"id": f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"}

    return compute


def _web_acl(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    physical = _physical(name, inputs, "name")
    h = hexid("webacl", name, length=32)
    uid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    scope = "global" if inputs.get("scope") == "CLOUDFRONT" else "regional"
    return {"id": uid, "arn": _arn("wafv2", f"{scope}/webacl/{physical}/{uid}"), "capacity": 0,
            "lockToken": hexid("lock", name, length=36)}


def _command(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"id": name, "stdout": f"sha256:{hexid('digest', name, length=64)}", "stderr": ""}


def _invocation(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"id": name, "result": '{"applied": [], "current": 1}'}


COMPUTED: dict[str, Computer] = {
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _ec2("subnet", "subnet"),
    "aws:ec2/internetGateway:InternetGateway": _ec2("igw", "internet-gateway"),
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/natGateway:NatGateway": _nat,
    "aws:ec2/routeTable:RouteTable": _ec2("rtb", "route-table"),
    "aws:ec2/route:Route": _ec2("r", "route"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _ec2("rtbassoc", "route-table-association"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:ec2/securityGroup:SecurityGroup": _ec2("sg", "security-group"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ec2("sgr", "security-group-rule"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _ec2("sgr", "security-group-rule"),
    "aws:ec2/flowLog:FlowLog": _ec2("fl", "vpc-flow-log"),
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:iam/role:Role": _iam("role"),
    "aws:iam/policy:Policy": _iam("policy"),
    # IAM names an OIDC provider by its URL's host: arn:aws:iam::<account>:oidc-provider/<host>
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda name, inputs: {
        "id": (arn := f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{str(inputs['url']).removeprefix('https://')}"),
        "arn": arn},
    "aws:rds/cluster:Cluster": _rds_cluster,
    "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": _sar_stack,
    "aws:rds/clusterInstance:ClusterInstance": _rds_instance,
    "aws:rds/proxy:Proxy": _rds_proxy,
    "aws:rds/proxyEndpoint:ProxyEndpoint": _rds_proxy_endpoint,
    "aws:rds/subnetGroup:SubnetGroup": _named_arn("rds", "subgrp:{}", "name"),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": _named_arn("rds", "cluster-pg:{}", "name"),
    "aws:rds/parameterGroup:ParameterGroup": _named_arn("rds", "pg:{}", "name"),
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:dynamodb/table:Table": _table,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _named_arn("kms", "{}", "name"),
    "aws:sns/topic:Topic": _named_arn("sns", "{}", "name"),
    "aws:lambda/function:Function": _lambda_function,
    "aws:lambda/alias:Alias": _lambda_alias,
    "aws:lambda/invocation:Invocation": _invocation,
    "aws:ecr/repository:Repository": _ecr,
    "aws:lb/loadBalancer:LoadBalancer": _lb,
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "aws:lb/listener:Listener": _listener,
    "aws:lb/listenerRule:ListenerRule": _listener,
    "aws:apigateway/restApi:RestApi": _rest_api,
    "aws:apigateway/resource:Resource": _api_resource,
    "aws:apigateway/stage:Stage": _stage,
    "aws:apigateway/apiKey:ApiKey": _api_key,
    "aws:apigateway/usagePlan:UsagePlan": _named_arn("apigateway", "/usageplans/{}"),
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:wafv2/webAcl:WebAcl": _web_acl,
    "aws:cloudfront/originAccessIdentity:OriginAccessIdentity": _oai,
    "aws:cloudfront/originAccessControl:OriginAccessControl": _uuid("oac"),
    "aws:cloudfront/cachePolicy:CachePolicy": _uuid("cp"),
    "aws:cloudfront/originRequestPolicy:OriginRequestPolicy": _uuid("orp"),
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": _uuid("rhp"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _named_arn("cloudwatch", "alarm:{}", "name"),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": _named_arn("cloudwatch", "alarm:{}", "alarmName"),
    "aws:cloudwatch/dashboard:Dashboard": _named_arn("cloudwatch", "dashboard/{}", "dashboardName"),
    "aws:appautoscaling/target:Target": _named_arn("application-autoscaling", "scalable-target/{}", "resourceId"),
    "aws:appautoscaling/policy:Policy": _named_arn("autoscaling", "scalingPolicy:{}", "name"),
    "command:local:Command": _command,
}


def computed_state(type_token: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(id, outputs) for a resource: its inputs plus what AWS would compute."""
    compute = COMPUTED.get(type_token)
    extra = compute(name, inputs) if compute else {"id": f"{name}-{hexid(type_token, name, length=8)}"}
    if "arn" not in extra and compute is None and type_token.startswith("aws:"):
        service = type_token.split(":")[1].split("/")[0]
        extra["arn"] = _arn(service, f"{type_token.rsplit(':', 1)[-1].lower()}/{name}")
    state = {**inputs, **{k: v for k, v in extra.items() if k not in inputs or k in ("id", "arn")}}
    return str(extra["id"]), state

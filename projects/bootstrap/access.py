"""What each layer team's roles may do, as a small typed table: per layer, the AWS services its program declares and,
per service, the actions and the ARNs of the layer's own resources. Pure data; `permissions.py` turns it into the
IAM documents the bootstrap deploys.

Per layer: the AWS services its program declares (resource type tokens mapped to IAM prefixes by `iam_prefix`;
tests check the table against each layer's offline plan), and per service:

- `describe`: metadata reads AWS gives no resource-level permission for (List*/Describe* calls): `Resource: "*"`.
- `inspect`: reads of the layer's own resources (the plan role has these too).
- `manage`: writes on the layer's own resources.
- `create`: calls that create a resource; where the service evaluates tags on create they must carry
  `Layer=<layer>` (`aws:RequestTag/Layer`) and only the platform's tag keys (`aws:TagKeys`).
- `unscoped`: writes AWS offers no resource-level permission for: `Resource: "*"`, said why.

`tag_scoped` services get `aws:ResourceTag/Layer = <layer>` and `aws:ResourceTag/Environment = <suffix>` on
`inspect` and `manage`: that, not the names, keeps one team off another's resources (every layer's names share
`catalog-*-<suffix>`) and one environment off another's whose suffix ends like it (`prod-eu` beside `eu`).
Services without tag conditions on these actions are scoped by name or ARN type instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.runtime import APP
from shared.runtime.faults import FIS_TAG

OIDC_HOST = "token.actions.githubusercontent.com"
OIDC_URL = f"https://{OIDC_HOST}"
OIDC_AUDIENCE = "sts.amazonaws.com"
# Every tag key the layers put on resources (shared/runtime/tags.py plus the components' own); a test keeps
# this equal to what the plans declare, so a create cannot smuggle in other keys (aws:TagKeys).
TAG_KEYS = ("Project", "Layer", "Environment", "ManagedBy", "Owner", "Name", "Tier", "Alarm")
TAG_ACTIONS_UNTAG = ("ec2:DeleteTags", "rds:RemoveTagsFromResource", "dynamodb:UntagResource",
                     "lambda:UntagResource", "elasticloadbalancing:RemoveTags", "ecr:UntagResource",
                     "logs:UntagResource", "iam:UntagRole", "secretsmanager:UntagResource", "kms:UntagResource",
                     "wafv2:UntagResource", "cloudfront:UntagResource", "scheduler:UntagResource",
                     "application-autoscaling:UntagResource", "fis:UntagResource")
TAG_ACTIONS_TAG = ("ec2:CreateTags", "rds:AddTagsToResource", "dynamodb:TagResource", "lambda:TagResource",
                   "elasticloadbalancing:AddTags", "ecr:TagResource", "logs:TagResource", "iam:TagRole",
                   "secretsmanager:TagResource", "kms:TagResource", "wafv2:TagResource", "cloudfront:TagResource",
                   "scheduler:TagResource", "application-autoscaling:TagResource", "fis:TagResource")
MANAGED_POLICY_MAX = 6144  # characters of a managed policy document, whitespace excluded (IAM quotas)
# The roles' MaxSessionDuration: at least the longest credentialed job's timeout-minutes (.github/workflows/layer.yml,
# the `up` job: 120 min), so a deploy never outlives its credentials halfway. IAM allows 3,600-43,200 s;
# tests/bootstrap/test_session.py holds the workflows to this number.
SESSION_SECONDS = 7200
# Reads that return a secret's value (or decrypt one): never in a plan role, which every pull request can assume.
SECRET_READS = ("secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue", "ssm:GetParameter",
                "ssm:GetParameters", "ssm:GetParametersByPath", "kms:Decrypt", "kms:ReEncryptFrom",
                "rds:DownloadDBLogFilePortion")
# IAM writes that change what a role may do: every one needs the layer's permissions boundary on the role
# (condition key iam:PermissionsBoundary, list_awsidentityandaccessmanagementiam.html).
BOUNDED_IAM = ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy",
               "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary")


@dataclass(frozen=True)
class ServiceAccess:
    prefix: str
    resources: tuple[str, ...]  # ARN templates: {region} {account} {suffix}
    describe: tuple[str, ...] = ()
    inspect: tuple[str, ...] = ()
    manage: tuple[str, ...] = ()
    create: tuple[str, ...] = ()
    unscoped: tuple[str, ...] = ()
    tag_scoped: bool = False
    create_on_any: bool = False  # the create call has no resource type (kms:CreateKey): "*" plus request tags
    # IAM writes allowed only on a role that carries the layer's permissions boundary (BOUNDED_IAM); a create among
    # them also needs the request tags.
    bounded: tuple[str, ...] = ()
    why: str = ""  # why the scoping is what it is
    # Only where tags cannot scope (not tag_scoped): a condition on the manage/create statements ({suffix} etc.
    # are filled in), e.g. aws:CalledVia for what a service creates on the caller's behalf.
    condition: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Create actions whose call also names existing resources (a subnet's VPC, a rule's security group): action ->
    # (the resource types it creates, the existing ones it names). The new ones are allowed with request tags, the
    # existing ones only with the layer's resource tags, so a create cannot reach into another team's resource by
    # merely tagging its own request. Resource types from the Service Authorization Reference (ec2, rds).
    create_targets: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    # The ARN of a create_targets resource type: EC2's `<type>/<id>`, RDS's `<type>:<name>`.
    target_arn: str = "arn:aws:{prefix}:{region}:{account}:{kind}/*"
    # The create action also updates an existing resource of the same ARN (RegisterScalableTarget): its create
    # statement then also asks that the resource carry no Layer tag yet, so the request's tags never open another
    # environment's existing resource (the manage statement covers the layer's own).
    create_updates_existing: bool = False
    # What a create tags, where the service authorizes a create's tags as its tag action too (RDS's
    # AddTagsToResource, ELB's AddTags, ...): ARN templates, by default the service's own `resources` (or, with
    # create_targets, the types it creates). Only for a resource that carries no Layer tag yet, with the request tags.
    tag_on_create: tuple[str, ...] = ()
    # The service's condition key naming the create call a tag action is part of (ELB's CreateAction): with it, the
    # tag-on-create grant holds only inside those creates, never for a direct tag call on an existing resource.
    create_action_key: str = ""


@dataclass(frozen=True)
class PassRole:
    """iam:PassRole of the layer's own roles, only to the services that run them (iam:PassedToService)."""

    services: tuple[str, ...]
    roles: tuple[str, ...] = ()  # ARN templates of roles not named catalog-*-<suffix> (CloudFormation-named)


@dataclass(frozen=True)
class LayerAccess:
    layer: str
    reads: tuple[str, ...]  # upstream layers whose stack state it reads (StackReference); = upstream_of(layer)
    services: tuple[ServiceAccess, ...]
    pass_role: PassRole | None = None
    service_linked_roles: tuple[str, ...] = ()  # iam:AWSServiceName values it may create a service-linked role for
    # The actions the roles the layer creates may use at run time: the ceiling of its permissions boundary
    # (tests/bootstrap/test_boundary.py holds every policy the layer's plan gives a role inside it).
    runtime: tuple[str, ...] = ()
    # Run-time actions on the environment's RDS-managed master secret (`rds!cluster-<id>`, named by RDS), granted
    # only on the secret RDS tagged with the environment's cluster (permissions.py, master_secret_statement).
    master_secret_reads: tuple[str, ...] = ()

    @property
    def prefixes(self) -> set[str]:
        return {s.prefix for s in self.services}


# The Aurora cluster's kind in its name (catalog-db-<suffix>, projects/data/aurora.py): its master secret is tagged
# with that cluster's ARN (permissions.py, master_secret_statement). A test holds the data plan to it.
DB_CLUSTER_KIND = "db"

# --- services, with the ARNs of a layer's resources ---------------------------------------------------------
NAMED = f"{APP}-*-{{suffix}}"  # every physical name: catalog-<kind>-<suffix> (shared/runtime/naming.py)



def log_group_patterns(named: str) -> tuple[str, ...]:
    """ARN tails (after `account:`) of an environment's log groups and their streams. Every group's name ends in
    the name (/aws/lambda/<name>, /aws/lambda/us-east-1.<name> of Lambda@Edge replicas, aws-waf-logs-<name>,
    /aws/apigateway/<name>, /catalog/<name>, <name>) or holds it as the last-but-one path segment
    (/aws/rds/cluster/<cluster id>/postgresql, named by RDS). No `*` right after the name: `*catalog-*-eu*`
    would also match eu2's and eu-west's groups. `:*` is the group's ARN as the API returns it and its streams."""
    return (f"log-group:*{named}", f"log-group:*{named}:*", f"log-group:*{named}/*")


# Log groups AWS creates untagged under the environment's names, which no layer declares: Lambda@Edge replicas log
# in every region to /aws/lambda/us-east-1.<function>, made by the edge functions' own role. Untagged, they would
# fall to any layer's tag-on-create grant (and so to its manage statement): no deploy role may tag them.
AWS_MADE_LOG_GROUPS = ("log-group:/aws/lambda/us-east-1.*",)

LOGS = ServiceAccess(
    "logs", tuple(f"arn:aws:logs:{{region}}:{{account}}:{group}" for group in log_group_patterns(NAMED)),
    describe=("logs:DescribeLogGroups", "logs:DescribeQueryDefinitions"),
    inspect=("logs:ListTagsForResource", "logs:ListTagsLogGroup", "logs:DescribeLogStreams",
             "logs:DescribeMetricFilters"),
    manage=("logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:TagResource",
            "logs:UntagResource", "logs:TagLogGroup", "logs:UntagLogGroup", "logs:AssociateKmsKey",
            "logs:PutMetricFilter", "logs:DeleteMetricFilter"),
    create=("logs:CreateLogGroup",),
    tag_scoped=True,
    why="log group names carry the suffix; the Layer tag separates layers",
)


def iam_roles() -> ServiceAccess:
    return ServiceAccess(
        "iam", (f"arn:aws:iam::{{account}}:role/{NAMED}",),
        inspect=("iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
                 "iam:ListRoleTags", "iam:ListInstanceProfilesForRole"),
        manage=("iam:DeleteRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole"),
        bounded=("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"),
        tag_scoped=True,
        why="roles named catalog-*-<suffix> and tagged with the layer; creating one or changing its policies only "
            "with the layer's permissions boundary on it",
    )


# The app's API Gateway account role (optional, regional singleton) gets AWS's push-to-CloudWatch policy attached.
APIGW_PUSH_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
IAM_ATTACH_APIGW = ServiceAccess(
    "iam", (f"arn:aws:iam::{{account}}:role/{NAMED}",),
    bounded=("iam:AttachRolePolicy", "iam:DetachRolePolicy"),
    tag_scoped=True,
    condition={"ArnEquals": {"iam:PolicyARN": [APIGW_PUSH_POLICY]}},
    why="only AWS's API Gateway logging policy, only on a role of the layer that carries its boundary",
)


EC2 = ServiceAccess(
    "ec2", ("arn:aws:ec2:{region}:{account}:*",),
    describe=("ec2:Describe*",),
    manage=("ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute",
            "ec2:DeleteRouteTable", "ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute",
            "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable", "ec2:AttachInternetGateway",
            "ec2:DetachInternetGateway", "ec2:DeleteInternetGateway", "ec2:DeleteNatGateway", "ec2:ReleaseAddress",
            "ec2:DisassociateAddress", "ec2:DeleteSecurityGroup", "ec2:AuthorizeSecurityGroupIngress",
            "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress",
            "ec2:ModifySecurityGroupRules", "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
            "ec2:UpdateSecurityGroupRuleDescriptionsEgress", "ec2:DeleteVpcEndpoints", "ec2:ModifyVpcEndpoint",
            "ec2:DeleteFlowLogs", "ec2:CreateTags", "ec2:DeleteTags"),
    create=("ec2:CreateVpc", "ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateInternetGateway",
            "ec2:CreateNatGateway", "ec2:AllocateAddress", "ec2:CreateSecurityGroup", "ec2:CreateVpcEndpoint",
            "ec2:CreateFlowLogs",
            # Tagged rules (aws:vpc/securityGroupIngressRule) are created by Authorize* with their tags.
            "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress"),
    tag_scoped=True,
    create_targets={
        "ec2:CreateVpc": (("vpc",), ()),
        "ec2:CreateSubnet": (("subnet",), ("vpc",)),
        "ec2:CreateRouteTable": (("route-table",), ("vpc",)),
        "ec2:CreateInternetGateway": (("internet-gateway",), ()),
        "ec2:CreateNatGateway": (("natgateway",), ("subnet", "elastic-ip")),
        "ec2:AllocateAddress": (("elastic-ip",), ()),
        "ec2:CreateSecurityGroup": (("security-group",), ("vpc",)),
        "ec2:CreateVpcEndpoint": (("vpc-endpoint",), ("vpc", "route-table", "security-group", "subnet")),
        "ec2:CreateFlowLogs": (("vpc-flow-log",), ("vpc",)),
        "ec2:AuthorizeSecurityGroupIngress": (("security-group-rule",), ("security-group",)),
        "ec2:AuthorizeSecurityGroupEgress": (("security-group-rule",), ("security-group",)),
    },
    why="EC2 ids are random; tags on create (aws:RequestTag) for the new resource, the layer's own tags "
        "(aws:ResourceTag) on the VPC, subnet or group a create names and on every later call. Describe* has no "
        "resource-level permissions",
)

RDS = ServiceAccess(
    "rds", ("arn:aws:rds:{region}:{account}:*",),
    describe=("rds:Describe*",),
    inspect=("rds:ListTagsForResource",),
    manage=("rds:ModifyDBCluster", "rds:DeleteDBCluster", "rds:ModifyDBInstance", "rds:DeleteDBInstance",
            "rds:ModifyDBClusterParameterGroup", "rds:DeleteDBClusterParameterGroup",
            "rds:ResetDBClusterParameterGroup",
            "rds:ModifyDBSubnetGroup", "rds:DeleteDBSubnetGroup", "rds:ModifyDBProxy", "rds:DeleteDBProxy",
            "rds:ModifyDBProxyTargetGroup", "rds:RegisterDBProxyTargets", "rds:DeregisterDBProxyTargets",
            "rds:ModifyDBProxyEndpoint", "rds:DeleteDBProxyEndpoint", "rds:AddTagsToResource",
            "rds:RemoveTagsFromResource"),
    create=("rds:CreateDBCluster", "rds:CreateDBInstance", "rds:CreateDBClusterParameterGroup",
            "rds:CreateDBSubnetGroup", "rds:CreateDBProxyEndpoint"),
    tag_scoped=True,
    # Resource types each create authorizes, from
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrds.html (ARN segments: its `proxy`
    # type is db-proxy:<id>, `proxy-endpoint` db-proxy-endpoint:<id>): the new one with the request tags, the existing
    # ones it names (an instance's cluster, an endpoint's proxy, the groups) only with the layer's tags, so a staging
    # call cannot add an instance to prod's cluster or an endpoint to prod's proxy. AWS's default parameter and option
    # groups carry no tags: RDS_DEFAULT_GROUPS. global-cluster (joining another cluster's global database) and secgrp
    # are never granted.
    create_targets={
        # `db` too: a Multi-AZ DB cluster's create makes its instances (the SAR lists the type).
        "rds:CreateDBCluster": (("cluster", "db"), ("cluster-pg", "subgrp")),
        "rds:CreateDBInstance": (("db",), ("cluster", "subgrp")),
        "rds:CreateDBClusterParameterGroup": (("cluster-pg",), ()),
        "rds:CreateDBSubnetGroup": (("subgrp",), ()),
        "rds:CreateDBProxyEndpoint": (("db-proxy-endpoint",), ("db-proxy",)),
    },
    target_arn="arn:aws:{prefix}:{region}:{account}:{kind}:*",
    # A create's tags (AddTagsToResource) by the environment's names where RDS's ARN carries one, so tagging on
    # create can never claim an untagged cluster or instance of another product; a proxy endpoint's ARN has an id.
    tag_on_create=(*(f"arn:aws:rds:{{region}}:{{account}}:{kind}:{NAMED}" for kind in ("cluster", "db", "cluster-pg",
                                                                                        "subgrp")),
                   "arn:aws:rds:{region}:{account}:db-proxy-endpoint:*"),
    why="RDS evaluates aws:ResourceTag and aws:RequestTag on clusters, instances, groups and proxies",
)
# The default parameter and option groups (AWS's, untagged, not modifiable) a cluster or instance uses when the call
# names none: a create may use them by their `default` names (RDS's naming), whether or not RDS authorizes them.
RDS_DEFAULT_GROUPS = ServiceAccess(
    "rds", tuple(f"arn:aws:rds:{{region}}:{{account}}:{kind}" for kind in ("pg:default.*", "cluster-pg:default.*",
                                                                            "og:default:*")),
    create=("rds:CreateDBCluster", "rds:CreateDBInstance"),
    condition={"StringEquals": {"aws:RequestTag/Layer": "data", "aws:RequestTag/Environment": "{suffix}"}},
    why="AWS's default parameter and option groups carry no tags: by their default names, in a create carrying "
        "the layer's request tags",
)

DYNAMODB = ServiceAccess(
    "dynamodb", (f"arn:aws:dynamodb:{{region}}:{{account}}:table/{NAMED}",
                 f"arn:aws:dynamodb:{{region}}:{{account}}:table/{NAMED}/index/*"),
    describe=("dynamodb:ListTables",),
    inspect=("dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive",
             "dynamodb:ListTagsOfResource"),
    manage=("dynamodb:UpdateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTimeToLive",
            "dynamodb:UpdateContinuousBackups", "dynamodb:TagResource", "dynamodb:UntagResource"),
    create=("dynamodb:CreateTable",),
    tag_scoped=True,
    why="no item access (GetItem/PutItem): the deploy manages tables, the API reads them",
)

SECRETS = ServiceAccess(
    "secretsmanager", (f"arn:aws:secretsmanager:{{region}}:{{account}}:secret:{NAMED}-*",),
    describe=("secretsmanager:ListSecrets",),
    inspect=("secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"),
    # GetSecretValue: deploy role only (the provider reads a SecretVersion back); never the plan role.
    manage=("secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret",
            "secretsmanager:DeleteSecret",
            "secretsmanager:TagResource", "secretsmanager:UntagResource", "secretsmanager:CancelRotateSecret"),
    create=("secretsmanager:CreateSecret",),
    tag_scoped=True,
    why="GetSecretValue only on the layer's own secret and only for the deploy role (the provider reads the "
        "version back)",
)

# rds:CreateDBProxy has no resource type (the Service Authorization Reference; parliament's RESOURCE_MISMATCH):
# "*", narrowed by the request tags only.
RDS_PROXY_CREATE = ServiceAccess(
    "rds", ("*",),
    create=("rds:CreateDBProxy",),
    tag_scoped=True,
    create_on_any=True,
    tag_on_create=("arn:aws:rds:{region}:{account}:db-proxy:*",),  # the new proxy's tags (AddTagsToResource)
    why="CreateDBProxy is authorized on no resource: request tags (Layer, Environment, the platform's keys) only",
)

# https://docs.aws.amazon.com/service-authorization/latest/reference/list_applicationautoscaling.html: the
# scalable-target resource evaluates aws:ResourceTag on every write; RegisterScalableTarget (create and update)
# also aws:RequestTag/aws:TagKeys. Policies and scheduled actions are authorized on their scalable target.
AUTOSCALING = ServiceAccess(
    "application-autoscaling", ("arn:aws:application-autoscaling:{region}:{account}:scalable-target/*",),
    describe=("application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies",
              "application-autoscaling:DescribeScheduledActions"),
    inspect=("application-autoscaling:ListTagsForResource",),
    manage=("application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
            "application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy",
            "application-autoscaling:PutScheduledAction", "application-autoscaling:DeleteScheduledAction",
            "application-autoscaling:TagResource", "application-autoscaling:UntagResource"),
    create=("application-autoscaling:RegisterScalableTarget",),
    tag_scoped=True,
    # RegisterScalableTarget "registers or updates"
    # (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html) and is
    # authorized on the scalable-target, which evaluates aws:ResourceTag (list_applicationautoscaling.html, above):
    # called on an existing target (another environment's resource id, dimension and namespace) it is authorized on
    # that target, so the create statement's request tags alone would let it change that environment's capacity.
    create_updates_existing=True,
    why="scalable-target ids are random: the layer's targets by their tags (Register with the request tags, only "
        "on a target that has no Layer tag yet)",
)


def s3_buckets(*kinds: str, objects: bool = False) -> ServiceAccess:
    buckets = tuple(f"arn:aws:s3:::{APP}-{kind}-{{suffix}}-{{account}}" for kind in kinds)
    return ServiceAccess(
        "s3", buckets + (tuple(f"{b}/*" for b in buckets) if objects else ()),
        describe=("s3:ListAllMyBuckets",),
        inspect=("s3:GetBucket*", "s3:GetAccelerateConfiguration", "s3:GetLifecycleConfiguration",
                 "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration", "s3:GetAnalyticsConfiguration",
                 "s3:GetIntelligentTieringConfiguration", "s3:GetInventoryConfiguration", "s3:GetMetricsConfiguration",
                 "s3:ListBucket", *(("s3:GetObject", "s3:GetObjectTagging") if objects else ())),
        manage=("s3:DeleteBucket", "s3:PutBucket*", "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration",
                "s3:PutEncryptionConfiguration",
                *(("s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging") if objects else ())),
        create=("s3:CreateBucket",),
        why="buckets by their exact names (S3 bucket calls do not evaluate aws:ResourceTag); never the state bucket",
    )


LAMBDA = ServiceAccess(
    "lambda", (f"arn:aws:lambda:{{region}}:{{account}}:function:{NAMED}",
               f"arn:aws:lambda:{{region}}:{{account}}:function:{NAMED}:*"),
    describe=("lambda:ListFunctions", "lambda:GetAccountSettings"),
    inspect=("lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:GetFunctionCodeSigningConfig",
             "lambda:GetFunctionConcurrency", "lambda:GetFunctionUrlConfig", "lambda:GetPolicy", "lambda:GetAlias",
             "lambda:GetProvisionedConcurrencyConfig", "lambda:GetRuntimeManagementConfig",
             "lambda:GetFunctionRecursionConfig", "lambda:ListVersionsByFunction", "lambda:ListAliases",
             "lambda:ListTags", "lambda:ListProvisionedConcurrencyConfigs"),
    manage=("lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:DeleteFunction",
            "lambda:PublishVersion", "lambda:CreateAlias", "lambda:UpdateAlias", "lambda:DeleteAlias",
            "lambda:AddPermission", "lambda:RemovePermission", "lambda:PutFunctionConcurrency",
            "lambda:DeleteFunctionConcurrency", "lambda:PutProvisionedConcurrencyConfig",
            "lambda:DeleteProvisionedConcurrencyConfig", "lambda:InvokeFunction", "lambda:TagResource",
            "lambda:UntagResource"),
    create=("lambda:CreateFunction",),
    tag_scoped=True,
    why="function names carry the suffix; Lambda evaluates aws:ResourceTag on function, version and alias calls",
)

ELB = ServiceAccess(
    "elasticloadbalancing", (
        f"arn:aws:elasticloadbalancing:{{region}}:{{account}}:loadbalancer/app/{NAMED}/*",
        f"arn:aws:elasticloadbalancing:{{region}}:{{account}}:targetgroup/{NAMED}/*",
        f"arn:aws:elasticloadbalancing:{{region}}:{{account}}:listener/app/{NAMED}/*",
        f"arn:aws:elasticloadbalancing:{{region}}:{{account}}:listener-rule/app/{NAMED}/*"),
    describe=("elasticloadbalancing:Describe*",),
    manage=("elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
            "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyTargetGroup",
            "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:RegisterTargets",
            "elasticloadbalancing:DeregisterTargets",
            "elasticloadbalancing:ModifyListener", "elasticloadbalancing:DeleteListener",
            "elasticloadbalancing:ModifyRule", "elasticloadbalancing:DeleteRule",
            "elasticloadbalancing:SetRulePriorities", "elasticloadbalancing:AddTags",
            "elasticloadbalancing:RemoveTags"),
    # Listeners and rules are new, tagged resources too: their create carries the request tags.
    create=("elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup",
            "elasticloadbalancing:CreateListener", "elasticloadbalancing:CreateRule"),
    tag_scoped=True,
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/tagging-resources-during-creation.html
    create_action_key="elasticloadbalancing:CreateAction",
    why="ELBv2 evaluates aws:ResourceTag; Describe* has no resource-level permissions",
)

ECR = ServiceAccess(
    "ecr", (f"arn:aws:ecr:{{region}}:{{account}}:repository/{NAMED}",),
    inspect=("ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy",
             "ecr:ListTagsForResource", "ecr:DescribeImages",
             "ecr:BatchGetImage", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer"),
    manage=("ecr:DeleteRepository", "ecr:PutLifecyclePolicy", "ecr:DeleteLifecyclePolicy", "ecr:SetRepositoryPolicy",
            "ecr:DeleteRepositoryPolicy", "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability",
            "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage",
            "ecr:BatchDeleteImage", "ecr:TagResource", "ecr:UntagResource"),
    create=("ecr:CreateRepository",),
    unscoped=("ecr:GetAuthorizationToken",),
    tag_scoped=True,
    why="the image push (pulumi-command) needs a registry token, which has no resource-level permission",
)

APIGW = ServiceAccess(
    "apigateway", tuple(f"arn:aws:apigateway:{{region}}::/{path}"
                        for path in ("restapis", "restapis/*", "apikeys", "apikeys/*", "usageplans", "usageplans/*",
                                     "tags/*")),
    # SetWebACL: wafv2:AssociateWebACL on a stage (restapis/<id>/stages/<name>) also needs it (list_awswafv2.html).
    manage=("apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE",
            "apigateway:SetWebACL"),
    why="API Gateway's ids are random and its actions are HTTP verbs on paths: scoped to the REST API, key and "
        "usage-plan paths (no account-wide settings)",
)

# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfront.html: distributions
# evaluate aws:ResourceTag (Get/Update/Delete/CreateInvalidation/TagResource); CreateDistribution has no resource
# type and evaluates aws:RequestTag. Cache policies, origin-request policies and OAIs take no tags.
CLOUDFRONT_DISTRIBUTIONS = ServiceAccess(
    "cloudfront", ("arn:aws:cloudfront::{account}:distribution/*",),
    describe=("cloudfront:ListDistributions",),
    inspect=("cloudfront:GetDistribution", "cloudfront:GetDistributionConfig", "cloudfront:ListTagsForResource"),
    manage=("cloudfront:UpdateDistribution", "cloudfront:DeleteDistribution", "cloudfront:TagResource",
            "cloudfront:UntagResource", "cloudfront:CreateInvalidation"),
    # The API's CreateDistributionWithTags is authorized as cloudfront:CreateDistribution plus TagResource (on the
    # new, untagged distribution: the tag-on-create statement every tagged create gets, permissions.py).
    create=("cloudfront:CreateDistribution",),
    tag_scoped=True,
    create_on_any=True,
    why="distribution ids are random: the layer's distributions by their tags; CreateDistribution has no resource "
        "type (request tags only)",
)
CLOUDFRONT_POLICIES = ServiceAccess(
    "cloudfront", tuple(f"arn:aws:cloudfront::{{account}}:{kind}/*"
                        for kind in ("origin-access-identity", "cache-policy", "origin-request-policy")),
    describe=("cloudfront:ListCachePolicies", "cloudfront:ListOriginRequestPolicies",
              "cloudfront:ListCloudFrontOriginAccessIdentities"),
    inspect=("cloudfront:GetCachePolicy", "cloudfront:GetOriginRequestPolicy",
             "cloudfront:GetCloudFrontOriginAccessIdentity", "cloudfront:GetCloudFrontOriginAccessIdentityConfig"),
    manage=("cloudfront:UpdateCachePolicy", "cloudfront:DeleteCachePolicy", "cloudfront:UpdateOriginRequestPolicy",
            "cloudfront:DeleteOriginRequestPolicy", "cloudfront:UpdateCloudFrontOriginAccessIdentity",
            "cloudfront:DeleteCloudFrontOriginAccessIdentity"),
    create=("cloudfront:CreateCachePolicy", "cloudfront:CreateOriginRequestPolicy",
            "cloudfront:CreateCloudFrontOriginAccessIdentity"),
    why="cache policies, origin-request policies and OAIs take no tags and have random ids: scoped to their ARN "
        "types (AWS's managed policies are read-only to every account)",
)

LAMBDA_EDGE = ServiceAccess(
    "lambda", (f"arn:aws:lambda:us-east-1:{{account}}:function:{NAMED}:*",),
    manage=("lambda:EnableReplication", "lambda:DisableReplication"),
    why="CloudFront replicates the edge functions' versions; EnableReplication* takes the version ARN",
)

CLOUDWATCH = ServiceAccess(
    "cloudwatch", (f"arn:aws:cloudwatch:{{region}}:{{account}}:alarm:{NAMED}",
                   f"arn:aws:cloudwatch::{{account}}:dashboard/{NAMED}"),
    describe=("cloudwatch:ListDashboards",),
    inspect=("cloudwatch:DescribeAlarms", "cloudwatch:GetDashboard", "cloudwatch:ListTagsForResource"),
    manage=("cloudwatch:PutMetricAlarm", "cloudwatch:PutCompositeAlarm", "cloudwatch:DeleteAlarms",
            "cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards", "cloudwatch:TagResource",
            "cloudwatch:UntagResource"),
    why="alarm and dashboard names carry the suffix; dashboards take no tags, so names scope both",
)

LOGS_QUERIES = ServiceAccess(
    "logs", ("*",),
    unscoped=("logs:PutQueryDefinition", "logs:DeleteQueryDefinition"),
    why="query definitions have no resource-level permissions",
)

SNS = ServiceAccess(
    "sns", (f"arn:aws:sns:{{region}}:{{account}}:{NAMED}",),
    describe=("sns:ListTopics",),
    inspect=("sns:GetTopicAttributes", "sns:ListTagsForResource", "sns:ListSubscriptionsByTopic"),
    manage=("sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:TagResource",
            "sns:UntagResource", "sns:Subscribe"),
    # Unsubscribe is authorized on no resource type (it takes a subscription ARN, not the topic).
    unscoped=("sns:Unsubscribe",),
    why="topic names carry the suffix; Unsubscribe has no resource-level permission",
)

KMS_KEYS = ServiceAccess(
    "kms", ("arn:aws:kms:{region}:{account}:key/*",),
    describe=("kms:ListAliases", "kms:ListKeys"),
    inspect=("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"),
    manage=("kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:UpdateKeyDescription",
            "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:CreateAlias", "kms:DeleteAlias",
            "kms:UpdateAlias"),
    create=("kms:CreateKey",),
    tag_scoped=True,
    create_on_any=True,
    why="KMS evaluates aws:ResourceTag on keys and aws:RequestTag on CreateKey (which has no resource)",
)

KMS_ALIASES = ServiceAccess(
    "kms", (f"arn:aws:kms:{{region}}:{{account}}:alias/{NAMED}",),
    manage=("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"),
    why="an alias call is authorized on the alias (by name) and on the key (by tag, above)",
)

# --- AWS WAF v2 (app: REGIONAL on the API stage; edge: CLOUDFRONT, created in us-east-1) ------------------------
# Service Authorization Reference, AWS WAF V2:
#   https://docs.aws.amazon.com/service-authorization/latest/reference/list_awswafv2.html
# webacl ARNs are <region>:<account>:<scope>/webacl/<name>/<id> (scope "regional" or "global"); the webacl resource
# type evaluates aws:ResourceTag, CreateWebACL/TagResource evaluate aws:RequestTag and aws:TagKeys. AssociateWebACL
# on an API Gateway stage also needs apigateway:SetWebACL (the page's API-operations table; see APIGW).
def wafv2_acls(scope: str, region: str = "{region}", *, associate: bool = False) -> ServiceAccess:
    return ServiceAccess(
        "wafv2", (f"arn:aws:wafv2:{region}:{{account}}:{scope}/webacl/{NAMED}/*",),
        # No resource type for these: List* and CheckCapacity (the capacity of a rule set before create).
        describe=("wafv2:ListWebACLs", "wafv2:CheckCapacity", "wafv2:ListAvailableManagedRuleGroups"),
        inspect=("wafv2:GetWebACL", "wafv2:GetLoggingConfiguration", "wafv2:ListTagsForResource",
                 *(("wafv2:GetWebACLForResource",) if associate else ())),
        manage=("wafv2:UpdateWebACL", "wafv2:DeleteWebACL", "wafv2:PutLoggingConfiguration",
                "wafv2:DeleteLoggingConfiguration", "wafv2:TagResource", "wafv2:UntagResource",
                *(("wafv2:AssociateWebACL", "wafv2:DisassociateWebACL") if associate else ())),
        create=("wafv2:CreateWebACL",),
        tag_scoped=True,
        why="web ACL names carry the suffix; WAF evaluates aws:ResourceTag on webacl and request tags on create",
    )


def wafv2_managed_rules(scope: str, region: str = "{region}") -> ServiceAccess:
    return ServiceAccess(
        "wafv2", (f"arn:aws:wafv2:{region}:*:{scope}/managedruleset/*/*",),
        manage=("wafv2:CreateWebACL", "wafv2:UpdateWebACL"),
        why="a web ACL referencing AWS managed rule groups is authorized on the managedruleset resource too; "
            "AWS's rule sets carry no Layer tag, so only the ARN type scopes this (the ACL itself is tag-scoped)",
    )


# WAF logging to CloudWatch Logs: PutLoggingConfiguration needs logs:CreateLogDelivery, logs:PutResourcePolicy and
# logs:DescribeResourcePolicies (WAF writes the log group's resource policy). AWS forces "*": these logs actions have
# no resource types (list_amazoncloudwatchlogs.html). The log group names start aws-waf-logs- (WAF's rule) and
# still fall inside LOGS's *catalog-*-<suffix>* pattern.
LOGS_DELIVERY = ServiceAccess(
    "logs", ("*",),
    describe=("logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries"),
    unscoped=("logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:UpdateLogDelivery", "logs:PutResourcePolicy"),
    why="vended log delivery (WAF) and the account's log resource policy have no resource-level permissions",
)

# --- CloudFront VPC origin (app: the ALB as a private CloudFront origin) ---------------------------------------
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfront.html (vpcorigin resource
# type, aws:ResourceTag; CreateVpcOrigin with aws:RequestTag/aws:TagKeys), the API page
# https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateVpcOrigin.html (Tags in the create call) and
# the service-linked role's policy AWSCloudFrontVPCOriginServiceRolePolicy (CloudFront, not the caller, creates the
# ENIs and security group): https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCloudFrontVPCOriginServiceRolePolicy.html
CLOUDFRONT_VPC_ORIGINS = ServiceAccess(
    "cloudfront", ("arn:aws:cloudfront::{account}:vpcorigin/*",),
    describe=("cloudfront:ListVpcOrigins",),
    inspect=("cloudfront:GetVpcOrigin", "cloudfront:ListTagsForResource"),
    manage=("cloudfront:UpdateVpcOrigin", "cloudfront:DeleteVpcOrigin", "cloudfront:TagResource",
            "cloudfront:UntagResource"),
    create=("cloudfront:CreateVpcOrigin",),
    tag_scoped=True,
    create_on_any=True,  # CreateVpcOrigin has no resource type: "*" with the request tags
    why="VPC origin ids are random; the origin is tagged with the layer at create",
)

# --- data: per-user secrets with rotation, RDS-managed master password -------------------------------------------
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html: RotateSecret
# evaluates secretsmanager:RotationLambdaARN, so the rotation can only point at the layer's own rotation function.
ROTATION_FUNCTION_ARN = f"arn:aws:lambda:{{region}}:{{account}}:function:{APP}-db-rotation-{{suffix}}"
SECRETS_ROTATION = ServiceAccess(
    "secretsmanager", (f"arn:aws:secretsmanager:{{region}}:{{account}}:secret:{NAMED}-*",),
    manage=("secretsmanager:RotateSecret",),
    condition={"StringEquals": {"aws:ResourceTag/Layer": "data", "aws:ResourceTag/Environment": "{suffix}"},
               "ArnEquals": {"secretsmanager:RotationLambdaARN": ROTATION_FUNCTION_ARN}},
    why="the data layer's secrets (Layer tag), rotated only by the data layer's rotation function",
)
# manage_master_user_password: RDS creates and rotates the master secret (named rds!cluster-<uuid>) with the
# caller's permissions: "Permissions required for Secrets Manager integration",
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-permissions
# No tag of ours is on that secret (RDS names and tags it), so its rds!cluster- name prefix scopes it. No kms grant:
# the cluster leaves master_user_secret_kms_key_id unset, so the secret uses the aws/secretsmanager key, whose key
# policy already allows the account's principals through Secrets Manager; a customer key would need
# kms:Decrypt/GenerateDataKey/CreateGrant/DescribeKey on it (kms:ViaService secretsmanager).
# RDS tags the master secret it manages with the cluster's ARN (aws:rds:primaryDBClusterArn; a key under `aws:`,
# which no caller can set) and owningService=rds: AWS's AmazonRDSServiceRolePolicy tags it so and conditions on
# secretsmanager:ResourceTag/...,
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonRDSServiceRolePolicy.html
MASTER_SECRET_TAG = "aws:rds:primaryDBClusterArn"
_MASTER_SECRETS = ("arn:aws:secretsmanager:{region}:{account}:secret:rds!cluster-*",)
# What RDS does with the master secret on the deploy role's behalf: create and tag it (before its tag exists, so
# unconditioned: no value can be read so, and no caller can set an `aws:` tag), then rotate, update, describe and
# delete it, only the one tagged with the environment's cluster ({db_cluster}), never another environment's.
RDS_MASTER_SECRET_CREATE = ServiceAccess(
    "secretsmanager", _MASTER_SECRETS, manage=("secretsmanager:CreateSecret", "secretsmanager:TagResource"),
    why="RDS creates and tags the master secret rds!cluster-<uuid> on the caller's behalf, before its tag exists",
)
RDS_MASTER_SECRET = ServiceAccess(
    "secretsmanager", _MASTER_SECRETS,
    manage=("secretsmanager:RotateSecret", "secretsmanager:DescribeSecret", "secretsmanager:UpdateSecret",
            "secretsmanager:DeleteSecret"),
    condition={"StringEquals": {f"secretsmanager:ResourceTag/{MASTER_SECRET_TAG}": "{db_cluster}"}},
    why="only the environment's own cluster's master secret (its aws:rds:primaryDBClusterArn tag)",
)

# --- data: its rotation function, and no CloudFormation ----------------------------------------------------------
# CHOICE: CloudFormation not at all. AWS's hosted rotation application (serverlessrepo:CreateCloudFormationChangeSet,
# aws:serverlessrepository/CloudFormationStack) takes no CloudFormation service role (no RoleARN in the API or the
# resource), so its stack runs with the deploy role's own rights, and its SAM template creates an IAM role without
# a permissions boundary. Allowing that means allowing CreateRole without the boundary through CloudFormation, and
# with cloudformation:CreateChangeSet on the stack any template can use it: the escalation the boundary exists to
# stop. A pinned service role (cloudformation:RoleArn) would not help either: the template still decides the role's
# policy. So no deploy role gets CloudFormation or Serverless Application Repository actions, every boundary denies
# CloudFormation, and the data layer declares its rotation function itself (projects/data/credentials.py): an
# aws:lambda/function whose role carries the layer's boundary like every other.
# The data role may manage exactly that one function (its name, its Layer/Environment tags); creating it passes the
# rotation role to lambda.amazonaws.com (PassRole below). InvokeFunction: RotateSecret on a secret whose rotation
# function is set also needs it on that function (the RotateSecret API reference, "Required permissions").
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html: the function resource type
# evaluates aws:ResourceTag; CreateFunction evaluates aws:RequestTag and aws:TagKeys.
ROTATION_FUNCTION = ServiceAccess(
    "lambda", (ROTATION_FUNCTION_ARN,),
    inspect=("lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:GetFunctionCodeSigningConfig",
             "lambda:GetFunctionConcurrency", "lambda:GetPolicy", "lambda:GetRuntimeManagementConfig",
             "lambda:GetFunctionRecursionConfig", "lambda:ListVersionsByFunction", "lambda:ListTags"),
    manage=("lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:DeleteFunction",
            "lambda:AddPermission", "lambda:RemovePermission", "lambda:InvokeFunction", "lambda:TagResource",
            "lambda:UntagResource"),
    create=("lambda:CreateFunction",),
    tag_scoped=True,
    why="the data layer's one function, the secrets' rotation function, by its exact name and its tags",
)
# What the rotation function's role uses at run time (projects/data/credentials.py rotation_policy): the ceiling
# its boundary must leave it.
ROTATION_RUNTIME = ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage", "logs:CreateLogStream", "logs:PutLogEvents",
                    "ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
                    "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:UnassignPrivateIpAddresses",
                    "xray:PutTelemetryRecords", "xray:PutTraceSegments")

# --- network: the VPC's default security group ---------------------------------------------------------------------
# aws:ec2/defaultSecurityGroup adopts the group AWS created with the VPC, untagged: the provider tags it first, then
# revokes/authorizes rules (tag-scoped by EC2 above once tagged). Claiming is only for an untagged group, only in
# the network layer's own VPC (ec2:Vpc; the security-group resource type evaluates it), and only with the network's
# Layer and Environment tags and the platform's keys. The VPC's id exists only after the network's first deploy:
# until the bootstrap is given it (networkVpcId), the ARN below matches no VPC and the adoption is refused.
NO_VPC_YET = "not-deployed-yet"
EC2_ADOPT_DEFAULT_SG = ServiceAccess(
    "ec2", ("arn:aws:ec2:{region}:{account}:security-group/*",),
    manage=("ec2:CreateTags",),
    condition={"StringEquals": {"aws:RequestTag/Layer": "network", "aws:RequestTag/Environment": "{suffix}"},
               "Null": {"aws:ResourceTag/Layer": "true"},
               "ArnEquals": {"ec2:Vpc": "arn:aws:ec2:{region}:{account}:vpc/{network_vpc}"},
               "ForAllValues:StringEquals": {"aws:TagKeys": list(TAG_KEYS)}},
    why="the default security group has no Layer tag until the network layer adopts it, in its own VPC only",
)

# --- run-time actions on `*`, and the EC2 ones the boundary scopes --------------------------------------------------
# The only run-time writes a permissions boundary allows on `Resource: "*"`, each with why nothing narrower works
# (tests/bootstrap/test_boundary.py refuses any other write on "*"). Reads (Describe/List/Get) on "*" are listed too:
# they name no resource type in the Service Authorization Reference.
RUNTIME_ON_ANY: dict[str, str] = {
    "ec2:DescribeNetworkInterfaces": "read: no resource type",
    "ec2:DescribeSubnets": "read: no resource type",
    "ec2:DescribeVpcs": "read: no resource type",
    "ec2:DescribeNetworkAcls": "read: no resource type",
    "ec2:DescribeManagedPrefixLists": "read: no resource type",
    "ec2:GetManagedPrefixListEntries": "read: AWS-owned prefix lists (owner `aws` in the ARN, not this account)",
    "logs:DescribeLogGroups": "read: no resource narrower than the account",
    "logs:DescribeLogStreams": "read: no resource narrower than the account",
    "xray:PutTraceSegments": "X-Ray segments have no resource type",
    "xray:PutTelemetryRecords": "X-Ray telemetry has no resource type",
    "tag:GetResources": "the Resource Groups Tagging API has no resource-level permission (FIS resolves targets)",
}
# aws:network:disrupt-connectivity (the observability layer's network faults): FIS creates a network ACL in the
# network layer's VPC, tags it on create, fills and deletes it, and swaps it onto the target subnets and back.
# Service Authorization Reference (list_amazonec2.html): CreateNetworkAcl authorizes the vpc and the new
# network-acl; CreateNetworkAclEntry, DeleteNetworkAcl and ReplaceNetworkAclAssociation authorize network-acl (and
# the latter the subnet too), both of which evaluate ec2:Vpc. So the ceiling is: ACLs and subnets of the
# environment's VPC only, new ACLs only in it. Until the bootstrap knows the VPC (networkVpcId, NO_VPC_YET below),
# the ARNs name no VPC and the network faults are refused: re-run the bootstrap with --network-vpc-id.
# Entries and deletes only on ACLs FIS made (tagged managedByFIS=true, which FIS sets in the create call: AWS's
# AWSFaultInjectionSimulatorNetworkAccess policy asks aws:RequestTag/managedByFIS on CreateNetworkAcl and
# ec2:ResourceTag/managedByFIS on CreateNetworkAclEntry/DeleteNetworkAcl), so no deny entry lands on the VPC's
# default ACL (a whole-VPC outage) and no such ACL is deleted. The ceiling's swap keeps any ACL of the VPC (its
# default ACL's id is unknown here); the experiments role itself names only FIS's ACLs and the default one.
_EC2 = "arn:aws:ec2:{region}:{account}"
_VPC = f"{_EC2}:vpc/{{network_vpc}}"
_IN_VPC = {"ArnEquals": {"ec2:Vpc": _VPC}}
_FIS_MADE = {"StringEquals": {f"ec2:ResourceTag/{FIS_TAG}": "true"}, **_IN_VPC}
_FIS_TAGS = {f"aws:RequestTag/{FIS_TAG}": "true"}
# A VPC function's network interfaces: Lambda creates them with the function's execution role (which carries the
# boundary), in the subnets and security groups the function's configuration names, which its deploy role chooses
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html, "Required IAM permissions").
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html: CreateNetworkInterface is
# authorized on the new network-interface and on the subnet and security group, both of which evaluate aws:ResourceTag;
# the VPC's id (ec2:Vpc) is unknown to the bootstrap before the network layer's deploy, its tags are not: the network
# layer tags every subnet and group with Layer=network and the environment (shared/runtime/tags.py). So a function of
# this environment gets a network interface only in this environment's network, never in another environment's subnets
# with its database's security group. Delete/Assign/Unassign are authorized on the network-interface only (Lambda's
# interfaces carry no tag of ours): the type, not `*`.
_OWN_NETWORK = {"StringEquals": {"aws:ResourceTag/Layer": "network", "aws:ResourceTag/Environment": "{suffix}"}}
_ENI = (((f"{_EC2}:network-interface/*",), {}),)
Scoped = tuple[tuple[str, ...], dict[str, dict[str, Any]]]  # resources, condition: one statement
RUNTIME_SCOPED: dict[str, tuple[Scoped, ...]] = {
    "ec2:CreateNetworkInterface": (*_ENI, ((f"{_EC2}:subnet/*", f"{_EC2}:security-group/*"), _OWN_NETWORK)),
    "ec2:DeleteNetworkInterface": _ENI,
    "ec2:AssignPrivateIpAddresses": _ENI,
    "ec2:UnassignPrivateIpAddresses": _ENI,
    # The VPC by its exact ARN; the ACL being created has no id yet (the vpc resource is what pins it) and must
    # carry FIS's tag from the start.
    "ec2:CreateNetworkAcl": (((_VPC,), {}), ((f"{_EC2}:network-acl/*",), {"StringEquals": _FIS_TAGS})),
    "ec2:CreateTags": (((f"{_EC2}:network-acl/*",),
                        {"StringEquals": {"ec2:CreateAction": "CreateNetworkAcl", **_FIS_TAGS}}),),
    "ec2:CreateNetworkAclEntry": (((f"{_EC2}:network-acl/*",), _FIS_MADE),),
    "ec2:DeleteNetworkAcl": (((f"{_EC2}:network-acl/*",), _FIS_MADE),),
    "ec2:ReplaceNetworkAclAssociation": (((f"{_EC2}:network-acl/*", f"{_EC2}:subnet/*"), _IN_VPC),),
}

# --- EventBridge Scheduler (data: a sale window's ACU changes; app: the waiting room controller's schedule) --------
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridgescheduler.html: only
# schedule groups take tags (aws:ResourceTag/aws:RequestTag there); schedules do not, so they are scoped by name.
# CreateSchedule needs iam:PassRole with iam:PassedToService scheduler.amazonaws.com (the page's API table).
# The data layer declares schedules only while a sale window is set: tests/bootstrap/test_bootstrap.py plans with one;
# the app layer declares the waiting room schedule always (disabled without SKUs).
# Each layer only its own schedules' names, so neither can disable the other's (the room's controller during a sale,
# a sale's capacity steps): tests/bootstrap/test_bootstrap.py holds the planned names to them.
def scheduler(kinds: str) -> ServiceAccess:
    """`kinds`: the schedules' kind in their names, catalog-<kinds>-<suffix> (a `*` pattern allowed)."""
    return ServiceAccess(
        "scheduler", (f"arn:aws:scheduler:{{region}}:{{account}}:schedule/*/{APP}-{kinds}-{{suffix}}",),
        describe=("scheduler:ListSchedules", "scheduler:ListScheduleGroups"),
        inspect=("scheduler:GetSchedule",),
        manage=("scheduler:UpdateSchedule", "scheduler:DeleteSchedule"),
        create=("scheduler:CreateSchedule",),
        why="schedules take no tags (only schedule groups do): scoped by the layer's own names",
    )


SALE_SCHEDULES = scheduler("sale-*")  # data: catalog-sale-<window>-acu-<step>-<suffix>
ROOM_SCHEDULE = scheduler("waiting-room")  # app: the waiting room controller's

# --- the table -------------------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsfaultinjectionservice.html: experiment
# templates evaluate aws:ResourceTag (and aws:RequestTag on create); their ids are random. Creating or updating one
# is also authorized on each FIS action it names, which carries no tags: the action ARNs, unconditioned.
FIS_TEMPLATES = ServiceAccess(
    "fis", ("arn:aws:fis:{region}:{account}:experiment-template/*",),
    describe=("fis:ListExperimentTemplates", "fis:ListActions", "fis:GetAction"),
    inspect=("fis:GetExperimentTemplate", "fis:ListTagsForResource"),
    manage=("fis:UpdateExperimentTemplate", "fis:DeleteExperimentTemplate", "fis:TagResource",
            "fis:UntagResource"),
    create=("fis:CreateExperimentTemplate",),
    tag_scoped=True,
    why="template ids are random: the layer's templates by their tags (created with the request tags)",
)
# The app's image build downloads AWS's FIS Lambda extension layer (faultInjection). The layer lives in an AWS
# account whose id AWS publishes only through SSM (the ARN the setting pins), hence any account; only reading
# a layer version's content, in the Region.
FIS_EXTENSION_LAYER = ServiceAccess(
    "lambda", ("arn:aws:lambda:{region}:*:layer:*:*",),
    inspect=("lambda:GetLayerVersion",),
    why="the FIS extension layer's owner account is AWS's (published through SSM): read one version's content",
)
FIS_ACTIONS = ServiceAccess(
    "fis", ("arn:aws:fis:{region}:*:action/*",),
    manage=("fis:CreateExperimentTemplate", "fis:UpdateExperimentTemplate"),
    why="AWS's own fault actions, named by a template: they carry no tags; the template itself is tag-scoped",
)


ACCESS: dict[str, LayerAccess] = {
    "network": LayerAccess("network", (), (EC2, EC2_ADOPT_DEFAULT_SG, LOGS, iam_roles()),
                           pass_role=PassRole(("vpc-flow-logs.amazonaws.com",)),
                           # the flow-log role (vpc-flow-logs writes the layer's log group)
                           runtime=("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups",
                                    "logs:DescribeLogStreams")),
    "data": LayerAccess("data", ("network",),
                        (RDS, RDS_PROXY_CREATE, DYNAMODB, SECRETS, SECRETS_ROTATION, RDS_MASTER_SECRET_CREATE,
                         RDS_MASTER_SECRET, AUTOSCALING,
                         s3_buckets("logs", "artifacts"), LOGS, iam_roles(), SALE_SCHEDULES, ROTATION_FUNCTION,
                         ServiceAccess("ec2", ("*",), describe=("ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
                                                                "ec2:DescribeVpcs", "ec2:DescribeNetworkInterfaces"),
                                       why="RDS, the proxy and the rotation function (VPC) validate the network "
                                           "layer's subnets and groups; deleting a VPC function waits for its ENIs"),
                         RDS_DEFAULT_GROUPS),
                        # scheduler: a sale window's ACU schedules run with the layer's scheduler role; lambda: the
                        # rotation function's role.
                        pass_role=PassRole(("rds.amazonaws.com", "scheduler.amazonaws.com", "lambda.amazonaws.com")),
                        service_linked_roles=("rds.amazonaws.com", "rds.application-autoscaling.amazonaws.com"),
                        # the proxy reads the app secret; a sale window's scheduler changes the cluster's ACU; the
                        # rotation function rotates the owner and app secrets
                        runtime=tuple(sorted({"secretsmanager:GetSecretValue", "rds:ModifyDBCluster",
                                              *ROTATION_RUNTIME}))),
    "app": LayerAccess("app", ("network", "data"),
                       (LAMBDA, FIS_EXTENSION_LAYER, ELB, APIGW, ECR, AUTOSCALING, LOGS, LOGS_DELIVERY,
                        wafv2_acls("regional", associate=True), wafv2_managed_rules("regional"),
                        CLOUDFRONT_VPC_ORIGINS, iam_roles(), IAM_ATTACH_APIGW, ROOM_SCHEDULE,
                        ServiceAccess("ec2", ("*",), describe=("ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
                                                               "ec2:DescribeVpcs", "ec2:DescribeNetworkInterfaces",
                                                               "ec2:DescribeAccountAttributes",
                                                               "ec2:DescribeInternetGateways"),
                                      why="a VPC Lambda and the ALB validate subnets and groups")),
                       # apigateway: the optional account-level CloudWatch role (projects/app/apigw.py); scheduler:
                       # the waiting room schedule's role (projects/app/waiting_room.py).
                       pass_role=PassRole(("lambda.amazonaws.com", "apigateway.amazonaws.com",
                                           "scheduler.amazonaws.com")),
                       service_linked_roles=("elasticloadbalancing.amazonaws.com",
                                             "lambda.application-autoscaling.amazonaws.com",
                                             "vpcorigin.cloudfront.amazonaws.com"),
                       # the API, migrate and waiting room functions, the waiting room schedule's role (invokes its
                       # function), and AWS's API Gateway logging policy (APIGW_PUSH_POLICY)
                       runtime=("dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
                                "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query",
                                "dynamodb:UpdateItem", "ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface",
                                "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                                "ec2:UnassignPrivateIpAddresses", "logs:CreateLogGroup", "logs:CreateLogStream",
                                "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents",
                                "logs:GetLogEvents", "logs:FilterLogEvents", "lambda:InvokeFunction", "rds-db:connect",
                                # the migrate task writes the first owner/app passwords into their secrets
                                "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
                                "secretsmanager:PutSecretValue", "xray:PutTelemetryRecords",
                                "xray:PutTraceSegments",
                                # the FIS Lambda extension reads its configuration (faultInjection)
                                "s3:GetObject", "s3:ListBucket"),
                       # the migrate task reads the master secret once, to create the owner and app roles
                       master_secret_reads=("secretsmanager:GetSecretValue",)),
    "edge": LayerAccess("edge", ("data", "app"),
                        (CLOUDFRONT_DISTRIBUTIONS, CLOUDFRONT_POLICIES, LAMBDA,
                         LAMBDA_EDGE, s3_buckets("static", objects=True), iam_roles(),
                         # The CLOUDFRONT-scope web ACL and its log group live in us-east-1 (REGION is us-east-1
                         # too; the ACL's region is pinned like Lambda@Edge's).
                         wafv2_acls("global", "us-east-1"), wafv2_managed_rules("global", "us-east-1"), LOGS,
                         LOGS_DELIVERY),
                        pass_role=PassRole(("lambda.amazonaws.com", "edgelambda.amazonaws.com")),
                        service_linked_roles=("replicator.lambda.amazonaws.com", "logger.cloudfront.amazonaws.com"),
                        runtime=("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")),
    "observability": LayerAccess("observability", ("network", "data", "app", "edge"),
                                 (CLOUDWATCH, LOGS, LOGS_QUERIES, SNS, KMS_KEYS, KMS_ALIASES,
                                  # the sale rehearsal's experiment templates and their role (faultExperiments)
                                  FIS_TEMPLATES, FIS_ACTIONS, iam_roles()),
                                 pass_role=PassRole(("fis.amazonaws.com",)),
                                 # the experiments' role (projects/observability/faults.py)
                                 # (and the network faults' ACL swap: aws:network:disrupt-connectivity)
                                 runtime=("ec2:CreateNetworkAcl", "ec2:CreateNetworkAclEntry", "ec2:CreateTags",
                                          "ec2:DeleteNetworkAcl", "ec2:DescribeManagedPrefixLists",
                                          "ec2:DescribeNetworkAcls", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
                                          "ec2:GetManagedPrefixListEntries", "ec2:ReplaceNetworkAclAssociation",
                                          "lambda:GetFunction", "rds:DescribeDBClusters", "rds:FailoverDBCluster",
                                          "s3:DeleteObject", "s3:PutObject", "tag:GetResources")),
}

# Pulumi resource type modules -> IAM service prefixes (aws:<module>/<type>:<Class>), for the plan check.
TYPE_PREFIXES: dict[str, str] = {
    "ec2": "ec2", "vpc": "ec2", "iam": "iam", "rds": "rds", "dynamodb": "dynamodb", "s3": "s3",
    "secretsmanager": "secretsmanager", "appautoscaling": "application-autoscaling", "apigateway": "apigateway",
    "lambda": "lambda", "lb": "elasticloadbalancing", "ecr": "ecr", "cloudfront": "cloudfront", "kms": "kms",
    "sns": "sns", "cloudwatch": "cloudwatch", "wafv2": "wafv2", "scheduler": "scheduler", "fis": "fis",
}
# Types whose resource is a CloudFormation stack run with the caller's credentials would need what the stack
# creates too; none is granted (no CloudFormation, above), so none is listed.
STACK_PREFIXES: dict[str, tuple[str, ...]] = {}
LOGS_TYPES = ("logGroup", "logMetricFilter", "queryDefinition")  # aws:cloudwatch/<these> are CloudWatch Logs


def iam_prefix(type_token: str) -> str:
    """The IAM service prefix of a Pulumi resource type (`aws:rds/cluster:Cluster` -> `rds`)."""
    package, _, rest = type_token.partition(":")
    if package == "command":
        return "ecr"  # the app's local command builds and pushes the API image to the layer's repository
    module, _, kind = rest.partition(":")[0].partition("/")
    if package != "aws" or module not in TYPE_PREFIXES:
        raise KeyError(f"no IAM service prefix known for resource type {type_token}")
    if module == "cloudwatch" and kind in LOGS_TYPES:
        return "logs"
    return TYPE_PREFIXES[module]


def iam_prefixes(type_token: str) -> set[str]:
    """Every IAM service prefix a resource type needs: its own, and what a CloudFormation stack of it creates."""
    module = type_token.partition(":")[2].partition(":")[0].partition("/")[0]
    return {iam_prefix(type_token), *STACK_PREFIXES.get(module, ())}

"""Every guardrail, mandatory first. The policy pack (crossguard/__main__.py), the offline runner and the README's
policy table all read this list."""

from __future__ import annotations

from shared.policy import aws_models as models
from shared.policy import compute_rules as compute
from shared.policy import database_rules as db
from shared.policy import edge_rules as edge
from shared.policy import iam_rules as iam
from shared.policy import identity_rules as ident
from shared.policy import naming_rules as naming
from shared.policy import network_rules as net
from shared.policy import schedule_rules as schedules
from shared.policy import storage_rules as storage
from shared.policy.model import Level, Policy
from shared.runtime import mission

M, A = Level.MANDATORY, Level.ADVISORY


def _types(*tokens: str) -> frozenset[str]:
    return frozenset(tokens)


POLICIES: tuple[Policy, ...] = (
    Policy("named-resources-suffix", M,
           "Every named resource contains the environment suffix and fits its service's name rule.",
           "Two environments must never collide, and AWS refuses names over a service's limits.",
           resource_check=naming.check_named,
           types=frozenset(naming.NAMED) | {"aws:apigateway/stage:Stage"}),
    Policy("lambda-api-shape", M,
           f"Every Lambda function outside the edge layer is {mission.API_ARCHITECTURE} (Graviton2), "
           f"{mission.API_MEMORY_MB} MB, in a VPC with a security group, and a container image; the data "
           "layer's rotation function is a Node.js 24 zip instead; the waiting room controller (the API's image "
           "with its command) is 512 MB, 60 s, reserved concurrency 2, outside the VPC.",
           "The mission's constraints for the API function; Image functions take no runtime/handler/layers. The "
           "secrets' rotation function is not the API and its layer builds no image. The controller is a "
           "DynamoDB loop running most of every minute: 3 GB would bill six times the GB-seconds for nothing, "
           "and without a database it needs no network interfaces.",
           resource_check=compute.check_api_function, types=_types(compute.FUNCTION)),
    Policy("lambda-edge-shape", M,
           "Lambda@Edge functions (the edge layer's) are x86_64, published, zip, in us-east-1, without VPC, "
           "environment, layers, DLQ or reserved concurrency, on Node.js 18+.",
           "What CloudFront accepts for an edge association; AWS refuses the association otherwise.",
           resource_check=compute.check_edge_function, types=_types(compute.FUNCTION)),
    Policy("lambda-edge-association", M,
           "CloudFront associations name a numbered version; viewer triggers fit 128 MB / 5 s, origin 30 s.",
           "CloudFront refuses $LATEST, aliases and functions over the trigger limits.",
           stack_check=compute.check_edge_associations),
    Policy("lambda-edge-role-trust", M,
           "The Lambda@Edge role is trusted by lambda.amazonaws.com and edgelambda.amazonaws.com.",
           "Replicas cannot run without the edgelambda trust.", stack_check=compute.check_edge_role_trust),
    Policy("lambda-vpc-role", M,
           "A VPC function's role can create, describe and delete network interfaces.",
           "AWS refuses to create a VPC function whose role lacks the ENI permissions.",
           stack_check=compute.check_vpc_function_role),
    Policy("lambda-provisioned-concurrency-qualifier", M,
           "Provisioned concurrency is set on an alias or a published version, never $LATEST.",
           "AWS refuses provisioned concurrency on $LATEST.",
           resource_check=compute.check_provisioned_concurrency,
           types=_types("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")),
    Policy("autoscaling-shape", M,
           "Auto Scaling targets/policies use the documented dimension, resource id and metric of their "
           "namespace (lambda provisioned concurrency, rds reader count).",
           "Application Auto Scaling refuses a mismatched dimension, id or predefined metric.",
           resource_check=compute.check_scaling_shape,
           types=_types("aws:appautoscaling/target:Target", "aws:appautoscaling/policy:Policy")),
    Policy("dynamodb-on-demand", M,
           "DynamoDB tables bill PAY_PER_REQUEST with no capacities on the table or its indexes.",
           "The mission: on-demand billing absorbs flash-sale spikes.",
           resource_check=storage.check_dynamodb, types=_types("aws:dynamodb/table:Table")),
    Policy("s3-bucket-baseline", M,
           f"Every bucket has versioning enabled, SSE (AES256 or KMS), a {mission.RETENTION_DAYS}-day lifecycle and a "
           "public access block with all four settings on (pulumi-aws v7: separate resources matched by `bucket`).",
           "The mission's bucket requirements; buckets stay private behind CloudFront.",
           stack_check=storage.check_bucket_baseline),
    Policy("no-deletion-protection", M,
           "Nothing has deletion protection (RDS, ALB, DynamoDB, log groups) or the protect option.",
           "Every environment must tear down without manual steps.",
           resource_check=storage.check_no_deletion_protection),
    Policy("no-retain-on-delete", M,
           "No resource is retained on delete (retain_on_delete option, skipDestroy input); Lambda@Edge "
           "functions are the documented exception.",
           "Retained resources outlive their stack and block a re-deploy with the same suffix.",
           resource_check=storage.check_no_retain),
    Policy("destroyable", M,
           "Buckets forceDestroy, Aurora skipFinalSnapshot, ECR forceDelete, secrets recoveryWindowInDays 0.",
           "Destroy must finish with data inside, and a same-suffix re-deploy must not meet reserved names.",
           resource_check=storage.check_destroyable,
           types=_types("aws:s3/bucket:Bucket", "aws:rds/cluster:Cluster", "aws:rds/instance:Instance",
                        "aws:ecr/repository:Repository", "aws:secretsmanager/secret:Secret")),
    Policy("alb-health-check", M,
           f"ALB target groups check health every {mission.HEALTH_CHECK_INTERVAL_S} s with a "
           f"{mission.HEALTH_CHECK_TIMEOUT_S} s timeout (enabled explicitly for Lambda targets).",
           "The mission's health check; timeout below interval as AWS requires.",
           resource_check=net.check_health_check, types=_types(net.TARGET_GROUP)),
    Policy("alb-lambda-no-stickiness", M,
           "Lambda target groups set no stickiness block (sticky sessions live on the listener's forward action).",
           "AWS refuses lb_cookie/app_cookie stickiness on Lambda target groups at deploy time.",
           resource_check=net.check_lambda_tg_stickiness, types=_types(net.TARGET_GROUP)),
    Policy("alb-lambda-permission", M,
           "Each Lambda target group has a lambda:InvokeFunction permission for elasticloadbalancing.amazonaws.com.",
           "Registering a function in a target group fails without it.", stack_check=net.check_lambda_tg_permission),
    Policy("alb-access-log-bucket", M,
           "The ALB access-log bucket uses SSE-S3 and grants the us-east-1 ELB account s3:PutObject.",
           "AWS refuses access logging to SSE-KMS buckets or buckets it cannot write.",
           stack_check=net.check_alb_log_bucket),
    Policy("rds-proxy-pool", M,
           f"RDS Proxy's pool is {mission.PROXY_MAX_CONNECTIONS} connections: maxConnectionsPercent x the "
           f"max_connections pinned in the cluster parameter group / 100 = {mission.PROXY_MAX_CONNECTIONS} "
           "(static parameter: pending-reboot).",
           f"The mission limits the pool to {mission.PROXY_MAX_CONNECTIONS}; a percentage of an unpinned value has no "
           "fixed meaning.",
           stack_check=db.check_proxy_pool),
    Policy("rds-proxy-auth", M,
           "RDS Proxy requires IAM auth (credentials in Secrets Manager), TLS, engine family POSTGRESQL, subnets "
           "and security groups.",
           "The mission's IAM authentication; IAM tokens are only valid over TLS.",
           resource_check=db.check_proxy_auth, types=_types(db.PROXY)),
    Policy("aurora-serverless-v2", M,
           "Aurora PostgreSQL Serverless v2 (provisioned mode, scaling configuration, min ACU >= 0.5, encrypted) "
           "with one writer and two db.serverless readers, in a DB subnet group, not public.",
           "The mission's database; min ACU 0 would pause behind RDS Proxy.", stack_check=db.check_aurora),
    Policy("private-subnets-only", M,
           "Aurora's subnet group, RDS Proxy and the API function use only the network layer's private subnets.",
           "The mission: databases and Lambda in private subnets.", stack_check=net.check_private_placement),
    Policy("api-throttle-10k", M,
           f"API Gateway throttles at {mission.API_RATE_LIMIT_RPS:,} requests/s in the usage plan and the stage method "
           "settings (burst 1-5,000), and both exist.",
           "The mission's throttle, within the account's regional limits.",
           resource_check=edge.check_api_throttle,
           types=_types("aws:apigateway/usagePlan:UsagePlan", "aws:apigateway/methodSettings:MethodSettings")),
    Policy("api-throttle-present", M, "A stack with a REST API has a usage plan and stage method settings.",
           f"Without them the {mission.API_RATE_LIMIT_RPS:,} requests/s throttle is not applied.",
           stack_check=edge.check_api_throttle_present),
    Policy("iam-least-privilege", M,
           "No Allow of `*`/`service:*` actions, NotAction or NotResource; `Resource: \"*\"` only for actions "
           "without resource-level permissions (allow-list); no public principals; no broad AWS managed policies.",
           "Least privilege, as the mission's security requirements ask.", resource_check=iam.check_least_privilege),
    Policy("no-public-ingress", M, "No security group admits 0.0.0.0/0 or ::/0 inbound.",
           "Only CloudFront (prefix list) and peer security groups may reach the platform.",
           resource_check=net.check_public_ingress,
           types=_types("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                        "aws:ec2/securityGroupRule:SecurityGroupRule", "aws:ec2/securityGroup:SecurityGroup")),
    Policy("log-retention", M, "Every log group sets retentionInDays to a value CloudWatch accepts.",
           "The mission's retention policies; AWS refuses other values.",
           resource_check=edge.check_log_retention, types=_types("aws:cloudwatch/logGroup:LogGroup")),
    Policy("cloudfront-custom-errors", M, "The distribution has custom error pages for 4xx and 5xx codes: "
           "distribution-wide pages, or an origin-response function on every behavior that renders them.",
           "A mission constraint.", resource_check=edge.check_custom_errors,
           types=_types("aws:cloudfront/distribution:Distribution")),
    Policy("cloudfront-web-acl", M, "An enabled (public) distribution has a WAFv2 web ACL of CLOUDFRONT scope.",
           "The flash-sale front door: managed rules and per-IP rate limits before the origin.",
           resource_check=edge.check_distribution_web_acl, types=_types("aws:cloudfront/distribution:Distribution")),
    Policy("waf-log-destination", M,
           "WAF log destinations (the log group of each web ACL) are named `aws-waf-logs-...`.",
           "AWS WAF refuses any other destination name.", resource_check=edge.check_waf_log_destination,
           types=_types("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")),
    Policy("waf-rate-limits", M, "Rate-based rules: limit 10-2,000,000,000 per window of 60, 120, 300 or 600 s.",
           "AWS WAF refuses other values (wafv2 RateBasedStatement).", resource_check=edge.check_waf_rate_limits,
           types=_types("aws:wafv2/webAcl:WebAcl")),
    Policy("cloudfront-s3-origin-access", M,
           "S3 origins are reached through an origin access identity or control.",
           "The mission's origin access identity; the bucket keeps Block Public Access on.",
           resource_check=edge.check_s3_origin_access, types=_types("aws:cloudfront/distribution:Distribution")),
    Policy("alarm-topic-key", M,
           "An encrypted alarm topic uses a customer managed key whose policy grants cloudwatch.amazonaws.com "
           "kms:Decrypt and kms:GenerateDataKey*.",
           "With alias/aws/sns alarms deploy cleanly and deliver nothing.", stack_check=edge.check_alarm_topic_key),
    Policy("aws-api-models", M,
           "Every mapped input holds to its AWS API parameter's model (botocore): pattern, length, range, enum; "
           "tag keys without the reserved aws: prefix (shared/policy/model_map.py).",
           "The constraints the services enforce at Create*/Put* time, e.g. IAM and ELBv2 refuse `(` in tag values.",
           resource_check=models.check_models, types=frozenset(models.MODEL_MAP)),
    # advisory: good practice the mission does not require
    Policy("cloudfront-origin-https", M,
           "A CloudFront custom origin (reached over the internet) is https-only; VPC origins are exempt.",
           "The origin-verify secret, identity headers and session cookie must never cross the internet in clear.",
           resource_check=ident.check_origin_https, types=_types("aws:cloudfront/distribution:Distribution")),
    Policy("alb-no-public-http", M,
           "An internet-facing ALB has no HTTP listener.",
           "Whatever reaches it on port 80 (cookies, tokens) crosses the internet in clear; internal ALBs behind a "
           "CloudFront VPC origin stay on AWS's network.",
           stack_check=ident.check_alb_no_public_http),
    Policy("rds-connect-not-master", M,
           "No policy grants rds-db:connect as the Aurora master user (or any user: `*`).",
           "The API connects as its least-privileged app role; the master only bootstraps roles.",
           stack_check=ident.check_connect_not_master),
    Policy("default-sg-no-rules", M,
           "Each VPC's default security group is taken over with no ingress and no egress rules.",
           "Anything launched without a group must get no traffic (Security Hub EC2.2).",
           resource_check=ident.check_default_sg_empty,
           types=_types("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")),
    Policy("default-sg-taken-over", M,
           "Every VPC in the stack has an aws.ec2.DefaultSecurityGroup.",
           "Left alone, the default group allows all traffic between its members and all egress.",
           stack_check=ident.check_default_sg_taken_over),
    Policy("schedule-role-scope", M,
           "An EventBridge Scheduler schedule's role allows only its target's action (lambda:InvokeFunction, or "
           "the universal target's API action) and, for a Lambda target, only on that function.",
           "The role is a deputy: whoever can edit the schedule can make it do whatever the role may.",
           stack_check=schedules.check_schedule_role_scope),
    Policy("trust-source-account", M,
           "Roles trusted by RDS, RDS monitoring, VPC Flow Logs or EventBridge Scheduler carry "
           "aws:SourceAccount/aws:SourceArn.",
           "Confused-deputy prevention where AWS documents support for it (not Lambda or API Gateway roles).",
           resource_check=ident.check_trust_source, types=_types("aws:iam/role:Role")),
    Policy("xray-tracing", A, "X-Ray tracing on the API function and the API Gateway stage.",
           "Traces explain latency regressions.", resource_check=compute.check_tracing,
           types=_types(compute.FUNCTION, "aws:apigateway/stage:Stage")),
    Policy("dynamodb-recovery-ttl", A, "DynamoDB tables have point-in-time recovery, a TTL attribute and "
           "server-side encryption under a KMS key.",
           "Recovery from bad writes; sessions and cache entries expire.",
           resource_check=storage.check_dynamodb_recovery, types=_types("aws:dynamodb/table:Table")),
    Policy("kms-key-hygiene", A, "Customer managed keys rotate; deletion window 7 days.",
           "Key rotation is standard practice; short windows keep teardown short.",
           resource_check=edge.check_key_rotation, types=_types("aws:kms/key:Key")),
    Policy("rds-performance-insights", A, "Performance Insights on every Aurora instance.",
           "Query-level latency during peaks.", resource_check=db.check_performance_insights,
           types=_types(db.INSTANCE)),
    Policy("s3-expire-current-versions", A,
           f"Lifecycle expires both current and noncurrent versions after {mission.RETENTION_DAYS} days (the mission).",
           "Static-site buckets may keep current versions on purpose: advisory.",
           stack_check=storage.check_current_version_expiry),
    Policy("s3-tls-only", A, "Each bucket policy denies requests without TLS.", "Encryption in transit.",
           stack_check=storage.check_bucket_tls_only),
    Policy("autoscaling-mission-values", A,
           f"Provisioned concurrency scales {mission.PROVISIONED_CONCURRENCY_MIN}-"
           f"{mission.PROVISIONED_CONCURRENCY_MAX}; "
           f"target tracking at {mission.SCALE_OUT_CPU_PERCENT:g} % (reader CPU {mission.SCALE_OUT_CPU_PERCENT:g}, "
           f"utilization {mission.SCALE_OUT_UTILIZATION:g}).",
           "The mission's numbers; layers may tune them through config.",
           resource_check=compute.check_scaling_targets,
           types=_types("aws:appautoscaling/target:Target", "aws:appautoscaling/policy:Policy")),
    Policy("cloudfront-https-viewers", A, "CloudFront redirects viewers to HTTPS.", "Encryption in transit.",
           resource_check=edge.check_https_viewers, types=_types("aws:cloudfront/distribution:Distribution")),
    Policy("alarm-actions", A, "Every alarm has an action.", "An alarm nobody receives is noise.",
           resource_check=edge.check_alarm_actions,
           types=_types("aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/compositeAlarm:CompositeAlarm")),
    Policy("ecr-scan-on-push", A, "ECR scans images on push.", "Known CVEs surface before deploys.",
           resource_check=edge.check_scan_on_push, types=_types("aws:ecr/repository:Repository")),
    Policy("tags-baseline", A, "Taggable resources carry Project, Layer, Environment (= suffix), ManagedBy, Owner.",
           "Cost allocation and ownership.", resource_check=edge.check_tags),
)

BY_NAME = {p.name: p for p in POLICIES}

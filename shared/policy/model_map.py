"""Which planned Pulumi input reaches which AWS API parameter: the table the `aws-api-models` guardrail reads.

Pulumi inputs are the provider's camelCase names and its own nesting (`healthCheck.interval`); the API parameter is
a member path from an operation's input shape in botocore's model (`elbv2.CreateTargetGroup`
`HealthCheckIntervalSeconds`). The two differ too often to guess, so every mapping is written out here.

Path syntax, both sides: `.` steps into a structure, `[]` steps into every item of a list
(`customErrorResponses[].errorCode`, `DistributionConfig.CustomErrorResponses.Items[].ErrorCode`). A Pulumi map
mapped to an API tag/dimension list (`tags` -> `Tags`) is converted to its Key/Value items by the checker.

Left out on purpose: secret inputs (passwords, secret strings, origin custom header values; a finding prints the
value), and identifiers other resources compute (subnet/security-group ids, role/topic/function ARNs, image URIs):
offline those are the mocks' inventions, so checking them would test the mocks, not the program.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    input: str  # Pulumi input path in the plan, e.g. "healthCheck.interval"
    service: str  # botocore service name, e.g. "elbv2"
    operation: str  # API operation whose input carries the value, e.g. "CreateTargetGroup"
    member: str  # member path in the operation's input shape, e.g. "HealthCheckIntervalSeconds"
    kind: str = "value"  # "tags": resource tags (also checked for the reserved `aws:` prefix)

    @property
    def parameter(self) -> str:
        return f"{self.service}.{self.operation}.{self.member}"


def on(service: str, operation: str, pairs: dict[str, str], tags: str | None = None) -> tuple[Field, ...]:
    """Fields of one operation: `{pulumi input path: model member path}`, plus the operation's tag member."""
    out = tuple(Field(i, service, operation, m) for i, m in pairs.items())
    return out + ((Field("tags", service, operation, tags, kind="tags"),) if tags else ())


def ec2_tags() -> tuple[Field, ...]:
    # EC2 tags reach the API through TagSpecifications (CreateTags shape): the model has no constraint on them.
    return (Field("tags", "ec2", "CreateTags", "Tags", kind="tags"),)


_RULE = {"ipProtocol": "IpPermissions[].IpProtocol", "fromPort": "IpPermissions[].FromPort",
         "toPort": "IpPermissions[].ToPort", "cidrIpv4": "IpPermissions[].IpRanges[].CidrIp",
         "description": "IpPermissions[].IpRanges[].Description"}
_TG_HEALTH = {"healthCheck.interval": "HealthCheckIntervalSeconds", "healthCheck.timeout": "HealthCheckTimeoutSeconds",
              "healthCheck.healthyThreshold": "HealthyThresholdCount",
              "healthCheck.unhealthyThreshold": "UnhealthyThresholdCount", "healthCheck.path": "HealthCheckPath",
              "healthCheck.port": "HealthCheckPort", "healthCheck.protocol": "HealthCheckProtocol",
              "healthCheck.matcher": "Matcher.HttpCode", "healthCheck.enabled": "HealthCheckEnabled"}


def _elb_actions(pulumi: str, api: str) -> dict[str, str]:
    return {f"{pulumi}[].type": f"{api}[].Type",
            f"{pulumi}[].fixedResponse.statusCode": f"{api}[].FixedResponseConfig.StatusCode",
            f"{pulumi}[].fixedResponse.contentType": f"{api}[].FixedResponseConfig.ContentType",
            f"{pulumi}[].fixedResponse.messageBody": f"{api}[].FixedResponseConfig.MessageBody",
            f"{pulumi}[].forward.targetGroups[].weight": f"{api}[].ForwardConfig.TargetGroups[].Weight",
            f"{pulumi}[].forward.stickiness.duration":
                f"{api}[].ForwardConfig.TargetGroupStickinessConfig.DurationSeconds",
            f"{pulumi}[].forward.stickiness.enabled": f"{api}[].ForwardConfig.TargetGroupStickinessConfig.Enabled"}


def _cache_behavior(pulumi: str, api: str) -> dict[str, str]:
    return {f"{pulumi}.viewerProtocolPolicy": f"{api}.ViewerProtocolPolicy",
            f"{pulumi}.allowedMethods[]": f"{api}.AllowedMethods.Items[]",
            f"{pulumi}.cachedMethods[]": f"{api}.AllowedMethods.CachedMethods.Items[]",
            f"{pulumi}.lambdaFunctionAssociations[].eventType": f"{api}.LambdaFunctionAssociations.Items[].EventType",
            f"{pulumi}.targetOriginId": f"{api}.TargetOriginId"}


_DIST = "DistributionConfigWithTags.DistributionConfig"
_ORIGIN = f"{_DIST}.Origins.Items[]"
_CACHE_POLICY = "CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin"
_ALARM = {"name": "AlarmName", "alarmDescription": "AlarmDescription", "comparisonOperator": "ComparisonOperator",
          "evaluationPeriods": "EvaluationPeriods", "datapointsToAlarm": "DatapointsToAlarm", "period": "Period",
          "statistic": "Statistic", "extendedStatistic": "ExtendedStatistic", "threshold": "Threshold",
          "treatMissingData": "TreatMissingData",
          "evaluateLowSampleCountPercentiles": "EvaluateLowSampleCountPercentile", "namespace": "Namespace",
          "metricName": "MetricName", "unit": "Unit", "dimensions": "Dimensions",
          "metricQueries[].id": "Metrics[].Id", "metricQueries[].expression": "Metrics[].Expression",
          "metricQueries[].label": "Metrics[].Label", "metricQueries[].period": "Metrics[].Period",
          "metricQueries[].metric.stat": "Metrics[].MetricStat.Stat",
          "metricQueries[].metric.period": "Metrics[].MetricStat.Period",
          "metricQueries[].metric.unit": "Metrics[].MetricStat.Unit",
          "metricQueries[].metric.metricName": "Metrics[].MetricStat.Metric.MetricName",
          "metricQueries[].metric.namespace": "Metrics[].MetricStat.Metric.Namespace",
          "metricQueries[].metric.dimensions": "Metrics[].MetricStat.Metric.Dimensions"}


# Resource type token (normalized, see model.normalize_type) -> the fields checked against AWS's models.
MODEL_MAP: dict[str, tuple[Field, ...]] = {
    # --- network
    "aws:ec2/vpc:Vpc": on("ec2", "CreateVpc", {"cidrBlock": "CidrBlock"}) + ec2_tags(),
    "aws:ec2/eip:Eip": on("ec2", "AllocateAddress", {"domain": "Domain"}) + ec2_tags(),
    "aws:ec2/subnet:Subnet": on("ec2", "CreateSubnet", {"cidrBlock": "CidrBlock",
                                                        "availabilityZone": "AvailabilityZone"}) + ec2_tags(),
    "aws:ec2/routeTable:RouteTable": ec2_tags(),
    "aws:ec2/internetGateway:InternetGateway": ec2_tags(),
    "aws:ec2/natGateway:NatGateway": on("ec2", "CreateNatGateway", {"connectivityType": "ConnectivityType"})
    + ec2_tags(),
    "aws:ec2/route:Route": on("ec2", "CreateRoute", {"destinationCidrBlock": "DestinationCidrBlock"}),
    "aws:ec2/securityGroup:SecurityGroup": on("ec2", "CreateSecurityGroup", {"name": "GroupName",
                                                                            "description": "Description"})
    + ec2_tags(),
    "aws:ec2/vpcEndpoint:VpcEndpoint": on("ec2", "CreateVpcEndpoint", {"vpcEndpointType": "VpcEndpointType",
                                                                      "serviceName": "ServiceName"}) + ec2_tags(),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": on("ec2", "AuthorizeSecurityGroupIngress", _RULE)
    + ec2_tags(),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": on("ec2", "AuthorizeSecurityGroupEgress", _RULE)
    + ec2_tags(),
    "aws:ec2/flowLog:FlowLog": on("ec2", "CreateFlowLogs", {
        "trafficType": "TrafficType", "logDestinationType": "LogDestinationType",
        "maxAggregationInterval": "MaxAggregationInterval"}) + ec2_tags(),
    "aws:cloudwatch/logGroup:LogGroup": on("logs", "CreateLogGroup", {"name": "logGroupName"}, tags="tags")
    # The model types retentionInDays as a bare integer (no enum): the hand-written `log-retention` rule keeps
    # the list of accepted values (shared/aws_rules.py).
    + on("logs", "PutRetentionPolicy", {"retentionInDays": "retentionInDays"}),
    # --- IAM (strictest tag rules with ELBv2)
    "aws:iam/role:Role": on("iam", "CreateRole", {"name": "RoleName", "description": "Description",
                                                  "assumeRolePolicy": "AssumeRolePolicyDocument",
                                                  "path": "Path", "maxSessionDuration": "MaxSessionDuration"},
                            tags="Tags"),
    "aws:iam/rolePolicy:RolePolicy": on("iam", "PutRolePolicy", {"name": "PolicyName", "role": "RoleName",
                                                                "policy": "PolicyDocument"}),
    # --- data
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": on("rds", "CreateDBClusterParameterGroup", {
        "name": "DBClusterParameterGroupName", "family": "DBParameterGroupFamily", "description": "Description"},
        tags="Tags") + on("rds", "ModifyDBClusterParameterGroup", {
            "parameters[].name": "Parameters[].ParameterName", "parameters[].value": "Parameters[].ParameterValue",
            "parameters[].applyMethod": "Parameters[].ApplyMethod"}),
    "aws:rds/subnetGroup:SubnetGroup": on("rds", "CreateDBSubnetGroup", {
        "name": "DBSubnetGroupName", "description": "DBSubnetGroupDescription"}, tags="Tags"),
    "aws:rds/cluster:Cluster": on("rds", "CreateDBCluster", {
        "clusterIdentifier": "DBClusterIdentifier", "engine": "Engine", "engineMode": "EngineMode",
        "engineVersion": "EngineVersion", "port": "Port", "backupRetentionPeriod": "BackupRetentionPeriod",
        "masterUsername": "MasterUsername", "databaseName": "DatabaseName",
        "preferredBackupWindow": "PreferredBackupWindow", "preferredMaintenanceWindow": "PreferredMaintenanceWindow",
        "serverlessv2ScalingConfiguration.minCapacity": "ServerlessV2ScalingConfiguration.MinCapacity",
        "serverlessv2ScalingConfiguration.maxCapacity": "ServerlessV2ScalingConfiguration.MaxCapacity",
        "enabledCloudwatchLogsExports[]": "EnableCloudwatchLogsExports[]"}, tags="Tags"),
    "aws:rds/clusterInstance:ClusterInstance": on("rds", "CreateDBInstance", {
        "identifier": "DBInstanceIdentifier", "instanceClass": "DBInstanceClass", "engine": "Engine",
        "promotionTier": "PromotionTier", "performanceInsightsRetentionPeriod": "PerformanceInsightsRetentionPeriod",
        "availabilityZone": "AvailabilityZone"}, tags="Tags"),
    "aws:rds/proxy:Proxy": on("rds", "CreateDBProxy", {
        "name": "DBProxyName", "engineFamily": "EngineFamily", "idleClientTimeout": "IdleClientTimeout",
        "auths[].authScheme": "Auth[].AuthScheme", "auths[].iamAuth": "Auth[].IAMAuth",
        "auths[].clientPasswordAuthType": "Auth[].ClientPasswordAuthType", "auths[].description": "Auth[].Description"},
        tags="Tags"),
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": on("rds", "ModifyDBProxyTargetGroup", {
        "dbProxyName": "DBProxyName",
        "connectionPoolConfig.maxConnectionsPercent": "ConnectionPoolConfig.MaxConnectionsPercent",
        "connectionPoolConfig.maxIdleConnectionsPercent": "ConnectionPoolConfig.MaxIdleConnectionsPercent",
        "connectionPoolConfig.connectionBorrowTimeout": "ConnectionPoolConfig.ConnectionBorrowTimeout"}),
    "aws:rds/proxyTarget:ProxyTarget": on("rds", "RegisterDBProxyTargets", {
        "dbProxyName": "DBProxyName", "targetGroupName": "TargetGroupName",
        "dbClusterIdentifier": "DBClusterIdentifiers[]"}),
    "aws:rds/proxyEndpoint:ProxyEndpoint": on("rds", "CreateDBProxyEndpoint", {
        "dbProxyEndpointName": "DBProxyEndpointName", "dbProxyName": "DBProxyName", "targetRole": "TargetRole"},
        tags="Tags"),
    # recoveryWindowInDays 0 is the provider's "force delete without recovery", not an API value: not mapped.
    # Front door (WAF), the CloudFront VPC origin, secret rotation, the default security group and sale windows.
    "aws:wafv2/webAcl:WebAcl": on("wafv2", "CreateWebACL", {
        "name": "Name", "scope": "Scope", "description": "Description", "rules[].name": "Rules[].Name",
        "rules[].priority": "Rules[].Priority", "visibilityConfig.metricName": "VisibilityConfig.MetricName"},
        tags="Tags"),
    "aws:cloudfront/vpcOrigin:VpcOrigin": on("cloudfront", "CreateVpcOrigin", {
        "vpcOriginEndpointConfig.name": "VpcOriginEndpointConfig.Name",
        "vpcOriginEndpointConfig.httpPort": "VpcOriginEndpointConfig.HTTPPort",
        "vpcOriginEndpointConfig.httpsPort": "VpcOriginEndpointConfig.HTTPSPort",
        "vpcOriginEndpointConfig.originProtocolPolicy": "VpcOriginEndpointConfig.OriginProtocolPolicy"},
        tags="Tags.Items"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ec2_tags(),
    "aws:secretsmanager/secretRotation:SecretRotation": on("secretsmanager", "RotateSecret", {
        "rotationRules.automaticallyAfterDays": "RotationRules.AutomaticallyAfterDays",
        "rotationRules.scheduleExpression": "RotationRules.ScheduleExpression"}),
    "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": on(
        "serverlessrepo", "CreateCloudFormationChangeSet",
        {"name": "StackName", "semanticVersion": "SemanticVersion", "capabilities[]": "Capabilities"},
        tags="Tags"),
    "aws:scheduler/schedule:Schedule": on("scheduler", "CreateSchedule", {
        "name": "Name", "state": "State", "scheduleExpression": "ScheduleExpression",
        "scheduleExpressionTimezone": "ScheduleExpressionTimezone",
        "flexibleTimeWindow.mode": "FlexibleTimeWindow.Mode",
        "actionAfterCompletion": "ActionAfterCompletion"}),
    "aws:appautoscaling/scheduledAction:ScheduledAction": on("application-autoscaling", "PutScheduledAction", {
        "name": "ScheduledActionName", "schedule": "Schedule", "serviceNamespace": "ServiceNamespace",
        "scalableDimension": "ScalableDimension", "timezone": "Timezone",
        "scalableTargetAction.minCapacity": "ScalableTargetAction.MinCapacity",
        "scalableTargetAction.maxCapacity": "ScalableTargetAction.MaxCapacity"}),
    "aws:secretsmanager/secret:Secret": on("secretsmanager", "CreateSecret", {
        "name": "Name", "description": "Description"}, tags="Tags"),
    "aws:dynamodb/table:Table": on("dynamodb", "CreateTable", {
        "name": "TableName", "billingMode": "BillingMode", "hashKey": "KeySchema[].AttributeName",
        "rangeKey": "KeySchema[].AttributeName", "attributes[].name": "AttributeDefinitions[].AttributeName",
        "attributes[].type": "AttributeDefinitions[].AttributeType",
        "globalSecondaryIndexes[].name": "GlobalSecondaryIndexes[].IndexName",
        "globalSecondaryIndexes[].projectionType": "GlobalSecondaryIndexes[].Projection.ProjectionType",
        "globalSecondaryIndexes[].keySchemas[].keyType": "GlobalSecondaryIndexes[].KeySchema[].KeyType",
        "globalSecondaryIndexes[].keySchemas[].attributeName": "GlobalSecondaryIndexes[].KeySchema[].AttributeName",
        "streamViewType": "StreamSpecification.StreamViewType", "tableClass": "TableClass"}, tags="Tags")
    + on("dynamodb", "UpdateTimeToLive", {"ttl.attributeName": "TimeToLiveSpecification.AttributeName"}),
    # --- S3
    "aws:s3/bucket:Bucket": on("s3", "CreateBucket", {"bucket": "Bucket"})
    + on("s3", "PutBucketTagging", {}, tags="Tagging.TagSet"),
    "aws:s3/bucketVersioning:BucketVersioning": on("s3", "PutBucketVersioning", {
        "versioningConfiguration.status": "VersioningConfiguration.Status"}),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": on(
        "s3", "PutBucketEncryption", {"rules[].applyServerSideEncryptionByDefault.sseAlgorithm":
                                      "ServerSideEncryptionConfiguration.Rules[].ApplyServerSideEncryptionByDefault"
                                      ".SSEAlgorithm"}),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": on("s3", "PutBucketOwnershipControls", {
        "rule.objectOwnership": "OwnershipControls.Rules[].ObjectOwnership"}),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": on(
        "s3", "PutBucketLifecycleConfiguration", {
            "rules[].id": "LifecycleConfiguration.Rules[].ID",
            "rules[].status": "LifecycleConfiguration.Rules[].Status",
            "rules[].expiration.days": "LifecycleConfiguration.Rules[].Expiration.Days",
            "rules[].noncurrentVersionExpiration.noncurrentDays":
                "LifecycleConfiguration.Rules[].NoncurrentVersionExpiration.NoncurrentDays",
            "rules[].abortIncompleteMultipartUpload.daysAfterInitiation":
                "LifecycleConfiguration.Rules[].AbortIncompleteMultipartUpload.DaysAfterInitiation"}),
    "aws:s3/bucketAcl:BucketAcl": on("s3", "PutBucketAcl", {
        "accessControlPolicy.grants[].permission": "AccessControlPolicy.Grants[].Permission",
        "accessControlPolicy.grants[].grantee.type": "AccessControlPolicy.Grants[].Grantee.Type"}),
    "aws:s3/bucketObjectv2:BucketObjectv2": on("s3", "PutObject", {
        "key": "Key", "contentType": "ContentType", "cacheControl": "CacheControl"})
    + on("s3", "PutObjectTagging", {}, tags="Tagging.TagSet"),
    # --- app
    "aws:ecr/repository:Repository": on("ecr", "CreateRepository", {
        "name": "repositoryName", "imageTagMutability": "imageTagMutability"}, tags="tags"),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": on("ecr", "PutLifecyclePolicy", {
        "repository": "repositoryName", "policy": "lifecyclePolicyText"}),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": on("ecr", "SetRepositoryPolicy", {
        "repository": "repositoryName", "policy": "policyText"}),
    "aws:lb/targetGroup:TargetGroup": on("elbv2", "CreateTargetGroup", {
        "name": "Name", "targetType": "TargetType", "port": "Port", "protocol": "Protocol", **_TG_HEALTH},
        tags="Tags"),
    "aws:lb/loadBalancer:LoadBalancer": on("elbv2", "CreateLoadBalancer", {
        "name": "Name", "loadBalancerType": "Type", "ipAddressType": "IpAddressType"},
        tags="Tags"),
    "aws:lb/listener:Listener": on("elbv2", "CreateListener", {
        "protocol": "Protocol", "port": "Port", "sslPolicy": "SslPolicy",
        **_elb_actions("defaultActions", "DefaultActions")}, tags="Tags"),
    "aws:lb/listenerRule:ListenerRule": on("elbv2", "CreateRule", {
        "priority": "Priority", "conditions[].pathPattern.values[]": "Conditions[].PathPatternConfig.Values[]",
        "conditions[].httpHeader.httpHeaderName": "Conditions[].HttpHeaderConfig.HttpHeaderName",
        **_elb_actions("actions", "Actions")}, tags="Tags"),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": on("elbv2", "RegisterTargets", {
        "port": "Targets[].Port"}),
    "aws:lambda/function:Function": on("lambda", "CreateFunction", {
        "name": "FunctionName", "runtime": "Runtime", "handler": "Handler", "memorySize": "MemorySize",
        "timeout": "Timeout", "architectures[]": "Architectures[]", "packageType": "PackageType",
        "description": "Description", "tracingConfig.mode": "TracingConfig.Mode",
        "loggingConfig.logFormat": "LoggingConfig.LogFormat",
        "loggingConfig.logGroup": "LoggingConfig.LogGroup",
        "loggingConfig.applicationLogLevel": "LoggingConfig.ApplicationLogLevel",
        "loggingConfig.systemLogLevel": "LoggingConfig.SystemLogLevel",
        "environment.variables": "Environment.Variables", "ephemeralStorage.size": "EphemeralStorage.Size"},
        tags="Tags")
    + on("lambda", "PutFunctionConcurrency", {"reservedConcurrentExecutions": "ReservedConcurrentExecutions"}),
    "aws:lambda/alias:Alias": on("lambda", "CreateAlias", {
        "name": "Name", "functionName": "FunctionName", "functionVersion": "FunctionVersion",
        "description": "Description"}),
    "aws:lambda/permission:Permission": on("lambda", "AddPermission", {
        "function": "FunctionName", "action": "Action", "principal": "Principal", "qualifier": "Qualifier",
        "statementId": "StatementId"}),
    "aws:lambda/invocation:Invocation": on("lambda", "Invoke", {"functionName": "FunctionName",
                                                                "qualifier": "Qualifier"}),
    "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig": on(
        "lambda", "PutProvisionedConcurrencyConfig", {
            "functionName": "FunctionName", "qualifier": "Qualifier",
            "provisionedConcurrentExecutions": "ProvisionedConcurrentExecutions"}),
    "aws:appautoscaling/target:Target": on("application-autoscaling", "RegisterScalableTarget", {
        "serviceNamespace": "ServiceNamespace", "scalableDimension": "ScalableDimension", "resourceId": "ResourceId",
        "minCapacity": "MinCapacity", "maxCapacity": "MaxCapacity"}, tags="Tags"),
    "aws:appautoscaling/policy:Policy": on("application-autoscaling", "PutScalingPolicy", {
        "name": "PolicyName", "serviceNamespace": "ServiceNamespace", "scalableDimension": "ScalableDimension",
        "resourceId": "ResourceId", "policyType": "PolicyType",
        "targetTrackingScalingPolicyConfiguration.targetValue": "TargetTrackingScalingPolicyConfiguration.TargetValue",
        "targetTrackingScalingPolicyConfiguration.scaleInCooldown":
            "TargetTrackingScalingPolicyConfiguration.ScaleInCooldown",
        "targetTrackingScalingPolicyConfiguration.scaleOutCooldown":
            "TargetTrackingScalingPolicyConfiguration.ScaleOutCooldown",
        "targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType":
            "TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType"}),
    "aws:apigateway/restApi:RestApi": on("apigateway", "CreateRestApi", {
        "name": "name", "description": "description", "apiKeySource": "apiKeySource",
        "endpointConfiguration.types[]": "endpointConfiguration.types[]"}, tags="tags"),
    "aws:apigateway/apiKey:ApiKey": on("apigateway", "CreateApiKey", {"name": "name", "description": "description"},
                                       tags="tags"),
    "aws:apigateway/resource:Resource": on("apigateway", "CreateResource", {"pathPart": "pathPart"}),
    "aws:apigateway/method:Method": on("apigateway", "PutMethod", {"httpMethod": "httpMethod",
                                                                   "authorization": "authorizationType"}),
    "aws:apigateway/integration:Integration": on("apigateway", "PutIntegration", {
        "type": "type", "httpMethod": "httpMethod", "integrationHttpMethod": "integrationHttpMethod", "uri": "uri"}),
    "aws:apigateway/stage:Stage": on("apigateway", "CreateStage", {"stageName": "stageName"}, tags="tags"),
    "aws:apigateway/usagePlan:UsagePlan": on("apigateway", "CreateUsagePlan", {
        "name": "name", "throttleSettings.burstLimit": "throttle.burstLimit",
        "throttleSettings.rateLimit": "throttle.rateLimit"}, tags="tags"),
    "aws:apigateway/usagePlanKey:UsagePlanKey": on("apigateway", "CreateUsagePlanKey", {"keyType": "keyType"}),
    "aws:apigateway/documentationPart:DocumentationPart": on("apigateway", "CreateDocumentationPart", {
        "location.type": "location.type", "location.path": "location.path", "location.method": "location.method",
        "location.statusCode": "location.statusCode", "location.name": "location.name",
        "properties": "properties"}),
    "aws:apigateway/documentationVersion:DocumentationVersion": on("apigateway", "CreateDocumentationVersion", {
        "version": "documentationVersion", "description": "description"}),
    # --- edge
    "aws:cloudfront/originAccessIdentity:OriginAccessIdentity": on(
        "cloudfront", "CreateCloudFrontOriginAccessIdentity",
        {"comment": "CloudFrontOriginAccessIdentityConfig.Comment"}),
    "aws:cloudfront/cachePolicy:CachePolicy": on("cloudfront", "CreateCachePolicy", {
        "name": "CachePolicyConfig.Name", "comment": "CachePolicyConfig.Comment", "minTtl": "CachePolicyConfig.MinTTL",
        "maxTtl": "CachePolicyConfig.MaxTTL", "defaultTtl": "CachePolicyConfig.DefaultTTL",
        "parametersInCacheKeyAndForwardedToOrigin.queryStringsConfig.queryStringBehavior":
            f"{_CACHE_POLICY}.QueryStringsConfig.QueryStringBehavior",
        "parametersInCacheKeyAndForwardedToOrigin.headersConfig.headerBehavior":
            f"{_CACHE_POLICY}.HeadersConfig.HeaderBehavior",
        "parametersInCacheKeyAndForwardedToOrigin.cookiesConfig.cookieBehavior":
            f"{_CACHE_POLICY}.CookiesConfig.CookieBehavior"}),
    "aws:cloudfront/originRequestPolicy:OriginRequestPolicy": on("cloudfront", "CreateOriginRequestPolicy", {
        "name": "OriginRequestPolicyConfig.Name", "comment": "OriginRequestPolicyConfig.Comment",
        "queryStringsConfig.queryStringBehavior": "OriginRequestPolicyConfig.QueryStringsConfig.QueryStringBehavior",
        "headersConfig.headerBehavior": "OriginRequestPolicyConfig.HeadersConfig.HeaderBehavior",
        "cookiesConfig.cookieBehavior": "OriginRequestPolicyConfig.CookiesConfig.CookieBehavior"}),
    "aws:cloudfront/distribution:Distribution": on("cloudfront", "CreateDistributionWithTags", {
        "comment": f"{_DIST}.Comment", "httpVersion": f"{_DIST}.HttpVersion", "priceClass": f"{_DIST}.PriceClass",
        "defaultRootObject": f"{_DIST}.DefaultRootObject", "enabled": f"{_DIST}.Enabled",
        "isIpv6Enabled": f"{_DIST}.IsIPV6Enabled",
        "customErrorResponses[].errorCode": f"{_DIST}.CustomErrorResponses.Items[].ErrorCode",
        "customErrorResponses[].responseCode": f"{_DIST}.CustomErrorResponses.Items[].ResponseCode",
        "customErrorResponses[].responsePagePath": f"{_DIST}.CustomErrorResponses.Items[].ResponsePagePath",
        "customErrorResponses[].errorCachingMinTtl": f"{_DIST}.CustomErrorResponses.Items[].ErrorCachingMinTTL",
        "restrictions.geoRestriction.restrictionType": f"{_DIST}.Restrictions.GeoRestriction.RestrictionType",
        "viewerCertificate.minimumProtocolVersion": f"{_DIST}.ViewerCertificate.MinimumProtocolVersion",
        "viewerCertificate.sslSupportMethod": f"{_DIST}.ViewerCertificate.SSLSupportMethod",
        **_cache_behavior("defaultCacheBehavior", f"{_DIST}.DefaultCacheBehavior"),
        **_cache_behavior("orderedCacheBehaviors[]", f"{_DIST}.CacheBehaviors.Items[]"),
        "orderedCacheBehaviors[].pathPattern": f"{_DIST}.CacheBehaviors.Items[].PathPattern",
        "origins[].originId": f"{_ORIGIN}.Id", "origins[].domainName": f"{_ORIGIN}.DomainName",
        "origins[].originPath": f"{_ORIGIN}.OriginPath",
        "origins[].customHeaders[].name": f"{_ORIGIN}.CustomHeaders.Items[].HeaderName",
        "origins[].originShield.originShieldRegion": f"{_ORIGIN}.OriginShield.OriginShieldRegion",
        "origins[].customOriginConfig.originProtocolPolicy": f"{_ORIGIN}.CustomOriginConfig.OriginProtocolPolicy",
        "origins[].customOriginConfig.httpPort": f"{_ORIGIN}.CustomOriginConfig.HTTPPort",
        "origins[].customOriginConfig.httpsPort": f"{_ORIGIN}.CustomOriginConfig.HTTPSPort",
        "origins[].customOriginConfig.originReadTimeout": f"{_ORIGIN}.CustomOriginConfig.OriginReadTimeout",
        "origins[].customOriginConfig.originKeepaliveTimeout": f"{_ORIGIN}.CustomOriginConfig.OriginKeepaliveTimeout",
        "origins[].customOriginConfig.originSslProtocols[]": f"{_ORIGIN}.CustomOriginConfig.OriginSslProtocols.Items[]",
        "loggingConfig.prefix": f"{_DIST}.Logging.Prefix", "loggingConfig.bucket": f"{_DIST}.Logging.Bucket"},
        tags="DistributionConfigWithTags.Tags.Items"),
    # --- observability
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": on("logs", "PutMetricFilter", {
        "name": "filterName", "pattern": "filterPattern", "logGroupName": "logGroupName",
        "metricTransformation.name": "metricTransformations[].metricName",
        "metricTransformation.namespace": "metricTransformations[].metricNamespace",
        "metricTransformation.value": "metricTransformations[].metricValue",
        "metricTransformation.defaultValue": "metricTransformations[].defaultValue",
        "metricTransformation.unit": "metricTransformations[].unit"}),
    "aws:cloudwatch/queryDefinition:QueryDefinition": on("logs", "PutQueryDefinition", {
        "name": "name", "queryString": "queryString", "logGroupNames[]": "logGroupNames[]"}),
    "aws:cloudwatch/metricAlarm:MetricAlarm": on("cloudwatch", "PutMetricAlarm", _ALARM, tags="Tags"),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": on("cloudwatch", "PutCompositeAlarm", {
        "alarmName": "AlarmName", "alarmRule": "AlarmRule", "alarmDescription": "AlarmDescription"},
        tags="Tags"),
    "aws:cloudwatch/dashboard:Dashboard": on("cloudwatch", "PutDashboard", {
        "dashboardName": "DashboardName", "dashboardBody": "DashboardBody"}),
    "aws:kms/key:Key": on("kms", "CreateKey", {"description": "Description", "policy": "Policy",
                                               "keyUsage": "KeyUsage", "customerMasterKeySpec": "KeySpec"},
                          tags="Tags")
    + on("kms", "ScheduleKeyDeletion", {"deletionWindowInDays": "PendingWindowInDays"}),
    "aws:kms/alias:Alias": on("kms", "CreateAlias", {"name": "AliasName", "targetKeyId": "TargetKeyId"}),
    "aws:sns/topic:Topic": on("sns", "CreateTopic", {"name": "Name"}, tags="Tags"),
}

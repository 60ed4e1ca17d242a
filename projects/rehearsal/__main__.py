"""The sale rehearsal's load stack (owner: operations): Locust master and workers on ECS Fargate in the target
environment's private subnets, sized from the requested shoppers.

Not one of the five layers (not in LAYERS: up-all and down-all never touch it); its own stack per suffix, deployed
by `invoke rehearse` for the length of a rehearsal and destroyed after it. It reads the target environment through
the layers' own typed views (upstream.py): the VPC and its private subnets, the token issuer and audience the API
accepts, the distribution the shoppers go through.
"""

import pulumi
import pulumi_aws as aws

from projects.rehearsal.resources import FleetArgs, LocustFleet
from projects.rehearsal.settings import IMAGE, NAMESPACE, SECRET_ARN, Settings
from projects.rehearsal.upstream import AppView, EdgeView, NetworkView, ObservabilityView, read_target
from shared.runtime import APP
from shared.runtime.errors import ConfigError
from shared.runtime.naming import validate_suffix
from shared.runtime.program import raw_layer_config, stack_org
from shared.runtime.rehearsal_sizing import workers_for
from shared.runtime.settings import load_settings
from shared.runtime.tags import tag_transform

# The capacity model's shopper mix (shared/ops/capacity.py Workload: browse, view, reserve).
MIX = "0.3,0.5,0.2"

if pulumi.get_project() != NAMESPACE:
    raise pulumi.RunError(f"projects/rehearsal/Pulumi.yaml must say `name: {NAMESPACE}`")
suffix = validate_suffix(pulumi.get_stack())
settings = load_settings(Settings, NAMESPACE, raw_layer_config(NAMESPACE))
settings.validate_environment(suffix)
pulumi.runtime.register_resource_transform(tag_transform({
    "Project": APP, "Layer": "rehearsal", "Environment": suffix, "ManagedBy": "pulumi", "Owner": "operations"}))

identity = aws.get_caller_identity()
region = aws.get_region().region
image, secret = IMAGE.match(settings.image), SECRET_ARN.match(settings.signing_key_secret_arn)
assert image is not None and secret is not None  # Settings.validate matched both
for what, match in (("image", image), ("signingKeySecretArn", secret)):
    if (match["account"], match["region"]) != (identity.account_id, region):
        raise ConfigError(f"{NAMESPACE}:{what} is in {match['account']}/{match['region']}, the stack deploys to "
                          f"{identity.account_id}/{region}", "use this account's and Region's image and secret")

org = stack_org()
network = read_target(NetworkView, suffix, org)
app = read_target(AppView, suffix, org)
edge = read_target(EdgeView, suffix, org)
observability = read_target(ObservabilityView, suffix, org)

workers = workers_for(settings.users)
fleet = LocustFleet("locust", FleetArgs(
    suffix=suffix, account_id=identity.account_id, region=region, vpc_id=network.vpc_id, vpc_cidr=network.vpc_cidr,
    image=settings.image, image_repository=image["repo"], signing_key_secret_arn=settings.signing_key_secret_arn,
    target_url=edge.distribution_domain_name.apply(lambda d: f"https://{d}"), issuer=app.auth_issuer,
    audience=app.auth_audience, users=settings.users, spawn_rate=settings.spawn_rate or max(1.0, settings.users / 10),
    duration_seconds=settings.duration_seconds, workers=workers, think_time_seconds=settings.think_time_seconds,
    mix=MIX, sale_sku=settings.sale_sku))

# What `invoke rehearse` needs to start the run (RunTask) and read it back.
pulumi.export("clusterArn", fleet.cluster.arn)
pulumi.export("masterTaskDefinitionArn", fleet.master.arn)
pulumi.export("workerTaskDefinitionArn", fleet.worker.arn)
pulumi.export("workerCount", workers)
pulumi.export("subnetIds", network.private_subnet_ids)
pulumi.export("securityGroupId", fleet.security_group.id)
pulumi.export("logGroupName", fleet.log_group.name)
pulumi.export("dashboardName", observability.dashboard_name)

"""Bootstrap (once per AWS account and environment; owner: platform): the shared state bucket, GitHub's OIDC
provider, and per layer a deploy role, a read-only plan role, the KMS key of its stack's secrets provider and the
permissions boundary of the roles its program creates.

Not one of the five layers (not in LAYERS: up-all and down-all never touch it). Its own state stays where
`invoke bootstrap` puts it (by default the local backend): it creates the bucket the layers' state goes to.
"""

import pulumi
import pulumi_aws as aws

from projects.bootstrap.permissions import Facts
from projects.bootstrap.resources import (
    StateBucket,
    attach_policies,
    boundary,
    github_oidc_provider,
    secrets_provider_template,
    stack_keys,
    team_roles,
)
from projects.bootstrap.settings import NAMESPACE, Settings
from shared.runtime import APP
from shared.runtime.naming import Service, physical_name, validate_suffix
from shared.runtime.program import raw_layer_config
from shared.runtime.settings import load_settings
from shared.runtime.tags import tag_transform

if pulumi.get_project() != NAMESPACE:
    raise pulumi.RunError(f"projects/bootstrap/Pulumi.yaml must say `name: {NAMESPACE}`")
suffix = validate_suffix(pulumi.get_stack())
settings = load_settings(Settings, NAMESPACE, raw_layer_config(NAMESPACE))
pulumi.runtime.register_resource_transform(tag_transform({
    "Project": APP, "Layer": "bootstrap", "Environment": suffix, "ManagedBy": "pulumi", "Owner": "platform"}))

account = aws.get_caller_identity().account_id
bucket_name = settings.state_bucket or physical_name("state", suffix, Service.S3_BUCKET, account_id=account)
state = StateBucket("state", bucket_name)
oidc = github_oidc_provider()


def facts_with(key_arns: dict[str, str], oidc_arn: str) -> Facts:
    return Facts(account=account, suffix=suffix, github_repo=settings.github_repo, main_branch=settings.main_branch,
                 state_bucket=bucket_name, state_key_arns=key_arns, oidc_provider_arn=oidc_arn,
                 network_vpc_id=settings.network_vpc_id)


# Roles first (trust only), then the keys whose policies name them, then the policies naming the keys.
trust_facts = oidc.arn.apply(lambda arn: facts_with({}, arn))
roles = {layer: team_roles(layer, trust_facts, suffix) for layer in settings.layers}
keys = stack_keys(suffix, roles, trust_facts)
facts = pulumi.Output.all(oidc.arn, pulumi.Output.all(**{layer: k.arn for layer, k in keys.items()})).apply(
    lambda v: facts_with(v[1], v[0]))
for layer, team in roles.items():
    boundary(layer, suffix, facts)
    attach_policies(layer, team, facts, suffix, tuple(settings.layers))

# What the repository variables of docs/delivery.md are set to.
pulumi.export("stateBackend", f"s3://{bucket_name}")
# One repository variable for every layer: the tooling puts the layer's name where `{layer}` stands.
pulumi.export("secretsProvider", secrets_provider_template(suffix))
pulumi.export("oidcProviderArn", oidc.arn)
pulumi.export("deployRoleArns", {layer: r.deploy.arn for layer, r in roles.items()})
pulumi.export("planRoleArns", {layer: r.plan.arn for layer, r in roles.items()})

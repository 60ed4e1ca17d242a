"""Bootstrap (once per AWS account and environment; owner: platform): the shared state bucket, the KMS key of
the stacks' secrets provider, GitHub's OIDC provider, and per layer a deploy role and a read-only plan role.

Not one of the five layers (not in LAYERS: up-all and down-all never touch it). Its own state stays where
`invoke bootstrap` puts it (by default the local backend): it creates the bucket the layers' state goes to.
"""

import pulumi
import pulumi_aws as aws

from projects.bootstrap.permissions import Facts
from projects.bootstrap.resources import StateBucket, github_oidc_provider, secrets_key, team_roles
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
key, alias = secrets_key(suffix)
oidc = github_oidc_provider()
facts = pulumi.Output.all(key.arn, oidc.arn).apply(lambda ids: Facts(
    account=account, suffix=suffix, github_repo=settings.github_repo, main_branch=settings.main_branch,
    state_bucket=bucket_name, secrets_key_arn=ids[0], oidc_provider_arn=ids[1]))
roles = {layer: team_roles(layer, facts, suffix) for layer in settings.layers}

# What the repository variables of docs/delivery.md are set to.
pulumi.export("stateBackend", f"s3://{bucket_name}")
pulumi.export("secretsProvider", alias.name.apply(lambda name: f"awskms://{name}?region=us-east-1"))
pulumi.export("oidcProviderArn", oidc.arn)
pulumi.export("deployRoleArns", {layer: r.deploy.arn for layer, r in roles.items()})
pulumi.export("planRoleArns", {layer: r.plan.arn for layer, r in roles.items()})

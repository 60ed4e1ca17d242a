"""The IAM documents each layer team's roles get, generated from the table in `access.py`: the deploy role's
policies, its permissions boundary, the plan role's reads, the trust of each role (GitHub OIDC, per environment).

Pure functions (no resources), so tests inspect the exact documents the bootstrap deploys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from projects.bootstrap.access import (
    ACCESS,
    AWS_MADE_LOG_GROUPS,
    BOUNDED_IAM,
    DB_CLUSTER_KIND,
    MANAGED_POLICY_MAX,
    MASTER_SECRET_TAG,
    NO_VPC_YET,
    OIDC_AUDIENCE,
    OIDC_HOST,
    RUNTIME_ON_ANY,
    RUNTIME_SCOPED,
    TAG_ACTIONS_TAG,
    TAG_ACTIONS_UNTAG,
    TAG_KEYS,
    ServiceAccess,
    log_group_patterns,
)
from shared.runtime import APP, REGION
from shared.runtime.faults import fis_config_bucket, fis_config_location
from shared.runtime.naming import Service, physical_name


# --- documents ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Facts:
    """The values the templates need; known before any resource exists except the key ARN."""

    account: str
    suffix: str
    github_repo: str
    main_branch: str
    state_bucket: str
    state_key_arns: dict[str, str]  # layer -> the KMS key of its stack's secrets (state and config)
    oidc_provider_arn: str
    region: str = REGION
    org: str = "organization"  # stack references' organization in a self-managed backend
    network_vpc_id: str = ""  # the network layer's VPC, once deployed (its default security group's adoption)


@dataclass
class Statement:
    sid: str
    actions: list[str]
    resources: list[str]
    condition: dict[str, dict[str, Any]] = field(default_factory=dict)
    effect: str = "Allow"

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Sid": self.sid, "Effect": self.effect, "Action": sorted(set(self.actions)),
                               "Resource": sorted(set(self.resources))}
        if self.condition:
            out["Condition"] = self.condition
        return out


def _sid(*parts: str) -> str:
    return "".join(p.replace("-", " ").title().replace(" ", "") for p in parts)


def _format(template: str, facts: Facts) -> str:
    return template.format(region=facts.region, account=facts.account, suffix=facts.suffix,
                           network_vpc=facts.network_vpc_id or NO_VPC_YET, db_cluster=cluster_arn(facts))


def _arns(service: ServiceAccess, facts: Facts) -> list[str]:
    return [_format(r, facts) for r in service.resources]


def _fill(condition: dict[str, dict[str, Any]], facts: Facts) -> dict[str, dict[str, Any]]:
    def value(v: Any) -> Any:
        return [value(x) for x in v] if isinstance(v, list) else _format(v, facts) if isinstance(v, str) else v
    return {op: {key: value(v) for key, v in keys.items()} for op, keys in condition.items()}


def _layer_tag(layer: str, suffix: str) -> dict[str, dict[str, Any]]:
    """A resource of this layer in this environment: both tags, so prod's role never touches staging's."""
    return {"StringEquals": {"aws:ResourceTag/Layer": layer, "aws:ResourceTag/Environment": suffix}}


def _request_tags(layer: str, suffix: str) -> dict[str, dict[str, Any]]:
    return {"StringEquals": {"aws:RequestTag/Layer": layer, "aws:RequestTag/Environment": suffix},
            "ForAllValues:StringEquals": {"aws:TagKeys": list(TAG_KEYS)}}


def _merge(*conditions: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for condition in conditions:
        for op, keys in condition.items():
            out.setdefault(op, {}).update(keys)
    return out


def boundary_arn(layer: str, facts: Facts) -> str:
    from shared.runtime.boundary import boundary_arn as arn

    return arn(facts.account, layer, facts.suffix)


def readers_of(layer: str) -> list[str]:
    """The layers whose stacks read this layer's outputs (StackReference), hence decrypt its secret outputs."""
    return [name for name, access in ACCESS.items() if layer in access.reads]


def state_objects(layer: str, facts: Facts) -> dict[str, list[str]]:
    """The state bucket keys a layer's roles touch, by access: Pulumi's DIY layout under `.pulumi/`."""
    bucket = f"arn:aws:s3:::{facts.state_bucket}"
    project = f"{APP}-{layer}"
    own = [f"{bucket}/.pulumi/stacks/{project}/{facts.suffix}.json*",
           f"{bucket}/.pulumi/history/{project}/{facts.suffix}/*",
           f"{bucket}/.pulumi/backups/{project}/{facts.suffix}/*"]
    locks = [f"{bucket}/.pulumi/locks/{facts.org}/{project}/{facts.suffix}/*"]
    upstream = [f"{bucket}/.pulumi/stacks/{APP}-{name}/{facts.suffix}.json*" for name in ACCESS[layer].reads]
    return {"own": own, "locks": locks, "upstream": upstream, "meta": [f"{bucket}/.pulumi/meta.yaml"]}


def _state_statements(layer: str, facts: Facts, *, write: bool) -> list[Statement]:
    keys = state_objects(layer, facts)
    bucket = f"arn:aws:s3:::{facts.state_bucket}"
    statements = [
        Statement("StateList", ["s3:ListBucket"], [bucket], {"StringLike": {"s3:prefix": [".pulumi/*", ".pulumi/"]}}),
        Statement("StateBucketLocation", ["s3:GetBucketLocation"], [bucket]),
        Statement("StateRead", ["s3:GetObject", "s3:GetObjectVersion"],
                  keys["own"] + keys["upstream"] + keys["meta"] + keys["locks"]),
        # Pulumi's DIY backend takes its lock by writing an object under .pulumi/locks/ (preview too).
        Statement("StateLock", ["s3:PutObject", "s3:DeleteObject"], keys["locks"]),
        # Its own stack's key (config secrets, secret state), and the upstream stacks' keys: a StackReference
        # decrypts the producer's secret outputs with the producer's key. The key policies say the same.
        Statement("StateKeyOwn", ["kms:Decrypt", "kms:DescribeKey"] + (["kms:Encrypt"] if write else []),
                  [facts.state_key_arns[layer]]),
    ]
    upstream_keys = [facts.state_key_arns[name] for name in ACCESS[layer].reads if name in facts.state_key_arns]
    if upstream_keys:
        statements.append(Statement("StateKeyUpstream", ["kms:Decrypt", "kms:DescribeKey"], upstream_keys))
    if write:
        statements.append(Statement("StateWrite", ["s3:PutObject", "s3:DeleteObject"], keys["own"]))
    return statements


def _create_statements(service: ServiceAccess, base: str, layer: str, facts: Facts,
                       scope: dict[str, dict[str, Any]]) -> list[Statement]:
    """Creates split by what they touch: the new resource with request tags, the existing ones it names with the
    layer's resource tags. One statement per created type, so a create action is never allowed on a type it
    only names."""
    def arn(kind: str) -> str:
        return service.target_arn.format(prefix=service.prefix, region=facts.region, account=facts.account, kind=kind)

    by_new: dict[str, list[str]] = {}
    named: dict[str, set[str]] = {}
    for action in service.create:
        created, existing = service.create_targets[action]
        for kind in created:
            by_new.setdefault(kind, []).append(action)
        for kind in existing:
            named.setdefault(kind, set()).add(action)
    out = [Statement(f"{base}Create{_sid(kind)}", sorted(actions), [arn(kind)], _request_tags(layer, facts.suffix))
           for kind, actions in sorted(by_new.items())]
    out += [Statement(f"{base}CreateIn{_sid(kind)}", sorted(actions), [arn(kind)], dict(scope))
            for kind, actions in sorted(named.items())]
    return out


def _tag_on_create(service: ServiceAccess, base: str, layer: str, facts: Facts) -> list[Statement]:
    """Services other than EC2 authorize the tags of a create call as their own tag action too, on the new
    resource, which has no tags yet (the Service Authorization Reference lists it among the create's dependent
    actions, e.g. rds:AddTagsToResource for rds:CreateDBCluster:
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/security_iam_id-based-policy-examples-grant-permissions-tags-on-create.html).
    The manage statement asks for the layer's resource tags, which a new resource lacks: without this one, every
    create carrying tags would be refused. Only the platform's request tags, and only on a resource without a
    Layer tag (a tagged one, another team's or environment's, stays out of reach)."""
    actions = [a for a in TAG_ACTIONS_TAG if a.split(":")[0] == service.prefix]
    if not (service.create and service.tag_scoped and actions) or service.prefix == "ec2":
        return []  # EC2 has its own rule (ec2:CreateAction, service_statements)
    if service.tag_on_create:
        resources = [_format(r, facts) for r in service.tag_on_create]
    elif service.create_targets:
        kinds = sorted({kind for created, _ in service.create_targets.values() for kind in created})
        resources = [service.target_arn.format(prefix=service.prefix, region=facts.region, account=facts.account,
                                               kind=kind) for kind in kinds]
    else:
        resources = _arns(service, facts)
    if resources == ["*"]:
        raise ValueError(f"{service.prefix}: a create on no resource needs tag_on_create (the new resource's ARN)")
    condition = _merge(_request_tags(layer, facts.suffix), {"Null": {"aws:ResourceTag/Layer": "true"}})
    if service.create_action_key:  # only inside the layer's own create calls
        condition = _merge(condition, {"StringEquals": {service.create_action_key: sorted(
            a.split(":")[1] for a in service.create)}})
    out = [Statement(f"{base}TagOnCreate", actions, resources, condition)]
    if service.prefix == "logs":
        out.append(Statement(f"{base}DenyTagAwsMadeGroups", ["logs:TagResource", "logs:TagLogGroup"],
                             [f"arn:aws:logs:*:{facts.account}:{group}" for group in AWS_MADE_LOG_GROUPS],
                             effect="Deny"))
    return out


def service_statements(layer: str, facts: Facts, *, write: bool) -> list[Statement]:
    """The service statements of a layer's deploy role (`write`) or plan role (reads only)."""
    access = ACCESS[layer]
    out: list[Statement] = []
    for index, service in enumerate(access.services):
        arns = _arns(service, facts)
        base = _sid(layer, service.prefix, str(index))
        scope = _layer_tag(layer, facts.suffix) if service.tag_scoped else _fill(service.condition, facts)
        if service.describe:
            out.append(Statement(f"{base}Describe", list(service.describe), ["*"]))
        if service.inspect:
            out.append(Statement(f"{base}Inspect", list(service.inspect), arns, dict(scope)))
        if not write:
            continue
        if service.manage:
            out.append(Statement(f"{base}Manage", list(service.manage), arns, dict(scope)))
        out += _tag_on_create(service, base, layer, facts)
        if service.create and service.create_targets:
            out += _create_statements(service, base, layer, facts, scope)
        elif service.create:
            condition = _request_tags(layer, facts.suffix) if service.tag_scoped else dict(scope)
            if service.create_updates_existing:  # never on an existing resource: those are `manage`'s, by tag
                condition = _merge(condition, {"Null": {"aws:ResourceTag/Layer": "true"}})
            out.append(Statement(f"{base}Create", list(service.create), ["*"] if service.create_on_any else arns,
                                 condition))
        if service.bounded:
            # CreateRole carries request tags; the others act on an existing role carrying the layer's tags.
            # Every one only with the layer's boundary on the role (iam:PermissionsBoundary).
            extra = _fill(service.condition, facts) if service.tag_scoped else {}
            pinned = {"ArnEquals": {"iam:PermissionsBoundary": boundary_arn(layer, facts)}}
            creates = [a for a in service.bounded if a == "iam:CreateRole"]
            changes = [a for a in service.bounded if a != "iam:CreateRole"]
            if creates:
                out.append(Statement(f"{base}CreateBounded", creates, arns,
                                     _merge(_request_tags(layer, facts.suffix), pinned, extra)))
            if changes:
                out.append(Statement(f"{base}ChangeBounded", changes, arns, _merge(scope, pinned, extra)))
        if service.unscoped:
            out.append(Statement(f"{base}Unscoped", list(service.unscoped), ["*"]))
    if write and any(s.prefix == "ec2" and s.create for s in access.services):
        # EC2 tags a resource in the create call itself; CreateTags is allowed then, for the create actions only.
        create_actions = sorted({a.split(":")[1] for s in access.services if s.prefix == "ec2" for a in s.create})
        out.append(Statement(f"{_sid(layer)}Ec2TagOnCreate", ["ec2:CreateTags"], [f"arn:aws:ec2:{facts.region}:"
                             f"{facts.account}:*"], {"StringEquals": {"ec2:CreateAction": create_actions,
                                                                      "aws:RequestTag/Layer": layer,
                                                                      "aws:RequestTag/Environment": facts.suffix}}))
    if write and access.pass_role:
        out.append(Statement(f"{_sid(layer)}PassOwnRoles", ["iam:PassRole"],
                             [f"arn:aws:iam::{facts.account}:role/{APP}-*-{facts.suffix}",
                              *(_format(r, facts) for r in access.pass_role.roles)],
                             {"StringEquals": {"iam:PassedToService": list(access.pass_role.services),
                                               "aws:ResourceTag/Layer": layer,
                                               "aws:ResourceTag/Environment": facts.suffix}}))
    if write and access.service_linked_roles:
        out.append(Statement(f"{_sid(layer)}ServiceLinkedRoles", ["iam:CreateServiceLinkedRole"],
                             [f"arn:aws:iam::{facts.account}:role/aws-service-role/*"],
                             {"StringEquals": {"iam:AWSServiceName": list(access.service_linked_roles)}}))
    if write and any(s.bounded for s in access.services):
        out += bounded_iam_denies(layer, facts)
    if write:
        prefixes = {a.split(":")[0] for s in access.services for a in (*s.manage, *s.create, *s.bounded)}
        tagging = [a for a in TAG_ACTIONS_TAG if a.split(":")[0] in prefixes]
        untagging = [a for a in TAG_ACTIONS_UNTAG if a.split(":")[0] in prefixes]
        # A team may retag its own resources, never hand one to another layer or environment nor drop those tags.
        if tagging:
            out.append(Statement(f"{_sid(layer)}DenyRetagLayer", tagging, ["*"],
                                 {"StringNotEquals": {"aws:RequestTag/Layer": layer},
                                  "Null": {"aws:RequestTag/Layer": "false"}}, effect="Deny"))
            out.append(Statement(f"{_sid(layer)}DenyRetagEnvironment", tagging, ["*"],
                                 {"StringNotEquals": {"aws:RequestTag/Environment": facts.suffix},
                                  "Null": {"aws:RequestTag/Environment": "false"}}, effect="Deny"))
        if untagging:
            out.append(Statement(f"{_sid(layer)}DenyUntagLayer", untagging, ["*"],
                                 {"ForAnyValue:StringEquals": {"aws:TagKeys": ["Layer", "Environment"]}},
                                 effect="Deny"))
    return out


def bounded_iam_denies(layer: str, facts: Facts) -> list[Statement]:
    """Whatever else a document allows: no role change without the layer's boundary, no boundary removal.

    Shared by the deploy role and the boundary itself, so a role carrying the boundary obeys the same rule.
    """
    return [
        Statement(f"{_sid(layer)}DenyIamWithoutBoundary", list(BOUNDED_IAM), ["*"],
                  {"ArnNotEquals": {"iam:PermissionsBoundary": boundary_arn(layer, facts)}}, effect="Deny"),
        Statement(f"{_sid(layer)}DenyBoundaryRemoval", ["iam:DeleteRolePermissionsBoundary",
                                                        "iam:DeleteUserPermissionsBoundary"], ["*"], effect="Deny"),
    ]


# IAM calls that change identities or what they may do (prefix match), for the boundary's deny.
IAM_WRITES = ("iam:Add*", "iam:Attach*", "iam:Change*", "iam:Create*", "iam:Deactivate*", "iam:Delete*",
              "iam:Detach*", "iam:Enable*", "iam:PassRole", "iam:Put*", "iam:Remove*", "iam:Reset*", "iam:Resync*",
              "iam:Set*", "iam:Tag*", "iam:Untag*", "iam:Update*", "iam:Upload*")
KEY_POLICY_CHANGES = ("kms:PutKeyPolicy", "kms:CreateKey", "kms:ReplicateKey", "kms:ScheduleKeyDeletion",
                      "kms:DisableKey", "kms:CreateGrant")


def runtime_resources(service: str, facts: Facts) -> list[str]:
    """What a bounded role of the layer may touch with its run-time actions of one service: the environment's
    named resources (so a role whose trust or policy were rewritten still reaches nothing outside the
    environment). A service with no entry here has no run-time action in any layer: a test holds that, so no
    run-time action ever falls back to `*` (those AWS offers nothing narrower for are `RUNTIME_ON_ANY`)."""
    account, region, named = facts.account, facts.region, f"{APP}-*-{facts.suffix}"
    resources = {
        "dynamodb": [f"arn:aws:dynamodb:{region}:{account}:table/{named}",
                     f"arn:aws:dynamodb:{region}:{account}:table/{named}/index/*"],
        # A secret's ARN ends in six random characters. Not the RDS-managed master secrets (rds!cluster-<uuid>,
        # every cluster's in the account): master_secret_statement grants the environment's own, by RDS's tag.
        "secretsmanager": [f"arn:aws:secretsmanager:{region}:{account}:secret:{named}-??????"],
        "rds": [f"arn:aws:rds:{region}:{account}:cluster:{named}"],
        # IAM database auth through an RDS Proxy: dbuser:<proxy resource id>/<user>, in this account and Region.
        # The proxy's id (prx-<random>) is unknown to the bootstrap, so any proxy here (not the cluster's own
        # endpoint, cluster-<id>): which environment's proxy a role reaches is kept apart by the network (each
        # proxy is reachable only inside its own VPC, and a bounded role's function gets network interfaces only
        # in its own environment's subnets and groups: RUNTIME_SCOPED); docs/delivery.md, Known limits.
        "rds-db": [f"arn:aws:rds-db:{region}:{account}:dbuser:prx-*/*"],
        "lambda": [f"arn:aws:lambda:{region}:{account}:function:{named}",
                   f"arn:aws:lambda:{region}:{account}:function:{named}:*"],
        "logs": [f"arn:aws:logs:*:{account}:{group}" for group in log_group_patterns(named)],
        # Only the FIS configuration location (the app layer accepts no other): its bucket (ListBucket) and the
        # objects under its fixed prefix; not the environment's other buckets.
        "s3": [f"arn:aws:s3:::{fis_config_bucket(facts.suffix, account)}",
               f"{fis_config_location(facts.suffix, account)}/*"],
    }
    if service not in resources:
        raise KeyError(f"no run-time resources known for service {service!r}: add them to runtime_resources")
    return resources[service]


def cluster_arn(facts: Facts) -> str:
    """The environment's Aurora cluster (projects/data/aurora.py names it `db`; a test holds the two equal)."""
    name = physical_name(DB_CLUSTER_KIND, facts.suffix, Service.RDS_CLUSTER)
    return f"arn:aws:rds:{facts.region}:{facts.account}:cluster:{name}"



def master_secret_statement(layer: str, facts: Facts) -> list[Statement]:
    """The layer's run-time reads of the RDS-managed master secret: only the one of the environment's cluster."""
    actions = ACCESS[layer].master_secret_reads
    if not actions:
        return []
    return [Statement("RuntimeMasterSecret", list(actions),
                      [f"arn:aws:secretsmanager:{facts.region}:{facts.account}:secret:rds!cluster-*"],
                      {"StringEquals": {f"secretsmanager:ResourceTag/{MASTER_SECRET_TAG}": cluster_arn(facts)}})]


def _runtime_statements(layer: str, facts: Facts) -> list[Statement]:
    by_service: dict[str, list[str]] = {}
    scoped: dict[str, list[str]] = {}  # RUNTIME_SCOPED statements, grouped by identical resources and condition
    for action in ACCESS[layer].runtime:
        if action in RUNTIME_SCOPED:
            for part in RUNTIME_SCOPED[action]:
                scoped.setdefault(json.dumps(part, sort_keys=True), []).append(action)
            continue
        service = "*" if action in RUNTIME_ON_ANY else action.split(":")[0]
        by_service.setdefault(service, []).append(action)
    out = [Statement(_sid("Runtime", service if service != "*" else "unscoped"), sorted(actions),
                     runtime_resources(service, facts) if service != "*" else ["*"])
           for service, actions in sorted(by_service.items())]
    for index, (actions, part) in enumerate(sorted((sorted(a), key) for key, a in scoped.items())):
        resources, condition = json.loads(part)
        out.append(Statement(f"RuntimeScoped{index}", sorted(actions), [_format(r, facts) for r in resources],
                             _fill(condition, facts)))
    return out


def boundary_document(layer: str, facts: Facts) -> dict[str, Any]:
    """The layer's permissions boundary: the most any role the layer creates may ever do.

    Allow: only the actions the layer's roles use at run time (`runtime`), on the environment's named resources
    where the service names them (`runtime_resources`): a role's own policy narrows further. Deny, whatever a
    role's own policy says: IAM changes outside the layer's roles (and any role change without this boundary),
    trust changes (IAM has no condition key for a trust policy's principals, so a bounded role may not write one
    at all), key-policy and grant changes, sts:AssumeRole beyond the layer's roles, CloudFormation (it acts with
    the caller's rights), and the state bucket. A deploy role can still rewrite a layer role's trust (Pulumi
    updates trust policies): the resource scoping above is what then keeps such a role inside the environment.
    """
    account, suffix = facts.account, facts.suffix
    own_roles = f"arn:aws:iam::{account}:role/{APP}-*-{suffix}"
    state = f"arn:aws:s3:::{facts.state_bucket}"
    # Two statements per rule: keys in one StringNotEquals block are ANDed, so one block would spare a role that
    # differs in only one of the two tags.
    not_layer = {"StringNotEquals": {"aws:ResourceTag/Layer": layer}}
    not_env = {"StringNotEquals": {"aws:ResourceTag/Environment": suffix}}
    runtime = ACCESS[layer].runtime
    statements = [
        *(_runtime_statements(layer, facts) if runtime else []),
        *master_secret_statement(layer, facts),
        Statement("DenyIamOutsideLayer", list(IAM_WRITES), [], effect="Deny"),
        Statement("DenyIamOnOtherLayersRoles", list(IAM_WRITES), [own_roles], not_layer, effect="Deny"),
        Statement("DenyIamOnOtherEnvironmentsRoles", list(IAM_WRITES), [own_roles], not_env, effect="Deny"),
        *bounded_iam_denies(layer, facts),
        Statement("DenyTrustChanges", ["iam:UpdateAssumeRolePolicy", "iam:CreateRole"], ["*"], effect="Deny"),
        Statement("DenyKeyPolicyChanges", list(KEY_POLICY_CHANGES), ["*"], effect="Deny"),
        Statement("DenyAssumeOutsideLayer", ["sts:AssumeRole"], [], effect="Deny"),
        Statement("DenyAssumeOtherLayers", ["sts:AssumeRole"], [own_roles], not_layer, effect="Deny"),
        Statement("DenyAssumeOtherEnvironments", ["sts:AssumeRole"], [own_roles], not_env, effect="Deny"),
        Statement("DenyCloudFormation", ["cloudformation:*", "serverlessrepo:*"], ["*"], effect="Deny"),
        Statement("DenyStateBucket", ["s3:*"], [state, f"{state}/*"], effect="Deny"),
    ]
    rendered = [s.render() for s in statements]
    for statement in rendered:  # the two "outside the layer" denies name what they spare (NotResource)
        if statement["Sid"] in ("DenyIamOutsideLayer", "DenyAssumeOutsideLayer"):
            del statement["Resource"]
            statement["NotResource"] = [own_roles]
    return {"Version": "2012-10-17", "Statement": rendered}


def state_key_policy(layer: str, facts: Facts, role_arns: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Who may use the layer's stack key, by name: its deploy role encrypts and decrypts, its plan role and the
    roles of the layers that read its outputs decrypt. The account administers the key but may not use it (no
    kms:* for the root principal, so no IAM policy elsewhere in the account can grant a decrypt).

    role_arns: layer -> {"deploy": arn, "plan": arn}, only for the layers the bootstrap creates roles for.
    """
    root = f"arn:aws:iam::{facts.account}:root"
    own = role_arns.get(layer, {})
    readers = [role_arns[name][kind] for name in readers_of(layer) if name in role_arns
               for kind in ("deploy", "plan")]
    decrypters = sorted([*([own["plan"]] if "plan" in own else []), *readers])
    statements: list[dict[str, Any]] = [{
        "Sid": "AccountAdministersNotUses", "Effect": "Allow", "Principal": {"AWS": root},
        "Action": ["kms:CancelKeyDeletion", "kms:DescribeKey", "kms:DisableKeyRotation", "kms:EnableKey",
                   "kms:EnableKeyRotation", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases",
                   "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource",
                   "kms:UntagResource", "kms:UpdateKeyDescription", "kms:DisableKey", "kms:ListGrants",
                   "kms:RevokeGrant"],
        "Resource": "*"}]
    if "deploy" in own:
        statements.append({"Sid": "DeployRoleEncryptsAndDecrypts", "Effect": "Allow",
                           "Principal": {"AWS": own["deploy"]},
                           "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt"], "Resource": "*"})
    if decrypters:
        statements.append({"Sid": "ReadersDecrypt", "Effect": "Allow", "Principal": {"AWS": decrypters},
                           "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}


def _groups(statements: list[Statement], limit: int = MANAGED_POLICY_MAX) -> list[list[int]]:
    """Pack statement indexes into as few documents as fit IAM's managed-policy size (whitespace excluded)."""
    groups: list[list[int]] = [[]]
    for index in range(len(statements)):
        trial = groups[-1] + [index]
        if groups[-1] and policy_size(_document([statements[i] for i in trial])) > limit:
            groups.append([index])
        else:
            groups[-1] = trial
    return [g for g in groups if g]


def _document(statements: list[Statement]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [s.render() for s in statements]}


def policy_size(document: dict[str, Any]) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def _longest(facts: Facts) -> Facts:
    """The same facts with every free-length value at its maximum, so the packing never depends on them."""
    return replace(facts, github_repo=f"{'o' * 39}/{'r' * 100}", main_branch="b" * 200, state_bucket="s" * 63,
                   org="g" * 40, network_vpc_id="vpc-" + "0" * 17)


def _statements(layer: str, facts: Facts, write: bool) -> list[Statement]:
    return _state_statements(layer, facts, write=write) + service_statements(layer, facts, write=write)


def role_policies(layer: str, facts: Facts, *, write: bool) -> list[dict[str, Any]]:
    """The documents of a layer's deploy role (`write`) or plan role, each within the managed-policy size.

    The packing is computed on the longest possible values, so the number of documents (one IAM policy each)
    is known before the account, key and provider exist: `policy_count`.
    """
    groups = _groups(_statements(layer, _longest(facts), write))
    real = _statements(layer, facts, write)
    return [_document([real[i] for i in group]) for group in groups]


def policy_count(layer: str, suffix: str, *, write: bool, layers: tuple[str, ...] | None = None) -> int:
    return len(role_policies(layer, placeholder_facts(suffix, layers), write=write))


def placeholder_facts(suffix: str, layers: tuple[str, ...] | None = None) -> Facts:
    """Facts of the right shape for offline use (counting documents, tests); keys for `layers` (default all)."""
    return Facts(account="123456789012", suffix=suffix, github_repo="acme/catalog-platform", main_branch="main",
                 state_bucket=f"{APP}-state-{suffix}-123456789012",
                 state_key_arns={layer: f"arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-{i:012d}"
                                 for i, layer in enumerate(ACCESS) if layers is None or layer in layers},
                 oidc_provider_arn=f"arn:aws:iam::123456789012:oidc-provider/{OIDC_HOST}")


def deploy_subjects(layer: str, facts: Facts) -> list[str]:
    """Only jobs running in the layer's GitHub environment (reviewers and branch rules set there)."""
    return [f"repo:{facts.github_repo}:environment:{layer}-{facts.suffix}"]


def preview_environment(layer: str) -> str:
    """The GitHub environment a pull request's preview of the layer runs in: required reviewers approve each run."""
    return f"{layer}-preview"


def drift_environment(layer: str) -> str:
    """The GitHub environment the layer's scheduled drift check runs in (main only, no reviewers: a schedule
    cannot wait for one)."""
    return f"{layer}-drift"


def plan_subjects(layer: str, facts: Facts) -> list[str]:
    """Previews only through the layer's protected preview environment (a reviewer approves the pull request's
    run: the `pull_request` subject is the same for every workflow and branch, which a pull request can edit),
    and the drift check through the layer's own drift environment: a `ref:refs/heads/main` subject would be the
    same for every layer's workflow, so one layer's code in its drift job could assume another layer's plan role."""
    return [f"repo:{facts.github_repo}:environment:{preview_environment(layer)}",
            f"repo:{facts.github_repo}:environment:{drift_environment(layer)}"]


def trust_policy(subjects: list[str], facts: Facts) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "GithubActionsOidc",
        "Effect": "Allow",
        "Principal": {"Federated": facts.oidc_provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{OIDC_HOST}:aud": OIDC_AUDIENCE, f"{OIDC_HOST}:sub": subjects}},
    }]}

"""The one rule for roles a layer creates: each carries its layer's permissions boundary.

The bootstrap creates one boundary (a managed policy) per layer and environment, named here; the layers' deploy
roles may create or change a role only when it carries exactly that boundary (condition `iam:PermissionsBoundary`).
The ARN is deterministic (account, layer, suffix), so a layer needs no bootstrap output to name it, and the
transform below sets it on every `aws:iam/role:Role` the program declares: no role is left to remember it.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi

from shared.runtime.errors import ConfigError
from shared.runtime.naming import Service, physical_name

ROLE_TYPE = "aws:iam/role:Role"
PROP = "permissionsBoundary"


def boundary_name(layer: str, suffix: str) -> str:
    return physical_name(f"{layer}-boundary", suffix, Service.IAM_POLICY)


def boundary_arn(account_id: str, layer: str, suffix: str) -> str:
    return f"arn:aws:iam::{account_id}:policy/{boundary_name(layer, suffix)}"


def foreign_principals(trust: Any) -> list[str]:
    """Principals of a trust policy other than AWS services: a layer's roles are run by services only (IAM cannot
    stop a deploy role from writing another account into a trust policy, so the program refuses it)."""
    document = json.loads(trust) if isinstance(trust, str) else trust
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    found = []
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal", {})
        if not isinstance(principal, dict):  # "*"
            found.append(str(principal))
            continue
        for kind, ids in principal.items():
            if kind != "Service":
                found += [f"{kind}:{i}" for i in (ids if isinstance(ids, list) else [ids])]
    return found


def boundary_transform(layer: str, suffix: str, account_id: str) -> Any:
    """A resource transform putting the layer's boundary on every IAM role; a different boundary, or a trust in
    anything but an AWS service, is refused."""
    expected = boundary_arn(account_id, layer, suffix)

    def set_boundary(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if not args.custom or args.type_ != ROLE_TYPE:
            return None
        own = args.props.get(PROP)
        if own is not None and not isinstance(own, pulumi.Output) and own != expected:
            raise ConfigError(f"role {args.name} sets permissions boundary {own!r}: a {layer} role must carry "
                              f"{expected}", "drop permissions_boundary=; the layer sets it on every role")
        trust = args.props.get("assumeRolePolicy")
        if isinstance(trust, (str, dict)):
            foreign = foreign_principals(trust)
            if foreign:
                raise ConfigError(f"role {args.name} trusts {', '.join(foreign)}: a {layer} role may be assumed only "
                                  "by AWS services", "name the service in Principal.Service")
        return pulumi.ResourceTransformResult({**args.props, PROP: expected}, args.opts)

    return set_boundary


def register_boundary(layer: str, suffix: str) -> None:
    """Every role the layer's program declares gets the layer's boundary (shared/runtime/program.py calls this)."""
    import pulumi_aws as aws

    # The layers' programs make the same (synchronous) call; a plain string keeps the inputs plain for the mocks.
    account = aws.get_caller_identity().account_id
    pulumi.runtime.register_resource_transform(boundary_transform(layer, suffix, account))

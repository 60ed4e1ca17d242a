"""Bootstrap settings (config namespace `catalog-bootstrap`), checked before any resource is declared.

The same checks run at the task boundary (`invoke bootstrap`), so bad input is one line naming the value and
the rule, and nothing reaches AWS.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from shared.runtime.layers import LAYER_NAMES
from shared.runtime.settings import require, setting

NAMESPACE = "catalog-bootstrap"
# GitHub: an owner (user or organization) is 1-39 letters, digits or single hyphens, not at either end; a
# repository name is 1-100 of letters, digits, `.`, `_`, `-`, and never `.` or `..`.
OWNER_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
REPO_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
BRANCH_PATTERN = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")
VPC_ID_PATTERN = re.compile(r"^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
# S3 general purpose bucket naming rules (docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
BUCKET_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def github_repo_problem(value: str) -> str | None:
    """Why `value` is not a GitHub `owner/repo`, or None."""
    owner, sep, repo = value.partition("/")
    if not sep or "/" in repo:
        return f"{value!r} is not owner/repo (one slash)"
    if not OWNER_PATTERN.match(owner):
        return f"owner {owner!r} must be 1-39 letters, digits or single hyphens, not starting or ending with one"
    if not REPO_PATTERN.match(repo) or repo in (".", ".."):
        return f"repository {repo!r} must be 1-100 letters, digits, '.', '_' or '-' (not '.' or '..')"
    return None


def bucket_name_problem(name: str) -> str | None:
    """Why S3 refuses `name` as a general purpose bucket name, or None."""
    if not 3 <= len(name) <= 63:
        return f"bucket name {name!r} has {len(name)} characters; S3 allows 3-63"
    if not BUCKET_PATTERN.match(name):
        return (f"bucket name {name!r} breaks S3's rule: lowercase letters, digits, '.' and '-', "
                "starting and ending with a letter or digit")
    if ".." in name:
        return f"bucket name {name!r} has two adjacent periods; S3 refuses them"
    try:
        ipaddress.IPv4Address(name)
        return f"bucket name {name!r} is formatted as an IP address; S3 refuses that"
    except ValueError:
        pass
    for prefix in BUCKET_PREFIXES:
        if name.startswith(prefix):
            return f"bucket name {name!r} starts with the reserved prefix {prefix!r}"
    for suffix in BUCKET_SUFFIXES:
        if name.endswith(suffix):
            return f"bucket name {name!r} ends with the reserved suffix {suffix!r}"
    if "." in name:
        # Legal for S3, but virtual-hosted TLS (*.s3.amazonaws.com) breaks on dots, and the policy needs TLS.
        return f"bucket name {name!r} has a period; TLS to virtual-hosted buckets breaks on periods"
    return None


@dataclass(frozen=True)
class Settings:
    github_repo: str = setting("githubRepo", "",
                               "the GitHub repository whose workflows may assume the roles: owner/repo")
    main_branch: str = setting("mainBranch", "main", "the branch whose pushes deploy; scheduled drift runs on it")
    state_bucket: str = setting("stateBucket", "", "name of the shared state bucket; default "
                                "catalog-state-<suffix>-<account id>")
    layers: tuple[str, ...] = setting("layers", LAYER_NAMES, "the layers that get roles (default: all five)")
    network_vpc_id: str = setting("networkVpcId", "", "the network layer's VPC (its vpcId output) once deployed: "
                                  "its deploy role may adopt that VPC's default security group, no other; the "
                                  "observability boundary allows the network faults' ACL changes in it only")

    def validate(self) -> None:
        problem = github_repo_problem(self.github_repo) if self.github_repo else "is required"
        require(problem is None, NAMESPACE, "githubRepo", problem or "", "owner/repo, e.g. acme/catalog-platform")
        require(BRANCH_PATTERN.match(self.main_branch) is not None and ".." not in self.main_branch,
                NAMESPACE, "mainBranch", f"{self.main_branch!r} is not a branch name", "e.g. main")
        if self.state_bucket:
            problem = bucket_name_problem(self.state_bucket)
            require(problem is None, NAMESPACE, "stateBucket", problem or "",
                    "3-63 lowercase letters, digits and hyphens, e.g. acme-catalog-state")
        if self.network_vpc_id:
            require(VPC_ID_PATTERN.match(self.network_vpc_id) is not None, NAMESPACE, "networkVpcId",
                    f"{self.network_vpc_id!r} is not a VPC id", "vpc- then 8 or 17 hex digits, e.g. vpc-0abc1234")
        unknown = [name for name in self.layers if name not in LAYER_NAMES]
        require(not unknown, NAMESPACE, "layers", f"unknown layer {', '.join(map(repr, unknown))}",
                ", ".join(LAYER_NAMES))
        require(bool(self.layers), NAMESPACE, "layers", "no layer given", ", ".join(LAYER_NAMES))

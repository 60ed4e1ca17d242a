"""Subnet arithmetic, kept pure so it is tested on its own."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class SubnetLayout:
    public: tuple[str, ...]
    private: tuple[str, ...]


def layout(cidr: str, az_count: int) -> SubnetLayout:
    """Carve per-AZ subnets out of the VPC, leaving room to grow.

    The VPC is cut into eighths. Private subnets (Lambda ENIs, proxy, Aurora: where addresses are consumed)
    take one eighth each, in eighths 0..2. Public subnets (ALB and NAT only) take a 1/64 slice each of eighth 4.
    Eighths 3, 5, 6 and 7 stay free for a fourth AZ or new tiers without renumbering anything.
    """
    vpc = ipaddress.ip_network(cidr)
    eighths = list(vpc.subnets(prefixlen_diff=3))
    if az_count > 3:
        raise ValueError("the layout reserves room for at most three AZs")
    private = tuple(str(eighths[i]) for i in range(az_count))
    public_pool = list(eighths[4].subnets(prefixlen_diff=3))
    public = tuple(str(public_pool[i]) for i in range(az_count))
    return SubnetLayout(public=public, private=private)

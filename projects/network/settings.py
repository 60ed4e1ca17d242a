"""Network layer settings (config namespace `catalog-network`)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from shared.runtime import REGION, mission
from shared.runtime.aws_rules import LOG_RETENTION_DAYS
from shared.runtime.settings import require, setting

NAMESPACE = "catalog-network"
PRIVATE_BLOCKS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
AZ_COUNT = 3


@dataclass(frozen=True)
class Settings:
    cidr: str = setting("cidr", "10.0.0.0/16", "VPC IPv4 CIDR: a private block (RFC 1918) from /16 to /20")
    azs: tuple[str, ...] = setting(
        "azs", (), f"three AZ names in {REGION} (JSON list or comma-separated); default: first three available"
    )
    nat_gateways: str = setting(
        "natGateways", "per-az", "`per-az` (one NAT per AZ, highly available: the mission) or `single` (dev only)",
        choices=("per-az", "single"),
    )
    flow_log_retention_days: int = setting(
        "flowLogRetentionDays", mission.RETENTION_DAYS, "retention of the VPC flow log group (days)")

    def validate(self) -> None:
        try:
            net = ipaddress.ip_network(self.cidr, strict=True)
        except ValueError as exc:
            require(False, NAMESPACE, "cidr", f"{self.cidr!r} is not a network address ({exc})",
                    "e.g. 10.0.0.0/16")
            return
        require(net.version == 4, NAMESPACE, "cidr", f"{self.cidr} is not IPv4", "e.g. 10.0.0.0/16")
        require(any(net.subnet_of(block) for block in PRIVATE_BLOCKS), NAMESPACE, "cidr",
                f"{self.cidr} is not a private block", "inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
        require(16 <= net.prefixlen <= 20, NAMESPACE, "cidr", f"/{net.prefixlen} is outside /16-/20",
                "a prefix from /16 (65,536 addresses) to /20 (4,096)")
        if self.azs:
            require(len(self.azs) == AZ_COUNT and len(set(self.azs)) == AZ_COUNT, NAMESPACE, "azs",
                    f"{list(self.azs)} is not three distinct zones", f"three zones, e.g. {REGION}a,{REGION}b,{REGION}c")
            for az in self.azs:
                require(re.fullmatch(rf"{REGION}[a-z]", az) is not None, NAMESPACE, "azs",
                        f"{az!r} is not an availability zone of {REGION}", f"{REGION}a ... {REGION}f")
        require(self.flow_log_retention_days in LOG_RETENTION_DAYS, NAMESPACE, "flowLogRetentionDays",
                f"{self.flow_log_retention_days} is not a CloudWatch Logs retention period",
                ", ".join(map(str, LOG_RETENTION_DAYS)))

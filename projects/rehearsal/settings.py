"""Rehearsal settings (config namespace `catalog-rehearsal`), checked before any resource is declared.

`shared/ops/rehearsal_stack.py` runs the same checks at the task boundary, so bad input is one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.runtime import APP
from shared.runtime.settings import require, setting

NAMESPACE = "catalog-rehearsal"
# A private ECR image of this account and Region, by tag or digest: the execution role may pull that repository only.
IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
                   r"(?P<repo>[a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$")
SECRET_ARN = re.compile(r"^arn:aws:secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
                        r"secret:[A-Za-z0-9/_+=.@-]+$")
SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_USERS = 200_000  # 200 workers: four times the mission's 50,000 shoppers


@dataclass(frozen=True)
class Settings:
    users: int = setting("users", 2000, "concurrent shoppers; the workers are sized from it")
    spawn_rate: float = setting("spawnRate", 0.0, "shoppers started per second (0: users / 10)")
    duration_seconds: int = setting("durationSeconds", 600, "how long the master runs the load (s)")
    think_time_seconds: float = setting("thinkTimeSeconds", 5.0, "mean seconds between a shopper's actions")
    sale_sku: str = setting("saleSku", "SKU-000001", "the SKU shoppers reserve")
    image: str = setting("image", "", "the Locust image (bench/rehearsal.Dockerfile) in this account's ECR")
    signing_key_secret_arn: str = setting(
        "signingKeySecretArn", "", "Secrets Manager secret holding the rehearsal's test signing key (PEM); never the "
        "production key: the target environment trusts its public half")

    def validate(self) -> None:
        require(1 <= self.users <= MAX_USERS, NAMESPACE, "users", f"{self.users!r} is out of range",
                f"1-{MAX_USERS:,}")
        require(self.spawn_rate >= 0, NAMESPACE, "spawnRate", f"{self.spawn_rate!r} is negative", ">= 0")
        require(5 <= self.duration_seconds <= 4 * 3600, NAMESPACE, "durationSeconds",
                f"{self.duration_seconds!r} is out of range", "5-14400 seconds")
        require(self.think_time_seconds > 0, NAMESPACE, "thinkTimeSeconds", f"{self.think_time_seconds!r}", "> 0")
        require(SKU.match(self.sale_sku) is not None, NAMESPACE, "saleSku", f"{self.sale_sku!r} is not a SKU",
                "e.g. SKU-000001")
        require(IMAGE.match(self.image) is not None, NAMESPACE, "image",
                f"{self.image!r} is not an ECR image" if self.image else "is required",
                "<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> (bench/rehearsal.Dockerfile)")
        require(SECRET_ARN.match(self.signing_key_secret_arn) is not None, NAMESPACE, "signingKeySecretArn",
                f"{self.signing_key_secret_arn!r} is not a secret ARN" if self.signing_key_secret_arn else
                "is required", "arn:aws:secretsmanager:<region>:<account>:secret:<name>")

    def validate_environment(self, suffix: str) -> None:
        """ECS injects the secret's value into the Locust container: only the environment's own secrets
        (catalog-<kind>-<suffix>, Secrets Manager's six random characters after a full ARN's name)."""
        name = self.signing_key_secret_arn.partition(":secret:")[2]
        own = re.fullmatch(rf"{APP}-[a-z0-9-]+-{re.escape(suffix)}(?:-[A-Za-z0-9]{{6}})?", name) is not None
        require(own, NAMESPACE, "signingKeySecretArn", f"secret {name!r} is not environment {suffix}'s",
                f"a secret named {APP}-<kind>-{suffix}, e.g. {APP}-rehearsal-key-{suffix}")

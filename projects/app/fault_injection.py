"""AWS's FIS Lambda extension on the API function, for the sale rehearsal's lambda-* faults (`faultInjection`).

The API is a container image, which cannot take Lambda layers: the image build copies one pinned version of the
extension layer into /opt (containers/catalog-api/Dockerfile, `FIS_EXTENSION=on`), and the function gets the
two variables the extension reads: `AWS_LAMBDA_EXEC_WRAPPER` (the extension's wrapper script, which starts the
runtime) and `AWS_FIS_CONFIGURATION_LOCATION` (where FIS writes a running experiment's fault configuration; the
layer exports it as `faultConfigLocation`, under which the observability layer's experiments role writes). The
execution role may read that prefix only.
Off by default: then nothing here reaches the plan.
"""

from __future__ import annotations

import re
from typing import Any

from shared.runtime.faults import fis_config_location

EXEC_WRAPPER = "/opt/aws-fis/bootstrap"
# One version of a layer (the version pins its content), in us-east-1 where the function runs; AWS publishes the
# arm64 extension's ARN in SSM as /aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x.
LAYER_VERSION_ARN = re.compile(r"arn:aws:lambda:us-east-1:\d{12}:layer:[A-Za-z0-9_-]{1,140}:[1-9]\d{0,9}")
# Lambda reports a layer's CodeSha256 as base64 of the zip's SHA-256 (44 characters).
CODE_SHA256 = re.compile(r"[A-Za-z0-9+/]{43}=")
# No `*` or `?` in the prefix: the extension's read statements are built from it.
S3_LOCATION = re.compile(r"arn:aws:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/([A-Za-z0-9!_.'()/-]+)")


def config_prefix(location: str) -> tuple[str, str]:
    """arn:aws:s3:::bucket/prefix -> (bucket, prefix without slashes at its ends)."""
    match = S3_LOCATION.fullmatch(location)
    if match is None:
        raise ValueError(f"not an S3 location: {location!r}")
    return match[1], match[2].strip("/")


def config_location_problem(location: str, suffix: str, account_id: str) -> str | None:
    """Why the location is not the environment's FIS configuration location, or None.

    The app's and the observability layer's permissions boundaries let their roles reach only that bucket and
    prefix (shared/runtime/faults.py), so the API's role could not read anywhere else (nor FIS write there)."""
    expected = fis_config_location(suffix, account_id)
    if location.rstrip("/") == expected:
        return None
    return f"{location!r} is not this environment's FIS configuration location: it must be {expected}"


def fault_env(location: str) -> dict[str, str]:
    bucket, prefix = config_prefix(location)
    return {"AWS_LAMBDA_EXEC_WRAPPER": EXEC_WRAPPER,
            "AWS_FIS_CONFIGURATION_LOCATION": f"arn:aws:s3:::{bucket}/{prefix}/"}


def config_read_statements(location: str) -> list[dict[str, Any]]:
    """What the extension needs (FIS user guide, Lambda actions' prerequisites): list the prefix, read under it."""
    bucket, prefix = config_prefix(location)
    return [
        {"Sid": "FisConfigList", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/*"]}}},
        {"Sid": "FisConfigRead", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": f"arn:aws:s3:::{bucket}/{prefix}/*"},
    ]

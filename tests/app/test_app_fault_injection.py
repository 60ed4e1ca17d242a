"""AWS's FIS Lambda extension on the API (faultInjection): off by default; when on, the image build fetches one
pinned layer version, checks its SHA-256, unpacks it for the Dockerfile's FIS_EXTENSION=on stage (copied to /opt),
and the function gets the extension's environment and the reads of its configuration, nothing more. The build
runs here against stand-in CLIs and a local layer zip: no network."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from shared.plan.planner import Plan, PlanError
from tests.conftest import FAULT_CONFIG_BUCKET, FAULT_CONFIG_LOCATION

COMMAND = "command:local:Command"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
REPO = Path(__file__).resolve().parents[2]
LOCATION = FAULT_CONFIG_LOCATION
LAYER = "arn:aws:lambda:us-east-1:111122223333:layer:aws-fis-extension-arm64:9"


def layer_zip() -> bytes:
    """Shaped like the extension layer: the wrapper Lambda runs (AWS_LAMBDA_EXEC_WRAPPER) and the extension."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, mode in (("aws-fis/bootstrap", 0o755), ("extensions/aws-fis-extension", 0o755),
                           ("aws-fis/README", 0o644)):
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            z.writestr(info, f"#!/bin/sh\n# {name}\n")
    return buf.getvalue()


def b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


ZIP = layer_zip()
ON = {"catalog-app:faultInjection": "true", "catalog-app:faultConfigLocation": LOCATION,
      "catalog-app:faultExtensionLayerArn": LAYER, "catalog-app:faultExtensionSha256": b64sha(ZIP)}

FAKE_CLI = r"""#!/bin/bash
echo "$(basename "$0") $*" >> "$CALLS"
case "$*" in
  "lambda get-layer-version-by-arn "*) printf '%s\t%s\n' "$LAYER_URL" "$LAYER_SHA" ;;
  "ecr get-login-password"*) echo "ecr-password" ;;
  "login "*) cat > /dev/null; echo "Login Succeeded" ;;
  "buildx build "*)
    # What the build context holds when docker reads it: every file and its mode.
    for a in "$@"; do case "$a" in fis-extension=*) (cd "${a#fis-extension=}" && find . -type f -printf '%P %m\n' \
      | sort) > "$CONTEXT_LIST" ;; esac; done ;;
  "buildx imagetools inspect "*) echo '"sha256:4444444444444444444444444444444444444444444444444444444444444444"' ;;
  *) echo "unexpected call: $*" >&2; exit 3 ;;
esac
"""


@pytest.fixture(scope="module")
def on(plan_with: Any) -> Plan:
    return plan_with("app", ON)


def run_build(build: Any, tmp_path: Path, layer_sha: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "layer.zip").write_bytes(ZIP)
    for cli in ("aws", "docker"):
        (tmp_path / cli).write_text(FAKE_CLI)
        (tmp_path / cli).chmod(0o755)
    env = {**build.get("environment"), "PATH": f"{tmp_path}:/usr/bin:/bin", "CALLS": str(tmp_path / "calls"),
           "LAYER_URL": (tmp_path / "layer.zip").as_uri(), "LAYER_SHA": layer_sha,
           "CONTEXT_LIST": str(tmp_path / "context")}
    return subprocess.run([*build.get("interpreter"), build.get("create")], env=env, capture_output=True, text=True,
                          check=False)


def test_off_by_default(chain: dict[str, Plan]) -> None:
    app = chain["app"]
    env = app.by_name("api").get("environment", "variables")
    assert not {"AWS_LAMBDA_EXEC_WRAPPER", "AWS_FIS_CONFIGURATION_LOCATION"} & set(env)
    assert "FIS_LAYER_ARN" not in app.one(COMMAND).get("environment")
    doc = json.loads(app.one(ROLE_POLICY, "api-role-policy").get("policy"))
    assert not [s for s in doc["Statement"] if s["Sid"].startswith("FisConfig")]
    assert app.exports["faultConfigLocation"] == ""  # the observability layer's Lambda experiments refuse then


def test_the_function_reads_only_its_fault_configuration(on: Plan) -> None:
    env = on.by_name("api").get("environment", "variables")
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/aws-fis/bootstrap"
    assert env["AWS_FIS_CONFIGURATION_LOCATION"] == f"{LOCATION}/"
    # ...and the observability layer's experiments role writes under what the layer exports (one setting).
    assert on.exports["faultConfigLocation"] == LOCATION
    # The migrate task runs the same image but is no experiment's target: no wrapper there.
    assert "AWS_LAMBDA_EXEC_WRAPPER" not in on.by_name("migrate").get("environment", "variables")
    doc = json.loads(on.one(ROLE_POLICY, "api-role-policy").get("policy"))
    fis = {s["Sid"]: s for s in doc["Statement"] if s["Sid"].startswith("FisConfig")}
    assert fis == {
        "FisConfigList": {"Sid": "FisConfigList", "Effect": "Allow", "Action": ["s3:ListBucket"],
                          "Resource": f"arn:aws:s3:::{FAULT_CONFIG_BUCKET}",
                          "Condition": {"StringLike": {"s3:prefix": ["FisConfigs/*"]}}},
        "FisConfigRead": {"Sid": "FisConfigRead", "Effect": "Allow", "Action": ["s3:GetObject"],
                          "Resource": f"{LOCATION}/*"},
    }


def test_the_build_copies_the_pinned_extension_into_the_image(on: Plan, chain: dict[str, Plan],
                                                               tmp_path: Path) -> None:
    build = on.one(COMMAND)
    done = run_build(build, tmp_path, b64sha(ZIP))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "sha256:" + "4" * 64
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0] == f"aws lambda get-layer-version-by-arn --region us-east-1 --arn {LAYER} --query " \
                       "[Content.Location, Content.CodeSha256] --output text"
    (docker_build,) = [c for c in calls if c.startswith("docker buildx build")]
    assert re.search(r" --build-arg FIS_EXTENSION=on --build-context fis-extension=/\S+/opt ", docker_build)
    # What the Dockerfile's stage copies to /opt: the layer's files, the wrapper and the extension executable.
    assert (tmp_path / "context").read_text().splitlines() == [
        "aws-fis/README 644", "aws-fis/bootstrap 755", "extensions/aws-fis-extension 755"]
    # Another extension version is another image: the pin is in the tag and the trigger.
    off = chain["app"].one(COMMAND)
    assert build.get("triggers") != off.get("triggers")
    assert build.get("environment", "IMAGE_TAG") != off.get("environment", "IMAGE_TAG")


def test_other_content_than_the_pinned_one_is_never_built(on: Plan, tmp_path: Path) -> None:
    (tmp_path / "layer.zip").write_bytes(ZIP)
    done = run_build(on.one(COMMAND), tmp_path, b64sha(b"another version"))
    assert done.returncode != 0 and "pinned" in done.stderr
    assert not [c for c in (tmp_path / "calls").read_text().splitlines() if c.startswith("docker")]


def test_the_dockerfile_copies_the_extension_only_when_asked() -> None:
    text = (REPO / "containers" / "catalog-api" / "Dockerfile").read_text()
    assert "ARG FIS_EXTENSION=off" in text
    stages = re.findall(r"^FROM (.+)$", text, re.M)
    assert "scratch AS fis-extension-off" in stages and "scratch AS fis-extension-on" in stages
    assert "fis-extension-${FIS_EXTENSION} AS fis-extension-files" in stages
    on_stage = text.split("FROM scratch AS fis-extension-on", 1)[1].split("FROM ", 1)[0]
    assert on_stage.strip() == "COPY --from=fis-extension / /"  # the unpacked layer: nothing else
    final = text.rsplit("FROM --platform=linux/arm64 ${LAMBDA_IMAGE}", 1)[1]
    assert "COPY --from=fis-extension-files / /opt/" in final  # where Lambda extracts layers


@pytest.mark.parametrize(("overrides", "says"), [
    ({"catalog-app:faultConfigLocation": LOCATION}, "faultConfigLocation: is set but faultInjection is off"),
    ({**ON, "catalog-app:faultConfigLocation": "my-bucket"}, "faultConfigLocation: 'my-bucket' is not an S3"),
    # The boundaries let the roles reach only the environment's FIS configuration location: anything else is refused.
    ({**ON, "catalog-app:faultConfigLocation": "arn:aws:s3:::acme-fis-config/FisConfigs"},
     "'arn:aws:s3:::acme-fis-config/FisConfigs' is not this environment's FIS configuration location: it must be "
     f"{LOCATION}"),
    ({**ON, "catalog-app:faultConfigLocation": LOCATION.replace("fis-config", "artifacts")},
     "is not this environment's FIS configuration location"),
    ({**ON, "catalog-app:faultConfigLocation": f"{LOCATION}/other"}, "is not this environment's FIS configuration"),
    ({**ON, "catalog-app:faultConfigLocation": "arn:aws:s3:::catalog-fis-config-qa-123456789012/FisConfigs"},
     "is not this environment's FIS configuration location"),
    ({**ON, "catalog-app:faultConfigLocation": LOCATION.replace("FisConfigs", "Fis*")}, "is not an S3 location"),
    ({**ON, "catalog-app:faultConfigLocation": LOCATION.replace("FisConfigs", "Fis?")}, "is not an S3 location"),
    ({**ON, "catalog-app:faultExtensionLayerArn": LAYER.replace("us-east-1", "eu-west-1")},
     "is not a us-east-1 layer version ARN"),
    ({**ON, "catalog-app:faultExtensionLayerArn": LAYER.rsplit(":", 1)[0]}, "is not a us-east-1 layer version"),
    ({**ON, "catalog-app:faultExtensionLayerArn": LAYER.replace("arm64", "x86_64")}, "names the x86_64 extension"),
    ({**ON, "catalog-app:faultExtensionSha256": "abc"}, "faultExtensionSha256: 'abc' is not a base64 SHA-256"),
])
def test_bad_settings_are_refused_in_one_line(plan_with: Any, overrides: dict[str, str], says: str) -> None:
    with pytest.raises(PlanError, match=re.escape(says)) as caught:
        plan_with("app", overrides)
    assert "Traceback" not in str(caught.value)

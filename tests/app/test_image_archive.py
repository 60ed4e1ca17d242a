"""The API image built without cloud credentials: the pipeline's image job writes an OCI archive, the app layer's
deploy pushes it as is (skopeo) and runs it by digest. Nothing of the API's sources runs where the deploy role is.
Bad archives are refused before any resource, one line naming the setting."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from projects.app.image import parse_digest
from projects.app.image_archive import archive_hash, oci_archive_problem
from shared.plan.computed import computed_state
from shared.plan.planner import Plan, PlanError

COMMAND = "command:local:Command"
FUNCTION = "aws:lambda/function:Function"


def oci_archive(path: Path, manifests: list[dict[str, Any]] | None = None) -> Path:
    """A tar shaped like `docker buildx build --output type=oci,dest=...`: oci-layout, index.json, blobs."""
    if manifests is None:
        manifests = [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "1" * 64,
                      "size": 1, "platform": {"os": "linux", "architecture": "arm64"}}]
    files = {"oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
             "index.json": json.dumps({"schemaVersion": 2, "manifests": manifests}).encode(),
             f"blobs/sha256/{'1' * 64}": b"{}"}
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


# Stand-ins for the CLIs the push script calls; skopeo writes the digest file as the real one does.
FAKE_CLI = """#!/bin/bash
echo "$(basename "$0") $*" >> "$CALLS"
case "$*" in
  "ecr get-login-password"*) echo "ecr-password" ;;
  "login "*) cat > /dev/null; echo "Login Succeeded!" ;;
  "copy --digestfile "*) printf 'sha256:%s' "DIGEST" > "$3"; echo "Copying blob ... Writing manifest" ;;
  *) echo "unexpected call: $*" >&2; exit 3 ;;
esac
"""


def test_an_archive_is_pushed_as_is_and_run_by_digest(plan_with: Callable[..., Plan], tmp_path: Path) -> None:
    archive = oci_archive(tmp_path / "api-image.tar")
    app = plan_with("app", {"catalog-app:imageArchive": str(archive)})
    (push,) = app.of_type(COMMAND)
    script = push.get("create")
    assert push.name == "api-image-push" and "docker buildx" not in script and "docker login" not in script
    assert push.get("triggers") == [archive_hash(archive)]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for cli in ("aws", "skopeo"):
        (bin_dir / cli).write_text(FAKE_CLI.replace("DIGEST", "5" * 64))
        (bin_dir / cli).chmod(0o755)
    env = {**push.get("environment"), "PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(tmp_path / "calls")}
    done = subprocess.run([*push.get("interpreter"), push.get("create")], env=env, capture_output=True, text=True,
                          check=True)
    assert parse_digest(done.stdout) == f"sha256:{'5' * 64}" and done.stdout == f"sha256:{'5' * 64}"
    calls = (tmp_path / "calls").read_text().splitlines()
    repo = push.get("environment", "REPOSITORY_URL")
    assert sorted(calls[:2]) == ["aws ecr get-login-password --region us-east-1",
                                 f"skopeo login --username AWS --password-stdin {repo.split('/')[0]}"]
    assert calls[2].startswith("skopeo copy --digestfile ")
    assert calls[2].endswith(f" oci-archive:{archive} docker://{repo}:oci-{archive_hash(archive)[:16]}")
    # The function runs what was pushed, by the digest skopeo reported (the mocks answer the command's stdout).
    printed = computed_state(push.type, push.name, push.inputs)[1]["stdout"]
    assert app.by_name("api").get("imageUri") == f"{repo}@{parse_digest(printed)}"
    assert app.by_name("migrate").get("imageUri") == app.by_name("api").get("imageUri")


@pytest.mark.parametrize(("make", "needle"), [
    (lambda p: p / "missing.tar", "is not a file"),
    (lambda p: (p / "plain.tar").write_bytes(b"not a tar") and p / "plain.tar", "cannot be read as an OCI archive"),
    (lambda p: oci_archive(p / "two.tar", [{"digest": "sha256:" + "1" * 64}, {"digest": "sha256:" + "2" * 64}]),
     "holds 2 images"),
    (lambda p: oci_archive(p / "amd.tar", [{"digest": "sha256:" + "1" * 64,
                                             "platform": {"os": "linux", "architecture": "amd64"}}]),
     "is built for linux/amd64, not linux/arm64"),
])
def test_a_bad_archive_is_refused_before_any_resource(plan_with: Callable[..., Plan], tmp_path: Path,
                                                      make: Callable[[Path], Path], needle: str) -> None:
    path = make(tmp_path)
    assert oci_archive_problem(path) is not None
    with pytest.raises(PlanError) as err:
        plan_with("app", {"catalog-app:imageArchive": str(path)})
    assert "catalog-app:imageArchive" in str(err.value) and needle in str(err.value)
    assert "\n" not in str(err.value)


def test_archive_and_uri_together_or_a_relative_path_are_refused(plan_with: Callable[..., Plan],
                                                                 tmp_path: Path) -> None:
    archive = oci_archive(tmp_path / "api-image.tar")
    with pytest.raises(PlanError, match="imageArchive and imageUri are both set"):
        plan_with("app", {"catalog-app:imageArchive": str(archive),
                          "catalog-app:imageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/r@sha256:" + "a" * 64})
    with pytest.raises(PlanError, match="is a relative path"):
        plan_with("app", {"catalog-app:imageArchive": "api-image.tar"})

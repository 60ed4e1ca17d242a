"""The API's container image: an ECR repository, and either a docker buildx build pushed to it or a prebuilt image.

The function always refers to the image by digest, so a new build (new digest) publishes a new version and
re-runs the migrations, and a moved tag can never change what runs.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_command as command

from projects.app.image_archive import archive_hash
from shared.runtime import REGION
from shared.runtime.errors import CatalogError, ConfigError
from shared.runtime.layers import REPO_ROOT

SOURCE_DIR = REPO_ROOT / "containers" / "catalog-api"
PROJECT_DIR = Path(__file__).resolve().parent  # the app project: the working directory of `pulumi up`
# Not part of the image (.dockerignore keeps them out too): changing them must not rebuild.
EXCLUDED_DIRS = frozenset({"node_modules", "test", ".git"})
ALWAYS_HASHED = frozenset({"Dockerfile", ".dockerignore"})
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
KEEP_IMAGES = 10

# With faultInjection: one layer version of AWS's FIS Lambda extension, downloaded, checked against the pinned
# SHA-256 (and the one Lambda reports), unpacked with its file modes (the wrapper must stay executable) into a
# private folder that the Dockerfile's FIS_EXTENSION=on stage copies to /opt. Refuses entries outside the folder.
FIS_UNPACK = r"""
import base64, hashlib, os, sys, urllib.request, zipfile
url, pinned, reported, dest = sys.argv[1:5]
with urllib.request.urlopen(url, timeout=60) as res:
    data = res.read()
got = base64.b64encode(hashlib.sha256(data).digest()).decode()
if got != pinned or reported != pinned:
    sys.exit(f"FIS extension layer: SHA-256 {got} (Lambda reports {reported}), pinned {pinned}: not unpacked")
path = os.path.join(dest, "layer.zip")
with open(path, "wb") as f:
    f.write(data)
with zipfile.ZipFile(path) as z:
    for info in z.infolist():
        target = os.path.realpath(os.path.join(dest, "opt", info.filename))
        if not target.startswith(os.path.realpath(os.path.join(dest, "opt")) + os.sep):
            sys.exit(f"FIS extension layer: entry {info.filename!r} leaves /opt")
        z.extract(info, os.path.join(dest, "opt"))
        if not info.is_dir():
            os.chmod(target, (info.external_attr >> 16) & 0o755 or 0o644)
os.remove(path)
"""

# stdout must end with the digest: everything else the script prints goes to stderr.
BUILD_SCRIPT = r"""set -euo pipefail
exec 3>&1 1>&2
registry="${REPOSITORY_URL%%/*}"
extension=()
if [ -n "${FIS_LAYER_ARN:-}" ]; then
  fis_dir="$(mktemp -d)"
  trap 'rm -rf "$fis_dir"' EXIT
  read -r fis_url fis_sha < <(aws lambda get-layer-version-by-arn --region "$ECR_REGION" --arn "$FIS_LAYER_ARN" \
    --query '[Content.Location, Content.CodeSha256]' --output text)
  python3 -c "$FIS_UNPACK" "$fis_url" "$FIS_LAYER_SHA256" "$fis_sha" "$fis_dir"
  extension=(--build-arg FIS_EXTENSION=on --build-context "fis-extension=$fis_dir/opt")
fi
aws ecr get-login-password --region "$ECR_REGION" | docker login --username AWS --password-stdin "$registry"
# One linux/arm64 manifest, no attestation index: Lambda refuses multi-platform indexes and needs the
# image's architecture to equal the function's.
docker buildx build --platform linux/arm64 --provenance=false --sbom=false "${extension[@]}" \
  --tag "$REPOSITORY_URL:$IMAGE_TAG" --push "$CONTEXT_DIR"
digest="$(docker buildx imagetools inspect "$REPOSITORY_URL:$IMAGE_TAG" --format '{{json .Manifest.Digest}}')"
echo "${digest//\"/}" >&3
"""


# The archive the pipeline's image job built (no cloud credentials there) is pushed as is: nothing of the API's
# sources runs here. skopeo reads OCI archives and writes the pushed manifest's digest.
PUSH_SCRIPT = r"""set -euo pipefail
exec 3>&1 1>&2
registry="${REPOSITORY_URL%%/*}"
aws ecr get-login-password --region "$ECR_REGION" | skopeo login --username AWS --password-stdin "$registry"
digest_file="$(mktemp)"
trap 'rm -f "$digest_file"' EXIT
skopeo copy --digestfile "$digest_file" "oci-archive:$ARCHIVE" "docker://$REPOSITORY_URL:$IMAGE_TAG"
cat "$digest_file" >&3
"""


def _ignored_patterns(root: Path) -> list[str]:
    """Plain patterns of .dockerignore (no negations): what is not in the build context."""
    ignore = root / ".dockerignore"
    if not ignore.is_file():
        return []
    lines = (line.strip() for line in ignore.read_text().splitlines())
    return [line.rstrip("/") for line in lines if line and not line.startswith(("#", "!"))]


def source_hash(root: Path = SOURCE_DIR) -> str:
    """sha256 over the relative paths and contents of what goes into the image.

    Skipped: node_modules, test, .git and what .dockerignore excludes, except the Dockerfile and .dockerignore
    themselves (they shape the image although they are not in it).
    """
    if not root.is_dir():
        raise ConfigError(f"the API sources {root} are missing", "restore containers/catalog-api or set "
                          "catalog-app:imageUri to a prebuilt image")
    ignored = _ignored_patterns(root)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root)
        name = rel.as_posix()
        if rel.parts[0] in EXCLUDED_DIRS or "node_modules" in rel.parts or ".git" in rel.parts:
            continue
        if name not in ALWAYS_HASHED and any(fnmatch(name, pat) or fnmatch(rel.parts[0], pat) for pat in ignored):
            continue
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def image_env(name: str, root: Path = SOURCE_DIR) -> str | None:
    """The value the Dockerfile gives environment variable `name` (`ENV NAME=value`), if any."""
    dockerfile = root / "Dockerfile"
    if not dockerfile.is_file():
        return None
    match = re.search(rf"(?:^|\s){re.escape(name)}=(\S+)", dockerfile.read_text())
    return match.group(1).strip("\"'") if match else None


def parse_digest(stdout: str) -> str:
    """The pushed image digest: the last non-empty line of the build's stdout, `sha256:<64 hex>`."""
    lines = [line.strip().strip('"') for line in (stdout or "").strip().splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if not DIGEST.match(last):
        raise CatalogError(
            f"the image build did not end its output with an image digest (last line: {last[-120:]!r})",
            "check docker buildx and the ECR login in the build's stderr, or set catalog-app:imageUri",
        )
    return last


@dataclass(frozen=True)
class ApiImageArgs:
    repository_name: str
    function_name: str
    account_id: str
    prebuilt_uri: str | None
    source_dir: Path = SOURCE_DIR
    archive: Path | None = None  # an OCI archive built elsewhere: pushed, not built
    fis_extension: tuple[str, str] | None = None  # (layer version ARN, its CodeSha256): built into the image


class ApiImage(pulumi.ComponentResource):
    image_uri: pulumi.Output[str]
    built: bool

    def __init__(self, resource_name: str, args: ApiImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:app:ApiImage", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.repository = aws.ecr.Repository(
            "api-repository",
            name=args.repository_name,
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            # Tags are rebuilt for the same sources after a failed run; the function pins digests, so
            # mutable tags cannot change what runs.
            image_tag_mutability="MUTABLE",
            force_delete=True,
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            "api-keep-last",
            repository=self.repository.name,
            policy=pulumi.Output.json_dumps({"rules": [{
                "rulePriority": 1,
                "description": f"keep the last {KEEP_IMAGES} images (the live and canary versions among them)",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": KEEP_IMAGES},
                "action": {"type": "expire"},
            }]}),
            opts=child,
        )
        # Same-account pulls work without this when the deployer may set repository policies (Lambda then
        # adds it itself); stating it keeps the deploy independent of that right, limited to our function.
        function_arn = f"arn:aws:lambda:{REGION}:{args.account_id}:function:{args.function_name}"
        aws.ecr.RepositoryPolicy(
            "api-lambda-pull",
            repository=self.repository.name,
            policy=pulumi.Output.json_dumps({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "LambdaPull",
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    "Condition": {"StringLike": {"aws:sourceArn": [function_arn, f"{function_arn}:*"]}},
                }],
            }),
            opts=child,
        )

        self.built = args.prebuilt_uri is None
        if args.prebuilt_uri is not None:
            self.image_uri = pulumi.Output.from_input(args.prebuilt_uri)
        elif args.archive is not None:
            archived = archive_hash(args.archive)
            # Another archive (another build) replaces the command: it pushes again.
            self.image_uri = self._pushed("api-image-push", PUSH_SCRIPT, archived, {
                "IMAGE_TAG": f"oci-{archived[:16]}",
                "ARCHIVE": str(args.archive),
            }, child)
        else:
            sources = source_hash(args.source_dir)
            extension: dict[str, pulumi.Input[str]] = {}
            if args.fis_extension is not None:
                # Another extension version is another image: its pin joins the tag and the trigger.
                layer, sha = args.fis_extension
                extension = {"FIS_LAYER_ARN": layer, "FIS_LAYER_SHA256": sha, "FIS_UNPACK": FIS_UNPACK}
                sources = hashlib.sha256(f"{sources} {layer} {sha}".encode()).hexdigest()
            # A new source hash replaces the command: it builds and pushes again.
            self.image_uri = self._pushed("api-image-build", BUILD_SCRIPT, sources, {
                "IMAGE_TAG": f"src-{sources[:16]}",
                # Relative to projects/app, where Pulumi runs the program and the command: the state then
                # holds no path of one deployer's checkout, and another checkout does not trigger a rebuild.
                "CONTEXT_DIR": os.path.relpath(args.source_dir, PROJECT_DIR),
                "SOURCE_HASH": sources,
                **extension,
            }, child)
        self.register_outputs({"imageUri": self.image_uri, "repositoryUrl": self.repository.repository_url})

    def _pushed(self, name: str, script: str, trigger: str, environment: dict[str, pulumi.Input[str]],
                opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
        """A command that logs in to the repository, puts the image there and prints only its digest; the
        image URI by that digest. `trigger` changing replaces the command (it runs again)."""
        push = command.local.Command(
            name,
            create=script,
            interpreter=["/bin/bash", "-c"],
            environment={"REPOSITORY_URL": self.repository.repository_url, "ECR_REGION": REGION, **environment},
            triggers=[trigger],
            opts=opts,
        )
        return pulumi.Output.concat(self.repository.repository_url, "@", push.stdout.apply(parse_digest))
